// Audit module
