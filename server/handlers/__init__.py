"""The LSP handlers, one module per group: `sync` (documents, folders, settings, watched files), `completion`,
`actions` (code actions and the `ragls.*` commands), `hover` and `nextedit`; `app.py` wires them to the server."""
