// POSIX module
