"""Where an index lives and how it is built: data directory, embedder, vector store, file limits."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .files import Limits


def ragls_home() -> Path:
    """$RAGLS_HOME (default: $XDG_CACHE_HOME/ragls or ~/.cache/ragls): indexes and derived model files."""
    return Path(os.environ.get("RAGLS_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ragls"))


def models_dir() -> Path:
    """$RAGLS_MODELS (default: $RAGLS_HOME/models): the model files ragls derives once and keeps."""
    return Path(os.environ.get("RAGLS_MODELS") or ragls_home() / "models")


def keep_file(dst: Path, write: Callable[[IO[bytes]], object], make_parents: bool = True) -> None:
    """Write `dst` whole or not at all: `write` fills a temporary file beside it, which then replaces it (a reader,
    another process among them, never sees half a file); a failure removes it. `make_parents`: create the folders
    above `dst` (else a missing one is a FileNotFoundError, as a shell's redirection would say)."""
    if make_parents:
        dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=dst.parent, suffix=".tmp", delete=False) as f:
        try:
            write(f)
        except BaseException:
            f.close()
            Path(f.name).unlink(missing_ok=True)
            raise
    try:
        os.replace(f.name, dst)
    except BaseException:
        Path(f.name).unlink(missing_ok=True)
        raise


def default_data_dir(root: Path) -> Path:
    """A per-repository folder under ragls_home()."""
    base = ragls_home()
    root = root.resolve()
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", root.name)[:40] or "root"
    return Path(base) / f"{slug}-{hashlib.sha1(str(root).encode()).hexdigest()[:12]}"


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """Settings of one repository's index."""

    root: Path
    data_dir: Path | None = None  # None: default_data_dir(root)
    embedder: str | None = None  # "static" (default) or "openai:MODEL"
    embed_base_url: str | None = None  # openai:MODEL's endpoint (None: the openai SDK's default)
    embed_api_key_env: str | None = None  # the environment variable holding its key
    store_url: str | None = None  # http://HOST:PORT of a `chroma run` server; None: embedded on disk
    limits: Limits = field(default_factory=Limits)
    workers: int = 0  # parser processes; 0: one per core for large jobs

    @property
    def data_path(self) -> Path:
        return self.data_dir or default_data_dir(self.root)


def package_version() -> str:
    """The installed ragls's version (pyproject.toml's), or 0+unknown in a tree that is not installed."""
    from importlib import metadata

    try:
        return metadata.version("ragls")
    except metadata.PackageNotFoundError:
        return "0+unknown"
