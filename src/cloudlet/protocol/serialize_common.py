"""Output walkers shared by the serializers: compiled per shape, cached.

``compile_output(shape, leaf, cache, converted)`` returns a function that
converts a handler's response value into wire-ready form, calling
``leaf(type_name, value)`` only for leaves whose type is in ``converted``
(blob and timestamp by default). Subtrees with none are returned untouched, so
most responses are not copied at all. A protocol whose encoder already handles
a type natively leaves it out of ``converted``.
"""

from __future__ import annotations

from typing import Any, Callable

from botocore.model import Shape

from cloudlet.protocol.validate import shape_key

_CONVERTED = ("blob", "timestamp")


def _needs(shape: Shape, seen: set, converted=_CONVERTED) -> bool:
    if shape.type_name in converted:
        return True
    key = shape_key(shape)
    if key in seen:
        return False
    seen.add(key)
    t = shape.type_name
    if t == "structure":
        return any(_needs(m, seen, converted) for m in shape.members.values())
    if t == "list":
        return _needs(shape.member, seen, converted)
    if t == "map":
        return _needs(shape.value, seen, converted)
    return False


def compile_output(shape: Shape, leaf: Callable[[str, Any], Any], cache: dict,
                   converted: tuple = _CONVERTED) -> Callable[[Any], Any]:
    key = shape_key(shape)
    if key in cache:
        return cache[key]
    if not _needs(shape, set(), converted):
        fn = _identity
        cache[key] = fn
        return fn
    slot: list = []
    cache[key] = lambda v: slot[0](v)
    t = shape.type_name
    if t in converted:
        def fn(v, t=t):
            return leaf(t, v)
    elif t == "structure":
        members = {n: compile_output(m, leaf, cache, converted) for n, m in shape.members.items()}

        def fn(v):
            out = {}
            for k, x in v.items():
                if x is None:
                    continue
                conv = members.get(k)
                out[k] = conv(x) if conv is not None else x
            return out
    elif t == "list":
        inner = compile_output(shape.member, leaf, cache, converted)

        def fn(v):
            return [inner(x) for x in v]
    else:  # map
        inner = compile_output(shape.value, leaf, cache, converted)

        def fn(v):
            return {k: inner(x) for k, x in v.items()}
    slot.append(fn)
    cache[key] = fn
    return fn


def _identity(v):
    return v
