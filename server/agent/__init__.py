"""ragls for coding agents: its retrieval and review as MCP tools over one repository's index (`ragls mcp`)."""
