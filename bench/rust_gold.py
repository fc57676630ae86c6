"""Builds a Rust retrieval benchmark with rustdoc as the oracle: completion and explain queries, gold from rustc.

usage: python bench/rust_gold.py --crate DIR --name NAME --out DIR [--repo DIR] [--edition 2021]
                                 [--features a,b] [--cfg SPEC ...] [--n 200] [--seed 0] [--toolchain nightly]
Then score any engine with the shared harness, as for the C and Go sets:
    python ../shared/bench/evaluate.py --queries OUT/NAME.queries.jsonl --repo REPO --retriever cmd \
        --cmd 'ragls context --repo {repo} --batch {queries} --json' --name ragls
(and OUT/NAME.explain.queries.jsonl the same way).

The oracle is rustdoc's jump-to-definition (`rustdoc +nightly -Zunstable-options --generate-link-to-definition`,
offline: no cargo, no registry): the crate's source pages link each path, method call and type a body names to the
span of its definition, as the compiler resolved it. `--crate` is the crate's folder (its `src/lib.rs` is the root);
`--repo` the folder the queries' paths are relative to (default: the crate's). A crate whose dependencies are not
on this machine cannot be documented; choose crates without them (their optional ones left off).

The queries follow ../shared/bench/go's and bench/c_gold.py's rules, with rustc in place of go/types and clang:
- every function (free, or a method of an `impl` or `trait`) of the crate's source files outside tests is a query
  source. Its uses of items defined in another file of the crate are its gold: functions and methods, types
  (structs, enums, unions, traits, type aliases), constants and statics, enum variants (shown with their enum) and
  macros. Skipped: uses in the same file, the standard library and other crates, locals, fields, modules, and items
  whose qualified name (`Type::method` for a method) is defined in two files (`#[cfg]` variants);
- completion (`NAME.queries.jsonl`): the cursor is at the start of a gold name's first use in a function (1-based
  line, 0-based column in characters; the last segment of a path: `ast::Ast` puts it at `Ast`), one query per
  (function, gold); the engine may use the text before it;
- explain (`NAME.explain.queries.jsonl`): the whole function, gold every item it uses from another file (at least 2);
- `--n` of each, drawn with `--seed` from all candidates. Gold spans are the items' spans as tree-sitter-rust reads
  them (where rustdoc's link lands on the item's first line); a manifest records the counts.
"""
from __future__ import annotations

import argparse
import json
import posixpath
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import tree_sitter as ts
import tree_sitter_rust
from gold_sets import add_queries, gold, write_sets  # bench/gold_sets.py (bench/ is the script's folder)

TYPE_NODES = {"struct_item": "type", "enum_item": "type", "union_item": "type", "trait_item": "type",
              "type_item": "type", "const_item": "const", "static_item": "var", "macro_definition": "macro"}
_TEST_PARTS = {"tests", "benches", "examples", "fuzz"}


@dataclass
class Item:
    path: str  # relative to --repo
    name: str  # bare name
    qualname: str  # `Type::method` for a method, `Enum::Variant` for a variant, else the name
    kind: str  # func, method, type, const, var, macro, variant
    start: int
    end: int


@dataclass
class Link:
    line: int
    col: int  # 0-based, in characters, of the link's last path segment
    target: str  # the source file it points to (relative to --repo)
    start: int  # the target span's first line


class _Page(HTMLParser):
    """The links of one rustdoc source page, with the line and column where each starts in the source text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.line, self.col = 0, 0
        self.code = False
        self.gutter = False  # inside a line-number anchor (`<a href=#N id=N data-nosnippet>N</a>`)
        self.link: tuple[str, int, int] | None = None
        self.text = ""
        self.links: list[tuple[int, int, str, str]] = []  # line, col, href, text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "code":
            self.code = True
        elif tag == "a" and self.code:
            if "data-nosnippet" in a:
                self.gutter = True
                self.line, self.col = int(a.get("id") or 0), 0
            elif (href := a.get("href")) and "self" not in (a.get("class") or "").split():
                self.link, self.text = (href, self.line, self.col), ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self.code = False
        elif tag == "a":
            if self.link is not None:
                href, line, col = self.link
                self.links.append((line, col, href, self.text))
            self.link, self.gutter = None, False

    def handle_data(self, data: str) -> None:
        if not self.code or self.gutter:
            return
        if self.link is not None:
            self.text += data
        if "\n" in data:
            self.col = len(data) - data.rfind("\n") - 1
        else:
            self.col += len(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--crate", type=Path, required=True)
    ap.add_argument("--repo", type=Path, default=None)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--edition", default="2021")
    ap.add_argument("--features", default="", help="comma-separated features to enable (their cfg)")
    ap.add_argument("--cfg", action="append", default=[], help="another --cfg for rustdoc")
    ap.add_argument("--toolchain", default="nightly", help="rustup toolchain with -Zunstable-options")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    crate = args.crate.resolve()
    repo = (args.repo or args.crate).resolve()
    src = crate / "src"
    items, functions = _items(repo, src)
    with tempfile.TemporaryDirectory() as out:
        _rustdoc(args, crate, Path(out))
        pages = list((Path(out) / "src").glob("*/**/*.rs.html"))
        root = next(iter({p.relative_to(Path(out) / "src").parts[0] for p in pages}), "")
        links: dict[str, list[Link]] = {}
        for page in pages:
            rel = page.relative_to(Path(out) / "src" / root).as_posix()[:-len(".html")]
            links[_rel(repo, src / rel)] = _links(page, rel, repo, src)
    completion, explain = _queries(functions, items, links)
    counts = write_sets(args.out, args.name, completion, explain, args.n, args.seed)
    manifest = {"crate": str(crate), "repo": str(repo), "pages": len(links), "functions": len(functions),
                "items": len(items), **counts}
    (args.out / f"{args.name}.manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps(manifest), file=sys.stderr)
    return 0


def _rustdoc(args: argparse.Namespace, crate: Path, out: Path) -> None:
    cfgs = [f'feature="{f}"' for f in args.features.split(",") if f] + args.cfg
    name = re.sub(r"[^A-Za-z0-9_]", "_", crate.name)
    cmd = ["rustdoc", f"+{args.toolchain}", "--edition", args.edition, str(crate / "src" / "lib.rs"),
           "--crate-name", name, "--crate-type", "lib", "-Zunstable-options", "--generate-link-to-definition",
           "--cap-lints", "allow", "-o", str(out)] + [a for c in cfgs for a in ("--cfg", c)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"rustdoc failed ({done.returncode}):\n{done.stderr[-3000:]}")


def _rel(repo: Path, path: Path) -> str:
    return path.resolve().relative_to(repo).as_posix()


def _links(page: Path, rel: str, repo: Path, src: Path) -> list[Link]:
    """The page's links to spans of other source pages of the crate (`../ast/mod.rs.html#469-496`)."""
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8"))
    out = []
    for line, col, href, text in parser.links:
        m = re.fullmatch(r"([^#:]+\.rs)\.html#(\d+)(?:-(\d+))?", href)
        if m is None:  # the same page (`#12`), the standard library, another crate, an item's documentation page
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), m.group(1)))
        last = text.rsplit("::", 1)[-1]
        out.append(Link(line, col + len(text) - len(last), _rel(repo, src / target), int(m.group(2))))
    return out


def _items(repo: Path, src: Path) -> tuple[dict[tuple[str, int], Item], list[Item]]:
    """Every item of the crate's files by (path, first line), and the functions outside tests: tree-sitter-rust."""
    parser = ts.Parser(ts.Language(tree_sitter_rust.language()))
    items: dict[tuple[str, int], Item] = {}
    functions: list[Item] = []
    for path in sorted(src.rglob("*.rs")):
        rel = _rel(repo, path)
        tree = parser.parse(path.read_bytes())
        for item, test in _walk(tree.root_node, rel, None):
            items.setdefault((rel, item.start), item)
            if item.kind in ("func", "method") and not test and not _TEST_PARTS & set(Path(rel).parts):
                functions.append(item)
    return items, functions


def _attributes(node: ts.Node) -> str:
    """The outer attributes written before an item (comments between them skipped)."""
    out, prev = [], node.prev_named_sibling
    while prev is not None and prev.type in ("attribute_item", "line_comment", "block_comment"):
        if prev.type == "attribute_item":
            out.append(_text(prev))
        prev = prev.prev_named_sibling
    return " ".join(out)


def _text(node: ts.Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


def _walk(node: ts.Node, rel: str, owner: str | None) -> Iterator[tuple[Item, bool]]:
    """The items under `node`, each with whether it is a test (`#[test]`, or in a `#[cfg(test)]` module)."""
    for child in node.named_children:
        t = child.type
        if t == "mod_item":
            if (body := child.child_by_field_name("body")) is not None and not re.search(
                    r"cfg\s*\(\s*test\s*\)", _attributes(child)):
                yield from _walk(body, rel, None)
        elif t in ("impl_item", "trait_item"):
            name = _text(child.child_by_field_name("type" if t == "impl_item" else "name"))
            name = re.sub(r"<.*", "", name).split("::")[-1].strip()
            if t == "trait_item":
                yield _item(child, rel, name, name, "type"), False
            if (body := child.child_by_field_name("body")) is not None:
                yield from _walk(body, rel, name)
        elif t in ("function_item", "function_signature_item"):
            name = _text(child.child_by_field_name("name"))
            if t == "function_item" or owner is not None:
                yield (_item(child, rel, name, f"{owner}::{name}" if owner else name, "method" if owner else "func"),
                       "#[test]" in _attributes(child))
        elif t in TYPE_NODES:
            name = _text(child.child_by_field_name("name"))
            yield _item(child, rel, name, name, TYPE_NODES[t]), False
            if t == "enum_item" and (body := child.child_by_field_name("body")) is not None:
                for v in body.named_children:
                    if v.type == "enum_variant":
                        vname = _text(v.child_by_field_name("name"))
                        yield _item(v, rel, vname, f"{name}::{vname}", "variant"), False
        elif t == "declaration_list":
            yield from _walk(child, rel, owner)


def _item(node: ts.Node, rel: str, name: str, qualname: str, kind: str) -> Item:
    return Item(rel, name, qualname, kind, node.start_point.row + 1, node.end_point.row + 1)


def _queries(functions: list[Item], items: dict[tuple[str, int], Item],
             links: dict[str, list[Link]]) -> tuple[list[dict], list[dict]]:
    files_of: dict[str, set[str]] = {}
    for item in items.values():
        files_of.setdefault(item.qualname, set()).add(item.path)
    completion: list[dict] = []
    explain: list[dict] = []
    for f in functions:
        golds: dict[tuple[str, int], tuple[dict, int, int, str]] = {}
        for link in links.get(f.path, []):
            if not f.start <= link.line <= f.end or link.target == f.path:
                continue
            it = items.get((link.target, link.start))
            if it is None or len(files_of.get(it.qualname, ())) > 1:
                continue  # a module, a field, a local, a macro-made item; or defined in two files
            if (key := (it.path, it.start)) not in golds:
                golds[key] = (gold(it.path, it.qualname, it.start, it.end, it.kind), link.line, link.col, it.name)
        add_queries(completion, explain, f.path, f.qualname, f.start, f.end, list(golds.values()))
    return completion, explain


if __name__ == "__main__":
    sys.exit(main())
