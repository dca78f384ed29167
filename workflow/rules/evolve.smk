# Stage file for 'evolve' (filled by its issue). Rules here are thin wrappers around 'evoproxy <stage>'.
