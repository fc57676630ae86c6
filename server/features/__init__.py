"""One module per feature: transport-free logic the LSP handlers and the CLI call."""
