"""The ragls language server (LSP edge): settings, session and one module per feature."""
