"""The ragls engine: index a repository with tree-sitter and retrieve the symbols each prompt needs."""
