"""The fast position codec agrees with pygls's own on every encoding, and stays fast on a 1 MB line."""
from __future__ import annotations

import random

import pytest
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from ragls.server.positions import FastPositionCodec

ALPHABET = ["a", "Z", " ", "\t", "é", "ß", "中", "😋", "𝔘", "\ud800", "\r\n", "\n"]


@pytest.mark.parametrize("encoding", list(types.PositionEncodingKind))
def test_agrees_with_pygls(encoding):
    rng = random.Random(7)
    ours, theirs = FastPositionCodec(encoding), PositionCodec(encoding)
    for _ in range(3000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))
        lines = text.splitlines(True)
        line = rng.randint(0, len(lines) + 1)
        pos = types.Position(line, rng.randint(0, 30))
        assert ours.position_from_client_units(lines, pos) == theirs.position_from_client_units(
            lines, types.Position(pos.line, pos.character)), (text, pos)
        if line < len(lines):
            server = types.Position(line, rng.randint(0, len(lines[line])))
            assert ours.position_to_client_units(lines, server) == theirs.position_to_client_units(lines, server)
        assert ours.client_num_units(text) == theirs.client_num_units(text)


def test_a_position_at_the_end_of_a_megabyte_line():
    line = "x = '" + "é" * 1_000_000 + "'"
    codec = FastPositionCodec(types.PositionEncodingKind.Utf16)
    assert codec.position_from_client_units([line], types.Position(0, len(line))).character == len(line)
    assert codec.position_to_client_units([line], types.Position(0, 5)).character == 5


@pytest.mark.parametrize("encoding", list(types.PositionEncodingKind))
def test_incremental_edits_agree_with_pygls(encoding):
    from pygls.workspace import TextDocument

    from ragls.server.positions import _PYGLS_APPLY, apply_incremental_change

    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 14)))
        lines = max(1, len(text.splitlines()))
        start = types.Position(rng.randint(0, lines + 1), rng.randint(0, 8))
        end = types.Position(rng.randint(start.line, lines + 1), rng.randint(0, 8)) if rng.random() < .9 else \
            types.Position(rng.randint(0, lines + 1), rng.randint(0, 8))
        change = types.TextDocumentContentChangePartial(range=types.Range(start, end),
                                                        text=rng.choice(["", "x", "é\n", "\r\n😋"]))
        ours = TextDocument("file:///a.py", text, position_codec=FastPositionCodec(encoding))
        theirs = TextDocument("file:///a.py", text, position_codec=PositionCodec(encoding))
        apply_incremental_change(ours, change)
        _PYGLS_APPLY(theirs, types.TextDocumentContentChangePartial(range=types.Range(
            types.Position(start.line, start.character), types.Position(end.line, end.character)), text=change.text))
        assert ours.source == theirs.source, (text, change)


def test_lines_are_split_once_per_text():
    from pygls.workspace import TextDocument, Workspace

    from ragls.server.positions import install

    install(Workspace(None))
    doc = TextDocument("file:///a.py", "a\nb\r\nc")
    assert doc.lines == ("a\n", "b\r\n", "c") and doc.lines is doc.lines
    doc.apply_change(types.TextDocumentContentChangePartial(
        range=types.Range(types.Position(1, 0), types.Position(1, 1)), text="B"))
    assert doc.source == "a\nB\r\nc" and doc.lines == ("a\n", "B\r\n", "c")
