"""The model client and its configuration (`client.py`), and the JSON shape a reply must take (`schema.py`): no LSP."""
