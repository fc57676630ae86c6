"""Retrieval on a small repository with cross-file imports: graph, budget, and what a query may see."""
from __future__ import annotations

from pathlib import Path

from ragls.indexer.retrieve import Query, Retriever


def symbols(items) -> list[str]:
    return [i.symbol for i in items]


def test_cursor_before_a_call_gets_the_imported_definition(shop_index):
    r = Retriever(shop_index)
    items = r.context(Query("shop/checkout.py", 12, 10), join=False)  # "    net = |apply_discount(...)"
    assert items, "no context"
    assert "apply_discount" in symbols(items)[:3]
    hit = next(i for i in items if i.symbol == "apply_discount")
    assert (hit.path, hit.start_line) == ("shop/pricing.py", 5)


def test_only_text_before_the_cursor_counts(shop_index):
    r = Retriever(shop_index)
    # At line 7 nothing of checkout() is typed yet: TaxPolicy is imported but unused, so it ranks high,
    # and nothing after the cursor (format_money's use on line 14) may count as a use.
    items = r.context(Query("shop/checkout.py", 9, 4), join=False)
    assert "TaxPolicy" in symbols(items)[:5]
    assert all(i.path != "shop/checkout.py" for i in items)


def test_receiver_members_come_first(shop_index):
    r = Retriever(shop_index)
    source = (shop_index.root / "shop/checkout.py").read_text()
    source = source.replace("cart.add(models.LineItem(sku, price))", "cart.add(models.")
    items = r.context(Query("shop/checkout.py", 19, len("    cart.add(models.")), source=source)
    assert symbols(items)[0] in {"LineItem", "Cart", "EmptyCartError"}
    assert {"LineItem", "Cart"} <= set(symbols(items)[:4])


def test_star_import_resolves_through_all(shop_index):
    r = Retriever(shop_index)
    items = r.context(Query("shop/checkout.py", 14, 11))  # "    return |format_money(net + tax)"
    hit = next(i for i in items if i.symbol == "format_money")
    assert "star=1.00" in hit.why and hit.path == "shop/utils/money.py"


def test_selection_gets_every_cross_file_definition_it_uses(shop_index):
    r = Retriever(shop_index)
    items = r.context(Query("shop/checkout.py", 8, end_line=14), join=False)
    top = set(symbols(items)[:7])  # Cart.total too: `cart.total()` where `cart: Cart`
    assert {"apply_discount", "TaxPolicy.tax_for", "EmptyCartError", "format_money", "Cart.total"} <= top
    assert "apply_discount" in top and "format_money" in top


def test_a_type_only_in_the_signature_of_a_selected_definition_is_weaker_evidence(shop_index):
    """What a function does is in its body: `cart: Cart` in the signature counts less than the calls below it."""
    r = Retriever(shop_index)
    why = {i.symbol: i.why for i in r.context(Query("shop/checkout.py", 8, end_line=14), join=False)}
    assert "used=0.20" in why["Cart"] and "used=1.10" in why["apply_discount"]


def test_never_returns_the_text_at_the_cursor(shop_index):
    r = Retriever(shop_index)
    items = r.context(Query("shop/checkout.py", 12, 10), same_file=True)
    for i in items:
        assert not (i.path == "shop/checkout.py" and i.start_line <= 12 <= i.end_line)


def test_budget_is_respected_and_large_chunks_collapse(shop_index):
    r = Retriever(shop_index)
    items = r.context(Query("shop/checkout.py", 8, end_line=14), budget=60)
    assert sum(i.tokens for i in items) <= 60
    everything = r.context(Query("shop/checkout.py", 8, end_line=14), budget=10_000)
    assert len(everything) >= len(items)


def test_search_by_words(shop_index):
    items = Retriever(shop_index).search("round money to cents")
    assert items[0].symbol == "round_money"


def test_unsaved_edit_is_retrievable_after_update(shop_index):
    r = Retriever(shop_index)
    new = (shop_index.root / "shop/pricing.py").read_text() + (
        "\n\ndef loyalty_bonus(points: int) -> float:\n    \"\"\"Cash value of loyalty points.\"\"\"\n"
        "    return points / 100\n")
    shop_index.update_file("shop/pricing.py", new.encode())
    items = r.search("loyalty bonus points")
    assert items[0].symbol == "loyalty_bonus"


def test_typescript_imports_resolve_across_files(tmp_path):
    from ragls.indexer.index import Index

    repo = tmp_path / "web"
    (repo / "src" / "lib").mkdir(parents=True)
    (repo / "src" / "lib" / "money.ts").write_text(
        "/** Format cents as a price label. */\nexport function formatPrice(cents: number): string {\n"
        "  return (cents / 100).toFixed(2);\n}\n\nexport class Wallet {\n  balance = 0;\n"
        "  deposit(cents: number): void {\n    this.balance += cents;\n  }\n}\n")
    (repo / "src" / "lib" / "noise.ts").write_text(
        "export function formatDate(d: Date): string {\n  return d.toISOString();\n}\n")
    (repo / "src" / "app.ts").write_text(
        "import { formatPrice } from './lib/money';\nimport * as noise from './lib/noise';\n\n"
        "export function label(cents: number): string {\n  return \n}\n")
    index = Index.open(repo, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    items = Retriever(index).context(Query("src/app.ts", 5, 9))
    assert items[0].symbol == "formatPrice" and items[0].path == "src/lib/money.ts"
    assert "imported=1.00" in items[0].why


def test_symbol_graph_is_stored_with_resolved_edges(shop_index):
    db = shop_index.store.db
    edges = set(db.execute("SELECT src, name, dst, dst_symbol, kind FROM edges"))
    assert ("shop/checkout.py", "apply_discount", "shop/pricing.py", "apply_discount", "imports") in edges
    assert ("shop/checkout.py", "models", "shop/models.py", "", "imports") in edges
    assert ("shop/checkout.py", "*", "shop/utils/money.py", "", "imports") in edges
    assert ("shop/checkout.py", "format_money", "shop/utils/money.py", "format_money", "uses") in edges
    assert ("shop/pricing.py", "round_money", "shop/utils/money.py", "round_money", "uses") in edges


def test_a_package_indexed_as_the_root_folder_resolves_absolute_imports(tmp_path):
    from ragls.indexer.index import Index

    pkg = tmp_path / "mylib"
    (pkg / "core").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "__init__.py").write_text("")
    (pkg / "core" / "text.py").write_text("def slugify(value):\n    \"\"\"Make a URL slug.\"\"\"\n    return value\n")
    (pkg / "views.py").write_text("from mylib.core.text import slugify\n\n\ndef page(title):\n    return \n")
    index = Index.open(pkg, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    items = Retriever(index).context(Query("views.py", 5, 11))
    assert items[0].symbol == "slugify" and "imported=1.00" in items[0].why


def test_single_file_updates_patch_the_graph_in_place(shop_index):
    r = Retriever(shop_index)
    graph = r.graph
    new = (shop_index.root / "shop/pricing.py").read_text().replace("def apply_discount", "def apply_rebate")
    shop_index.update_file("shop/pricing.py", new.encode())
    assert r.graph is graph  # patched, not reloaded
    assert "apply_rebate" in graph.by_name and "apply_discount" not in graph.by_name
    items = r.context(Query("shop/checkout.py", 12, 10))  # the import of apply_discount no longer resolves
    assert "apply_discount" not in [i.symbol for i in items]
    (shop_index.root / "shop/extra.py").write_text("def helper():\n    pass\n")
    shop_index.update_file("shop/extra.py")
    assert r.graph is graph and "helper" in graph.by_name  # a new file: patched in too


def _graph_state(g) -> dict:
    """What a graph knows of the files, and what every file's names resolve to."""
    resolved = {}
    for p, lang in sorted(g.language.items()):
        names = {n for q in g.defs for n in g.defs[q] if "." not in n} | {r.binds or r.name or "" for r in g.imports[p]}
        resolved[p] = ({n: g.in_scope(p, n) for n in sorted(names) if n}, g.peers(p, lang), g._scope(p))
    return {
        "language": dict(g.language), "module_of": dict(g.module_of), "modules": dict(g.modules),
        "defs": {p: dict(d) for p, d in g.defs.items() if d}, "imports": {p: r for p, r in g.imports.items() if r},
        "by_name": {n: sorted((d.path, d.qualname) for d in ds) for n, ds in g.by_name.items() if ds},
        "members": {k: v for k, v in g.members.items() if v}, "def_of_chunk": dict(g.def_of_chunk),
        "holders": {n: files for n, files in g._holders().items() if files}, "resolved": resolved,
    }


def test_files_added_and_removed_are_patched_in_as_a_fresh_graph_reads_them(tmp_path):
    """A new file, or one deleted, is patched into the graph (a full reload costs 0.6 s on a 750k-line repository,
    and forgets every answer): the graph then knows what a graph built afresh does, in Python, TypeScript (a
    barrel passing a new file's names on) and Go (a package's files seeing each other), a Python package's
    `__init__.py` too (it renames its files' modules)."""
    from ragls.indexer.graph import Graph

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "", "pkg/a.py": "class A:\n    def run(self):\n        pass\n",
        "pkg/b.py": "from pkg.a import A\n\n\ndef use():\n    return A().run()\n",
        "src/x.ts": "export function x(): number {\n  return 1;\n}\n", "src/index.ts": "export * from './x';\n",
        "src/use.ts": "import { x, y } from './index';\n\nexport const z = () => x() + y();\n",
        "go.mod": "module example.com/m\n\ngo 1.21\n", "p/a.go": "package p\n\nfunc A() int { return B() }\n",
        "p/b.go": "package p\n\nfunc B() int { return 1 }\n",
    })
    index = index_of(root, tmp_path / "data")
    r = Retriever(index)
    graph = r.graph
    before = _graph_state(graph)  # answers cached before the change, which must not outlive it
    r.context(Query("src/use.ts", 3, 30))

    def change(files: dict[str, str | None]) -> None:
        for rel, text in files.items():
            if text is None:
                (root / rel).unlink()
            else:
                (root / rel).parent.mkdir(exist_ok=True)
                (root / rel).write_text(text)
            index.update_file(rel)

    change({"pkg/c.py": "from pkg.a import A\n\n\ndef other():\n    return A()\n",
            "src/y.ts": "export function y(): number {\n  return 2;\n}\n",
            "src/index.ts": "export * from './x';\nexport * from './y';\n",
            "p/c.go": "package p\n\nfunc C() int { return A() }\n"})
    assert r.graph is graph
    added = _graph_state(graph)
    assert added != before and added == _graph_state(Graph(index.store, root.name, root))
    assert graph.in_scope("src/use.ts", "y")[1].path == "src/y.ts"  # through the barrel, to the new file
    assert "p/c.go" in graph.peers("p/a.go", "go")[1]

    change({"pkg/b.py": None, "p/b.go": None, "src/x.ts": None})
    assert r.graph is graph
    removed = _graph_state(graph)
    assert removed == _graph_state(Graph(index.store, root.name, root))
    assert "pkg/b.py" not in graph.language and graph.in_scope("src/use.ts", "x")[0] == "files"

    change({"pkg/sub/d.py": "X = 1\n", "pkg/sub/__init__.py": ""})  # a folder, then a package: d's module renamed
    assert r.graph is graph and graph.module_of["pkg/sub/d.py"][0] == "pkg.sub.d"
    assert _graph_state(graph) == _graph_state(Graph(index.store, root.name, root))
    change({"pkg/__init__.py": None})  # no package any more: pkg/a.py is the module `a`, under the folder `pkg`
    assert r.graph is graph and graph.module_of["pkg/a.py"][0] == "a" and "pkg.a" not in graph.modules
    assert _graph_state(graph) == _graph_state(Graph(index.store, root.name, root))


def test_lexical_postings_follow_single_file_edits(shop_index, monkeypatch):
    import ragls.indexer.lexical as lexical

    lex = lexical.Lexical(shop_index.store)
    old = {cid for cid, in shop_index.store.db.execute("SELECT id FROM chunks WHERE path='shop/pricing.py'")}
    assert old & set(lex.scores(["discount"], []))
    new = (shop_index.root / "shop/pricing.py").read_text().replace("discount", "rebate") + (
        "\n\ndef zeppelin_fare(miles: int) -> float:\n    return miles * 3\n")
    shop_index.update_file("shop/pricing.py", new.encode())
    current = {cid for cid, in shop_index.store.db.execute("SELECT id FROM chunks WHERE path='shop/pricing.py'")}
    hits = lex.scores(["zeppelin", "fare"], [])
    assert hits and set(hits) <= current, "the edited file's new chunk is found by its new words"
    assert not (set(lex.scores(["discount"], list(old))) & (old - current)), "deleted chunks never score"
    assert set(lex.scores(["rebate"], [])) & current
    assert not lex.stale()
    monkeypatch.setattr(lexical, "REBUILD_AFTER", 0)
    assert lex.stale(), "past REBUILD_AFTER changed files the postings are read again"


def test_lexical_scores_are_bm25_over_every_term_rare_or_common(shop_index):
    """Rare terms are scored from their postings and common ones from each chunk's own terms: together, the BM25
    of every query term, as a direct computation over the catalog's terms gives it."""
    import math
    from collections import Counter

    from ragls.indexer import lexical

    lex = lexical.Lexical(shop_index.store)
    docs = {rowid: Counter(text.split()) for rowid, text in shop_index.store.postings()}
    df = Counter(t for tf in docs.values() for t in tf)
    common = [t for t, d in df.items() if d > lex.rare_df]
    rare = [t for t, d in df.items() if 1 < d <= lex.rare_df]
    assert common and rare, "the fixture has terms of both kinds"
    terms = [*common[:3], *rare[:3], common[0], "zzzunknown"]
    got = lex.scores(terms, list(docs))
    avgdl = sum(sum(tf.values()) for tf in docs.values()) / len(docs)
    qtf = Counter(terms)
    for rowid, tf in docs.items():
        norm = lexical.K1 * (1 - lexical.B + lexical.B * sum(tf.values()) / avgdl)
        want = sum(math.log(1 + (len(docs) - (d := df.get(t, 0) or 1) + 0.5) / (d + 0.5)) * (1 + math.log(qtf[t]))
                   * (lexical.K1 + 1) * tf[t] / (tf[t] + norm) for t in qtf if t in tf)
        assert math.isclose(got.get(rowid, 0.0), want, rel_tol=1e-5), rowid


def test_incremental_reads_of_a_file_match_fresh_reads(shop_repo):
    """The scan cache re-reads a file only from where its text changed: the same imports and name chains as a
    fresh read, through typing, cursor moves and new imports; then strings opened and closed anywhere."""
    import random

    from ragls.indexer import visible

    text = (Path(shop_repo.working_tree_dir) / "shop/checkout.py").read_text()
    text += '\n\ndef later(cart):\n    """Doc with words."""\n    total = cart.total()\n    return total\n'
    rng = random.Random(7)
    scans = visible.Scans()
    clean = ["x", "self.items.append(", "import os\n", "from shop.pricing import apply_discount\n", ")\n", "\n    ",
             "  # note"]
    for step in range(400):
        broken = step >= 200  # tree-sitter may recover from broken strings differently when it re-parses
        lines = text.split("\n")
        if rng.random() < 0.4:
            ln = rng.randrange(len(lines))
            col = rng.randrange(len(lines[ln]) + 1)
            inserted = rng.choice(clean + (["\'\'\'doc", '"', '"""'] if broken else []))
            lines[ln] = lines[ln][:col] + inserted + lines[ln][col:]
            text = "\n".join(lines)
            lines = text.split("\n")
        ln = rng.randrange(1, len(lines) + 1)
        col = rng.randrange(len(lines[ln - 1]) + 1)
        end = None if rng.random() < 0.8 else min(len(lines), ln + rng.randrange(10))
        cached = visible.read("shop/checkout.py", text, ln, col, end, scans)
        fresh = visible.read("shop/checkout.py", text, ln, col, end)
        assert [u[:2] for u in cached.uses] == [u[:2] for u in fresh.uses]
        if not broken:
            assert cached.imports == fresh.imports


def test_a_typed_name_ranks_its_type_s_members(shop_index):
    """`cart: Cart` (a parameter's annotation) makes `cart.` rank Cart's methods; `x = Cart(...)` does too."""
    r = Retriever(shop_index)
    source = (shop_index.root / "shop/checkout.py").read_text()
    typed = source.replace("    net = apply_discount(cart.total(), discount)", "    net = cart.")
    items = r.context(Query("shop/checkout.py", 12, len("    net = cart.")), source=typed)
    assert symbols(items)[0].startswith("Cart.") and "receiver=1.00" in items[0].why
    built = source.replace("    cart.add(models.LineItem(sku, price))", "    cart.")
    items = r.context(Query("shop/checkout.py", 19, len("    cart.")), source=built)
    assert symbols(items)[0].startswith("Cart.")


def test_inherited_members_through_self_and_typed_names(tmp_path):
    """`self.m()` where m is defined by a base class in another file, and `x.` where x's class inherits it."""
    from ragls.indexer.index import Index

    from .conftest import commit_all

    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "base.py").write_text("class Base:\n    def refresh_cache(self, key):\n        return key\n")
    (root / "pkg" / "child.py").write_text(
        "from .base import Base\n\n\nclass Child(Base):\n    def run(self):\n        return self.refresh_cache(1)\n\n\n"
        "def use(c: Child):\n    return c.\n")
    commit_all(root)
    index = Index.open(root, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    r = Retriever(index)
    items = r.context(Query("pkg/child.py", 5, end_line=6))
    assert "Base.refresh_cache" in symbols(items)[:3]
    items = r.context(Query("pkg/child.py", 10, len("    return c.")))
    assert symbols(items)[0] == "Base.refresh_cache" and "receiver=1.00" in items[0].why


def test_elements_of_an_annotated_container_and_a_typed_local_s_calls(tmp_path):
    """`for it in items` where `items: list[Item]`, `first = items[0]`, `items[0].` itself, `total = it.price()`
    where price returns a Money, and the elements of `enumerate(items)`, `by_name.items()`, `by_name.values()` and
    `by_name.get(k)` (`by_name: dict[str, Item]`): each `x.` ranks the members of the type it holds."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/money.py": "class Money:\n    def rounded(self) -> 'Money':\n        return self\n",
        "pkg/item.py": "from .money import Money\n\n\nclass Item:\n    def price(self) -> Money:\n"
                       "        return Money()\n\n    def describe(self) -> str:\n        return ''\n",
        "pkg/use.py": "from .item import Item\n\n\ndef total(items: list[Item], by_name: dict[str, Item]):\n"
                      "    first = items[0]\n    for it in items:\n        cost = it.price()\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    source = (root / "pkg/use.py").read_text()
    for text, member in (("        it.", "Item.describe"), ("        cost.", "Money.rounded"),
                         ("    first.", "Item.price"), ("    items[0].", "Item.price"),
                         ("    for n, each in enumerate(items):\n        each.", "Item.describe"),
                         ("    for name, one in by_name.items():\n        one.", "Item.describe"),
                         ("    for one in by_name.values():\n        one.", "Item.describe"),
                         ("    by_name.get('x').", "Item.describe")):
        lines = source.splitlines() + text.split("\n")
        text = lines[-1]
        items = r.context(Query("pkg/use.py", len(lines), len(text)), source="\n".join(lines), join=False)
        assert member in {i.symbol for i in items if "receiver=1.00" in i.why}, (text, symbols(items))


def test_an_element_of_builtins_expects_that_builtin(tmp_path):
    """`for key, value in self.headers.items(): value = █` of `headers: dict[str, str]` (and `for n in names`
    of `names: list[str]`): the slot expects a str, so the function returning one fits."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/text.py": "def quoted(value: str) -> str:\n    return value\n\n\ndef counted(value: str) -> int:\n"
                       "    return 1\n",
        "pkg/use.py": "from .text import counted, quoted\n\n\nclass Header:\n    headers: dict[str, str]\n\n"
                      "    def dump(self, names: list[str]):\n        for key, value in self.headers.items():\n"
                      "            value = quoted(value)\n        for n in names:\n            n = quoted(n)\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    for line in (9, 11):
        text = (root / "pkg/use.py").read_text().split("\n")[line - 1]
        items = r.context(Query("pkg/use.py", line, text.index("= ") + 2), join=False)
        assert items[0].symbol == "quoted" and "fits=1.00" in items[0].why, (line, symbols(items))


def test_a_comprehension_s_variable_and_an_isinstance_narrowing_have_their_types(tmp_path):
    """A selection's `[it.describe() for it in items]` over `items: list[Item]` uses Item.describe (typed), and `if
    isinstance(other, Money): other.` ranks Money's members (a tuple of classes narrows to none)."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/item.py": "class Item:\n    def describe(self) -> str:\n        return ''\n",
        "pkg/money.py": "class Money:\n    def rounded(self):\n        return self\n",
        "pkg/use.py": "from .item import Item\nfrom .money import Money\n\n\ndef names(items: list[Item]):\n"
                      "    return [it.describe() for it in items]\n\n\ndef add(other):\n"
                      "    if isinstance(other, Money):\n        return other.rounded()\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    items = r.context(Query("pkg/use.py", 5, end_line=6), join=False)
    assert any(w.startswith("used_typed=") for i in items if i.symbol == "Item.describe" for w in i.why)
    lines = (root / "pkg/use.py").read_text().splitlines()[:10] + ["        other."]
    items = r.context(Query("pkg/use.py", 11, len(lines[-1])), source="\n".join(lines), join=False)
    assert items[0].symbol == "Money.rounded" and "receiver=1.00" in items[0].why


def test_a_value_that_is_one_of_two_has_either_type(tmp_path):
    """`x = opts.cache or make_cache()`, `x = Cache() if ready else load()`: `x.` ranks the members of the value's
    type, the fallback's or the first operand's (a bare name, maybe a class, is no value's type)."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/cache.py": "class Cache:\n    def evict(self):\n        return self\n\n\n"
                        "def make_cache() -> Cache:\n    return Cache()\n",
        "pkg/other.py": "class Other:\n    def evict(self):\n        return self\n",
        "pkg/use.py": "from .cache import Cache, make_cache\n\n\ndef run(opts, ready):\n    x = WRITTEN\n    x.",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    for written in ("opts.cache or make_cache()", "Cache() if ready else opts.load()",
                    "opts.cache if ready else Cache()"):
        source = (root / "pkg/use.py").read_text().replace("WRITTEN", written)
        items = r.context(Query("pkg/use.py", 6, len("    x.")), source=source, join=False)
        assert (items[0].path, items[0].symbol) == ("pkg/cache.py", "Cache.evict"), (written, symbols(items))


def test_a_class_s_attributes_have_the_types_they_are_given(tmp_path):
    """Attributes its methods give an instance (`self.cache = Cache()`, `self.cache = cache` of a parameter `cache:
    Cache`, `self.other = other or Cache()`, in `__init__` or another method, in a block or not) and annotated in a
    class body (a dataclass's `cache: Cache`) are fields of their class, once each, with the first type they are given
    (symbols, no chunks): `store.cache.` from another file ranks Cache's members."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/cache.py": "class Cache:\n    def evict(self):\n        return self\n",
        "pkg/other.py": "class Other:\n    def evict(self):\n        return self\n",
        "pkg/store.py": "from dataclasses import dataclass\n\nfrom .cache import Cache\n\n\nclass Store:\n"
                        "    def __init__(self, given: Cache, other=None):\n        self.made = Cache()\n"
                        "        self.given = given\n        if other:\n            self.either = other or Cache()\n"
                        "        self.n = 0\n\n    def close(self):\n        self.made = None\n"
                        "        self.late = Cache()\n\n\ndef free(self):\n    self.loose = Cache()\n\n\n"
                        "@dataclass\nclass Conf:\n    cache: Cache\n    size: int = 0\n",
        "pkg/use.py": "from .store import Conf, Store\n\n\ndef run(store: Store, conf: Conf):\n    return 1\n",
    })
    index = index_of(root, tmp_path / "data")
    rows = index.store.db.execute("SELECT qualname, kind, type FROM symbols WHERE path = 'pkg/store.py' AND "
                                  "kind = 'field' ORDER BY qualname")
    assert rows.fetchall() == [("Conf.cache", "field", "Cache"), ("Conf.size", "field", "int"),
                               ("Store.either", "field", "Cache"), ("Store.given", "field", "Cache"),
                               ("Store.late", "field", "Cache"), ("Store.made", "field", "Cache"),
                               ("Store.n", "field", "")]
    assert index.store.db.execute("SELECT count(*) FROM chunks WHERE symbol LIKE '%.made'").fetchone() == (0,)
    r = Retriever(index)
    source = (root / "pkg/use.py").read_text()
    for text in ("    store.made.", "    store.given.", "    store.either.", "    store.late.", "    conf.cache."):
        items = r.context(Query("pkg/use.py", 6, len(text)), source=source + text, join=False)
        assert (items[0].path, items[0].symbol) == ("pkg/cache.py", "Cache.evict"), (text, symbols(items))


def test_a_barrel_re_export_leads_to_the_defining_file(tmp_path):
    """`import {formatPrice} from './lib'` where lib/index.ts only re-exports it: the definition is found."""
    from ragls.indexer.index import Index

    from .conftest import commit_all

    root = tmp_path / "repo"
    (root / "src" / "lib" / "money").mkdir(parents=True)
    (root / "src" / "lib" / "money" / "format.ts").write_text(
        "export function formatPrice(cents: number): string {\n  return `$${cents / 100}`;\n}\n")
    (root / "src" / "lib" / "money" / "index.ts").write_text("export { formatPrice } from './format';\n")
    (root / "src" / "lib" / "index.ts").write_text("export * from './money';\n")
    (root / "src" / "app.ts").write_text(
        "import { formatPrice } from './lib';\n\nexport function show(c: number) {\n  return formatPrice(c);\n}\n")
    commit_all(root)
    index = Index.open(root, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    r = Retriever(index)
    bound = r.graph.bindings("src/app.ts", "typescript", r.graph.imports["src/app.ts"])[0]["formatPrice"]
    assert bound[0] == "def" and bound[1].path == "src/lib/money/format.ts"  # not just "the barrel's files"
    items = r.context(Query("src/app.ts", 3, end_line=5))
    assert (items[0].symbol, items[0].path) == ("formatPrice", "src/lib/money/format.ts")


def test_warming_builds_what_a_barrel_search_reads_before_the_first_query(tmp_path, monkeypatch):
    """The table of who holds each name (read by every search through a barrel's `export *`) is built by `warm`,
    not by the first query a user waits on."""
    from ragls.indexer.graph import Graph

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/lib/format.ts": "export function formatPrice(cents: number): string {\n  return `${cents}`;\n}\n",
        "src/lib/index.ts": "export * from './format';\n",
        "src/app.ts": "import { formatPrice } from './lib';\n\nexport function show(c: number) {\n"
                      "  return formatPrice(c);\n}\n"})
    r = Retriever(index_of(root, tmp_path / "data"))
    r.warm()

    def rebuilt(self, path, held):
        raise AssertionError(f"the holders' table was built at query time ({path})")

    monkeypatch.setattr(Graph, "_hold", rebuilt)
    items = r.context(Query("src/app.ts", 3, end_line=5))
    assert (items[0].symbol, items[0].path) == ("formatPrice", "src/lib/format.ts")


def test_a_name_nothing_defines_searches_each_barrel_once(tmp_path, monkeypatch):
    """Twelve barrels that `export *` from each other (every pair, both ways) and a name none defines (a standard
    library's): the re-export search visits each file once, not once per path through the web."""
    from ragls.indexer.graph import Graph

    from .conftest import index_of, write_tree

    n = 12
    files = {f"src/m{i}.ts": "".join(f"export * from './m{j}';\n" for j in range(n) if j != i)
             + f"export const v{i} = {i};\n" for i in range(n)}
    root = write_tree(tmp_path / "repo", {**files, "src/app.ts": "import { Missing, v7 } from './m0';\n\n"
                                                                 "export const x = v7 + Missing;\n"})
    index = index_of(root, tmp_path / "data")
    visits: list[tuple[str, str]] = []
    passes_on = Graph._passes_on

    def counted(self, path, name, depth):
        visits.append((path, name))
        return passes_on(self, path, name, depth)

    monkeypatch.setattr(Graph, "_passes_on", counted)
    r = Retriever(index)
    bound = r.graph.bindings("src/app.ts", "typescript", r.graph.imports["src/app.ts"])[0]
    assert bound["v7"][1].path == "src/m7.ts"  # found through the barrels
    assert bound["Missing"][0] == "files"  # not found: the import still binds the module it names
    assert len(visits) == len(set(visits)) and len(visits) <= 2 * n


def test_typescript_merged_declarations_keep_the_class(tmp_path):
    """A class and a namespace of the same name (declaration merging): the graph keeps the class, with its chunk."""
    from ragls.indexer.index import Index

    from .conftest import commit_all

    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "store.ts").write_text(
        "export namespace Store {\n  export type Key = string;\n}\n\n"
        "export class Store {\n  get(key: string): string {\n    return key;\n  }\n}\n")
    (root / "src" / "app.ts").write_text("import { Store } from './store';\n\nexport const s = new Store();\n")
    commit_all(root)
    index = Index.open(root, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    r = Retriever(index)
    d = r.graph.defs["src/store.ts"]["Store"]
    assert d.kind == "class" and r.graph.def_of_chunk[d.chunk] is d and d.start_line == 5


def test_fitted_weights_are_loaded_from_data(tmp_path, caplog):
    from ragls.indexer.retrieve import HAND_WEIGHTS, load_weights

    assert load_weights(tmp_path / "none.json") is HAND_WEIGHTS
    (tmp_path / "r.json").write_text('{"weights": {"cursor": {"lex": 2.5}, "receiver": {}, "selection": {}}}')
    w = load_weights(tmp_path / "r.json")
    assert w["cursor"]["lex"] == 2.5 and w["cursor"]["receiver"] == HAND_WEIGHTS["cursor"]["receiver"]
    (tmp_path / "bad.json").write_text('{"weights": {"cursor": {"lex": "x"}}}')
    assert load_weights(tmp_path / "bad.json") is HAND_WEIGHTS and "unusable" in caplog.text


def test_ranking_reads_rows_best_first_and_ranks_as_a_full_sort_would() -> None:
    """`_finish` reads only the rows it needs; on random candidates (negative weights, rows without a symbol, a
    class expected, a tight budget, an excluded span) it returns what scoring and sorting every row returns."""
    import random

    from ragls.indexer.assemble import FULL_VIEW_MAX_TOKENS, Cand, Item
    from ragls.indexer.store import ChunkRow

    def reference(cands, rows, weights, k, budget, exclude, expect_class):
        scored = []
        for cid, c in cands.items():
            r = rows.get(cid)
            if r is None or (exclude and r[1] == exclude[0] and r[2] <= exclude[1][1] and exclude[1][0] <= r[3]):
                continue
            if expect_class and r[5] == "class":
                c.feats["kind_class"] = 1.0
            score = sum(weights.get(f, 0.0) * v for f, v in c.feats.items()) * (1.0 if r[6] else 0.5)
            scored.append((score, cid, r, c))
        scored.sort(key=lambda s: (-s[0], s[1]))
        out, used = [], 0
        for score, _cid, r, c in scored:
            if len(out) >= k:
                break
            _, path, start, end, head_end, kind, symbol, tokens, head_tokens = r
            if tokens > FULL_VIEW_MAX_TOKENS:
                end, tokens = head_end, head_tokens
            if used + tokens <= budget:
                used += tokens
                out.append(Item(path, symbol, kind, start, end, score, tokens,
                                [f"{f}={v:.2f}" for f, v in sorted(c.feats.items()) if v]))
        return out

    rng = random.Random(5)
    feats = ["a", "b", "c", "d"]
    for trial in range(300):
        weights = {f: rng.choice([-0.6, 0.2, 0.5, 1.0, 1.6, 4.0]) for f in feats} | {"kind_class": 0.8}
        rows = {}
        for cid in range(rng.randint(1, 400)):
            start = rng.randint(1, 50)
            rows[cid] = ChunkRow(cid, rng.choice(["a.py", "b.py"]), start, start + 5, start + 1,
                                 rng.choice(["class", "function"]), rng.choice(["", "f"]), rng.randint(5, 300), 5)
        # cands and retriever._rows are called within this trial only: the trial and rows they use are this
        # trial's (B023 does not apply)
        def cands():
            r = random.Random(trial)  # noqa: B023
            return {cid: Cand(cid, {f: r.choice([0.5, 1.0, 0.25]) for f in r.sample(feats, r.randint(1, 3))})
                    for cid in rows if r.random() < 0.9}  # noqa: B023
        k, budget = rng.choice([3, 10]), rng.choice([150, 1500, 100_000])
        exclude = ("a.py", (10, 20)) if trial % 2 else None
        expect = trial % 3 == 0
        retriever = Retriever.__new__(Retriever)
        retriever._rows = lambda ids: {i: rows[i] for i in ids if i in rows}  # type: ignore[method-assign]  # noqa: B023
        got = retriever._finish(cands(), weights, k, budget, exclude, expect)
        assert got == reference(cands(), rows, weights, k, budget, exclude, expect), trial


def test_a_definition_just_past_the_last_item_widens_the_item_beside_it() -> None:
    """Of the candidates after the k-th item, the next k // JOIN_PAST (at least one) still widen an item they are
    beside, taking no slot; one that would need a slot of its own uses that allowance up, and later ones are left
    out. Without `join` none is read."""
    from ragls.indexer.assemble import JOIN_PAST, Cand
    from ragls.indexer.store import ChunkRow

    k = JOIN_PAST  # one candidate past the k-th is read

    def ranked(extra: list[tuple[str, int]], join: bool = True) -> list:
        """k items in files of their own, then `extra` (path, first line) in rank order."""
        rows = {i: ChunkRow(i, f"f{i}.py", 10, 12, 10, "function", f"s{i}", 20, 5) for i in range(k)}
        for j, (path, start) in enumerate(extra, k):
            rows[j] = ChunkRow(j, path, start, start + 2, start, "function", f"s{j}", 20, 5)
        cands = {i: Cand(i, {"a": 100.0 - i}) for i in rows}
        retriever = Retriever.__new__(Retriever)
        retriever._rows = lambda ids: {i: rows[i] for i in ids if i in rows}  # type: ignore[method-assign]
        return retriever._finish(cands, {"a": 1.0}, k, 10_000, None, join=join)

    items = ranked([("f0.py", 13)])  # right below the first item
    first = items[0]
    assert (first.symbol, first.start_line, first.end_line, first.joined, first.tokens) == ("s0", 10, 15, [f"s{k}"], 40)
    assert len(items) == k
    items = ranked([("other.py", 1), ("f0.py", 13)])  # the first one past needs a slot: the neighbour is not read
    assert (items[0].end_line, items[0].joined) == (12, []) and len(items) == k
    items = ranked([("f0.py", 13)], join=False)
    assert (items[0].end_line, items[0].joined) == (12, []) and len(items) == k


def test_definitions_a_selection_uses_join_one_snippet_across_a_few_lines() -> None:
    """Two definitions of one file that a selection uses in its body, a short function apart (more than a header's
    tokens, less than USED_GAP_TOKENS), are one snippet when the items run out before the budget: the slot left goes
    to another file's. A candidate not used in the body keeps a snippet of its own, and so does one whose gap costs
    more, or any where the items leave slots to spare."""
    from ragls.indexer.assemble import USED_GAP_TOKENS, Assembler, Cand
    from ragls.indexer.store import ChunkRow
    from ragls.indexer.tokens import count

    filler = ["def unrelated(values):", *[f"    total_{i} = sum(v * {i} for v in values)" for i in range(4)],
              "    return total_0"]

    def answer(used: float, filler_lines: list[str], k: int = 2, budget: int = 10_000) -> list:
        text = "\n".join(["def first(a):", "    return a", "", *filler_lines, "", "def second(b):", "    return b"])
        second = len(filler_lines) + 4
        rows = {0: ChunkRow(0, "m.py", 1, 2, 1, "function", "first", 8, 8),
                1: ChunkRow(1, "m.py", second, second + 1, second, "function", "second", 8, 8),
                2: ChunkRow(2, "other.py", 1, 2, 1, "function", "other", 8, 8)}
        cands = {0: Cand(0, {"used": 1.5}), 1: Cand(1, {"used": used}), 2: Cand(2, {"used": 0.1})}
        assembler = Assembler(lambda ids: {i: rows[i] for i in ids}, lambda path: "python",
                              lambda path: text if path == "m.py" else None)
        return assembler.items(cands, {"used": 1.0}, k, budget, None, join=True)

    gap = "\n".join(["", *filler, ""])
    assert 20 < count(gap) <= USED_GAP_TOKENS
    items = answer(1.2, filler)
    assert [(i.path, i.start_line, i.end_line, i.joined) for i in items] == [("m.py", 1, 11, ["second"]),
                                                                          ("other.py", 1, 2, [])]
    assert [(i.path, i.joined) for i in answer(0.2, filler)] == [("m.py", []), ("m.py", [])]  # its signature only
    assert [(i.path, i.joined) for i in answer(1.2, filler * 3)] == [("m.py", []), ("m.py", [])]  # too far apart
    assert [(i.path, i.joined) for i in answer(1.2, filler, k=5)] == [("m.py", []), ("m.py", []), ("other.py", [])]


def test_super_means_the_base_class(tmp_path: Path) -> None:
    """`super().__init__(...)` and `super().save()` in a subclass are the base class's methods, declared in another
    file; in TypeScript `super(...)` is the base's constructor."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/base.py": "class Model:\n    \"\"\"A stored model.\"\"\"\n\n    def __init__(self, name):\n"
                       "        self.name = name\n\n    def save(self):\n        \"\"\"Write it.\"\"\"\n"
                       "        return self.name\n",
        "pkg/user.py": "from pkg.base import Model\n\n\nclass User(Model):\n    def __init__(self, name, mail):\n"
                       "        super().__init__(name)\n        self.mail = mail\n\n    def save(self):\n"
                       "        return super().save()\n",
        "web/base.ts": "export class View {\n  /** Mounts it. */\n  constructor(readonly root: string) {}\n\n"
                       "  /** Draws it. */\n  render(): string {\n    return this.root;\n  }\n}\n",
        "web/page.ts": "import { View } from \"./base\";\n\nexport class Page extends View {\n"
                       "  constructor(root: string) {\n    super(root);\n  }\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    used = {i.symbol for i in r.context(Query("pkg/user.py", 5, end_line=10), k=20, join=False)
            if "used" in " ".join(i.why)}
    assert {"Model.__init__", "Model.save"} <= used, used
    used = {i.symbol for i in r.context(Query("web/page.ts", 4, end_line=6), k=20, join=False)
            if "used" in " ".join(i.why)}
    assert "View.constructor" in used, used


def test_imports_in_the_lines_a_deep_cursor_does_not_read_come_from_the_catalog(tmp_path: Path) -> None:
    """Deep in a large file, an import written between the head and the tail (a function's own import) still binds
    its name: the catalog has it, the query does not read it again."""
    from ragls.indexer.window import HEAD_CHARS

    from .conftest import index_of, write_tree

    padding = "".join(f"def filler_{i}(x):\n    return x + {i}\n\n\n" for i in range(HEAD_CHARS // 10))
    tail = "".join(f"    step_{i} = {i}\n" for i in range(3_000))
    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/tools.py": "def sharpen(blade):\n    \"\"\"Hone the blade.\"\"\"\n    return blade\n",
        "pkg/big.py": "import os\n\n" + padding + "def work():\n    from pkg import tools\n" + tail
                      + "    return tools.\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    source = (root / "pkg/big.py").read_text()
    last = source.count("\n")
    items = r.context(Query("pkg/big.py", last, len("    return tools.")), k=10)
    assert items and items[0].symbol == "sharpen", [(i.symbol, i.why) for i in items]


def test_a_query_leaves_no_cycles_and_resumes_the_collector(tmp_path: Path) -> None:
    """A query runs with the cyclic collector paused, so its garbage must be freed by reference counts: none is left
    for the collector (its closures' cycle is broken), and the collector is on again afterwards."""
    import gc

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/base.py": "class Base:\n    def refresh(self, key):\n        return key\n",
        "pkg/child.py": "from .base import Base\n\n\nclass Child(Base):\n    def run(self, c: Base):\n"
                        "        x = c.refresh(1)\n        return self.\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    r.context(Query("pkg/child.py", 7, len("        return self.")))  # loads the graph
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        items = r.context(Query("pkg/child.py", 7, len("        return self.")))
        assert gc.isenabled()
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert "Base.refresh" in symbols(items)
    assert left == []


def test_a_graph_loaded_again_leaves_what_was_frozen_out_of_the_collection(tmp_path: Path) -> None:
    """After a refresh stores new edges the graph is loaded again, and the collection that follows the load
    traverses only what came since the last freeze: the process's long-lived objects stay frozen. A collection
    that traverses them all holds the interpreter lock meanwhile, and the language server's event loop stood still
    for it (114 ms after a reindex in bench/fuzz.py)."""
    import gc

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/base.py": "class Base:\n    def refresh(self, key):\n        return key\n",
    })
    index = index_of(root, tmp_path / "data")
    long_lived = [[n] for n in range(50_000)]  # the rest of a long-running process: frozen by the first load
    r = Retriever(index)
    r.warm()
    (root / "pkg/child.py").write_text("from .base import Base\n\n\nclass Child(Base):\n    pass\n")
    index.refresh(progress=False)
    traversed: list[int] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            traversed.append(len(gc.get_objects(2)))

    gc.callbacks.append(seen)
    try:
        assert "Child" in r.graph.by_name  # loaded again
    finally:
        gc.callbacks.remove(seen)
    assert traversed and max(traversed) < len(long_lived), traversed
    assert long_lived[-1] == [49_999]


def test_the_collector_resumes_when_the_last_paused_request_ends() -> None:
    """Requests on two threads overlap: the collector stays paused until both end, and a collector that was off
    before them stays off."""
    import gc
    import threading

    from ragls.indexer import heap

    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with heap.paused():
            inside.set()
            release.wait(5)

    assert gc.isenabled()
    t = threading.Thread(target=other)
    with heap.paused():
        t.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the other request still runs
    release.set()
    t.join(5)
    assert gc.isenabled()
    gc.disable()
    try:
        with heap.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_definitions_next_to_each_other_are_one_snippet(tmp_path):
    """A selection using three of a Go package's constants in one block and an interface's two methods: each
    group is one item whose lines show all of them, the slots left to the other files; definitions far apart in a
    file stay items of their own, and the text is counted once."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "go.mod": "module example.com/m\n\ngo 1.21\n",
        "kind/kind.go": "package kind\n\n// Kind is a value's kind.\ntype Kind int\n\nconst (\n\tBool Kind = iota\n"
                        "\tInt\n\tString\n\tBytes\n)\n\n// Value holds one value.\ntype Value interface {\n"
                        "\t// Kind says what it holds.\n\tKind() Kind\n\t// Len is its length.\n\tLen() int\n}\n"
                        + "".join(f"\n// Pad{n} pads.\nfunc Pad{n}() {{}}\n" for n in range(30))
                        + "\n// Far is far from the rest.\nfunc Far() int { return 1 }\n",
        "use/use.go": "package use\n\nimport \"example.com/m/kind\"\n\nfunc Describe(v kind.Value) string {\n"
                      "\tswitch v.Kind() {\n\tcase kind.Bool, kind.Int:\n\t\treturn \"number\"\n\tcase kind.String:\n"
                      "\t\treturn \"text\"\n\t}\n\tif v.Len() > kind.Far() {\n\t\treturn \"long\"\n\t}\n"
                      "\treturn \"\"\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    q = Query("use/use.go", 5, end_line=16)
    separate, joined = r.context(q, join=False), r.context(q)
    for name in ("Bool", "Int", "String", "Value.Kind", "Value.Len", "Far"):
        assert name in symbols(separate), (name, symbols(separate))
    shown = {name: i for i in joined for name in [i.symbol, *i.joined]}
    consts = {shown[n].start_line for n in ("Bool", "Int", "String")}
    assert len(consts) == 1 and shown["Bool"] is shown["String"], [(i.symbol, i.joined) for i in joined]
    assert shown["Value.Kind"] is shown["Value.Len"]
    item = shown["Value.Kind"]
    assert item.start_line <= 16 and item.end_line >= 18  # both method lines, in one stretch of the file
    assert shown["Far"] is not shown["Value.Kind"] and shown["Far"].start_line > 100
    assert len(joined) < len(separate)
    lines = [(i.path, n) for i in joined for n in range(i.start_line, i.end_line + 1)]
    assert len(lines) == len(set(lines)), "a line shown twice"
    # what the widened items show is counted: each definition's tokens, and the lines between them
    everything, all_joined = r.context(q, k=100, join=False), r.context(q, k=100)
    apart = {(i.path, n) for i in everything for n in range(i.start_line, i.end_line + 1)}
    between = sum((i.path, n) not in apart for i in all_joined for n in range(i.start_line, i.end_line + 1))
    assert sum(i.tokens for i in everything) <= sum(i.tokens for i in all_joined) \
        <= sum(i.tokens for i in everything) + 2 * between + len(everything)
    tight = r.context(q, budget=shown["Bool"].tokens)
    assert sum(i.tokens for i in tight) <= shown["Bool"].tokens


def test_definitions_a_cheap_gap_apart_are_one_snippet(tmp_path):
    """Two used constants with an unused one and its comment between them (more lines apart than NEAR_LINES): the
    lines between cost less than a snippet's header, so they are one item, its tokens counting those lines; a
    constant behind a function of more than USED_GAP_TOKENS stays an item of its own."""
    from ragls.indexer.assemble import NEAR_LINES, USED_GAP_TOKENS
    from ragls.indexer.tokens import count

    from .conftest import index_of, write_tree

    body = "".join(f"\tn += xs[{i}] * {i}\n" for i in range(16))
    helper = ("// ---- helpers: weighted sums of the values a caller passes, one term per position ----\n\n"
              "func helper(xs []int) (n int) {\n" + body + "\treturn n\n}\n\n")
    source = ("package m\n\n// enable encoding debug printing\nconst debugEncoder = false\n\n"
              "// enable decoding debug printing\nconst debugDecoder = false\n\n"
              "// Enable extra assertions.\nconst debugAsserts = false\n\n" + helper + "const debugMatches = false\n")
    root = write_tree(tmp_path / "repo", {
        "go.mod": "module example.com/m\n\ngo 1.21\n",
        "debug.go": source,
        "use.go": "package m\n\nfunc run() int {\n\tif debugEncoder || debugAsserts || debugMatches {\n"
                  "\t\treturn 1\n\t}\n\treturn 0\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    assert count(helper) > USED_GAP_TOKENS
    q = Query("use.go", 3, end_line=8)
    for query in (Query("use.go", 5, 2), q):  # at a cursor (no `used`: the header's rule alone), in a selection
        items = r.context(query)
        shown = {name: i for i in items for name in [i.symbol, *i.joined]}
        assert {"debugEncoder", "debugAsserts", "debugMatches"} <= shown.keys(), [(i.symbol, i.joined) for i in items]
        both = shown["debugEncoder"]
        assert both is shown["debugAsserts"] and shown["debugMatches"] is not both
    apart = {i.symbol: i for i in r.context(q, join=False)}
    first, second = apart["debugEncoder"], apart["debugAsserts"]
    assert second.start_line - first.end_line - 1 > NEAR_LINES  # farther apart than the line rule joins
    gap = count("\n".join(source.split("\n")[first.end_line:second.start_line - 1]))  # debugDecoder and blanks
    assert both.tokens == first.tokens + second.tokens + gap


def test_a_name_assigned_from_an_attribute_of_its_own_name_ends(tmp_path):
    """`x = self.x` then `x = x.y`: reading x through its earlier type loops back to x; the query answers."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/node.py": "class Node:\n    def __init__(self):\n        self.x = None\n\n    def walk(self):\n"
                       "        x = self.x\n        x = x.y\n        return x.z\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    source = (root / "pkg/node.py").read_text() + "        x.\n"
    r.context(Query("pkg/node.py", 9, len("        x.")), source=source)
    r.context(Query("pkg/node.py", 5, end_line=8))


def test_members_are_gathered_for_the_classes_used_nearest_the_cursor_only(tmp_path, monkeypatch):
    from ragls.indexer.retrieve import CLASSES

    from .conftest import index_of, write_tree

    n = CLASSES + 20
    models = "".join(f"class Model{i}:\n    def save_{i}(self):\n        return {i}\n\n\n" for i in range(n))
    names = ", ".join(f"Model{i}" for i in range(n))
    uses = "".join(f"    m{i} = Model{i}()\n" for i in range(n))
    app = f"from pkg.models import ({names})\n\n\ndef run():\n{uses}    total = 0\n"
    root = write_tree(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/models.py": models, "pkg/app.py": app})
    r = Retriever(index_of(root, tmp_path / "data"))
    graph = r.graph
    asked: list[str] = []
    real = graph.member_chunks
    monkeypatch.setattr(graph, "member_chunks", lambda t: asked.append(t[1].name) or real(t))
    items = r.context(Query("pkg/app.py", 5 + n, 4), join=False)
    assert items and r.graph is graph
    # a file using more classes than CLASSES: the members of those used last, not of every one
    assert len(set(asked)) == CLASSES and f"Model{n - 1}" in asked and "Model0" not in asked


def _typing_repo(tmp_path):
    from ragls.indexer.index import Index

    repo = tmp_path / "typing"
    repo.mkdir()
    (repo / "base.py").write_text("class Base:\n    def ping(self):\n        return 1\n")
    (repo / "other.py").write_text("class Other:\n    def hello(self):\n        return 2\n")
    (repo / "app.py").write_text(
        "from base import Base, Missing\nfrom other import Other\n\n\nclass App(Base):\n    def run(self):\n"
        "        Other().hello()\n        Missing()\n        self.\n")
    index = Index.open(repo, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    return index


def test_typing_in_a_file_keeps_what_the_graph_knows_of_the_others_and_moves_its_own_lines(tmp_path):
    index = _typing_repo(tmp_path)
    r = Retriever(index)
    cursor = Query("app.py", 9, 13)
    ping = next(i for i in r.context(cursor) if i.symbol == "Base")
    graph = r.graph
    known = [k for k in graph._members_of if "other.py" in k[0]]
    assert known  # Other's members, asked for by the query
    text = (index.root / "base.py").read_text()
    for n in range(1, 4):  # typing above the class, then in a body: the same names, moved lines
        text = "# typed\n" + text.replace("return 1", f"return {n}")
        index.update_file("base.py", text.encode())
        assert r.graph is graph and all(k in graph._members_of for k in known)  # another file's answers kept
        moved = next(i for i in r.context(cursor) if i.symbol == "Base")
        assert (moved.start_line, moved.end_line) == (ping.start_line + n, ping.end_line + n)
        assert graph.bases(graph.defs["app.py"]["App"]) == [graph.defs["base.py"]["Base"]]  # not the one before
        assert graph.bases(graph.defs["app.py"]["App"])[0].start_line == 1 + n


def test_a_name_a_file_starts_to_define_resolves_after_the_edit(tmp_path):
    index = _typing_repo(tmp_path)
    r = Retriever(index)
    cursor = Query("app.py", 9, 13)
    r.context(cursor)
    text = (index.root / "base.py").read_text()
    index.update_file("base.py", ("# typed\n" + text).encode())  # a patch that keeps the names: answers kept
    r.context(cursor)
    assert "Fresh" not in r.graph.top_names
    added = "\n\nclass Missing:\n    pass\n\n\nclass Fresh:\n    pass\n"
    index.update_file("base.py", ("# typed\n" + text + added).encode())
    assert r.graph.resolve_symbol("base", "Missing") is not None and "Fresh" in r.graph.top_names
    items = r.context(Query("app.py", 8, 15))
    assert any(i.symbol == "Missing" for i in items)


def _classes_state(g) -> dict:
    """Every class's bases, members and member chunks, as the graph answers them."""
    from ragls.indexer.graph import CLASS_LIKE

    return {(d.path, d.qualname): (g.bases(d), sorted((m.path, m.qualname, m.start_line, m.chunk)
                                                      for m in g.module_members(("def", d))),
                                   g.member_chunks(("def", d)))
            for defs in g.defs.values() for d in defs.values() if d.kind in CLASS_LIKE}


def test_a_primed_graph_answers_as_a_fresh_one_through_every_kind_of_edit(tmp_path):
    """`prime` works out every class's members ahead of queries, and a patch drops just the answers read from the
    files it changed (found by the files they were read from, not by reading every answer): after a body edited,
    a method added, a base changed and a file deleted, each class answers as in a graph built afresh."""
    from ragls.indexer.graph import Graph

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "base.py": "class Base:\n    def run(self):\n        return 1\n\n\nclass Other:\n    def walk(self):\n"
                   "        pass\n",
        "mid.py": "from base import Base, Other\n\n\nclass Mid(Base):\n    def step(self):\n        pass\n",
        "leaf.py": "from mid import Mid\n\n\nclass Leaf(Mid):\n    pass\n",
        "gone.py": "from leaf import Leaf\n\n\nclass Twig(Leaf):\n    pass\n",
    })
    index = index_of(root, tmp_path / "data")
    r = Retriever(index)
    assert not r.primed
    while not r.prime(0):  # a slice at a time, as the server primes between requests
        pass
    assert r.primed
    graph = r.graph
    leaf = graph.defs["leaf.py"]["Leaf"]
    assert {m.name for m in graph.module_members(("def", leaf))} == {"run", "step"}

    def edit(rel: str, text: str | None) -> None:
        if text is None:
            (root / rel).unlink()
        else:
            (root / rel).write_text(text)
        index.update_file(rel)
        assert r.graph is graph and not r.primed  # patched: primed again from the start
        assert r.prime()
        assert _classes_state(graph) == _classes_state(Graph(index.store, root.name, root))

    edit("base.py", (root / "base.py").read_text().replace("return 1", "return 2"))  # the same names: new chunks
    edit("base.py", (root / "base.py").read_text() + "\n    def stop(self):\n        pass\n")  # Other's method more
    edit("mid.py", (root / "mid.py").read_text().replace("Mid(Base)", "Mid(Other)"))  # another base
    assert {m.name for m in graph.module_members(("def", graph.defs["leaf.py"]["Leaf"]))} == {"walk", "stop", "step"}
    edit("gone.py", None)


def test_a_python_name_in_scope_reads_as_the_file_s_whole_scope_does(tmp_path):
    """A Python file's name is resolved alone where its scope was not worked out (a base class's file): the same
    answer as through the whole scope, for a module, an aliased import, a star import, a missing module, a name of
    the file's own and an unknown name."""
    from ragls.indexer.graph import Graph

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "from .impl import *\n",
        "pkg/impl.py": "class Impl:\n    pass\n",
        "b.py": "class FromStar:\n    pass\n",
        "a.py": "import pkg\nfrom pkg import Impl as I\nfrom b import *\nfrom missing import Gone\n\n\n"
                "class Own(I):\n    pass\n",
    })
    index = index_of(root, tmp_path / "data")
    alone, whole = Graph(index.store, root.name, root), Graph(index.store, root.name, root)
    whole._scope("a.py")
    names = ["pkg", "I", "FromStar", "Gone", "Own", "nothing"]
    answers = [alone.in_scope("a.py", n) for n in names]
    assert "a.py" not in alone._scopes  # nothing but the names asked was resolved
    assert answers == [whole.in_scope("a.py", n) for n in names]
    assert answers[1] == ("def", alone.defs["pkg/impl.py"]["Impl"]) and answers[2] is not None
    assert answers[3] is None and answers[4] == ("def", alone.defs["a.py"]["Own"]) and answers[5] is None
    assert alone.bases(alone.defs["a.py"]["Own"]) == [alone.defs["pkg/impl.py"]["Impl"]]


def test_priming_works_out_at_most_its_cap_of_classes(tmp_path, monkeypatch):
    """The memory priming takes is bounded: past PRIME_MAX_CLASSES classes the others are left to their first use
    (and answer as they would have)."""
    from ragls.indexer import graph as graph_module

    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {f"c{i}.py": f"class C{i}:\n    def run(self):\n        pass\n"
                                          for i in range(5)})
    r = Retriever(index_of(root, tmp_path / "data"))
    monkeypatch.setattr(graph_module, "PRIME_MAX_CLASSES", 2)
    assert r.prime() and r.primed
    g = r.graph
    assert len(g._member_chunks) == 2
    c4 = g.defs["c4.py"]["C4"]
    assert g.member_chunks(("def", c4)) == {g.defs["c4.py"]["C4.run"].chunk}


def test_a_class_whose_base_changes_gives_its_heirs_the_new_bases_members(tmp_path):
    from ragls.indexer.index import Index

    repo = tmp_path / "family"
    repo.mkdir()
    (repo / "sides.py").write_text("class Left:\n    def go_left(self):\n        pass\n\n\n"
                                   "class Right:\n    def go_right(self):\n        pass\n")
    (repo / "mid.py").write_text("from sides import Left, Right\n\n\nclass Mid(Left):\n    pass\n")
    (repo / "app.py").write_text("from mid import Mid\n\n\nclass App(Mid):\n    pass\n")
    index = Index.open(repo, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    r = Retriever(index)
    app = r.graph.defs["app.py"]["App"]
    assert "go_left" in {m.name for m in r.graph.module_members(("def", app))}
    r.graph.member_chunks(("def", app))
    index.update_file("mid.py", b"from sides import Left, Right\n\n\nclass Mid(Right):\n    pass\n")
    g = r.graph
    app = g.defs["app.py"]["App"]
    assert "go_right" in {m.name for m in g.module_members(("def", app))}
    assert g.member_chunks(("def", app)) == {g.defs["sides.py"]["Right.go_right"].chunk}
