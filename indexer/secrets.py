r"""Secrets in repository text found by high-confidence rules and replaced by placeholders before a prompt is sent.

What is found (the placeholder's kind: the rule):

- detect-secrets' (Yelp) format-specific regex rules: ``aws-access-key`` (AKIA/ASIA/... key ids),
  ``aws-secret-key`` (40 characters in quotes shortly after "aws" and key/pass/token), ``azure-storage-key``
  (``AccountKey=`` of a connection string), ``github-token`` (ghp_/gho_/ghu_/ghs_/ghr_), ``gitlab-token``,
  ``slack-token``, ``slack-webhook``, ``stripe-key`` (sk_live_/rk_live_), ``npm-token`` (.npmrc ``_authToken``),
  ``pypi-token``, ``openai-key`` (keys holding OpenAI's T3BlbkFJ marker), ``twilio-key``, ``sendgrid-key``,
  ``square-secret`` and ``jwt`` (only tokens whose header and payload decode to JSON: detect-secrets' check).
  A token found by its prefix is redacted up to its last token character: keys outgrow the rules' lengths.
- ragls's own, where detect-secrets has no rule or one that misses: ``private-key`` (PEM, OpenSSH, PGP: the whole
  block from BEGIN to END, also when written with ``\n`` escapes as in a GCP service-account JSON; a BEGIN with no
  END is redacted to the text's end, an END with no BEGIN from the text's start, and base64 key lines at a text's
  edges too, since prompt texts are windows that can cut a block), ``putty-private-key``, ``url-password`` (the
  password of ``scheme://user:password@host``; not template references such as ``{password}`` or ``${DB_PASS}``),
  ``github-token`` (fine-grained github_pat_), ``gcp-api-key`` (AIza...), ``gcp-oauth-secret`` (GOCSPX-),
  ``npm-token`` (npm_ tokens in code), ``azure-sas-signature`` (``sig=`` of a SAS URL) and ``api-key`` (sk-...
  keys of OpenAI-compatible providers: sk-proj-, sk-ant-, sk-or-v1-, ...; at least 32 characters, with digits).

Left out: entropy-only and keyword-only detectors (on code they flag hashes, ids and test data), and rules with no
literal to find them by (Discord, Telegram, Mailchimp: scanning for them costs more than all the others together).

Users add rules with ``RAGLS_REDACT_PATTERNS``: Python regular expressions, one per line. The whole match is
redacted as kind ``custom``, or, when the expression has a named group, that group only, with the group's name as
the kind (``ACME_KEY\s*=\s*"(?P<acme_key>[^"]+)"`` -> ``<redacted:acme-key>``). ``set_extra_patterns`` does the
same from code (for a settings source). A pattern that does not compile is logged and skipped.
"""
from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

log = logging.getLogger(__name__)
ENV = "RAGLS_REDACT_PATTERNS"
CACHE_SIZE = 1024  # texts whose findings are kept: context items repeat from one prompt to the next

_TOKEN_TAIL = re.compile(r"[A-Za-z0-9_-]*")
_JWT_TAIL = re.compile(r"[A-Za-z0-9_\-.+/=]*")
_WORD_BEFORE = re.compile(r"[A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class Finding:
    """text[start:end] is a secret of `kind`."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Rule:
    """One regular expression for one kind of secret. Most start with a literal, which `re` finds as fast as a
    substring search; the others have a `gate` tried first: a literal (looked for in the lower-cased text when
    `fold`) or a regular expression that does start with one."""

    kind: str
    pattern: re.Pattern[str]
    gate: str | re.Pattern[str] | None = None
    fold: bool = False
    group: int | str = 0  # the part of a match that is the secret
    skip: int = 0  # characters at the start of that part that are not (AccountKey=)
    tail: re.Pattern[str] | None = None  # grows a match over the characters that follow (keys outgrow rules)
    valid: Callable[[re.Match[str], int, int], bool] | None = None  # (match, start, end of the secret)


def _alone(m: re.Match[str], start: int, end: int) -> bool:
    """The secret does not continue a word (a longer identifier or token), and is not a placeholder such as
    ACxxxxxxxx...: random characters are of many kinds."""
    return (start == 0 or not _WORD_BEFORE.match(m.string, start - 1)) and len(set(m.string[start:end])) >= 8


def _key_id(m: re.Match[str], start: int, end: int) -> bool:
    """An AWS key id is 20 characters, not a piece of a longer run (DNA in a test, base64 data)."""
    return _alone(m, start, end) and not (end < len(m.string) and m.string[end].isalnum())


def _sk_valid(m: re.Match[str], start: int, end: int) -> bool:
    """An sk-... key stands alone and has random characters: digits (kebab-case words have none)."""
    value = m.string[start:end]
    digits = sum(c.isdigit() for c in value)
    return _alone(m, start, end) and (digits >= 3 or (digits >= 1 and any(c.isupper() for c in value)))


# what stands for a password in examples and templates: {password}, ${DB_PASS}, %(pw)s, ***, xxx, "password"
_TEMPLATE = re.compile(r"\$\{?[\w.]+\}?|\{\{?[^{}]*\}?\}|%\(?\w*\)?s|\*+|x+|\.\.\.|<[^>]*>|"
                       r"password|passwd|pwd|secret|your[-_]?password|changeme", re.IGNORECASE)


def _url_password_valid(m: re.Match[str], start: int, end: int) -> bool:
    """After a URL scheme, and not a template or variable reference standing for the password."""
    return m.start() > 0 and m.string[m.start() - 1].isalnum() and not _TEMPLATE.fullmatch(m.string[start:end])


def _sas_valid(m: re.Match[str], start: int, end: int) -> bool:
    return m.start() > 0 and m.string[m.start() - 1] in "?&;"


def _jwt_valid(m: re.Match[str], start: int, end: int) -> bool:
    return JwtTokenDetector.is_formally_valid(m.string[start:end])


def _builtin_rules() -> list[Rule]:
    github = re.compile(r"gh(?:[pousr]_|ithub_pat_)")
    gitlab = re.compile(r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-|GR1348941")
    tail = _TOKEN_TAIL
    return [
        # detect-secrets' key-id rule has no group, its secret-key rule has the key as group 1
        *(Rule("aws-secret-key", p, "aws", fold=True, group=1) if p.groups else
          Rule("aws-access-key", p, valid=_key_id) for p in AWSKeyDetector.denylist),
        *(Rule("azure-storage-key", p, skip=len("AccountKey=")) for p in AzureStorageKeyDetector.denylist),
        *(Rule("github-token", p, github, tail=tail) for p in GitHubTokenDetector.denylist),
        Rule("github-token", re.compile(r"github_pat_[A-Za-z0-9_]{22,}"), github),
        *(Rule("gitlab-token", p, gitlab, tail=tail) for p in GitLabTokenDetector.denylist),
        *(Rule("slack-webhook", p, "hooks.slack.com", fold=True, tail=tail) if "hooks" in p.pattern else
          Rule("slack-token", p, "xox", fold=True, tail=tail) for p in SlackDetector.denylist),
        *(Rule("stripe-key", p, "k_live_", tail=tail) for p in StripeDetector.denylist),
        *(Rule("npm-token", p, group=1 if p.groups else 0) for p in NpmDetector.denylist),  # .npmrc lines
        Rule("npm-token", re.compile(r"npm_[A-Za-z0-9]{36}"), valid=_alone, tail=tail),
        *(Rule("pypi-token", p, "pypi-", tail=tail) for p in PypiTokenDetector.denylist),
        *(Rule("openai-key", p, "sk-", tail=tail) for p in OpenAIDetector.denylist),
        Rule("api-key", re.compile(r"sk-[A-Za-z0-9_-]{32,}"), "sk-", valid=_sk_valid),
        *(Rule("twilio-key", p, valid=_alone, tail=tail) for p in TwilioKeyDetector.denylist),
        *(Rule("sendgrid-key", p, tail=tail) for p in SendGridDetector.denylist),
        *(Rule("square-secret", p, tail=tail) for p in SquareOAuthDetector.denylist),
        *(Rule("jwt", p, tail=_JWT_TAIL, valid=_jwt_valid) for p in JwtTokenDetector.denylist),
        Rule("gcp-api-key", re.compile(r"AIza[0-9A-Za-z_-]{35}"), tail=tail),
        Rule("gcp-oauth-secret", re.compile(r"GOCSPX-[A-Za-z0-9_-]{28}"), tail=tail),
        Rule("azure-sas-signature", re.compile(r"sig=((?:[A-Za-z0-9+/]|%2[BbFf]){40,}(?:=|%3[Dd]){0,2})"),
             group=1, valid=_sas_valid),
        Rule("url-password", re.compile(r"://[^\s:/?#@\"'`<>]*:([^\s/?#\"'`<>]+)@"), group=1,
             valid=_url_password_valid),
    ]


# -- private keys: whole blocks, and the parts of one that a window cut ---------------------------------------

_BEGIN = re.compile(r"-{4,5} ?BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}")
_END = re.compile(r"-{4,5} ?END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}")
# after a BEGIN with no END: a line break (or \n), then body or a header line (Proc-Type: ...), or the text's end
_AFTER_BEGIN = re.compile(r"[ \t\"'+,(]*(?:(?:\\[nr]|\r?\n)(?:\\[nr]|[\s\"'+,])*"
                          r"(?:[A-Za-z0-9+/]{16}|[A-Za-z-]+: )|\s*\Z)")
# before an END with no BEGIN: body and a line break (or \n), or nothing but the text's start
_BEFORE_END = re.compile(r"(?:[A-Za-z0-9+/=]{16}(?:\\[nr]|\s)|\A)(?:\\[nr]|[\s\"'+,])*\Z")
_BODY_RUN = re.compile(r"[A-Za-z0-9+/=]{16,}")
_PUTTY = re.compile(r"PuTTY-User-Key-File-\d+:.*?(?:Private-MAC: *[0-9a-fA-F]+|\Z)", re.DOTALL)
_KEY_LINE = re.compile(r"[ \t]*[A-Za-z0-9+/]{40,100}={0,2}[ \t]*")
_PART_LINE = re.compile(r"[ \t]*[A-Za-z0-9+/=]*")
MAX_BLOCK = 32_768  # characters from BEGIN within which its END is looked for


def _key_line(line: str) -> bool:
    """A line of a key's base64 body: long, and mixing upper case, lower case and digits as random data does."""
    return len(line) >= 40 and bool(_KEY_LINE.fullmatch(line)) and not line.islower() and \
        not line.isupper() and any(c.isdigit() for c in line)


def _blocks(text: str) -> list[Finding]:
    """BEGIN ... END blocks; a BEGIN with no END runs to the text's end, an END with no BEGIN from its start."""
    out: list[Finding] = []
    pos, first_begin = 0, len(text)
    for begin in _BEGIN.finditer(text):
        if begin.start() < pos:
            continue
        first_begin = min(first_begin, begin.start())
        end = _END.search(text, begin.end(), begin.end() + MAX_BLOCK)
        if end is not None and _BODY_RUN.search(text, begin.end(), end.start()):
            out.append(Finding(begin.start(), end.end(), "private-key"))
            pos = end.end()
        elif end is None and _AFTER_BEGIN.match(text, begin.end()):
            out.append(Finding(begin.start(), len(text), "private-key"))
            break
    end = _END.search(text, 0, first_begin)
    if end is not None and _BEFORE_END.search(text, max(0, end.start() - 80), end.start()):
        out.append(Finding(0, end.end(), "private-key"))
    return out


def _edge_lines(text: str) -> list[Finding]:
    """Key body lines at the start or end of a text (a window inside a key block): at least one whole base64
    line, and the partial line at the very edge with it."""
    out = []
    lines = text.split("\n")
    n = 1 if len(lines) > 1 and _PART_LINE.fullmatch(lines[0]) and _key_line(lines[1]) else 0
    while n < len(lines) and _key_line(lines[n]):
        n += 1
    if n:
        out.append(Finding(0, min(sum(len(line) + 1 for line in lines[:n]), len(text)), "private-key"))
    m = len(lines) - 2 if len(lines) > 1 and _PART_LINE.fullmatch(lines[-1]) and _key_line(lines[-2]) else \
        len(lines) - 1
    first = m + 1
    while first > n and _key_line(lines[first - 1]):
        first -= 1
    if first <= m:
        out.append(Finding(sum(len(line) + 1 for line in lines[:first]), len(text), "private-key"))
    return out


def _private_keys(text: str) -> list[Finding]:
    out = _blocks(text) if "PRIVATE KEY" in text else []
    if "PuTTY-User-Key-File-" in text:
        out += [Finding(m.start(), m.end(), "putty-private-key") for m in _PUTTY.finditer(text)]
    edges = (*text[:256].split("\n", 2)[:2], *text[-256:].rsplit("\n", 2)[-2:])
    if any(_key_line(line) for line in edges):
        out += _edge_lines(text)
    return out


# -- rules, user patterns, detection --------------------------------------------------------------------------


@dataclass
class _Rules:
    rules: list[Rule] = field(default_factory=_builtin_rules)
    extra: list[Rule] = field(default_factory=list)


_state = _Rules()


def _compile_extra(patterns: Iterable[str], where: str) -> list[Rule]:
    out = []
    for n, source in enumerate(patterns, 1):
        if not source.strip():
            continue
        try:
            pattern = re.compile(source)
        except re.error as exc:
            log.warning("%s: pattern %d is not a valid regular expression (%s); skipped", where, n, exc)
            continue
        name = next(iter(pattern.groupindex), None)
        kind = name.replace("_", "-").lower() if name else "custom"
        out.append(Rule(kind, pattern, group=name or 0))
    return out


def set_extra_patterns(patterns: Sequence[str], where: str = "redaction patterns") -> None:
    """Redact what these regular expressions match too (replacing the ones set before, and those of the
    environment). A named group, if any, is the part redacted and its name the kind."""
    _state.extra = _compile_extra(patterns, where)
    find.cache_clear()  # _scan's findings do not depend on them


def _load_env() -> None:
    if raw := os.environ.get(ENV, ""):
        set_extra_patterns(raw.split("\n"), ENV)
        log.info("%d extra redaction patterns from %s", len(_state.extra), ENV)


@lru_cache(maxsize=CACHE_SIZE)
def find(text: str) -> tuple[Finding, ...]:
    """The secrets in `text`, in order, overlapping findings merged."""
    return _merged([*_private_keys(text), *_scan(text), *_extra(text)])


def find_pair(before: str, after: str) -> tuple[Finding, ...]:
    """find(before + after), for a prefix and a suffix that change at the cursor between calls: the line rules
    run on the text before the cursor's line, that line, and the text after it apart, two of them cached."""
    joined = before + after
    line_start = before.rfind("\n") + 1
    line_end = after.find("\n")
    line_end = len(joined) if line_end < 0 else len(before) + line_end
    found = _private_keys(joined) + _extra(joined)
    for at, piece in ((0, joined[:line_start]), (line_start, joined[line_start:line_end]),
                      (line_end, joined[line_end:])):
        found += [Finding(f.start + at, f.end + at, f.kind) for f in _scan(piece)]
    return _merged(found)


@lru_cache(maxsize=CACHE_SIZE)
def _scan(text: str) -> tuple[Finding, ...]:
    """The findings of the token rules, each of which matches within one line."""
    found: list[Finding] = []
    lower: str | None = None
    gates: dict[int, bool] = {}
    for rule in _state.rules:
        if isinstance(rule.gate, str):  # a literal: the rule runs on the lines holding it
            if rule.fold and lower is None:
                lower = text.lower()
            where = lower if rule.fold and lower is not None else text
            # (a few characters lower-case to two: offsets in `lower` would not be offsets in `text`)
            found += _on_lines(rule, text, where) if len(where) == len(text) else _matches(rule, text)
            continue
        if rule.gate is not None:
            if id(rule.gate) not in gates:
                gates[id(rule.gate)] = rule.gate.search(text) is not None
            if not gates[id(rule.gate)]:
                continue
        found += _matches(rule, text)
    return tuple(found)


def _extra(text: str) -> list[Finding]:
    return [f for rule in _state.extra for f in _matches(rule, text)]


def _on_lines(rule: Rule, text: str, where: str) -> list[Finding]:
    """`rule` run on each line of `text` that holds its gate (found in `where`, `text` or its lower case)."""
    out: list[Finding] = []
    gate, pos = str(rule.gate), 0
    while (at := where.find(gate, pos)) >= 0:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        out += _matches(rule, text, start, end)
        pos = end + 1
    return out


def _matches(rule: Rule, text: str, pos: int = 0, endpos: int | None = None) -> list[Finding]:
    out = []
    for m in rule.pattern.finditer(text, pos, len(text) if endpos is None else endpos):
        start, end = m.span(rule.group)
        if start < 0:  # the group took no part in the match
            continue
        start += rule.skip
        if start >= end:
            continue
        if rule.tail is not None:
            end = rule.tail.match(text, end).end()  # type: ignore[union-attr]
        if rule.valid is None or rule.valid(m, start, end):
            out.append(Finding(start, end, rule.kind))
    return out


def _merged(found: list[Finding]) -> tuple[Finding, ...]:
    """Overlapping findings as one, of the kind of the longest."""
    out: list[Finding] = []
    for f in sorted(found, key=lambda f: (f.start, -f.end)):
        if out and f.start < out[-1].end:
            last = out[-1]
            if f.end > last.end:
                kind = last.kind if last.end - last.start >= f.end - f.start else f.kind
                out[-1] = Finding(last.start, f.end, kind)
            continue
        out.append(f)
    return tuple(out)


# -- replacing ------------------------------------------------------------------------------------------------


class Redactor:
    """Replaces the secrets of the texts of one prompt: the same value gets the same placeholder in all of them
    (`<redacted:KIND>`, then `<redacted:KIND:2>` for a second value of that kind). A placeholder keeps the line
    count of what it replaces (blank lines follow it), so numbered code and line citations stay right."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()  # redactions made, per kind
        self.originals: dict[str, str] = {}  # placeholder -> the value it stands for
        self._names: dict[tuple[str, str], str] = {}
        self._per_kind: Counter[str] = Counter()

    def _name(self, kind: str, value: str) -> str:
        self.counts[kind] += 1
        key = (kind, value)
        if key not in self._names:
            self._per_kind[kind] += 1
            n = self._per_kind[kind]
            self._names[key] = name = f"<redacted:{kind}>" if n == 1 else f"<redacted:{kind}:{n}>"
            self.originals[name] = value
        return self._names[key]

    def __call__(self, text: str) -> str:
        """`text` with its secrets replaced."""
        found = find(text) if text else ()
        if not found:
            return text
        return _splice(text, [(f.start, f.end, self._name(f.kind, text[f.start:f.end])
                               + "\n" * text.count("\n", f.start, f.end)) for f in found])

    def pair(self, before: str, after: str) -> tuple[str, str]:
        """Two texts that meet (a prefix and the suffix after it), looked at as one: a secret across the cursor
        becomes one placeholder, at the end of `before`."""
        if not before or not after:
            return self(before), self(after)
        joined = before + after
        found = find_pair(before, after)
        cut = len(before)
        head, tail = [], []
        for f in found:
            name = self._name(f.kind, joined[f.start:f.end])
            if f.start < cut:
                end = min(f.end, cut)
                head.append((f.start, end, name + "\n" * joined.count("\n", f.start, end)))
            if f.end > cut:
                start = max(f.start, cut)
                tail.append((start - cut, f.end - cut,
                             ("" if f.start < cut else name) + "\n" * joined.count("\n", start, f.end)))
        return _splice(before, head), _splice(after, tail)

    def restore(self, text: str) -> str:
        """`text` (a model's reply to the prompt) with the placeholders put back to the values they stand for."""
        return restore_placeholders(text, self.originals)


def _splice(text: str, replacements: Sequence[tuple[int, int, str]]) -> str:
    """`text` with the (start, end, new text) spans replaced; spans in order, not overlapping."""
    if not replacements:
        return text
    parts, pos = [], 0
    for start, end, new in replacements:
        parts += [text[pos:start], new]
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def restore_placeholders(text: str, originals: dict[str, str]) -> str:
    """Placeholders in `text` replaced by their values (with the blank lines that stood for a value's lines)."""
    if not originals or "<redacted:" not in text:
        return text
    pattern = "|".join(re.escape(name) + f"\n{{0,{value.count(chr(10))}}}" for name, value in originals.items())
    return re.sub(pattern, lambda m: originals[m[0].rstrip("\n")], text)


def redact(text: str) -> tuple[str, dict[str, int]]:
    """`text` with each secret replaced by a placeholder, and how many were replaced per kind."""
    r = Redactor()
    return r(text), dict(r.counts)


_load_env()
