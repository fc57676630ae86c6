"""Completion post-processing: what is inserted at the cursor."""
from __future__ import annotations

from ragls.server.features.postprocess import clean


def test_fences_and_echo_are_removed():
    reply = "```python\n    net = apply_discount(total, 10)\n```"
    assert clean(reply, "    net = ", "\n", multiline=False) == "apply_discount(total, 10)"


def test_suffix_is_not_repeated():
    assert clean("total, 10))", "    net = apply_discount(", ")\n", multiline=False) == "total, 10"
    assert clean("format_money(net)\n    return x", "    return ", "\n    return x\n", multiline=True) == \
        "format_money(net)"


def test_mid_line_cursor_gets_one_line():
    assert clean("total, 10)\nprint(1)", "apply_discount(", ")\n", multiline=True) == "total, 10"


def test_brackets_balance_against_the_suffix():
    assert clean("x, y])", "f([", "])\n", multiline=False) == "x, y"
    assert clean("g(x)", "f(", ")\n", multiline=False) == "g(x)"


def test_multiline_stops_at_a_dedent():
    reply = "if cart.items:\n        return 1\n    return 0\n\ndef other():\n    pass"
    assert clean(reply, "    ", "\n", multiline=True) == "if cart.items:\n        return 1\n    return 0"


def test_stop_sequences_cut():
    assert clean("value + 1<|endoftext|>junk", "x = ", "\n", multiline=False, stop=["<|endoftext|>"]) == "value + 1"
