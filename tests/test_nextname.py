"""What came next where the same code was written before: the names that followed the tokens before the cursor in
other chunks rank their definitions (nextname.py), in scope or as members of the receiver's type; after `x.`, a member
whose name the line already says ranks first."""
from __future__ import annotations

from pathlib import Path

from ragls.indexer.nextname import TOKEN, NextNames, key_of
from ragls.indexer.retrieve import Query, Retriever

from .conftest import index_of, write_tree

ENCODERS = {
    "go.mod": "module example.com/z\n\ngo 1.21\n",
    "z/consts.go": "package z\n\n// tableBits is the hash table's size in bits.\nconst tableBits = 15\n\n"
                   "// maxOffset is the farthest a match reaches back.\nconst maxOffset = 1 << 15\n\n"
                   "// minMatch is the shortest match.\nconst minMatch = 4\n",
    "z/hash.go": "package z\n\n// hashLen hashes u to h bits.\nfunc hashLen(u uint64, h, n uint8) uint32 {\n"
                 "\treturn uint32(u*0x9E3779B1) >> (32 - h)\n}\n",
    "z/level1.go": "package z\n\n// encode1 compresses fast.\nfunc encode1(cv uint64, s int) uint32 {\n"
                   "\tnext := hashLen(cv, tableBits, minMatch)\n\tif s > maxOffset {\n\t\treturn 0\n\t}\n"
                   "\treturn next\n}\n",
    "z/level2.go": "package z\n\n// encode2 compresses better.\nfunc encode2(cv uint64, s int) uint32 {\n"
                   "\tnext := hashLen(cv, tableBits, minMatch)\n\tif s > maxOffset {\n\t\treturn 0\n\t}\n"
                   "\treturn next + 1\n}\n",
    "z/level3.go": "package z\n\n// encode3 compresses best.\nfunc encode3(cv uint64, s int) uint32 {\n"
                   "\tnext := hashLen(cv, ",
}


def test_a_key_must_name_something() -> None:
    assert key_of(TOKEN.findall("x := hashLen(cv, "), 4) == ("hashLen", "(", "cv", ",")
    assert key_of(TOKEN.findall("a := (b, "), 4) is None  # punctuation and one-letter names match anywhere
    assert key_of(TOKEN.findall("f("), 4) is None  # fewer tokens than the key


def test_names_that_followed_the_same_tokens(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", ENCODERS)
    index = index_of(root, tmp_path / "data")
    text = ENCODERS["z/level3.go"]
    names = NextNames(index.store)
    assert names.names("z/level3.go", text) == {"tableBits": 2}
    assert names.names("z/level3.go", text) == {"tableBits": 2}  # again: the same text, from the catalog
    # the longest key that occurs wins; earlier text of the query's own file counts too
    own = text.replace("\tnext := hashLen(cv, ", "\tx := lookup(s)\n\ty := lookup(")
    assert names.names("z/level3.go", own) == {"s": 1}


def test_the_key_s_tokens_match_across_any_whitespace_and_only_in_order(tmp_path: Path) -> None:
    """Tokens parted by any whitespace (a tab, a newline, a no-break space) follow each other as written together;
    a stretch holding each token of the key, but not in its order, gives nothing."""
    files = dict(ENCODERS)
    files["z/level2.go"] = files["z/level2.go"].replace("hashLen(cv, tableBits", "hashLen(\tcv\u00a0,\n\t\tmaxOffset")
    files["z/level1.go"] = files["z/level1.go"].replace("hashLen(cv, tableBits", "hashLen(tableBits, cv")
    root = write_tree(tmp_path / "repo", files)
    names = NextNames(index_of(root, tmp_path / "data").store)
    assert names.names("z/level3.go", files["z/level3.go"]) == {"maxOffset": 1}


def test_of_the_query_s_own_text_the_uses_nearest_the_cursor_count(tmp_path: Path) -> None:
    """A name used on every line of a long file: what followed it is counted at its OWN_OCCURRENCES uses nearest
    the cursor, not all over the text before it (whose tokens would all be read, at every deep query)."""
    from ragls.indexer.nextname import OWN_OCCURRENCES

    root = write_tree(tmp_path / "repo", ENCODERS)
    names = NextNames(index_of(root, tmp_path / "data").store)
    far = ("\tx := lookup(old) // " + "." * 200 + "\n") * 200  # each farther than WINDOW from the next
    near = "\tx := lookup(s)\n" * (OWN_OCCURRENCES - 1)
    text = "package z\n\nfunc f() {\n" + far + near + "\tz := 1\n\tx := lookup("
    assert names.names("z/level4.go", text) == {"s": OWN_OCCURRENCES - 1}


def test_what_followed_elsewhere_ranks_first(tmp_path: Path) -> None:
    """At `hashLen(cv, ` nothing but the repository's habits says which of the package's constants comes next."""
    root = write_tree(tmp_path / "repo", ENCODERS)
    r = Retriever(index_of(root, tmp_path / "data"))
    text = ENCODERS["z/level3.go"]
    items = r.context(Query("z/level3.go", 5, len("\tnext := hashLen(cv, ")), source=text)
    assert items[0].symbol == "tableBits" and "next=1.00" in items[0].why


def test_members_that_followed_the_same_receiver(tmp_path: Path) -> None:
    """After `e.` the members of e's type that followed the same tokens elsewhere rank first among them."""
    root = write_tree(tmp_path / "repo", {
        "go.mod": "module example.com/z\n\ngo 1.21\n",
        "z/enc.go": "package z\n\n// Enc encodes.\ntype Enc struct{ n int }\n\n"
                    "// Reset forgets what was encoded.\nfunc (e *Enc) Reset() {\n\te.n = 0\n}\n\n"
                    "// Close flushes and ends.\nfunc (e *Enc) Close() error {\n\treturn nil\n}\n\n"
                    "// Apply runs the encoder over b.\nfunc (e *Enc) Apply(b []byte) {\n\te.n += len(b)\n}\n",
        "z/a.go": "package z\n\nfunc a(e *Enc) {\n\tdefer e.Close()\n\te.Apply(nil)\n}\n",
        "z/b.go": "package z\n\nfunc b(e *Enc) {\n\tdefer e.Close()\n\te.Apply([]byte{1})\n}\n",
        "z/c.go": "package z\n\nfunc c(e *Enc) {\n\tdefer e.",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    items = r.context(Query("z/c.go", 4, len("\tdefer e.")), source=(root / "z/c.go").read_text())
    assert items[0].symbol == "Enc.Close" and "next=1.00" in items[0].why and "receiver=1.00" in items[0].why


def test_a_key_matches_whole_names_with_any_space_between_tokens() -> None:
    from ragls.indexer.nextname import _follows, _joined

    key = " hashLen ( cv , "
    text = "a := hashLen( cv,\n\ttableBits)\nb := rehashLen(cv, other)\nc := hashLen(cvx, no)\nd := hashLen(cv, 7)"
    assert _follows(_joined(text), key) == ["tableBits"]
    assert _follows(_joined("f(cv, x) g (cv,y)"), " ( cv , ") == ["x", "y"]


def test_a_member_named_like_what_the_line_says_ranks_first(tmp_path: Path) -> None:
    """`mask = flags.`: of Flags's members, the one whose name shares the line's words (get_mask) comes first."""
    root = write_tree(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/flags.py": "class Flags:\n    def enabled(self) -> bool:\n        return True\n\n"
                        "    def get_mask(self) -> int:\n        return 1\n\n    def describe(self) -> str:\n"
                        "        return ''\n",
        "pkg/use.py": "from .flags import Flags\n\n\ndef f(flags: Flags):\n    mask = flags.",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    items = r.context(Query("pkg/use.py", 5, len("    mask = flags.")), source=(root / "pkg/use.py").read_text())
    assert items[0].symbol == "Flags.get_mask" and "line=0.50" in items[0].why and "receiver=1.00" in items[0].why


def test_an_unreadable_lexical_index_loses_only_this_evidence(tmp_path: Path) -> None:
    """A search of the lexical index that fails (a damaged FTS table, say) leaves the query without this evidence."""
    import sqlite3

    class Broken:
        def phrase_texts(self, *args: object) -> None:
            raise sqlite3.DatabaseError("database disk image is malformed")

    root = write_tree(tmp_path / "repo", ENCODERS)
    r = Retriever(index_of(root, tmp_path / "data"))
    r._next.store = Broken()  # type: ignore[assignment]
    text = ENCODERS["z/level3.go"]
    items = r.context(Query("z/level3.go", 5, len("\tnext := hashLen(cv, ")), source=text)
    assert items and not any("next=" in " ".join(i.why) for i in items)


def test_what_came_next_earlier_in_a_large_file_is_found_in_the_lines_a_deep_cursor_does_not_read(
        tmp_path: Path) -> None:
    """Deep in a large file the query reads a head and a tail, but what came next is searched in the whole text
    before the cursor (BEFORE_CHARS): the same call written far above, in the unread lines, names the constant."""
    from ragls.indexer.visible import BEFORE_CHARS, read
    from ragls.indexer.window import HEAD_CHARS, TAIL_CHARS

    far = "\tnext := hashLen(cv, tableBits, minMatch)\n"
    filler = "".join(f"\tv{i} := uint32({i})\n" for i in range((HEAD_CHARS + 2 * TAIL_CHARS) // 14))
    text = "package z\n\nfunc encode4(cv uint64) uint32 {\n" + far + filler + "\tnext = hashLen(cv, "
    assert len(text) < BEFORE_CHARS
    line = text.count("\n") + 1
    v = read("z/level4.go", text, line, len("\tnext = hashLen(cv, "), None)
    assert v.gap is not None and far not in v.text and far in v.before
    files = {k: v for k, v in ENCODERS.items() if k not in ("z/level1.go", "z/level2.go")}  # the file is all there is
    r = Retriever(index_of(write_tree(tmp_path / "repo", {**files, "z/level4.go": text}), tmp_path / "data"))
    items = r.context(Query("z/level4.go", line, len("\tnext = hashLen(cv, ")), source=text)
    assert any(i.symbol == "tableBits" and "next=1.00" in i.why for i in items)


def test_a_chunk_s_text_is_its_own_whatever_the_line_ends(tmp_path: Path) -> None:
    """A file's lines end at `\\n` only, as tree-sitter's rows do: a form feed (GNU C sources) or a `\\r\\n` before a
    chunk moves no line, so the text the catalog keeps for the chunk is its own; what followed in it is found."""
    files = dict(ENCODERS)
    files["z/level1.go"] = "package z\n\n// pages" + "\f and" * 8 + "\r\n" + \
        ENCODERS["z/level1.go"].split("\n", 2)[2]
    root = write_tree(tmp_path / "repo", files)
    index = index_of(root, tmp_path / "data")
    counts = NextNames(index.store).names("z/level3.go", ENCODERS["z/level3.go"])
    assert counts == {"tableBits": 2}


def test_an_unsaved_buffer_counts_as_the_editor_has_it(tmp_path: Path) -> None:
    """Another file's buffer, indexed by `update_file` and not saved: what followed there is what the buffer says
    (the catalog keeps each chunk's text), not what the lines of the file on disk hold."""
    root = write_tree(tmp_path / "repo", ENCODERS)
    index = index_of(root, tmp_path / "data")
    buffer = ENCODERS["z/level1.go"].replace("hashLen(cv, tableBits, minMatch)", "hashLen(cv, minMatch, tableBits)")
    index.update_file("z/level1.go", buffer.encode())
    counts = NextNames(index.store).names("z/level3.go", ENCODERS["z/level3.go"])
    assert counts == {"tableBits": 1, "minMatch": 1}


def test_a_catalog_without_chunk_texts_gets_them_when_its_files_are_read_again(tmp_path: Path) -> None:
    """A catalog made before chunks' text was kept (its analysis another version): its files are read again and
    every chunk is written anew with its text, none kept without; a removed file leaves none behind."""
    import sqlite3

    from ragls.indexer.index import Index

    root = write_tree(tmp_path / "repo", ENCODERS)
    index_of(root, tmp_path / "data").close()
    db = sqlite3.connect(next((tmp_path / "data").rglob("index.db")))
    with db:
        db.execute("DELETE FROM chunk_text")
        db.execute("UPDATE meta SET value='0' WHERE key='extractor'")
    db.close()
    index = Index.open(root, data_dir=tmp_path / "data")
    assert NextNames(index.store).names("z/level3.go", ENCODERS["z/level3.go"]) == {}
    index.refresh(progress=False)

    def count(table: str) -> int:
        return int(index.store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    assert count("chunk_text") == count("chunks") > 0
    assert NextNames(index.store).names("z/level3.go", ENCODERS["z/level3.go"]) == {"tableBits": 2}
    (root / "z/level2.go").unlink()
    index.refresh(progress=False)
    assert count("chunk_text") == count("chunks")
    assert NextNames(index.store).names("z/level3.go", ENCODERS["z/level3.go"]) == {"tableBits": 1}
