"""TypeScript and JavaScript as the compiler resolves them: tsconfig `paths`/`baseUrl`/`extends`, package.json
`name`/`exports`, barrels that re-export, type aliases as definitions, and the declared types of names."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import tree_sitter as ts

from ragls.indexer.chunks import chunk_file
from ragls.indexer.lang.javascript import js_bases, resolve_js
from ragls.indexer.lang.js_project import parse_jsonc, project
from ragls.indexer.lang.paths import PathIndex
from ragls.indexer.languages import grammar, spec, types_query
from ragls.indexer.model import ImportRef
from ragls.indexer.symbols import extract

from .conftest import make_git_repo

FIXTURE = Path(__file__).parent / "fixtures" / "ts"
FILES = sorted(p.relative_to(FIXTURE).as_posix() for p in FIXTURE.rglob("*") if p.is_file())


class FixtureFiles(PathIndex):
    """The fixture repository's files, with the reader the graph gives resolvers (read from the fixture folder)."""

    def __init__(self, root: Path = FIXTURE, files: list[str] = FILES) -> None:
        super().__init__(files, self._read)
        self.root = root
        self.reads: list[str] = []

    def _read(self, path: str) -> str | None:
        if path not in self.paths:
            return None
        self.reads.append(path)
        return (self.root / path).read_text(encoding="utf-8")


def ref(module: str, name: str | None = None, alias: str | None = None) -> ImportRef:
    return ImportRef(module, name, alias, 1)


# ---- project files -------------------------------------------------------------------------------------------

def test_tsconfig_is_json_with_comments_and_trailing_commas() -> None:
    text = '{\n  // a comment\n  "a": "http://x/*y*/", /* block\n comment */ "b": [1, 2,],\n  "c": {"d": "//",},\n}\n'
    assert parse_jsonc(text) == {"a": "http://x/*y*/", "b": [1, 2], "c": {"d": "//"}}
    assert parse_jsonc('{"s": "a \\" // not a comment"}') == {"s": 'a " // not a comment'}
    with pytest.raises(ValueError):
        parse_jsonc("{ not json }")


@pytest.mark.parametrize(("importer", "spec", "expected"), [
    # `paths` of the root config, reached through `extends` ("./tsconfig.base", no extension), relative to the
    # config that holds them: an exact pattern first, else the longest matching prefix
    ("packages/web/src/widgets/button.ts", "@acme/core/ledger", "packages/core/src/ledger.ts"),
    ("packages/web/src/widgets/button.ts", "@acme/core", "packages/core/src/index.ts"),
    ("packages/web/src/widgets/button.ts", "@acme/core/testing", "packages/core/src/testing.ts"),
    # each substitution in turn: ./missing/* is not there, ./packages/*/src is
    ("packages/core/src/ledger.ts", "@acme/web", "packages/web/src/index.ts"),
    # the nearest config (packages/app) replaces `paths`, relative to itself
    ("packages/app/src/main.ts", "@/format", "packages/app/src/format.ts"),
    # not in its `paths` any more: the workspace package of that name (package.json `types`)
    ("packages/app/src/main.ts", "@acme/core", "packages/core/src/index.ts"),
    # package.json `exports`: a `*` subpath, conditions in their order (types names a build output that is not
    # in the repository, browser is not a condition TypeScript holds; default is)
    ("packages/app/src/main.ts", "@acme/web/widgets/button", "packages/web/src/widgets/button.ts"),
    # jsconfig.json `baseUrl`
    ("packages/legacy/src/app.js", "util/strings", "packages/legacy/src/util/strings.js"),
    # relative specifiers as before
    ("packages/core/src/ledger.ts", "./money", "packages/core/src/money.ts"),
    ("packages/app/src/main.ts", "../../core/src/clock.js", "packages/core/src/clock.ts"),
])
def test_bare_specifiers_resolve_as_the_compiler_does(importer: str, spec: str, expected: str) -> None:
    assert resolve_js(importer, ref(spec, "x"), FixtureFiles()) == [expected]


@pytest.mark.parametrize(("importer", "spec"), [
    ("packages/app/src/main.ts", "react"),  # a dependency: nothing in the repository
    ("packages/app/src/main.ts", "@acme/core/ledger"),  # app's `paths` do not map it; core has no `exports` subpath
    ("packages/app/src/main.ts", "@acme/web/package.json/x"),
    ("packages/legacy/src/app.js", "@/format"),  # another package's alias
])
def test_what_the_project_does_not_map_stays_unresolved(importer: str, spec: str) -> None:
    assert resolve_js(importer, ref(spec, "x"), FixtureFiles()) == []


def test_project_files_are_read_once_per_index() -> None:
    files = FixtureFiles()
    for importer in ("packages/app/src/main.ts", "packages/app/src/format.ts", "packages/core/src/ledger.ts"):
        for specifier in ("@acme/core", "@/format", "@acme/web/widgets/button", "react"):
            resolve_js(importer, ref(specifier, "x"), files)
    assert sorted(files.reads) == sorted(set(files.reads))
    assert "packages/app/tsconfig.json" in files.reads and "tsconfig.base.json" in files.reads


def test_broken_or_circular_configs_resolve_what_they_can(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "tsconfig.json").write_text('{"extends": "./a/tsconfig.json", "compilerOptions": {"baseUrl": "."}}')
    (tmp_path / "a" / "tsconfig.json").write_text('{"extends": "../tsconfig.json"}')  # a cycle
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "tsconfig.json").write_text('{"compilerOptions": ')  # not JSON
    (tmp_path / "lib.ts").write_text("export const x = 1;\n")
    files = FixtureFiles(tmp_path, ["tsconfig.json", "a/tsconfig.json", "b/tsconfig.json", "lib.ts", "a/m.ts",
                                    "b/m.ts"])
    assert resolve_js("a/m.ts", ref("lib", "x"), files) == ["lib.ts"]  # baseUrl "." of the root config
    with caplog.at_level(logging.WARNING):
        assert resolve_js("b/m.ts", ref("lib", "x"), files) == []
    assert "b/tsconfig.json" in caplog.text


def test_without_a_reader_only_relative_specifiers_resolve() -> None:
    files = PathIndex(FILES)  # an index without a reader of its files
    assert resolve_js("packages/app/src/main.ts", ref("@/format", "x"), files) == []
    assert resolve_js("packages/core/src/ledger.ts", ref("./money", "x"), files) == ["packages/core/src/money.ts"]
    assert project(files).packages() == {}


# ---- definitions and chunks ----------------------------------------------------------------------------------

def parse(path: str, source: str):
    language = "tsx" if path.endswith(".tsx") else "javascript" if path.endswith(".js") else "typescript"
    loaded = grammar(language)
    assert loaded is not None
    return extract(loaded, path, source.encode())


def test_type_aliases_interfaces_and_enums_are_chunks_of_their_own() -> None:
    source = (FIXTURE / "packages/core/src/money.ts").read_text()
    parsed = parse("money.ts", source)
    chunks = {c.symbol: (c.kind, c.start_line, c.end_line) for c in chunk_file("money.ts", source.split("\n"),
                                                                             parsed.symbols)}
    assert chunks["Amount"] == ("type", 1, 2)  # its doc comment with it
    assert chunks["Currency"][0] == "enum" and chunks["Money"][0] == "interface"
    assert chunks["addMoney"][0] == "function" and chunks["zero"][0] == "function"
    assert "constant" in spec("typescript").not_chunked and "type" not in spec("tsx").not_chunked


@pytest.mark.parametrize("path", ["a.ts", "a.tsx"])
def test_a_function_behind_a_type_assertion_is_a_function(path: str) -> None:
    source = ("export const cache = function (max?: number) {\n  return new Map();\n} as any as typeof Map;\n"
              "export type cache = Map<string, number>;\n"
              "const handler = ((event: Event) => event.type) satisfies Handler;\n"
              "export const SIZES = { small: 1 } as const;\n"
              "const other = value as unknown as Other;\n")
    found = {(s.name, s.kind, s.start_line) for s in parse(path, source).symbols}
    assert found == {("cache", "function", 1), ("cache", "type", 4), ("handler", "function", 5),
                     ("SIZES", "constant", 6), ("other", "constant", 7)}


@pytest.mark.parametrize(("signature", "bases"), [
    ("export class Queue<T extends Task> extends Base {", [["Base"]]),  # a constraint is not a base
    ("export interface Opts<A extends B = C, F extends (x: A) => B = D> extends Bar<A>, ns.Baz {",
     [["Bar"], ["ns", "Baz"]]),
    ("export abstract class Q<T> extends mixin(Base) implements R<T>, S {", [["mixin"], ["R"], ["S"]]),
    ("class Plain {", []),
])
def test_the_bases_a_class_or_interface_declares(signature: str, bases: list[list[str]]) -> None:
    assert js_bases(signature) == bases


# ---- declared types (typed receivers) ------------------------------------------------------------------------

TYPED = """\
class Store extends Base {
  private cache: Cache<string> | undefined;
  #secret = new Secret();
  pending = new Map<string, Job>();
  constructor(private readonly client: api.Client, public name: string, retries?: RetryPolicy) {
    super();
    this.queue = new JobQueue();
  }
  get ledger(): Ledger { return this.make(); }
  run(ctx: Context<Env>, { id }: Options, ...rest: Job[]) {
    const plan: Plan = this.plan();
    const worker = new pool.Worker(ctx);
    const view = raw as unknown as View;
    const checked = input satisfies Checked;
    return rest;
  }
}
const handle = (req: Request) => req.url;
"""


@pytest.mark.parametrize("language", ["typescript", "tsx"])
def test_the_types_query_reads_declared_and_constructed_types(language: str) -> None:
    query, loaded = types_query(language), grammar(language)
    assert query is not None and loaded is not None
    tree = loaded.parser().parse(TYPED.encode())
    matches = [c for _, c in ts.QueryCursor(query).matches(tree.root_node)]
    found = {((c["var"][0].text or b"").decode(), (c["type"][0].text or b"").decode()) for c in matches if "type" in c}
    values = {((c["var"][0].text or b"").decode(), (c["value"][0].text or b"").decode())
              for c in matches if "value" in c}
    assert all(v.startswith(("new ", "this.")) or "(" in v or "." in v for _, v in values)  # calls and members only
    assert found == {
        ("cache", "Cache<string> | undefined"), ("pending", "Map"), ("client", "api.Client"), ("name", "string"),
        ("retries", "RetryPolicy"), ("queue", "JobQueue"), ("ledger", "Ledger"), ("ctx", "Context<Env>"),
        ("plan", "Plan"), ("worker", "pool.Worker"), ("view", "View"), ("checked", "Checked"), ("req", "Request"),
    }


def test_the_javascript_types_query_reads_constructed_types() -> None:
    query, loaded = types_query("javascript"), grammar("javascript")
    assert query is not None and loaded is not None
    source = ("class A {\n  store = new Store();\n  constructor() { this.log = new log.Logger(); }\n}\n"
              "const q = new Queue();\n")
    tree = loaded.parser().parse(source.encode())
    found = {((c["var"][0].text or b"").decode(), (c["type"][0].text or b"").decode())
             for _, c in ts.QueryCursor(query).matches(tree.root_node)}
    assert found == {("store", "Store"), ("log", "log.Logger"), ("q", "Queue")}


def test_javascript_getters_destructured_names_and_chains_take_their_value_s_type() -> None:
    """As in TypeScript: a getter returning one value, a name destructured from a value and a variable set to a
    chain have the chain of that value (`@value`/`@from`), read through the declared and constructed types."""
    from ragls.indexer.visible import _declared

    query, loaded = types_query("javascript"), grammar("javascript")
    assert query is not None and loaded is not None
    source = ("class A {\n  get cache() {\n    return this.client.cache;\n  }\n  get made() { return new Thing(); }\n"
              "  get two() { if (x) return 1; return this.b; }\n}\n"
              "const { policies, store: s } = this.cache;\nconst c = a.b.f();\n")
    tree = loaded.parser().parse(source.encode())
    found = {((c["var"][0].text or b"").decode(), tuple(_declared(c) or ()))
             for _, c in ts.QueryCursor(query).matches(tree.root_node)}
    assert found == {("cache", ("this", "client", "cache")), ("made", ("Thing",)),
                     ("policies", ("this", "cache", "policies")), ("s", ("this", "cache", "store")),
                     ("c", ("a", "b", "f"))}


def test_a_javascript_getter_leads_to_the_members_of_the_class_it_returns(tmp_path: Path) -> None:
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/store.js": "export class Store {\n  batch(run) {\n    run();\n  }\n}\n",
        "src/queue.js": "export class Queue {\n  batch(run) {\n    run();\n  }\n}\n",
        "src/manager.js": 'import { Store } from "./store";\nimport { Queue } from "./queue";\n\n'
                          "export class Manager {\n  constructor() {\n    this.store = new Store();\n"
                          "    this.queue = new Queue();\n  }\n\n  get cache() {\n    return this.store;\n  }\n\n"
                          "  update() {\n    this.cache.",
    })
    items = Retriever(index_of(root, tmp_path / "data")).context(
        Query("src/manager.js", 15, len("    this.cache.")), join=False)
    assert (items[0].path, items[0].symbol) == ("src/store.js", "Store.batch")


# ---- the index: imports through aliases and barrels to the defining file --------------------------------------

@pytest.fixture
def acme_index(tmp_path: Path):
    from ragls.indexer.index import Index

    repo = make_git_repo(FIXTURE, tmp_path / "acme")
    index = Index.open(repo.working_tree_dir, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    return index


def test_imports_reach_the_defining_file_through_aliases_and_barrels(acme_index) -> None:
    from ragls.indexer.retrieve import Retriever

    graph = Retriever(acme_index).graph
    bindings, _ = graph.bindings("packages/app/src/main.ts", "typescript", graph.imports["packages/app/src/main.ts"])
    where = {name: (t[1].path, t[1].qualname) for name, t in bindings.items() if t[0] == "def"}  # type: ignore
    assert where["Ledger"] == ("packages/core/src/ledger.ts", "Ledger")  # @acme/core -> index.ts -> export {..} from
    assert where["Currency"] == ("packages/core/src/money.ts", "Currency")  # index.ts -> export * from
    assert where["Money"] == ("packages/core/src/money.ts", "Money")
    assert where["formatMoney"] == ("packages/app/src/format.ts", "formatMoney")  # @/format
    assert where["Button"] == ("packages/web/src/widgets/button.ts", "Button")  # exports "./widgets/*"


def test_a_name_a_barrel_passes_back_and_forth_reaches_its_definition(tmp_path: Path) -> None:
    """types.ts imports S from the barrel and passes it on; the barrel passes types.ts's S on under another name.
    Reading S through types.ts after the barrel's other names once found nothing (the barrel, being read, cut the
    search short): each name is followed for itself."""
    from ragls.indexer.graph import Graph, resolve_edges

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "u/index.ts": "export { S } from './s';\nexport { S as Again } from './types';\n",
        "u/s.ts": "export interface S {\n  id: string;\n}\n",
        "u/types.ts": "import type { S } from './index';\nexport type { S };\n",
        "main.ts": "import { Again } from './u';\nimport { S } from './u/types';\n\nlet a: Again;\nlet s: S;\n",
    })
    index = index_of(root, tmp_path / "data")
    refs = {"main.ts": {"S": 1, "Again": 1}}
    edges = resolve_edges(Graph(index.store, index.root.name, index.root), refs, ["main.ts"])
    imports = {(name, dst, qual) for src, name, dst, qual, kind in edges if kind == "imports"}
    assert imports == {("Again", "u/s.ts", "S"), ("S", "u/s.ts", "S")}


def test_a_cursor_gets_the_definitions_behind_the_aliases(acme_index) -> None:
    from ragls.indexer.retrieve import Query, Retriever

    r = Retriever(acme_index)
    items = r.context(Query("packages/app/src/main.ts", 13, len("  ledger.")), join=False)  # `ledger.|post(...)`
    assert items and items[0].symbol in ("Ledger.post", "Ledger.balance", "Ledger")
    top = [(i.path, i.symbol) for i in items[:5]]
    assert ("packages/core/src/ledger.ts", "Ledger.post") in top
    items = r.context(Query("packages/app/src/main.ts", 7, len("  const button = new ")), join=False)
    assert ("packages/web/src/widgets/button.ts", "Button") in [(i.path, i.symbol) for i in items[:3]]
    items = r.context(Query("packages/app/src/main.ts", 5, 0, end_line=9), join=False)  # report(): a selection
    assert {"Ledger.balance", "Button", "formatMoney", "Money"} <= {i.symbol for i in items}


def test_members_inherited_from_a_class_of_another_package(acme_index) -> None:
    from ragls.indexer.retrieve import Query, Retriever

    r = Retriever(acme_index)
    # AuditedLedger extends Ledger
    items = r.context(Query("packages/app/src/close.ts", 6, len("  audited.")), join=False)
    assert ("packages/core/src/ledger.ts", "Ledger.post") in [(i.path, i.symbol) for i in items[:5]]


def test_a_class_merged_with_a_namespace_declared_first_keeps_its_bases(tmp_path: Path) -> None:
    from ragls.indexer.index import Index
    from ragls.indexer.retrieve import Retriever

    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "base.ts").write_text("export class Base {\n  hello(): string { return 'hi'; }\n}\n")
    (tmp_path / "repo" / "shape.ts").write_text(
        "import { Base } from './base';\n"
        "export namespace Shape {\n  export const sides = 4;\n}\n"
        "export class Shape extends Base {\n  area(): number { return 1; }\n}\n"
        "export interface Named { name: string }\n"
        "export interface Named extends Base { nick: string }\n")
    index = Index.open(tmp_path / "repo", data_dir=tmp_path / "data")
    index.refresh(progress=False)
    graph = Retriever(index).graph
    for name in ("Shape", "Named"):
        decls = [d for d in graph.by_name[name] if d.kind in ("class", "interface")]
        assert decls, name
        assert [(b.path, b.qualname) for b in graph.bases(decls[0])] == [("base.ts", "Base")], name
        assert "hello" in {m.name for m in graph.module_members(("def", decls[0]))}, name


def test_a_selection_uses_a_namespace_s_members_not_the_namespace(tmp_path: Path) -> None:
    """`Client.Options` (a namespace merged with `class Client`) and `Cache.DiffResult` (a namespace) in a selection
    use the members: the namespace and the class are not used for them, and the members take the slots. A method
    reached through the class (`Client.create()`), or the class itself (`new Client()`), still uses the class."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/client.ts": "export class Client {\n  static create(): Client { return new Client(); }\n"
                         "  send(): void {}\n}\n"
                         "export namespace Client {\n  export interface Options { retries: number }\n"
                         "  export type Result = string;\n}\n",
        "src/cache.ts": "export namespace Cache {\n  export interface DiffResult { ok: boolean }\n}\n",
        "src/use.ts": 'import { Client } from "./client";\nimport { Cache } from "./cache";\n\n'
                      "export function run(o: Client.Options, d: Cache.DiffResult): Client.Result {\n"
                      "  return `${o.retries}${d.ok}`;\n}\n\n"
                      "export function make(): Client {\n  return Client.create();\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))

    def used(items: list) -> set[str]:
        return {i.symbol for i in items if any(w.startswith("used=") for w in i.why)}

    run = r.context(Query("src/use.ts", 4, 0, end_line=6), join=False)
    assert used(run) == {"Client.Options", "Client.Result", "Cache.DiffResult"}, [(i.symbol, i.why) for i in run]
    make = r.context(Query("src/use.ts", 8, 0, end_line=10), join=False)
    assert {"Client", "Client.create"} <= used(make), [(i.symbol, i.why) for i in make]


def test_a_value_and_a_type_of_one_name_side_by_side_are_one_item(tmp_path: Path) -> None:
    """`function Money(...)` and `type Money = ReturnType<typeof Money>` beside it: a use of `Money` (a type here)
    shows both, as one item; a value and a type of one name far apart stay the one the graph keeps."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    notes = "".join(f"// note {i}\n" for i in range(24))  # more lines between than a gap joins (GAP_SCAN_LINES)
    far = "".join(f"// note {i}\n" for i in range(80))
    root = write_tree(tmp_path / "repo", {
        "src/money.ts": "export function Money(amount: number) {\n  return { amount, currency: 'EUR' };\n}\n"
                        f"{notes}export type Money = ReturnType<typeof Money>;\n\n"
                        f"export function Ledger() {{\n  return [] as Money[];\n}}\n{far}"
                        "export interface Ledger {\n  total(): number;\n}\n",
        "src/use.ts": 'import { Money, Ledger } from "./money";\n\n'
                      "export function add(a: Money, b: Money): Money {\n  Ledger();\n"
                      "  return { amount: a.amount + b.amount, currency: a.currency };\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    items = r.context(Query("src/use.ts", 3, 0, end_line=6))
    shown = [(i.symbol, i.start_line, i.end_line, i.joined) for i in items]
    assert [(i.start_line, i.end_line) for i in items if i.symbol == "Money"] == [(1, 28)], shown  # function, type
    assert not any(i.end_line >= 113 for i in items), shown  # not the interface far from the function kept


def test_a_declared_result_type_leads_to_members(tmp_path: Path) -> None:
    """`const s = pool.open()` where `open(): Session`: `s.` ranks Session's members."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/session.ts": "export class Session {\n  /** Ends it. */\n  close(): void {\n    return;\n  }\n\n"
                          "  /** Runs a query. */\n  query(sql: string): number {\n    return sql.length;\n  }\n}\n",
        "src/pool.ts": "import { Session } from './session';\n\nexport class Pool {\n  /** A session. */\n"
                       "  open(): Session {\n    return new Session();\n  }\n}\n",
        "src/app.ts": "import { Pool } from './pool';\n\nexport function run(pool: Pool) {\n  const s = pool.open();\n"
                      "  s.",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    items = r.context(Query("src/app.ts", 5, len("  s.")), source=(root / "src/app.ts").read_text(), join=False)
    members = {i.symbol for i in items if "receiver=1.00" in i.why}
    assert {"Session.close", "Session.query"} <= members


def test_a_type_parameter_s_bound_types_a_field(tmp_path: Path) -> None:
    """`private cache: TCache` in `class QueryInfo<TCache extends ApolloCache>`: `this.cache.` ranks ApolloCache's
    members (the bound is all a type checker knows of TCache there)."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/cache.ts": "export class ApolloCache {\n  /** Writes a query. */\n  writeQuery(q: string): void {}\n\n"
                        "  /** Reads a query. */\n  readQuery(q: string): string {\n    return q;\n  }\n}\n",
        "src/info.ts": 'import { ApolloCache } from "./cache";\n\nexport class QueryInfo<\n  TData,\n'
                       "  TCache extends ApolloCache = ApolloCache,\n> {\n  private cache: TCache;\n\n"
                       "  reset(data: TData) {\n    this.cache.\n  }\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    items = r.context(Query("src/info.ts", 10, len("    this.cache.")), join=False)
    assert {i.symbol for i in items[:2]} == {"ApolloCache.writeQuery", "ApolloCache.readQuery"}
    assert all("receiver=1.00" in i.why for i in items[:2])


def test_a_member_of_a_value_of_unknown_type_is_a_candidate(tmp_path: Path) -> None:
    """`update: (cache) => { cache.writeQuery(...) }`: only a type checker knows `cache` (a contextually typed
    callback parameter), but few definitions are members named writeQuery: an explained selection ranks them
    (`loose`), and a member name many classes share, or a name that is no member, is left to other evidence."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/cache.ts": "export class ApolloCache {\n  /** Writes a query. */\n  writeQuery(q: string): void {}\n\n"
                        "  /** Reads. */\n  toString(): string {\n    return '';\n  }\n}\n",
        "src/a.ts": "export class A {\n  toString(): string {\n    return 'a';\n  }\n}\n",
        "src/b.ts": "export class B {\n  toString(): string {\n    return 'b';\n  }\n}\n",
        "src/app.ts": "export function refresh(run: (f: unknown) => void) {\n  run((cache) => {\n"
                      "    cache.writeQuery('q');\n    console.log(cache.toString());\n  });\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    items = r.context(Query("src/app.ts", 1, 0, end_line=6), join=False)
    loose = {i.symbol: i.why for i in items if any(w.startswith("loose=") for w in i.why)}
    assert "loose=1.00" in loose["ApolloCache.writeQuery"]
    assert items[0].symbol == "ApolloCache.writeQuery"
    assert {"A.toString", "B.toString", "ApolloCache.toString"} <= set(loose), "three of that name: each a third"
    assert all("loose=0.58" in loose[n] for n in ("A.toString", "B.toString"))


def test_names_destructured_from_a_typed_value_have_their_property_s_type(tmp_path: Path) -> None:
    """`const { policies } = this.cache` where the constructor declares `cache: Cache` and Cache declares
    `policies: Policies`: `policies.` ranks Policies' members; so does a renamed property (`{ policies: p }`)."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/policies.ts": "export class Policies {\n  /** Whether a fragment matches. */\n"
                           "  fragmentMatches(name: string): boolean {\n    return name.length > 0;\n  }\n}\n",
        "src/cache.ts": 'import { Policies } from "./policies";\n\nexport class Cache {\n'
                        "  public readonly policies: Policies = new Policies();\n}\n",
        "src/other.ts": "export class Matcher {\n  /** Matches. */\n"
                        "  fragmentMatches(name: string): boolean {\n    return false;\n  }\n}\n",
        "src/writer.ts": 'import { Cache } from "./cache";\nimport { Matcher } from "./other";\n\n'
                         "export class Writer {\n  constructor(public readonly cache: Cache, private m: Matcher) {}\n\n"
                         "  write(name: string): boolean {\n    const { policies } = this.cache;\n"
                         "    const { policies: p } = this.cache;\n    return policies.fragmentMatches(name) && "
                         "p.fragmentMatches(name);\n  }\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    items = r.context(Query("src/writer.ts", 7, 0, end_line=11), join=False)
    found = {(i.path, i.symbol): i for i in items}
    assert ("src/policies.ts", "Policies.fragmentMatches") in found
    assert any(w.startswith("used_typed=") for w in found[("src/policies.ts", "Policies.fragmentMatches")].why)
    assert ("src/other.ts", "Matcher.fragmentMatches") not in found or \
        items.index(found[("src/other.ts", "Matcher.fragmentMatches")]) > \
        items.index(found[("src/policies.ts", "Policies.fragmentMatches")])


def test_a_getter_without_a_declared_type_has_the_type_of_what_it_returns(tmp_path: Path) -> None:
    """`get cache() { return this.client.cache; }` with `client: Client` and Client's `cache: Store`: `this.cache.`
    ranks Store's members, in a selection and at a cursor."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/store.ts": "export class Store {\n  /** Runs updates at once. */\n  batch(run: () => void): void {\n"
                        "    run();\n  }\n}\n",
        "src/client.ts": 'import { Store } from "./store";\n\nexport class Client {\n  public cache: Store;\n}\n',
        "src/other.ts": "export class Queue {\n  /** Batches. */\n  batch(run: () => void): void {\n"
                        "    run();\n  }\n}\n",
        "src/manager.ts": 'import { Client } from "./client";\nimport { Queue } from "./other";\n\n'
                          "export class Manager {\n"
                          "  constructor(public readonly client: Client, private q: Queue) {}\n\n"
                          "  get cache() {\n    return this.client.cache;\n  }\n\n"
                          "  update(): void {\n    this.cache.batch(() => {});\n  }\n}\n",
        "src/make.ts": 'import { Store } from "./store";\n\nexport function makeStore() {\n  return new Store();\n}\n'
                       "export const newStore = () => new Store();\n"
                       "export const anyStore = (): Store => makeStore();\n"
                       "export function cachedStore(holder: { store?: Store }) {\n  if (!holder.store) {\n"
                       "    holder.store = new Store();\n  }\n  return holder.store;\n}\n"
                       "export function builtStore(n: number) {\n  const made = new Store();\n  const kept = made;\n"
                       "  return kept;\n}\n"
                       "export function castStore(x: unknown) {\n  log(x);\n  return x as Store;\n}\n"
                       "export function eitherStore(n: number) {\n  if (n) {\n    return new Store();\n  }\n"
                       "  return new Other();\n}\n"
                       "export function ownParameter(s: unknown) {\n  log(s);\n  return s;\n}\n",
        "src/use.ts": 'import { makeStore } from "./make";\n\nexport function use() {\n  const s = makeStore();\n  s.',
        "src/query.ts": 'import { Manager } from "./manager";\n\nexport class Query {\n'
                        "  constructor(private manager: Manager) {}\n\n  private get store() {\n"
                        "    return this.manager.cache;\n  }\n\n  run(): void {\n    this.store.",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    items = r.context(Query("src/manager.ts", 11, 0, end_line=13), join=False)
    found = {(i.path, i.symbol): i for i in items}
    assert any(w.startswith("used_typed=") for w in found[("src/store.ts", "Store.batch")].why)
    assert ("src/other.ts", "Queue.batch") not in found or \
        items.index(found[("src/other.ts", "Queue.batch")]) > items.index(found[("src/store.ts", "Store.batch")])
    items = r.context(Query("src/manager.ts", 12, len("    this.cache.")), join=False)
    assert (items[0].path, items[0].symbol) == ("src/store.ts", "Store.batch")
    # a function without a declared result type that returns one value: what it returns
    for name in ("makeStore", "newStore", "anyStore"):  # an arrow's value, or its declared result type
        assert r.graph.type_of(r.graph.defs["src/make.ts"][name])[1].qualname == "Store"  # type: ignore[index]
    # of several statements: a local returned is what the body gives it, an asserted type is that type
    for name in ("cachedStore", "builtStore", "castStore"):
        assert r.graph.type_of(r.graph.defs["src/make.ts"][name])[1].qualname == "Store"  # type: ignore[index]
    # returns of two types, or a parameter's own value: no type
    assert [r.graph.defs["src/make.ts"][n].type for n in ("eitherStore", "ownParameter")] == ["", ""]
    items = r.context(Query("src/use.ts", 5, len("  s.")), join=False)
    assert (items[0].path, items[0].symbol) == ("src/store.ts", "Store.batch")
    # another file's getter: the index holds its returned chain, read in its class's scope
    assert [d.type for d in r.graph.by_name["cache"] if d.path == "src/manager.ts"] == ["this.client.cache"]
    items = r.context(Query("src/query.ts", 11, len("    this.store.")), join=False)
    assert (items[0].path, items[0].symbol) == ("src/store.ts", "Store.batch")


def test_fields_and_destructured_parameters_carry_their_types(tmp_path: Path) -> None:
    """`client.cache.diff()` where `client` is destructured from a parameter typed `{ client: ApolloClient }` and
    ApolloClient declares `public cache: ApolloCache`: the selection reaches ApolloCache.diff through both types. A
    field is a symbol, not a snippet of its own, and does not make a function of its name look less specific."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/cache.ts": "export class ApolloCache {\n  /** Reads. */\n  diff(q: string): string {\n"
                        "    return q;\n  }\n}\n",
        "src/client.ts": 'import { ApolloCache } from "./cache";\n\nexport class ApolloClient {\n'
                         "  public cache: ApolloCache;\n  link?: string;\n}\n\nexport interface Options {\n"
                         "  diff: string;\n}\n",
        "src/state.ts": 'import type { ApolloClient } from "./client";\n\n'
                        'export function execute({ client, query = "" }: '
                        "{ client: ApolloClient; query?: string }) {\n  return client.cache.diff(query);\n}\n",
    })
    index = index_of(root, tmp_path / "data")
    rows = index.store.db.execute("SELECT qualname, kind FROM symbols WHERE path = 'src/client.ts'")
    symbols = dict(rows.fetchall())
    assert symbols["ApolloClient.cache"] == "field" and symbols["Options.diff"] == "field"
    chunks = {s for (s,) in index.store.db.execute("SELECT symbol FROM chunks WHERE path = 'src/client.ts'")}
    assert "ApolloClient.cache" not in chunks, "a field is shown with its class"
    r = Retriever(index)
    items = r.context(Query("src/state.ts", 3, 0, end_line=5), join=False)
    diff = next(i for i in items if i.symbol == "ApolloCache.diff")
    assert "used_typed=1.10" in diff.why
    assert "name=1.00" in diff.why, "Options.diff, a field, does not share the name's weight"


def test_a_callbacks_parameter_is_an_element_of_what_it_iterates(tmp_path: Path) -> None:
    """`this.all().forEach((q) => q.` where `all()` returns a `Set<Query>` it builds, `xs.map(x => x.` over `xs:
    Query[]`, and in JavaScript a TypeScript function's `Query[]`: the callback's parameter is a Query; a parameter
    with a type of its own keeps it."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/query.ts": "export class Query {\n  /** Fetches again. */\n  refetch(): void {}\n}\n",
        "src/other.ts": "export class Other {\n  /** Another. */\n  refetch(): void {}\n}\n",
        "src/manager.ts": 'import { Query } from "./query";\n\nexport class Manager {\n'
                          "  all() {\n    const queries = new Set<Query>();\n    return queries;\n  }\n\n"
                          "  run(): void {\n    this.all().forEach((q) => {\n      q.refetch();\n    });\n  }\n}\n",
        "src/list.ts": 'import { Query } from "./query";\nimport { Other } from "./other";\n\n'
                       "export function each(xs: Query[], o: Other[]): void {\n  xs.map(x => x.refetch());\n"
                       "  xs.forEach((y: Other) => y.",
        "src/items.ts": 'import { Query } from "./query";\n\nexport function every(): Query[] {\n  return [];\n}\n',
        "src/plain.js": 'import { every } from "./items";\n\nexport function each() {\n  every().forEach((z) => z.',
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    assert r.graph.type_of(r.graph.defs["src/manager.ts"]["Manager.all"], element=True)[1].qualname == "Query"  # type: ignore[index]
    for path, line, before in (("src/manager.ts", 11, "      q."), ("src/plain.js", 4, "  every().forEach((z) => z.")):
        items = r.context(Query(path, line, len(before)), join=False)
        assert (items[0].path, items[0].symbol) == ("src/query.ts", "Query.refetch")
    items = r.context(Query("src/list.ts", 5, 0, end_line=5), join=False)
    assert any(w.startswith("used_typed=") for i in items if i.symbol == "Query.refetch" for w in i.why)
    items = r.context(Query("src/list.ts", 6, len("  xs.forEach((y: Other) => y.")), join=False)
    assert (items[0].path, items[0].symbol) == ("src/other.ts", "Other.refetch")


def test_instanceof_narrows_a_name_to_the_class(tmp_path: Path) -> None:
    """`if (error instanceof HTTPError) { error.` (TypeScript and JavaScript): HTTPError's members first."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/errors.ts": "export class HTTPError {\n  /** The reply. */\n  response(): string {\n"
                         "    return '';\n  }\n}\n",
        "src/other.ts": "export class Reply {\n  /** Another. */\n  response(): string {\n    return '';\n  }\n}\n",
        "src/use.ts": 'import { HTTPError } from "./errors";\n\nexport function handle(error: unknown) {\n'
                      "  if (error instanceof HTTPError) {\n    error.",
        "src/use.js": 'import { HTTPError } from "./errors";\n\nexport function handle(error) {\n'
                      "  if (error instanceof HTTPError) {\n    error.",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    for path in ("src/use.ts", "src/use.js"):
        items = r.context(Query(path, 5, len("    error.")), join=False)
        assert (items[0].path, items[0].symbol) == ("src/errors.ts", "HTTPError.response")


def test_a_value_that_is_one_of_two_has_either_type(tmp_path: Path) -> None:
    """`const c = opts.cache ?? new Cache()`, `a || make()`, `ready ? make() : opts.c` (TypeScript and JavaScript):
    `c.` ranks the members of the value's type, the fallback's or the first operand's."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    files = {
        "src/cache.ts": "export class Cache {\n  /** Drops. */\n  evict(): void {}\n}\n\n"
                        "export function makeCache(): Cache {\n  return new Cache();\n}\n",
        "src/other.ts": "export class Other {\n  /** Drops too. */\n  evict(): void {}\n}\n",
    }
    values = ("opts.cache ?? new Cache()", "opts.cache || makeCache()", "ready ? makeCache() : opts.cache",
              "ready ? opts.cache : new Cache()")
    for n, value in enumerate(values):
        for ext in ("ts", "js"):
            files[f"src/use{n}.{ext}"] = ('import { Cache, makeCache } from "./cache";\n\n'
                                          f"export function run(opts, ready) {{\n  const c = {value};\n  c.")
    root = write_tree(tmp_path / "repo", files)
    r = Retriever(index_of(root, tmp_path / "data"))
    for path in (p for p in files if p.startswith("src/use")):
        items = r.context(Query(path, 5, len("  c.")), join=False)
        assert (items[0].path, items[0].symbol) == ("src/cache.ts", "Cache.evict"), (path, [i.symbol for i in items])


def test_the_overloads_of_a_method_are_one_item(tmp_path: Path) -> None:
    """A method declared by overload signatures and an implementation, with other declarations between them: one
    item shows them all, its tokens counting the lines between, and the slot left goes to another definition."""
    from ragls.indexer.retrieve import Query, Retriever
    from ragls.indexer.tokens import count

    from .conftest import index_of, write_tree

    signatures = "".join(f"  /** Keyed by the {n}. */\n  key(a: string, b: number, c: boolean): string;\n"
                         for n in ("first", "second", "third"))
    source = ("export class Store {\n" + signatures + "  key(...args: unknown[]): string {\n    return '';\n  }\n"
              "}\n\n" + "// A note.\n" * 20 + "\nexport function helper(): string {\n  return '';\n}\n")
    root = write_tree(tmp_path / "repo", {
        "src/store.ts": source,
        "src/use.ts": 'import { Store, helper } from "./store";\n\nexport function run(s: Store): string {\n'
                      "  return s.key('a', 1, true) + helper();\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    q = Query("src/use.ts", 3, 0, end_line=5)
    apart = [i for i in r.context(q, join=False, k=20) if i.symbol == "Store.key"]
    assert len(apart) > 1, [(i.symbol, i.start_line) for i in r.context(q, join=False, k=20)]
    joined = r.context(q)
    keys = [i for i in joined if i.symbol == "Store.key"]
    assert len(keys) == 1 and "helper" in [i.symbol for i in joined], [(i.symbol, i.start_line) for i in joined]
    first, last = min(apart, key=lambda i: i.start_line), max(apart, key=lambda i: i.start_line)
    assert (keys[0].start_line, keys[0].end_line) == (first.start_line, last.end_line)
    lines = source.split("\n")
    shown = {n for i in apart for n in range(i.start_line, i.end_line + 1)}
    between = [lines[n - 1] for n in range(first.start_line, last.end_line + 1) if n not in shown]
    assert keys[0].tokens <= sum(i.tokens for i in apart) + count("\n".join(between)) + len(apart)


def test_a_field_given_a_new_object_has_its_class(tmp_path: Path) -> None:
    """`requests = new RequestManager()` in a class, declared without a type (or JavaScript's `this.requests = new
    RequestManager()` in its constructor): `client.requests.` from another file ranks RequestManager's members
    (TypeScript and JavaScript); such a field is a symbol, not a chunk."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/requests.ts": "export class RequestManager {\n  /** Registers. */\n  register(): void {}\n}\n",
        "src/other.ts": "export class Other {\n  /** Another. */\n  register(): void {}\n}\n",
        "src/client.ts": 'import { RequestManager } from "./requests";\n\n'
                         "export class WsClient {\n  private requests = new RequestManager();\n}\n",
        "src/client.js": 'import { RequestManager } from "./requests";\n\n'
                         "export class JsClient {\n  requests = new RequestManager();\n}\n",
        "src/use.ts": 'import { WsClient } from "./client";\n\nexport function use(client: WsClient) {\n'
                      "  client.requests.",
        "src/legacy.js": 'import { RequestManager } from "./requests";\n\nexport class Legacy {\n'
                         "  constructor() {\n    this.requests = new RequestManager();\n    this.count = 0;\n  }\n}\n",
        "src/old.js": 'import { Legacy } from "./legacy";\n\nexport function use() {\n  const l = new Legacy();\n'
                      "  l.requests.",
    })
    index = index_of(root, tmp_path / "data")
    rows = index.store.db.execute("SELECT path, qualname, kind, type FROM symbols WHERE name = 'requests'")
    assert sorted(rows.fetchall()) == [("src/client.js", "JsClient.requests", "field", "RequestManager"),
                                       ("src/client.ts", "WsClient.requests", "field", "RequestManager"),
                                       ("src/legacy.js", "Legacy.requests", "field", "RequestManager")]
    assert index.store.db.execute("SELECT count(*) FROM chunks WHERE path LIKE 'src/client.%' AND "
                                  "start_line = 4").fetchone() == (0,)
    for path, line, text in (("src/use.ts", 4, "  client.requests."), ("src/old.js", 5, "  l.requests.")):
        items = Retriever(index).context(Query(path, line, len(text)), join=False)
        assert (items[0].path, items[0].symbol) == ("src/requests.ts", "RequestManager.register"), path


def test_a_field_or_a_result_that_is_one_of_two_has_either_type(tmp_path: Path) -> None:
    """`this.cache = options.cache || new Cache()` in a constructor, `#cache = opts.cache ?? new Cache()`, and a
    function returning `ready ? this.cache : null` or `a ?? make()`: the field and the results have Cache's type, so
    `x.cache.` and `x.current().` reach its members from another file."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/cache.ts": "export class Cache {\n  /** Drops. */\n  evict(): void {}\n}\n",
        "src/other.ts": "export class Other {\n  /** Drops too. */\n  evict(): void {}\n}\n",
        "src/client.js": 'import { Cache } from "./cache";\n\nexport class Client {\n'
                         "  constructor(options) {\n    this.cache = options.cache || new Cache();\n  }\n\n"
                         "  current(ready) {\n    return ready ? this.cache : null;\n  }\n}\n",
        "src/store.ts": 'import { Cache } from "./cache";\n\nexport class Store {\n'
                        "  #cache = globalThis.cache ?? new Cache();\n\n"
                        "  current(fresh: boolean) {\n    return fresh ? new Cache() : this.#cache;\n  }\n}\n",
        "src/use.js": 'import { Client } from "./client";\n\nexport function run() {\n  const c = new Client({});\n',
        "src/use.ts": 'import { Store } from "./store";\n\nexport function run(s: Store) {\n',
    })
    index = index_of(root, tmp_path / "data")
    rows = index.store.db.execute("SELECT path, qualname, type FROM symbols WHERE name IN ('cache', '#cache')")
    assert sorted(rows.fetchall()) == [("src/client.js", "Client.cache", "Cache"),
                                       ("src/store.ts", "Store.#cache", "Cache")]
    r = Retriever(index)
    for path, text in (("src/use.js", "  c.cache."), ("src/use.js", "  c.current(true)."),
                       ("src/use.ts", "  s.current(true).")):
        source = (root / path).read_text() + text
        items = r.context(Query(path, source.count("\n") + 1, len(text)), source=source, join=False)
        assert (items[0].path, items[0].symbol) == ("src/cache.ts", "Cache.evict"), (path, text)


def test_a_value_asserted_or_cast_at_the_cursor_has_that_type(tmp_path: Path) -> None:
    """`(x as Store).`, `(x as unknown as Store).`, `return (x as Store).` (TypeScript) and `((Store) x).` (Java):
    Store's members first; a call whose argument is asserted, `f(x as Store).`, is still the call's value."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/store.ts": "export class Store {\n  /** Batches. */\n  batch(): void {}\n}\n",
        "src/other.ts": "export class Other {\n  /** Batches too. */\n  batch(): void {}\n}\n",
        "src/use.ts": 'import { Store } from "./store";\n\nexport function run(x: unknown) {\n',
        "src/Store.java": "package p;\n\npublic class Store {\n  /** Batches. */\n  public void batch() {}\n}\n",
        "src/Use.java": "package p;\n\npublic class Use {\n  void run(Object x) {\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    cases = [("src/use.ts", "  (x as Store)."), ("src/use.ts", "  (x as unknown as Store)."),
             ("src/use.ts", "  return (x as Store)."), ("src/use.ts", "  (new Store())."),
             ("src/Use.java", "    ((Store) x).")]
    for path, text in cases:
        source = (root / path).read_text() + text
        items = r.context(Query(path, source.count("\n") + 1, len(text)), source=source, join=False)
        store = "src/store.ts" if path.endswith(".ts") else "src/Store.java"
        assert (items[0].path, items[0].symbol.rsplit(".", 2)[-2:]) == (store, ["Store", "batch"]), (text, items[0])


def test_super_at_the_cursor_ranks_the_base_s_members(tmp_path: Path) -> None:
    """`super.` in a method (TypeScript, Java) and Python's `super().`: the members of the base class, which has a
    constructor, first (`super(...)` called alone is that constructor, elsewhere)."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/base.ts": "export class Base {\n  constructor(readonly n = 0) {}\n\n  /** Copies. */\n  copy(): Base {\n"
                       "    return this;\n  }\n}\n",
        "src/other.ts": "export class Other {\n  /** Copies too. */\n  copy(): Other {\n    return this;\n  }\n}\n",
        "src/leaf.ts": 'import { Base } from "./base";\n\nexport class Leaf extends Base {\n  copy(): Leaf {\n'
                       "    return super.copy() as Leaf;\n  }\n}\n",
        "src/Base.java": "package p;\n\npublic class Base {\n  public Base() {}\n\n  /** Copies. */\n"
                         "  public Base copy() {\n    return this;\n  }\n}\n",
        "src/Leaf.java": "package p;\n\npublic class Leaf extends Base {\n  public Leaf copy() {\n"
                         "    return (Leaf) super.copy();\n  }\n}\n",
        "pkg/__init__.py": "",
        "pkg/base.py": "class Base:\n    def __init__(self):\n        self.n = 0\n\n    def copy(self):\n"
                       "        return self\n",
        "pkg/other.py": "class Other:\n    def copy(self):\n        return self\n",
        "pkg/leaf.py": "from .base import Base\n\n\nclass Leaf(Base):\n    def copy(self):\n"
                       "        return super().copy()\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    for path, base in (("src/leaf.ts", "src/base.ts"), ("src/Leaf.java", "src/Base.java"),
                       ("pkg/leaf.py", "pkg/base.py")):
        lines = (root / path).read_text().split("\n")
        at = next(n for n, line in enumerate(lines, 1) if "super" in line)
        before = lines[at - 1][:lines[at - 1].index("copy()", lines[at - 1].index("super"))]  # `... super.`
        items = r.context(Query(path, at, len(before)), join=False)
        assert (items[0].path, items[0].symbol.rsplit(".", 2)[-2:]) == (base, ["Base", "copy"]), (path, items[:2])
        assert "receiver=1.00" in items[0].why, (path, items[0].why)  # as the receiver's, not as a member of `this`


def test_this_field_is_the_field_not_a_local_of_its_name(tmp_path: Path) -> None:
    """`const data: Other = ...; this.data.` (TypeScript, Java): the field's declared type, not the local's."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/cache.ts": "export class Cache {\n  /** Drops. */\n  evict(): void {}\n}\n",
        "src/other.ts": "export class Other {\n  /** Drops too. */\n  evict(): void {}\n}\n",
        "src/store.ts": 'import { Cache } from "./cache";\nimport { Other } from "./other";\n\nexport class Store {\n'
                        "  private data: Cache = new Cache();\n\n  run(): void {\n"
                        "    const data: Other = new Other();\n    this.data.evict();\n  }\n}\n",
        "src/Cache.java": "package p;\n\npublic class Cache {\n  /** Drops. */\n  public void evict() {}\n}\n",
        "src/Other.java": "package p;\n\npublic class Other {\n  /** Drops too. */\n  public void evict() {}\n}\n",
        "src/Store.java": "package p;\n\npublic class Store {\n  private final Cache data = new Cache();\n\n"
                          "  void run() {\n    Other data = new Other();\n    this.data.evict();\n  }\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    for path, cache in (("src/store.ts", "src/cache.ts"), ("src/Store.java", "src/Cache.java")):
        lines = (root / path).read_text().split("\n")
        at = next(n for n, line in enumerate(lines, 1) if "this.data.evict" in line)
        items = r.context(Query(path, at, lines[at - 1].index("evict")), join=False)
        assert (items[0].path, items[0].symbol.rsplit(".", 2)[-2:]) == (cache, ["Cache", "evict"]), (path, items[:2])


def test_a_javascript_constructor_field_of_a_nested_class_is_named_under_it(tmp_path: Path) -> None:
    """`this.c = new Cache()` in the constructor of a class declared inside a function: the field is
    `make.Local.c`, the member of that class, as its methods are (symbols.nest)."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/cache.js": "export class Cache {\n  evict() {}\n}\n",
        "src/outer.js": 'import { Cache } from "./cache";\n\nexport function make() {\n  class Local {\n'
                        "    constructor() {\n      this.c = new Cache();\n    }\n  }\n  return new Local();\n}\n",
    })
    index = index_of(root, tmp_path / "data")
    rows = index.store.db.execute("SELECT qualname, parent, type FROM symbols WHERE kind = 'field'")
    assert rows.fetchall() == [("make.Local.c", "make.Local", "Cache")]


def test_await_gives_what_the_promise_resolves_to(tmp_path: Path) -> None:
    """`const s = await load()` with `load(): Promise<Store>`, or an async function returning a Store: `s.` ranks
    Store's members; `for (const x of await many())`-style elements of a `Promise<Store[]>` are Stores too."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/store.ts": "export class Store {\n  /** Batches. */\n  batch(): void {}\n}\n",
        "src/load.ts": 'import { Store } from "./store";\n\n'
                       "export async function load(): Promise<Store> {\n  return new Store();\n}\n"
                       "export async function make() {\n  return new Store();\n}\n"
                       "export function many(): Promise<Store[]> {\n  return Promise.resolve([]);\n}\n",
        "src/use.ts": 'import { load, make, many } from "./load";\nimport { Store } from "./store";\n\n'
                      "export async function use(xs: Store[]) {\n  const s = await load();\n  const t = await make();\n"
                      "  const all = await many();\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    source = (root / "src/use.ts").read_text()
    for text in ("  s.", "  t.", "  all[0].", "  xs[1]."):  # an element of the awaited array, of a declared one
        items = r.context(Query("src/use.ts", 8, len(text)), source=source + text, join=False)
        assert (items[0].path, items[0].symbol) == ("src/store.ts", "Store.batch"), text
    many = r.graph.defs["src/load.ts"]["many"]
    assert r.graph.type_of(many, element=True)[1].qualname == "Store"  # type: ignore[index]


def test_type_aliases_lead_to_the_type_they_name(tmp_path: Path) -> None:
    """`type TRPCClient = ReturnType<typeof createClient>` is what createClient returns; `type Options = { client:
    TRPCClient } & Base` has the fields of its object part: `const { client } = opts; client.` ranks WsClient's
    members. An intersection or a union names no single type (`type A = B & C` has no members of B's)."""
    from ragls.indexer.lang.types import type_chain
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/ws.ts": "export class WsClient {\n  /** Sends. */\n  request(): void {}\n}\n"
                     "export function createClient() {\n  return new WsClient();\n}\n"
                     "export type TRPCClient = ReturnType<typeof createClient>;\n",
        "src/link.ts": 'import { TRPCClient } from "./ws";\nimport { Base } from "./base";\n\n'
                       "export type Options = {\n  client: TRPCClient;\n} & Base;\n\n"
                       "export function link(opts: Options) {\n  const { client } = opts;\n  client.",
        "src/base.ts": "export interface Base {\n  name: string;\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    alias = r.graph.defs["src/ws.ts"]["TRPCClient"]
    assert r.graph.type_of(alias)[1].qualname == "WsClient"  # type: ignore[index]
    assert r.graph.defs["src/link.ts"]["Options.client"].type == "TRPCClient"
    items = r.context(Query("src/link.ts", 10, len("  client.")), join=False)
    assert (items[0].path, items[0].symbol) == ("src/ws.ts", "WsClient.request")
    assert type_chain("B & C") is None and type_chain("{ c: C } & Base") is None and type_chain("Foo&&") == ["Foo"]


def test_a_container_s_get_gives_an_element(tmp_path: Path) -> None:
    """`this.queries.get(id).` of `queries: Map<string, QueryInfo>` and `local.get(id)?.` of a parameter's Map rank
    QueryInfo's members; a class of the repository's own with a `get` keeps its method (`c.get(` is Cache.get)."""
    from ragls.indexer.retrieve import Query, Retriever

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/info.ts": "export class QueryInfo {\n  /** Marks. */\n  markResult(): void {}\n}\n",
        "src/cache.ts": "export class Cache {\n  /** Gets. */\n  get(k: string): QueryInfo {\n    return k;\n  }\n}\n",
        "src/manager.ts": 'import { QueryInfo } from "./info";\nimport { Cache } from "./cache";\n\n'
                          "export class Manager {\n  private queries: Map<string, QueryInfo>;\n\n"
                          "  run(id: string, local: Map<string, QueryInfo>, c: Cache) {\n    c.get(id);\n"
                          "    return id;\n  }\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    head = "\n".join((root / "src/manager.ts").read_text().split("\n")[:7]) + "\n"
    for text in ("    this.queries.get(id).", "    local.get(id)?."):
        items = r.context(Query("src/manager.ts", 8, len(text)), source=head + text, join=False)
        assert (items[0].path, items[0].symbol) == ("src/info.ts", "QueryInfo.markResult"), text
    items = r.context(Query("src/manager.ts", 7, 0, end_line=8), join=False)
    assert any(w.startswith("used_typed=") for i in items if i.symbol == "Cache.get" for w in i.why)
