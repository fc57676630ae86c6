"""Builds a C or C++ retrieval benchmark with clang as the oracle: completion and explain queries, gold from clang.

usage: python bench/c_gold.py --repo DIR --name NAME --out DIR [--lang c|c++] [--sources GLOB ...]
                              [-I DIR ...] [-D NAME[=VALUE] ...] [--n 200] [--seed 0]
Then score any engine with the shared harness, as for its Go and TypeScript sets:
    python ../shared/bench/evaluate.py --queries OUT/NAME.queries.jsonl --repo DIR --retriever cmd \
        --cmd 'ragls context --repo {repo} --batch {queries} --json' --name ragls
(and OUT/NAME.explain.queries.jsonl the same way). Needs libclang's Python binding with its library (`pip install
libclang`, a wheel: nothing downloads at run time) and a C compiler's builtin headers (GCC's are found by default).

The queries follow ../shared/bench/go's rules, with clang in place of go/types:
- every function definition of a source file (`--sources`; default every .c/.cc/.cpp/.cxx file outside tests)
  is a query source. Its uses of names defined in another file of the repository are its gold: functions (the
  definition, found in whichever translation unit defines it, else the declaration), C++ methods, types
  (struct/union/enum/class definitions, typedefs), file-scope variables, enum constants and macros. Skipped: uses in
  the same file, system headers, locals, parameters and fields, and names defined in two files of the repository
  (platform variants, `#ifdef`s), as the Go set skips names declared in two files;
- completion (`NAME.queries.jsonl`): the cursor is at the start of a gold name's first use in a function (1-based
  line, 0-based column in characters), one query per (function, gold); the engine may use the text before it;
- explain (`NAME.explain.queries.jsonl`): the whole function (its first line to its last), gold every name it uses
  from another file (at least 2);
- `--n` of each, drawn with `--seed` from all candidates. Include folders default to the query sources' folders and
  every `include` folder; `-I` adds a build's other folders (its -I flags). A manifest records the counts and clang's
  errors per file (a file that does not fully compile still yields the references clang resolved).
"""
from __future__ import annotations

import argparse
import fnmatch
import glob
import json
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from gold_sets import add_queries, gold, write_sets  # bench/gold_sets.py (bench/ is the script's folder)

SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx")
HEADER_SUFFIXES = (".h", ".hh", ".hpp", ".hxx")
SKIP_DIRS = {".git", "node_modules", "build", "out"}


@dataclass
class Definition:
    path: str
    name: str
    kind: str
    start: int
    end: int


@dataclass
class Catalog:
    by_usr: dict[str, Definition] = field(default_factory=dict)  # definitions (functions: their bodies)
    declared: dict[str, Definition] = field(default_factory=dict)  # declarations in the repository, by USR
    macros: dict[tuple[str, int], Definition] = field(default_factory=dict)  # by (path, line)
    files_of_name: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    seen_headers: set[str] = field(default_factory=set)


@dataclass
class Use:
    usr: str | None
    macro: tuple[str, int] | None
    line: int
    col: int  # 1-based byte column
    ident: str


@dataclass
class Function:
    path: str
    name: str
    start: int
    end: int
    uses: list[Use]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--lang", choices=["c", "c++"], default="c")
    ap.add_argument("--sources", nargs="*", default=None, help="globs (repository-relative) of the query sources")
    ap.add_argument("-I", dest="include", action="append", default=[], help="an include folder (relative or absolute)")
    ap.add_argument("-D", dest="define", action="append", default=[])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--builtin-include", default=None, help="the compiler's builtin headers (stddef.h ...)")
    args = ap.parse_args(argv)
    import clang.cindex as ci

    repo = args.repo.resolve()
    files = sorted(_files(repo))
    sources = [f for f in files if f.endswith(SOURCE_SUFFIXES) and _is_source(f, args.sources)]
    header_dirs = sorted({str((repo / f).parent) for f in sources} | {str(p) for p in repo.rglob("include")
                                                                     if p.is_dir() and ".git" not in p.parts})
    builtin = args.builtin_include or _gcc_builtin()
    flags = ["-x", "c" if args.lang == "c" else "c++", "-std=gnu11" if args.lang == "c" else "-std=c++17",
             "-ferror-limit=0", "-Wno-everything"]
    flags += ["-isystem", builtin] if builtin else []
    flags += [f"-I{repo / i}" for i in args.include] + [f"-I{d}" for d in header_dirs]
    flags += [f"-D{d}" for d in args.define]
    index = ci.Index.create()
    cat = Catalog()
    functions: list[Function] = []
    errors: dict[str, int] = {}
    for n, rel in enumerate(sources):
        tu = index.parse(str(repo / rel), args=flags,
                         options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
        errors[rel] = sum(1 for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error)
        functions += _read_unit(ci, tu, repo, rel, cat)
        print(f"[{n + 1}/{len(sources)}] {rel}: {errors[rel]} errors", file=sys.stderr)
    completion, explain = _queries(repo, functions, cat)
    counts = write_sets(args.out, args.name, completion, explain, args.n, args.seed)
    manifest = {"repo": str(repo), "lang": args.lang, "flags": flags, "sources": len(sources),
                "functions": len(functions), "definitions": len(cat.by_usr) + len(cat.macros), **counts,
                "files_with_errors": {k: v for k, v in errors.items() if v}}
    (args.out / f"{args.name}.manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps({k: v for k, v in manifest.items() if k not in ("flags", "files_with_errors")}),
          f"files with errors: {len(manifest['files_with_errors'])} of {len(sources)}", file=sys.stderr)
    return 0


def _files(repo: Path) -> list[str]:
    out = []
    for root, dirs, names in os.walk(repo):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        for n in names:
            if n.endswith(SOURCE_SUFFIXES + HEADER_SUFFIXES):
                out.append(os.path.relpath(os.path.join(root, n), repo))
    return out


def _is_source(rel: str, globs: list[str] | None) -> bool:
    if globs:
        return any(fnmatch.fnmatch(rel, g) for g in globs)
    parts = rel.lower().split("/")
    return not any(p in ("test", "tests", "testing", "bench", "benchmarks", "examples", "vendor", "third_party",
                                                     "deps", "external") for p in parts[:-1]) \
        and not any(t in parts[-1] for t in ("_test.", "test_", "_bench."))


def _gcc_builtin() -> str | None:
    found = sorted(glob.glob("/usr/lib/gcc/*/*/include/stddef.h"))
    return str(Path(found[-1]).parent) if found else None


def _inside(repo: Path, name: str | None) -> str | None:
    if not name:
        return None
    p = Path(name)
    p = p if p.is_absolute() else repo / p
    try:
        return os.path.relpath(os.path.realpath(p), repo) if os.path.realpath(p).startswith(str(repo) + os.sep) \
            else None
    except ValueError:
        return None


def _read_unit(ci, tu, repo: Path, rel: str, cat: Catalog) -> list[Function]:
    """The unit's definitions into the catalog (each header once), and its main file's functions with their uses."""
    K = ci.CursorKind
    functions: list[Function] = []
    expansions: list[tuple[int, int, str, tuple[str, int]]] = []
    stack = list(tu.cursor.get_children())
    while stack:
        c = stack.pop()
        path = _inside(repo, c.location.file.name if c.location.file else None)
        if path is None:
            continue
        if path != rel and path in cat.seen_headers and c.kind != K.MACRO_INSTANTIATION:
            continue
        k = c.kind
        if k == K.MACRO_INSTANTIATION:
            if path == rel and (d := c.referenced) is not None and d.location.file is not None:
                dpath = _inside(repo, d.location.file.name)
                if dpath is not None:
                    expansions.append((c.location.line, c.location.column, c.spelling, (dpath, d.location.line)))
            continue
        if k == K.MACRO_DEFINITION:
            if len(list(c.get_tokens())) > 1 and not c.spelling.startswith("__"):  # not an include guard
                _add(cat, Definition(path, c.spelling, "macro", c.extent.start.line, c.extent.end.line),
                     macro=(path, c.location.line))
            continue
        if k in (K.NAMESPACE, K.LINKAGE_SPEC, K.CLASS_DECL, K.STRUCT_DECL, K.CLASS_TEMPLATE, K.ENUM_DECL,
                 K.TYPEDEF_DECL):
            stack.extend(c.get_children())  # nested definitions
        kind = _kind(K, c)
        if kind is None:
            continue
        usr = c.get_usr()
        d = Definition(path, _qualname(K, c), kind, c.extent.start.line, c.extent.end.line)
        if c.is_definition() or k in (K.TYPEDEF_DECL, K.TYPE_ALIAS_DECL, K.ENUM_CONSTANT_DECL):
            if usr and usr not in cat.by_usr:
                _add(cat, d, usr=usr)
            if path == rel and kind in ("func", "method") and c.is_definition():
                functions.append(Function(rel, d.name, d.start, d.end, _uses(K, c, repo, rel)))
        elif usr and usr not in cat.declared:
            cat.declared[usr] = d
    cat.seen_headers.update(h for h in _headers(tu, repo) if h != rel)
    for f in functions:
        f.uses += [Use(None, m, ln, col, name) for ln, col, name, m in expansions if f.start <= ln <= f.end]
        f.uses.sort(key=lambda u: (u.line, u.col))
    return functions


def _headers(tu, repo: Path) -> set[str]:
    out = set()
    for inc in tu.get_includes():
        if (p := _inside(repo, inc.include.name if inc.include else None)) is not None:
            out.add(p)
    return out


def _kind(K, c) -> str | None:
    k = c.kind
    if k == K.FUNCTION_DECL or k == K.FUNCTION_TEMPLATE:
        return "func"
    if k in (K.CXX_METHOD, K.CONSTRUCTOR, K.DESTRUCTOR):
        return "method"
    if k in (K.STRUCT_DECL, K.UNION_DECL, K.ENUM_DECL, K.CLASS_DECL, K.CLASS_TEMPLATE):
        return "type" if c.spelling and c.is_definition() and "(anonymous" not in c.spelling \
            and "(unnamed" not in c.spelling else None
    if k in (K.TYPEDEF_DECL, K.TYPE_ALIAS_DECL):
        return "type"
    if k == K.VAR_DECL and c.semantic_parent is not None and c.semantic_parent.kind in (
            K.TRANSLATION_UNIT, K.NAMESPACE):
        return "var"
    if k == K.ENUM_CONSTANT_DECL:
        return "const"
    return None


def _qualname(K, c) -> str:
    parent = c.semantic_parent
    if c.kind in (K.CXX_METHOD, K.CONSTRUCTOR, K.DESTRUCTOR) and parent is not None and parent.spelling:
        return f"{parent.spelling}::{c.spelling}"
    return c.spelling


def _add(cat: Catalog, d: Definition, usr: str | None = None, macro: tuple[str, int] | None = None) -> None:
    if usr is not None:
        cat.by_usr[usr] = d
    if macro is not None:
        cat.macros[macro] = d
    cat.files_of_name[d.name].add(d.path)


def _uses(K, fn, repo: Path, rel: str) -> list[Use]:
    out = []
    kinds = {K.DECL_REF_EXPR, K.TYPE_REF, K.MEMBER_REF_EXPR, K.TEMPLATE_REF}
    for c in fn.walk_preorder():
        if c.kind not in kinds or c.location.file is None or _inside(repo, c.location.file.name) != rel:
            continue
        d = c.referenced
        if d is None or _kind(K, d) is None and d.kind not in (K.STRUCT_DECL, K.UNION_DECL, K.ENUM_DECL,
                                                              K.CLASS_DECL):
            continue
        if c.kind == K.MEMBER_REF_EXPR and d.kind not in (K.CXX_METHOD,):
            continue  # fields
        usr = d.get_usr()
        if usr:
            out.append(Use(usr, None, c.location.line, c.location.column, d.spelling or c.spelling))
    return out


def _queries(repo: Path, functions: list[Function], cat: Catalog) -> tuple[list[dict], list[dict]]:
    completion: list[dict] = []
    explain: list[dict] = []
    texts: dict[str, list[bytes]] = {}
    for f in functions:
        lines = texts.setdefault(f.path, (repo / f.path).read_bytes().split(b"\n"))
        golds: dict[tuple[str, int, str], tuple[dict, int, int, str]] = {}
        for u in f.uses:
            d = cat.macros.get(u.macro) if u.macro else (cat.by_usr.get(u.usr) or cat.declared.get(u.usr))
            if d is None or d.path == f.path or len(cat.files_of_name.get(d.name, ())) > 1:
                continue
            if (key := (d.path, d.start, d.name)) not in golds:
                line = lines[u.line - 1] if u.line - 1 < len(lines) else b""
                golds[key] = (gold(d.path, d.name, d.start, d.end, d.kind), u.line,
                              len(line[:u.col - 1].decode("utf-8", "replace")), u.ident)
        add_queries(completion, explain, f.path, f.name, f.start, f.end, list(golds.values()))
    return completion, explain


if __name__ == "__main__":
    sys.exit(main())
