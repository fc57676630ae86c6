"""Settings from their layers (defaults, user file, project file, environment, flags, editor), each with its source."""
from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ragls.indexer.files import read_regular, read_text

from .settings import SECTION, Key, Settings, kind_of, build, camel, check, embed_key_env, keys, lookup, suggest

MAX_FILE_BYTES = 1 << 20
PROJECT_FILE = ".ragls.toml"
# a project's files by name (.ragls.toml, pyproject.toml) as stored somewhere else than its working tree (a commit):
# their bytes, None when there is none; and how to name them in messages
ProjectFiles = tuple[Callable[[str], bytes | None], str]
DERIVED = {"model.completionModel": "model.chatModel", "index.embedBaseUrl": "model.baseUrl"}  # unset: the other's


@dataclass(frozen=True)
class Source:
    """Where a value came from: `kind` is default, user, project, env, flag or editor; `where` the file, variable,
    flag or command it names."""

    kind: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.where}" if self.where else self.kind


@dataclass
class Layer:
    """One layer's values by key name, each with its source, and what was wrong in it."""

    values: dict[str, tuple[Any, Source]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def put(self, name: str, raw: Any, source: Source, where: str, unknown: bool = True) -> None:
        """Check and keep one value (None: unset, skipped); a problem when it is bad or, with `unknown`, unknown."""
        key = lookup(name)
        if key is None:
            if raw is not None and _group(name):
                self.problems.append(f"{where}: {name}: expected a table of settings, got {kind_of(raw)}; ignored")
            elif unknown:
                what = ("the API key is never read from a settings file: put it in the environment variable "
                        "model.apiKeyEnv names" if name.split(".")[-1].lower() in ("apikey", "api_key")
                        else f"unknown setting {name}{suggest(name)}")
                self.problems.append(f"{where}: {what}; ignored")
            return
        if raw is None:
            return
        try:
            self.values[key.name] = (check(key, raw), source)
        except ValueError as exc:
            self.problems.append(f"{where}: {key.name}: {exc}; ignored")


def _group(name: str) -> bool:
    """`name` is a table of settings (`model`), not one."""
    prefix = ".".join(camel(p) for p in name.split(".")) + "."
    return any(k.startswith(prefix) for k in keys())


@dataclass(frozen=True)
class Resolved:
    """The effective settings, every key's source, and the problems found on the way (to show the user)."""

    settings: Settings
    sources: dict[str, Source]
    problems: tuple[str, ...]
    user_file: Path
    project_file: Path | None  # the file the project layer came from, if any


def user_file(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/ragls/config.toml (default ~/.config/ragls/config.toml)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative path is ignored
        base = os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    return Path(base) / "ragls" / "config.toml"


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"model": {"timeoutS": 5}} -> {"model.timeoutS": 5}; a table where a value is expected stays whole (the key
    check reports it) and so does a value where a table is expected."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        dotted = f"{prefix}{name}"
        if isinstance(value, dict) and lookup(dotted) is None:
            out.update(_flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _read_toml(path: Path, follow: bool) -> tuple[dict[str, Any] | None, str | None]:
    """A TOML file's data, or None and why it could not be used (None, None: there is none). `follow`: a symbolic
    link is followed (the user's file); else refused (a repository's). Never blocks on a FIFO."""
    try:
        data, _ = read_regular(path.resolve() if follow else path, MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"{path}: cannot be read ({exc.strerror or exc}); ignored"
    return _parse_toml(data, str(path))


def _parse_toml(data: bytes | None, where: str) -> tuple[dict[str, Any] | None, str | None]:
    """_read_toml's answer for a file's bytes (None: there is no such file)."""
    if data is None:
        return None, None
    if len(data) > MAX_FILE_BYTES:
        return None, f"{where}: larger than {MAX_FILE_BYTES} bytes; ignored"
    try:
        return tomllib.loads(data.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, f"{where}: not UTF-8 text; ignored"
    except tomllib.TOMLDecodeError as exc:
        return None, f"{where}: not valid TOML ({exc}); ignored"


def _file_layer(data: Mapping[str, Any], source: Source, where: str, project: bool, user: Path) -> Layer:
    layer = Layer()
    for name, value in _flatten(data).items():
        key = lookup(name)
        if project and key is not None and key.user_only:
            layer.problems.append(
                f"{where}: {key.name} is ignored: a project's settings may not choose where code is sent, which "
                f"secret is read or where ragls writes (set it in {user}, the environment, a flag or the editor)")
            continue
        layer.put(name, value, source, where)
    return layer


def user_layer(env: Mapping[str, str] | None = None) -> Layer:
    path = user_file(env)
    data, problem = _read_toml(path, follow=True)
    if data is None:
        return Layer(problems=[problem] if problem else [])
    return _file_layer(data, Source("user", str(path)), str(path), False, path)


def project_layer(root: Path, user: Path, files: ProjectFiles | None = None) -> tuple[Layer, Path | None]:
    """`.ragls.toml` at the root, else `[tool.ragls]` of its pyproject.toml (both there: `.ragls.toml`, and a
    note that the other is not read), and the file it came from. Keys only the user may set are refused, with a
    problem naming them. `files`: read them from there instead of the working tree (a review's base commit)."""
    own_path, py_path = root / PROJECT_FILE, root / "pyproject.toml"
    if files is None:
        own, own_problem = _read_toml(own_path, follow=False)
        py, py_problem = _read_toml(py_path, follow=False)
        py_text = read_text(py_path, MAX_FILE_BYTES) if py_problem else None
    else:
        read, at = files
        own_data, py_data = read(PROJECT_FILE), read("pyproject.toml")
        own_path, py_path = Path(f"{PROJECT_FILE} at {at}"), Path(f"pyproject.toml at {at}")
        own, own_problem = _parse_toml(own_data, str(own_path))
        py, py_problem = _parse_toml(py_data, str(py_path))
        py_text = (py_data or b"").decode("utf-8", "replace")
    tool = py.get("tool") if py is not None else None
    table = tool.get(SECTION) if isinstance(tool, dict) else None
    if py_problem and f"tool.{SECTION}" not in (py_text or ""):
        py_problem = None  # a pyproject.toml without ragls's table is not ragls's to judge
    py_where = f"{py_path} [tool.{SECTION}]"
    if own is not None or own_problem:
        layer = Layer() if own is None else _file_layer(own, Source("project", str(own_path)), str(own_path), True,
                                                        user)
        notes = [own_problem] if own_problem else []
        if table is not None or py_problem:
            notes.append(f"{py_where} is not read: {own_path} is there, and wins")
        layer.problems[:0] = notes
        return layer, own_path if own is not None else None
    if py_problem:
        return Layer(problems=[py_problem]), None
    if table is None:
        return Layer(), None
    if not isinstance(table, dict):
        return Layer(problems=[f"{py_where}: should be a table; ignored"]), None
    return _file_layer(table, Source("project", py_where), py_where, True, user), py_path


def env_layer(env: Mapping[str, str] | None = None) -> Layer:
    """The documented variables: OPENAI_BASE_URL, RAGLS_MODEL, ... (`Key.env`); an empty one is unset."""
    env = os.environ if env is None else env
    layer = Layer()
    for key in keys().values():
        if key.env and env.get(key.env):
            layer.put(key.name, env[key.env], Source("env", key.env), f"${key.env}")
    return layer


def flag_layer(flags: Mapping[str, tuple[Any, str]]) -> Layer:
    """Command-line values by key name, each with the flag that gave it (None: not given)."""
    layer = Layer()
    for name, (value, flag) in flags.items():
        layer.put(name, value, Source("flag", flag), flag.split(" ")[0])
    return layer


def editor_layer(data: Any) -> Layer:
    """The editor's `ragls` section (initializationOptions, workspace/configuration), or an object holding it.
    Keys the server does not know are skipped: clients send whole sections."""
    if data is None:
        return Layer()
    if isinstance(data, dict) and isinstance(data.get(SECTION), dict):
        data = data[SECTION]
    if not isinstance(data, dict):
        return Layer(problems=["editor settings: should be an object; ignored"])
    layer = Layer()
    for name, value in _flatten(data).items():
        layer.put(name, value, Source("editor"), "editor settings", unknown=False)
    return layer


def parse_flag(name: str, text: str) -> Any:
    """A `--set KEY=VALUE` value as its key's type: true/false, a number, or the text itself."""
    key = lookup(name)
    if key is None or key.type is str:
        return text
    if key.type is bool:
        return {"true": True, "false": False}.get(text.lower(), text)
    try:
        return key.type(text)
    except ValueError:
        return text


def resolve(root: Path | None = None, *, env: Mapping[str, str] | None = None,
            flags: Mapping[str, tuple[Any, str]] | None = None, editor: Any = None,
            defaults: Mapping[str, Any] | None = None, command: str = "",
            project_files: ProjectFiles | None = None) -> Resolved:
    """The layers from lowest to highest: built-in defaults (with a command's own `defaults` on top), the user's
    file, the project's at `root` (read from `project_files` when given), the environment, flags, the editor's
    settings (a tuple: several, the last on top)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {name: key.default for name, key in keys().items()}
    sources: dict[str, Source] = {name: Source("default") for name in keys()}
    for name, value in (defaults or {}).items():
        values[name], sources[name] = value, Source("default", command)
    user = user_file(env)
    layers = [user_layer(env)]
    project: Path | None = None
    if root is not None:
        layer, project = project_layer(root, user, project_files)
        layers.append(layer)
    editors = editor if isinstance(editor, tuple) else (editor,)  # initializationOptions, then the live section
    layers += [env_layer(env), flag_layer(flags or {}), *(editor_layer(e) for e in editors)]
    problems: list[str] = []
    for layer in layers:
        problems += layer.problems
        for name, (value, source) in layer.values.items():
            values[name], sources[name] = value, source
    for name, other in DERIVED.items():
        if values[name] is None and values[other] is not None:
            values[name], sources[name] = values[other], replace(sources[other], where=f"{sources[other].where} "
                                                                                       f"(as {other})".strip())
    return Resolved(build(values), sources, tuple(problems), user, project)


def _shown(key: Key, value: Any) -> Any:
    """A value as `ragls config` prints it: a URL's password hidden."""
    if key.url and isinstance(value, str) and "@" in value:
        parts = urlsplit(value)
        if parts.password:
            netloc = parts.netloc.rsplit("@", 1)
            return urlunsplit(parts._replace(netloc=f"{netloc[0].split(':', 1)[0]}:***@{netloc[1]}"))
    return value


def describe(resolved: Resolved, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What `ragls config --json` prints: every key's value and source; for a key naming a secret's variable,
    whether that variable is set (never its value)."""
    env = os.environ if env is None else env
    s = resolved.settings
    out: dict[str, Any] = {}
    for name, key in keys().items():
        value: Any = s
        for part in key.path:
            value = getattr(value, part)
        source = resolved.sources[name]
        entry: dict[str, Any] = {"value": _shown(key, value), "source": source.kind}
        if source.where:
            entry["from"] = source.where
        if key.variable:
            entry["variableSet"] = bool(env.get(value))
        out[name] = entry
    out["index.embedApiKeyEnv"]["uses"] = embed_key_env(s, env)
    project = str(resolved.project_file) if resolved.project_file else None
    return {"userFile": str(resolved.user_file), "projectFile": project,
            "settings": out, "problems": list(resolved.problems)}


def reference() -> str:
    """The keys as a Markdown table (the README's): name, default, environment variable, whether a project's file
    may set it, what it is."""
    rows = ["| key | default | env | project file | |", "|---|---|---|---|---|"]
    for key in keys().values():
        shown = str(key.default).lower() if key.type is bool else key.default
        default = "unset" if key.default is None else f"`{shown}`"
        env = f"`{key.env}`" if key.env else ""
        rows.append(f"| `{key.name}` | {default} | {env} | {'**no**' if key.user_only else 'yes'} | {key.doc} |")
    return "\n".join(rows)
