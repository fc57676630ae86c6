"""ragls's version: the installed package's (pyproject.toml's), read without loading the language server."""
from __future__ import annotations

from importlib import metadata


def _version() -> str:
    try:
        return metadata.version("ragls")
    except metadata.PackageNotFoundError:  # run from a tree that is not installed
        return "0+unknown"


VERSION = _version()
