# Stage file for 'primitives' (filled by its issue). Rules here are thin wrappers around 'evoproxy <stage>'.
