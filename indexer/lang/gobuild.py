"""Go build constraints: whether the default build (this machine's GOOS and GOARCH, or $GOOS/$GOARCH) includes a file,
by its name (`_linux_arm64.go`) and its `//go:build` (or older `// +build`) lines, as the go command reads them."""
from __future__ import annotations

import os
import platform
import posixpath
import re
import sys
from collections.abc import Callable

KNOWN_OS = frozenset("""aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9
solaris wasip1 windows zos""".split())
KNOWN_ARCH = frozenset("""386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le mips64p32
mips64p32le ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm""".split())
UNIX = frozenset("aix android darwin dragonfly freebsd hurd illumos ios linux netbsd openbsd solaris".split())
_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i386": "386", "i686": "386",
             "armv7l": "arm", "armv6l": "arm", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}
_TOKEN = re.compile(r"\s*(\(|\)|!|&&|\|\||[\w.]+)")
_GO_VERSION = re.compile(r"^\s*go\s+1\.(\d+)", re.MULTILINE)


def host() -> tuple[str, str]:
    """The GOOS and GOARCH a build here targets: $GOOS/$GOARCH, else this machine's."""
    goos = os.environ.get("GOOS") or ("darwin" if sys.platform == "darwin" else "windows" if sys.platform == "win32"
                                      else sys.platform.rstrip("0123456789") or "linux")
    goarch = os.environ.get("GOARCH") or _MACHINES.get(platform.machine().lower(), "amd64")
    return goos, goarch


def satisfied(goos: str, goarch: str, minor: int) -> Callable[[str], bool]:
    """Which build tags hold: the OS (and `unix`), the architecture, the gc compiler with cgo, and the release tags
    go1.1 to go1.<minor>; custom tags (noasm, purego, appengine, ignore) do not."""
    tags = {goos, goarch, "gc", "cgo", *(f"go1.{n}" for n in range(1, minor + 1))}
    if goos in UNIX:
        tags.add("unix")
    if goos == "android":
        tags.add("linux")
    if goos in ("ios", "illumos"):
        tags.add("darwin" if goos == "ios" else "solaris")
    return tags.__contains__


def name_allows(path: str, goos: str, goarch: str) -> bool:
    """A file name's `_GOOS`, `_GOARCH` or `_GOOS_GOARCH` suffix (before `_test.go`) against the target."""
    parts = posixpath.basename(path).removesuffix(".go").removesuffix("_test").split("_")[1:]
    if len(parts) >= 2 and parts[-2] in KNOWN_OS and parts[-1] in KNOWN_ARCH:
        return parts[-2] == goos and parts[-1] == goarch
    if parts and parts[-1] in KNOWN_OS:
        return parts[-1] == goos or (goos == "android" and parts[-1] == "linux")
    return not (parts and parts[-1] in KNOWN_ARCH) or parts[-1] == goarch


def constraints_allow(text: str, tag: Callable[[str], bool]) -> bool:
    """The `//go:build` line (or, without one, every `// +build` line) of the comments before the package clause."""
    plus: list[str] = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("package ") or (s and not s.startswith("//") and not s.startswith("/*")):
            break
        if s.startswith("//go:build "):
            return _evaluate(s[len("//go:build "):], tag)
        if s.startswith("// +build "):
            plus.append(s[len("// +build "):])
    return all(any(all(_term(t, tag) for t in option.split(",")) for option in p.split()) for p in plus)


def go_minor(go_mod: str | None, default: int = 22) -> int:
    """The minor version of a go.mod's `go` directive (the language version the module is built as)."""
    m = _GO_VERSION.search(go_mod or "")
    return int(m.group(1)) if m is not None else default


def _term(t: str, tag: Callable[[str], bool]) -> bool:
    return not tag(t[1:]) if t.startswith("!") else tag(t)


def _evaluate(expr: str, tag: Callable[[str], bool]) -> bool:
    """A `//go:build` expression (`!amd64 || appengine`, `(linux && !cgo) || go1.21`); a malformed one holds."""
    tokens = [m.group(1) for m in _TOKEN.finditer(expr.split("//")[0])]
    pos = 0

    def either() -> bool:
        nonlocal pos
        value = both()
        while pos < len(tokens) and tokens[pos] == "||":
            pos += 1
            value = both() or value
        return value

    def both() -> bool:
        nonlocal pos
        value = single()
        while pos < len(tokens) and tokens[pos] == "&&":
            pos += 1
            value = single() and value
        return value

    def single() -> bool:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError(expr)
        token = tokens[pos]
        pos += 1
        if token == "!":
            return not single()
        if token == "(":
            value = either()
            pos += 1  # the closing parenthesis
            return value
        return tag(token)

    try:
        return either()
    except ValueError:
        return True
