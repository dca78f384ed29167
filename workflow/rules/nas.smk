# Stage file for 'nas' (filled by its issue). Rules here are thin wrappers around 'evoproxy <stage>'.
