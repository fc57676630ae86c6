"""The indexed files as import resolvers see them: lookups by path, directory and path suffix."""
from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable


class PathIndex:
    """The indexed files (repo-relative POSIX paths) with lookups by path, directory, and path suffix."""

    def __init__(self, paths: Iterable[str], read: Callable[[str], str | None] | None = None) -> None:
        self.paths: frozenset[str] = frozenset(p.removeprefix("./") for p in paths)
        self.read = read  # a file's text by its path (project configs: tsconfig.json, package.json, Cargo.toml)
        self._files_in: dict[str, list[str]] = defaultdict(list)
        self._by_name: dict[str, list[str]] = defaultdict(list)
        self._dirs_by_name: dict[str, set[str]] = defaultdict(set)
        self.found: dict[tuple[str, str], list[str]] = {}  # resolvers' answers by (rule, path): paths alone decide
        for path in sorted(self.paths):
            directory, name = posixpath.split(path)
            self._files_in[directory].append(path)
            self._by_name[name].append(path)
            while directory:
                self._dirs_by_name[posixpath.basename(directory)].add(directory)
                directory = posixpath.dirname(directory)

    def has(self, path: str) -> bool:
        return path in self.paths

    def is_dir(self, directory: str) -> bool:
        return directory in self._dirs_by_name.get(posixpath.basename(directory), ())

    def files_in(self, directory: str) -> list[str]:
        """Files directly in a directory ("" is the repository root), sorted."""
        return list(self._files_in.get(directory, ()))

    def ending_with(self, suffix: str) -> list[str]:
        """Files equal to `suffix` or ending with "/" + suffix, sorted."""
        suffix = suffix.strip("/")
        return [p for p in self._by_name.get(posixpath.basename(suffix), ()) if p == suffix or p.endswith("/" + suffix)]

    def dirs_ending_with(self, suffix: str) -> list[str]:
        """Directories equal to `suffix` or ending with "/" + suffix, sorted."""
        suffix = suffix.strip("/")
        found = self._dirs_by_name.get(posixpath.basename(suffix), ())
        return sorted(d for d in found if d == suffix or d.endswith("/" + suffix))


def first(candidates: Iterable[str], paths: PathIndex) -> list[str]:
    """The first candidate that is an indexed file, as a one-item list, or []."""
    return next(([c] for c in candidates if paths.has(c)), [])
