"""The project files JavaScript and TypeScript imports resolve through: tsconfig.json / jsconfig.json (`paths`,
`baseUrl`, `extends`) and package.json (`name`, `exports`, `types`/`main`), read once per index."""
from __future__ import annotations

import json
import logging
import posixpath
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

from .paths import PathIndex

log = logging.getLogger(__name__)

CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")
MAX_EXTENDS = 8
MAX_EXPORT_DEPTH = 8
# the conditions of `exports` TypeScript holds true (types, import, require, node, default) and the bundlers' module;
# one whose target is not in the repository (a build output) lets the next one answer
CONDITIONS = frozenset({"types", "typings", "import", "require", "module", "node", "default"})
_JSONC = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*[\s\S]*?\*/|,(?=\s*[}\]])')


def parse_jsonc(source: str) -> object:
    """JSON with comments and trailing commas (tsconfig.json), as TypeScript reads it. Raises ValueError."""
    return json.loads(_JSONC.sub(lambda m: m.group() if m.group().startswith('"') else "", source))


@dataclass(frozen=True, slots=True)
class CompilerPaths:
    """What a tsconfig says of non-relative specifiers: `paths` patterns (against `paths_base`) and `baseUrl`."""

    paths: tuple[tuple[str, tuple[str, ...]], ...] = ()
    paths_base: str = ""  # `baseUrl` when set, else the directory of the config that holds `paths`
    base_url: str | None = None
    custom_conditions: tuple[str, ...] = ()

    def candidates(self, spec: str) -> Iterator[str]:
        """Repository paths (without extension rules) a specifier may name, in the compiler's order: the `paths`
        pattern that matches exactly, else the matching one with the longest prefix, each substitution in turn;
        then `baseUrl`."""
        match = _match_pattern(self.paths, spec)
        if match is not None:
            key, star = match
            for sub in dict(self.paths)[key]:
                yield _join(self.paths_base, sub.replace("*", star, 1))
        if self.base_url is not None:
            yield _join(self.base_url, spec)


def _match_pattern(patterns: tuple[tuple[str, tuple[str, ...]], ...], spec: str) -> tuple[str, str] | None:
    """(pattern, what its `*` matched): an exact pattern first, else the longest prefix (TypeScript's
    matchPatternOrExact)."""
    best: tuple[str, str] | None = None
    best_prefix = -1
    for key, _ in patterns:
        if "*" not in key:
            if key == spec:
                return key, ""
            continue
        prefix, _, suffix = key.partition("*")
        if len(spec) >= len(prefix) + len(suffix) and spec.startswith(prefix) and spec.endswith(suffix) \
                and len(prefix) > best_prefix:
            best, best_prefix = (key, spec[len(prefix):len(spec) - len(suffix)]), len(prefix)
    return best


def _join(directory: str, rel: str) -> str:
    """A repository path from a directory and a relative path; "" for the root; may start with ".." (outside)."""
    out = posixpath.normpath(posixpath.join(directory, rel)) if rel else directory or "."
    return "" if out == "." else out


@dataclass(frozen=True, slots=True)
class Package:
    """A package.json of the repository: its directory, `name`, `exports` and entry fields."""

    directory: str
    name: str
    exports: object = None
    entries: tuple[str, ...] = ()  # `types`, `typings`, `module`, `main`, in that order


@dataclass(slots=True)
class Project:
    """The project files of one index, each read once (the graph makes a new PathIndex when they may differ)."""

    paths: PathIndex
    _configs: dict[str, CompilerPaths | None] = field(default_factory=dict)  # directory -> its effective config
    _options: dict[str, tuple[dict, dict[str, str]] | None] = field(default_factory=dict)  # config -> options
    _packages: dict[str, Package] | None = None

    # ---- tsconfig -----------------------------------------------------------------------------------------
    def compiler_paths(self, importer: str) -> CompilerPaths | None:
        """The config of the nearest directory above `importer` holding a tsconfig.json or jsconfig.json."""
        directory = posixpath.dirname(importer)
        seen: list[str] = []
        found: CompilerPaths | None = None
        while True:
            if directory in self._configs:
                found = self._configs[directory]
                break
            seen.append(directory)
            config = next((c for n in CONFIG_NAMES if self.paths.has(c := _join(directory, n))), None)
            if config is not None:
                found = self._effective(config)
                break
            if not directory:
                break
            directory = posixpath.dirname(directory)
        for d in seen:
            self._configs[d] = found
        return found

    def _effective(self, config: str) -> CompilerPaths | None:
        merged = self._options_of(config, 0)
        if merged is None:
            return None
        options, set_in = merged
        paths, base_url, conditions = options.get("paths"), options.get("baseUrl"), options.get("customConditions")
        base_url_path = _join(set_in["baseUrl"], base_url) if isinstance(base_url, str) else None
        patterns: tuple[tuple[str, tuple[str, ...]], ...] = ()
        if isinstance(paths, dict):
            patterns = tuple((k, tuple(v for v in subs if isinstance(v, str)))
                             for k, subs in paths.items() if isinstance(subs, list))
        return CompilerPaths(patterns, base_url_path if base_url_path is not None else set_in.get("paths", ""),
                             base_url_path,
                             tuple(c for c in conditions if isinstance(c, str)) if isinstance(conditions, list) else ())

    def _options_of(self, config: str, depth: int) -> tuple[dict, dict[str, str]] | None:
        """compilerOptions of a config with its `extends` chain merged (the later, the stronger), and for each
        option the directory of the config that set it (`baseUrl` and `paths` are relative to it)."""
        if config in self._options:
            return self._options[config]
        self._options[config] = None  # a cycle of `extends` ends here
        text = _read(self.paths, config)
        if text is None:
            return None
        try:
            data = parse_jsonc(text)
        except ValueError as exc:
            log.warning("%s: not JSON (%s); its paths are not followed", config, exc)
            return None
        if not isinstance(data, dict):
            return None
        options: dict = {}
        set_in: dict[str, str] = {}
        extends = data.get("extends")
        for base in ([extends] if isinstance(extends, str) else extends if isinstance(extends, list) else []):
            target = self._extended(config, base) if isinstance(base, str) and depth < MAX_EXTENDS else None
            if target is not None and (inherited := self._options_of(target, depth + 1)) is not None:
                options.update(inherited[0])
                set_in.update(inherited[1])
        own = data.get("compilerOptions")
        if isinstance(own, dict):
            options.update(own)
            set_in.update(dict.fromkeys(own, posixpath.dirname(config)))
        self._options[config] = (options, set_in)
        return self._options[config]

    def _extended(self, config: str, base: str) -> str | None:
        """The repository file an `extends` names: a relative path (with or without .json); a package's config
        (in node_modules) is not in the repository."""
        if not base.startswith(("./", "../", "/")) and base not in (".", ".."):
            return None
        path = _join(posixpath.dirname(config), base)
        for candidate in (path, path + ".json", _join(path, "tsconfig.json")):
            if self.paths.has(candidate):
                return candidate
        return None

    # ---- package.json -------------------------------------------------------------------------------------
    def packages(self) -> dict[str, Package]:
        """The repository's package.json files with a name, by name (a monorepo's workspaces)."""
        if self._packages is None:
            self._packages = {}
            for path in sorted(self.paths.ending_with("package.json"), key=lambda p: (p.count("/"), p)):
                if "node_modules/" in path:
                    continue
                pkg = self._package(path)
                if pkg is not None:
                    self._packages.setdefault(pkg.name, pkg)
        return self._packages

    def _package(self, path: str) -> Package | None:
        text = _read(self.paths, path)
        try:
            data = json.loads(text) if text is not None else None
        except ValueError as exc:
            log.warning("%s: not JSON (%s)", path, exc)
            return None
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return None
        entries = tuple(v for k in ("types", "typings", "module", "main") if isinstance(v := data.get(k), str))
        return Package(posixpath.dirname(path), data["name"], data.get("exports"), entries)

    def package_targets(self, spec: str, conditions: tuple[str, ...] = ()) -> Iterator[str]:
        """Repository paths a bare specifier names through a package of the repository (`@scope/pkg/sub`): its
        `exports` subpath (conditions in their written order), else its entry fields or the subpath itself."""
        packages = self.packages()
        if not packages:
            return
        parts = spec.split("/")
        for n in range(len(parts), 0, -1):
            pkg = packages.get("/".join(parts[:n]))
            if pkg is None:
                continue
            subpath = "/".join(parts[n:])
            if pkg.exports is not None:
                active = CONDITIONS | set(conditions)
                for target in _exports(pkg.exports, "./" + subpath if subpath else ".", active):
                    yield _join(pkg.directory, target)
                return
            if subpath:
                yield _join(pkg.directory, subpath)
            else:
                yield from (_join(pkg.directory, e) for e in pkg.entries)
                yield pkg.directory
            return


def _exports(exports: object, subpath: str, active: frozenset[str] | set[str]) -> Iterator[str]:
    """The targets `exports` maps a subpath ("." or "./x") to, best first (Node's PACKAGE_EXPORTS_RESOLVE)."""
    if isinstance(exports, (str, list)) or (isinstance(exports, dict) and not any(
            k.startswith(".") for k in exports)):
        if subpath == ".":
            yield from _targets(exports, "", active, 0)
        return
    if not isinstance(exports, dict):
        return
    if subpath in exports and "*" not in subpath:
        yield from _targets(exports[subpath], "", active, 0)
        return
    best: tuple[str, str] | None = None
    for key in exports:
        prefix, star, suffix = key.partition("*")
        if star and subpath.startswith(prefix) and subpath.endswith(suffix) \
                and len(subpath) >= len(prefix) + len(suffix) and (best is None or len(prefix) > len(best[0])):
            best = (key, subpath[len(prefix):len(subpath) - len(suffix)])
    if best is not None:
        yield from _targets(exports[best[0]], best[1], active, 0)


def _targets(target: object, star: str, active: frozenset[str] | set[str], depth: int) -> Iterator[str]:
    if depth > MAX_EXPORT_DEPTH:
        return
    if isinstance(target, str):
        if target.startswith("./"):
            yield target.replace("*", star)
    elif isinstance(target, list):
        for t in target:
            yield from _targets(t, star, active, depth + 1)
    elif isinstance(target, dict):
        for key, value in target.items():
            if key in active:
                yield from _targets(value, star, active, depth + 1)


def _read(paths: PathIndex, path: str) -> str | None:
    """A project file's text through the index's reader (None where the index has no reader)."""
    read = getattr(paths, "read", None)  # PathIndex.read: the reader the graph gives its PathIndex
    return read(path) if read is not None else None


_PROJECTS: weakref.WeakKeyDictionary[PathIndex, Project] = weakref.WeakKeyDictionary()


def project(paths: PathIndex) -> Project:
    """The configs of the files `paths` indexes, read once per PathIndex."""
    found = _PROJECTS.get(paths)
    if found is None:
        found = _PROJECTS[paths] = Project(paths)
    return found
