"""Load prompt templates (TOML data) and render them, repository text fenced off as data and its secrets redacted,
within a token budget."""
from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal, cast

from ragls.indexer import tokens

from ragls.indexer.secrets import Redactor, find, restore_placeholders

log = logging.getLogger(__name__)

BEGIN = "<<<BEGIN REPOSITORY TEXT>>>"
END = "<<<END REPOSITORY TEXT>>>"
MESSAGE_OVERHEAD = 4  # tokens a chat message costs beyond its content (role, separators); +3 to prime the reply
_MARKER = re.compile(r"<<<\s*(BEGIN|END)\s+REPOSITORY\s+TEXT\s*>>>", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_NAME = re.compile(r"[a-z_]+")
_ZWSP = "\u200b"
_FIRST_STEP = 512  # characters: the first step of the search for how much text fits

Value = str | int | Sequence[Mapping[str, Any]]


class BudgetError(ValueError):
    """The parts of a prompt that cannot be trimmed do not fit the token budget; `template` names the prompt."""

    def __init__(self, message: str, template: str = "") -> None:
        super().__init__(message)
        self.template = template


@dataclass(frozen=True)
class FimFormat:
    """How one model family writes a fill-in-the-middle prompt."""

    name: str
    template: str  # with {prefix} and {suffix}
    stop: tuple[str, ...]
    sentinels: tuple[str, ...]  # special strings neutralised in repository text


@dataclass(frozen=True)
class Template:
    """One task's prompt, as data: see prompts/templates/*.toml."""

    name: str
    kind: Literal["chat", "fim"]
    description: str
    variables: tuple[str, ...]
    trim: tuple[str, ...]  # trimmable variables, first trimmed first
    keep: Mapping[str, int]  # tokens a trimmable variable keeps until every one is down to its `keep`
    data: frozenset[str]  # repository text: fenced between BEGIN and END (chat) or sentinel-free (FIM)
    numbered: frozenset[str]  # shown with line numbers (text from `start_line`; context items from theirs)
    system: str = ""
    user: str = ""
    header: str = ""  # FIM: comment block before the prefix
    context_intro: str = ""  # FIM: the line before context items (left out with the items)
    line_comment: Mapping[str, str] = field(default_factory=dict)  # FIM: language id -> line comment
    guidance: Mapping[str, str] = field(default_factory=dict)  # review: focus -> what its reviewer looks for


@dataclass(frozen=True)
class Rendered:
    """A prompt ready to send: `messages` for chat templates, `text` (and `stop`) for FIM ones."""

    tokens: int
    trimmed: dict[str, int]  # tokens removed per variable
    messages: list[dict[str, str]] | None = None
    text: str | None = None
    stop: list[str] = field(default_factory=list)
    redacted: dict[str, int] = field(default_factory=dict)  # secrets replaced by placeholders, per kind
    # placeholder -> the secret it stands for: never shown, only for `restore`
    originals: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # the variables as sent: redacted and trimmed to the budget (what an accepted completion keeps for export)
    values: Mapping[str, Value] = field(default_factory=dict, repr=False, compare=False)

    @property
    def redactions(self) -> int:
        """How many secrets of the repository text were replaced by placeholders."""
        return sum(self.redacted.values())

    def restore(self, reply: str) -> str:
        """A model's reply with this prompt's placeholders put back to their values (a fix must not write
        `<redacted:...>` over a key in the user's file)."""
        return restore_placeholders(reply, self.originals) if self.originals else reply


def names() -> list[str]:
    """The templates shipped with ragls."""
    folder = resources.files(__package__) / "templates"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


@cache
def load(name: str) -> Template:
    """The template `name` (e.g. "fix"), checked for consistency."""
    if not _NAME.fullmatch(name) or name not in names():
        raise ValueError(f"unknown prompt template {name!r}: expected one of {', '.join(names())}")
    raw = tomllib.loads((resources.files(__package__) / "templates" / f"{name}.toml").read_text("utf-8"))
    t = Template(name=name, kind=raw.get("kind", "chat"), description=raw.get("description", ""),
                 variables=tuple(raw["variables"]), trim=tuple(raw.get("trim", ())),
                 keep=dict(raw.get("keep", {})), data=frozenset(raw.get("data", ())),
                 numbered=frozenset(raw.get("numbered", ())), system=raw.get("system", "").strip(),
                 user=raw.get("user", "").strip(), header=raw.get("header", "").strip(),
                 context_intro=raw.get("context_intro", "").strip(), line_comment=dict(raw.get("line_comment", {})),
                 guidance={k: " ".join(v.split()) for k, v in raw.get("guidance", {}).items()})
    _check(t)
    return t


def _check(t: Template) -> None:
    where = f"prompt template {t.name!r}"
    if t.kind not in ("chat", "fim"):
        raise ValueError(f"{where}: kind must be 'chat' or 'fim', not {t.kind!r}")
    declared = set(t.variables)
    for what, names_ in (("trim", t.trim), ("keep", t.keep), ("data", t.data), ("numbered", t.numbered)):
        if unknown := set(names_) - declared:
            raise ValueError(f"{where}: {what} names undeclared variables {sorted(unknown)}")
    texts = (t.system, t.user) if t.kind == "chat" else (t.header,)
    used = {m[1] for text in texts for m in _PLACEHOLDER.finditer(text)}
    if t.kind == "fim":
        used |= {"prefix", "suffix", "language"}
    if unknown := used - declared:
        raise ValueError(f"{where}: placeholders {sorted(unknown)} are not declared in `variables`")
    if unused := declared - used:
        raise ValueError(f"{where}: variables {sorted(unused)} are declared but never used")
    if "guidance" in declared and not (t.guidance and all(isinstance(v, str) and v for v in t.guidance.values())):
        raise ValueError(f"{where}: `guidance` is a variable, so a [guidance] table must give its text per focus")


@cache
def fim_formats() -> dict[str, FimFormat]:
    """The FIM formats by family name (prompts/fim.toml)."""
    raw = tomllib.loads((resources.files(__package__) / "fim.toml").read_text("utf-8"))
    return {name: FimFormat(name, f["template"], tuple(f["stop"]), tuple(f["sentinels"])) for name, f in raw.items()}


def fim_format(family: str | None) -> FimFormat:
    formats = fim_formats()
    if family not in formats:
        raise ValueError(f"unknown FIM format {family!r}: set ragls.model.fimTemplate to one of "
                         f"{', '.join(formats)} (or leave it unset to complete through chat prompts)")
    return formats[family]


def render_fim(family: str, prefix: str, suffix: str, context_header: str = "") -> tuple[str, list[str]]:
    """A FIM prompt for `family` (the header goes before the prefix) and its stop strings. The family's special
    strings are broken up wherever they occur in the given (repository) text."""
    fmt = fim_format(family)
    parts = {"prefix": _defuse(context_header + prefix, fmt.sentinels), "suffix": _defuse(suffix, fmt.sentinels)}
    return _substitute(fmt.template, parts), list(fmt.stop)


def render(template: Template, variables: Mapping[str, Value], budget: int, *,
           fim_family: str | None = None) -> Rendered:
    """The prompt for `variables` (text, numbers, or lists of context items {path, start_line, end_line, symbol,
    text}), at most `budget` tokens: the template's `trim` variables are cut in order, each first down to its
    `keep` tokens, then further; context lists lose their last items, `prefix` its first lines, other text its
    last lines. Secrets in repository text (the template's `data`) are replaced by placeholders first (see
    indexer/secrets.py), so budgets count what is sent. `fim_family` (a name in prompts/fim.toml) is required by
    FIM templates."""
    missing = [v for v in template.variables if v not in variables]
    extra = [v for v in variables if v not in template.variables]
    if missing or extra:
        raise ValueError(f"prompt template {template.name!r} takes {list(template.variables)}; "
                         f"missing {missing}, unexpected {extra}")
    fmt = fim_format(fim_family) if template.kind == "fim" else None
    redactor = Redactor()
    full = _redact(template, variables, redactor)
    values = dict(full)
    out = _build(template, values, fmt)
    trimmed = {}
    if out.tokens > budget:
        values = _fit(template, values, budget, fmt)
        out = _build(template, values, fmt)
        for name in template.trim:
            removed = _var_tokens(template, full, name) - _var_tokens(template, values, name)
            if removed > 0:
                trimmed[name] = removed
        log.debug("prompt %s trimmed to %d tokens: %s", template.name, out.tokens, trimmed)
    if redactor.counts:
        log.info("prompt %s: %d secrets redacted (%s)", template.name, sum(redactor.counts.values()),
                 ", ".join(f"{kind} x{n}" for kind, n in sorted(redactor.counts.items())))
    return Rendered(tokens=out.tokens, trimmed=trimmed, messages=out.messages, text=out.text, stop=out.stop,
                    redacted=dict(redactor.counts), originals=redactor.originals, values=values)


# -- redacting --------------------------------------------------------------------------------------------------


def _redact(t: Template, variables: Mapping[str, Value], redactor: Redactor) -> dict[str, Value]:
    """The variables with the secrets of their repository text (`data`) replaced: text, and each context item's
    text; `prefix` and `suffix` looked at together (a key can straddle the cursor). Other text (the user's
    question, paths, the template's settings) is sent as given; a secret in it is only logged (never its value)."""
    values = dict(variables)
    paired = {"prefix", "suffix"} <= t.data and all(isinstance(values[v], str) for v in ("prefix", "suffix"))
    if paired:
        values["prefix"], values["suffix"] = redactor.pair(str(values["prefix"]), str(values["suffix"]))
    for name, value in variables.items():
        if name not in t.data:
            if isinstance(value, str) and (found := find(value)):
                log.warning("prompt %s: %s holds what looks like a secret (%s); sent as given", t.name, name,
                            ", ".join(sorted({f.kind for f in found})))
        elif isinstance(value, str):
            if not (paired and name in ("prefix", "suffix")):
                values[name] = redactor(value)
        elif not isinstance(value, int):
            values[name] = [_redact_item(item, redactor) for item in _items(name, value)]
    return values


def _redact_item(item: Mapping[str, Any], redactor: Redactor) -> Mapping[str, Any]:
    text = redactor(item["text"])
    return item if text is item["text"] else {**item, "text": text}


# -- building ---------------------------------------------------------------------------------------------------


def _build(t: Template, values: Mapping[str, Value], fmt: FimFormat | None) -> Rendered:
    shown = {name: _format(t, name, values) for name in t.variables}
    if fmt is None:
        messages = [{"role": "system", "content": _substitute(t.system, shown)},
                    {"role": "user", "content": _substitute(t.user, shown)}]
        count = sum(tokens.count(m["content"]) + MESSAGE_OVERHEAD for m in messages) + 3
        return Rendered(tokens=count, trimmed={}, messages=messages)
    comment = t.line_comment.get(str(values["language"]), t.line_comment.get("default", "#"))
    header = _substitute(t.header, shown).strip("\n")
    header = "".join(f"{comment} {line}".rstrip() + "\n" for line in header.splitlines())
    text, stop = render_fim(fmt.name, str(values["prefix"]), str(values["suffix"]), header)
    return Rendered(tokens=tokens.count(text), trimmed={}, text=text, stop=stop)


def _format(t: Template, name: str, values: Mapping[str, Value]) -> str:
    """How a variable's value appears in the prompt."""
    value = values[name]
    if not isinstance(value, str | int):
        return _format_items(t, name, value)
    text = str(value)
    if name in t.numbered:
        if "start_line" not in values:
            raise ValueError(f"prompt template {t.name!r}: numbered variable {name!r} needs `start_line`")
        text = _number(text, int(cast(str | int, values["start_line"])))
    if name in t.data and t.kind == "chat":
        return _fence(text)
    return text


def _format_items(t: Template, name: str, value: Sequence[Mapping[str, Any]]) -> str:
    items = _items(name, value)
    if t.kind == "fim":
        shown = [f"{_item_header(i)}\n{i['text'].rstrip()}" for i in items]
        return "\n".join([t.context_intro, *shown] if shown else [])
    if not items:
        return "(none)"
    numbered = name in t.numbered
    return "\n".join(_fence(f"# {_item_header(i)}\n"
                            + (_number(i["text"], int(i["start_line"])) if numbered else i["text"]).rstrip("\n"))
                     for i in items)


def _item_header(item: Mapping[str, Any]) -> str:
    symbol = f" ({item['symbol']})" if item.get("symbol") else ""
    return f"{item['path']}:{item['start_line']}-{item['end_line']}{symbol}"


def _items(name: str, value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, Sequence):
        raise ValueError(f"variable {name!r} must be text or a list of context items, not {type(value).__name__}")
    for n, item in enumerate(value):
        if not isinstance(item, Mapping) or not {"path", "start_line", "end_line", "text"} <= item.keys():
            raise ValueError(f"{name}[{n}] must be a dict with path, start_line, end_line, text (and symbol)")
    return list(value)


def _fence(text: str) -> str:
    return f"{BEGIN}\n{_MARKER.sub(lambda m: f'<<{_ZWSP}<{m[1]} REPOSITORY TEXT>>>', text)}\n{END}"


def _number(text: str, start: int) -> str:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    width = len(str(start + len(lines)))
    return "\n".join(f"{n:>{max(width, 4)}} | {line}".rstrip() for n, line in enumerate(lines, start))


def _substitute(text: str, values: Mapping[str, str]) -> str:
    """{name} placeholders replaced in one pass: substituted text is never read as a placeholder."""
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)


def _defuse(text: str, sentinels: Sequence[str]) -> str:
    for s in sentinels:
        if s in text:
            text = text.replace(s, s[0] + _ZWSP + s[1:])
    return text


# -- trimming ---------------------------------------------------------------------------------------------------


def _var_tokens(t: Template, values: Mapping[str, Value], name: str) -> int:
    return tokens.count(_format(t, name, values))


def _units(value: Value) -> int:
    return len(str(value)) if isinstance(value, str | int) else len(value)


def _cut(name: str, value: Value, keep: int) -> Value:
    """`value` reduced to `keep` units: context items from its start; text characters nearest the cursor for
    `prefix` (its end), else from its start. A cut text is snapped to whole lines when it spans more than one."""
    if not isinstance(value, str | int):
        return list(value[:keep])
    text = str(value)
    if keep >= len(text):
        return text
    if keep <= 0:
        return ""
    if name == "prefix":
        kept = text[len(text) - keep:]
        if text[len(text) - keep - 1] != "\n" and "\n" in kept:
            kept = kept[kept.index("\n") + 1:]
        return kept
    kept = text[:keep]
    if text[keep - 1] != "\n" and "\n" in kept:
        kept = kept[:kept.rindex("\n") + 1]
    return kept


def _floor_units(t: Template, name: str, value: Value) -> int:
    """The fewest units of `value` that still hold the template's `keep` tokens for it (all of it if fewer)."""
    keep = t.keep.get(name, 0)
    if keep <= 0:
        return 0
    lo, hi, step = 0, _units(value), 1 if not isinstance(value, str | int) else _FIRST_STEP
    while step < hi:  # gallop, then bisect: counts stay near `keep` tokens on long texts
        if _var_tokens(t, {"start_line": 1, name: _cut(name, value, step)}, name) >= keep:
            hi = step
            break
        lo, step = step + 1, step * 2
    while lo < hi:
        mid = (lo + hi) // 2
        if _var_tokens(t, {"start_line": 1, name: _cut(name, value, mid)}, name) >= keep:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _fit(t: Template, values: dict[str, Value], budget: int, fmt: FimFormat | None) -> dict[str, Value]:
    """Trim the trimmable variables in priority order until the prompt fits: first down to their `keep`
    floors, then further. Raises BudgetError when the untrimmable parts alone exceed the budget."""
    def size(vals: Mapping[str, Value]) -> int:
        return _build(t, vals, fmt).tokens

    bare = size({**values, **{name: _cut(name, values[name], 0) for name in t.trim}})
    if bare > budget:
        fixed = [v for v in t.variables if v not in t.trim]
        raise BudgetError(f"prompt {t.name!r} needs {bare} tokens without its trimmable parts "
                          f"({', '.join(t.trim) or 'none'}), over the budget of {budget}: raise the budget, or "
                          f"shorten what cannot be trimmed ({', '.join(fixed)} and the template's own text)",
                          template=t.name)
    floors = {name: _floor_units(t, name, values[name]) for name in t.trim}
    for use_floor in (True, False):
        for name in t.trim:
            current = values[name]
            lo = floors[name] if use_floor else 0
            hi = _units(current)
            if size(values) <= budget:
                return values
            if lo >= hi:
                continue

            def probe(k: int, name: str = name, current: Value = current) -> bool:
                return size({**values, name: _cut(name, current, k)}) <= budget

            if not probe(lo):
                values[name] = _cut(name, current, lo)
                continue
            step = _FIRST_STEP if isinstance(current, str | int) else 1
            while lo + step < hi:  # gallop from the floor so that no probe is much larger than the budget
                if not probe(lo + step):
                    hi = lo + step - 1
                    break
                lo, step = lo + step, step * 2
            while lo < hi:  # then bisect for the most units that fit: probe(lo) holds
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if probe(mid) else (lo, mid - 1)
            values[name] = _cut(name, current, lo)
    return values
