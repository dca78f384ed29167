# Stage file for 'report' (filled by its issue). Rules here are thin wrappers around 'evoproxy <stage>'.
