// BreakGlass module
