"""ragls's version: the installed package's (pyproject.toml's), read without loading the language server."""
from __future__ import annotations

from ragls.indexer.config import package_version

VERSION = package_version()
