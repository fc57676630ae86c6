"""The LSP handlers, one module per group (sync, completion, actions, hover, nextedit); app.py wires them."""
