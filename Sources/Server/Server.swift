// Server module
