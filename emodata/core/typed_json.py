"""Dataclasses ⇄ JSON values, with the types checked on the way in.

`to_json(obj)` turns a dataclass (nested dataclasses, lists, dicts) into plain JSON values: each
field under its name (or `metadata["key"]`), a field marked `omit_none` left out while None, a field
marked `extra` (a dict) merged in as is. `from_json(cls, value, where)` is its inverse and checks every
value against the field's annotation (str, int, float, bool, None, list[X], dict[str, X], X | Y,
`Any`, dataclasses); a missing required key, an unknown key (when the class has no `extra` field) or
a value of the wrong type raises `JsonShapeError` naming `where` and the key path, e.g.
`manifests/mix_20_80.json: shards[3].rows: expected int, got str`.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from functools import lru_cache
from typing import Any, TypeVar

T = TypeVar("T")


class JsonShapeError(ValueError):
    """A JSON value that does not have the shape its dataclass declares."""


def json_key(field: dataclasses.Field) -> str:
    """The JSON key of a dataclass field (its name unless `metadata["key"]` says otherwise)."""
    return field.metadata.get("key", field.name)


def omit_none(key: str | None = None) -> Any:
    """A field that defaults to None and is left out of the JSON while None."""
    return dataclasses.field(default=None, metadata={"omit_none": True, **({"key": key} if key else {})})


@lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _json_fields(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if not f.metadata.get("skip")]


def to_json(obj: Any) -> Any:
    """Plain JSON values (dict, list, str, int, float, bool, None) of a dataclass tree."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for field in _json_fields(type(obj)):
            value = getattr(obj, field.name)
            if field.metadata.get("extra"):
                out.update(value)
            elif not (value is None and field.metadata.get("omit_none")):
                out[json_key(field)] = to_json(value)
        return out
    if isinstance(obj, dict):
        return {key: to_json(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(value) for value in obj]
    return obj


def from_json(cls: type[T], value: Any, where: str, path: str = "") -> T:
    """The dataclass `cls` read from JSON `value`; `JsonShapeError` (naming `where` and the key path)
    when a key is missing or unknown or a value has the wrong type."""
    return _convert(cls, value, where, path)


def _fail(where: str, path: str, problem: str) -> JsonShapeError:
    return JsonShapeError(f"{where}: {path or 'top level'}: {problem}")


def _convert(tp: Any, value: Any, where: str, path: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in (o for o in options if o is not type(None)):
            try:
                return _convert(option, value, where, path)
            except JsonShapeError as exc:
                errors.append(exc)
        raise errors[0] if len(errors) == 1 else _fail(where, path, f"unexpected value {value!r:.60}")
    if dataclasses.is_dataclass(tp):
        return _dataclass(tp, value, where, path)
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        _expect(value, list, "a list", where, path)
        return [_convert(item, v, where, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict or tp is dict:
        item = typing.get_args(tp)[1] if typing.get_args(tp) else Any
        _expect(value, dict, "an object", where, path)
        return {k: _convert(item, v, where, f"{path}.{k}" if path else k) for k, v in value.items()}
    if tp is float:
        _expect(value, (int, float), "a number", where, path, no_bool=True)
        return value
    if tp in (int, str, bool):
        _expect(value, tp, tp.__name__, where, path, no_bool=tp is int)
        return value
    if tp is type(None):
        _expect(value, type(None), "null", where, path)
        return None
    raise TypeError(f"from_json: unsupported annotation {tp!r} at {path}")


def _expect(value: Any, kind: Any, name: str, where: str, path: str, no_bool: bool = False) -> None:
    if not isinstance(value, kind) or (no_bool and isinstance(value, bool)):
        raise _fail(where, path, f"expected {name}, got {type(value).__name__}")


def _dataclass(cls: type, value: Any, where: str, path: str) -> Any:
    _expect(value, dict, f"an object ({cls.__name__})", where, path)
    hints, kwargs, known = _hints(cls), {}, set()
    extra_field = None
    for field in _json_fields(cls):
        if field.metadata.get("extra"):
            extra_field = field
            continue
        key = json_key(field)
        known.add(key)
        sub = f"{path}.{key}" if path else key
        if key in value:
            kwargs[field.name] = _convert(hints[field.name], value[key], where, sub)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise _fail(where, sub, "missing")
    unknown = {k: v for k, v in value.items() if k not in known}
    if extra_field is not None:
        kwargs[extra_field.name] = unknown
    elif unknown:
        raise _fail(where, path, f"unknown key(s) {', '.join(sorted(unknown))} in {cls.__name__}")
    return cls(**kwargs)
