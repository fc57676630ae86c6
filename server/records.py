"""The converter of the server's messages: pygls's, with the params (and client results) of methods lsprotocol has
no type for read into one namedtuple class per shape of object, made once, rather than a new class per object.

Why not pygls's own: its `_dict_to_object` makes a namedtuple class for every JSON object of such params (`ragls/*`
notifications, `workspace/executeCommand` arguments, the client's answers). A class costs about 50 microseconds and
leaves a few dozen objects in reference cycles; after a long fuzz they were 205,000, and the full collection that
freed them held every thread, the event loop too, for 217 ms."""
from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import cattrs
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage, default_converter

SHAPES = 1024  # classes kept (a client sending ever new keys makes no more than this many live at once)


@lru_cache(maxsize=SHAPES)
def _record(name: str, keys: tuple[str, ...]) -> type:
    return namedtuple(name, keys, rename=True)


def to_object(value: Any) -> Any:
    """As pygls's `_dict_to_object`: a JSON object (nested too) as a namedtuple named by its `type_name` key."""
    if not isinstance(value, dict):
        return value
    name = value.pop("type_name", "Object")
    return json.loads(json.dumps(value), object_hook=lambda o: _record(name, tuple(o))(*o.values()))


def _reading(field: str) -> Callable[[dict[str, Any], type], Any]:
    """A structure hook for an untyped message: its `field` (params, result) read by `to_object`."""
    def hook(obj: dict[str, Any], cls: type) -> Any:
        if field in obj:
            obj[field] = to_object(obj[field])
        return cls(**obj)
    return hook


def converter() -> cattrs.Converter:
    """pygls's converter, its hooks for untyped messages replaced."""
    c = default_converter()
    c.register_structure_hook(JsonRPCRequestMessage, _reading("params"))
    c.register_structure_hook(JsonRPCNotification, _reading("params"))
    c.register_structure_hook(JsonRPCResponseMessage, _reading("result"))
    return c
