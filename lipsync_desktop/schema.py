"""One typed schema per kind of data read from outside (a queue file, settings.json, a job
row in the queue database): the dataclass that the rest of the code uses *is* the schema.

``parse`` checks every field of a raw JSON object against the dataclass's type hints and
the limits in its field metadata, strictly: no bool for a number, no "false" for a bool,
no NaN or infinity, no number where a text goes. The first bad field is named in the
``SchemaError``. ``parse_lenient`` (for settings) replaces each bad value by its default
and returns what it replaced, by name.

Metadata keys a field may carry: ``min`` and ``max`` (numbers, inclusive), ``max_len``
(texts and lists), ``one_of`` (a function returning the allowed texts).

Why not pydantic: the default install stays without it, the dataclasses stay the one
definition the pipeline, GUI and CLI already use, and the rules we need (strict types,
finite numbers, choices from ``choices``) are these few lines. pydantic validates stdlib
dataclasses too, so the HTTP API can reuse these classes as they are.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from typing import Any, TypeVar

from lipsync_desktop.errors import InputError

T = TypeVar("T")
MAX_TEXT = 4096  # a path or a name; fields that hold more say so with max_len
MAX_JSON_BYTES = 64 * 1024**2


class SchemaError(InputError):
    """A value read from outside has the wrong type or is out of range; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"'{field}' {message}", "bad_field")
        self.field = field


def load_json(text: str | bytes, what: str) -> Any:
    """``json.loads`` that refuses, with InputError, what would crash it: too deep nesting,
    a huge text, bytes that are not UTF-8. (NaN and Infinity are read as numbers, so that
    ``parse`` can name the field that holds one.)"""
    if len(text) > MAX_JSON_BYTES:
        raise InputError(f"{what} is too large to be read ({len(text) // 1024**2} MB).", "bad_json")
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text)
    except RecursionError:
        raise InputError(f"{what} is nested too deeply to be read.", "bad_json") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise InputError(f"{what} is not valid JSON: {exc}", "bad_json") from None


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _describe(tp: Any) -> str:
    names = {str: "a text", int: "a whole number", float: "a number", bool: "true or false"}
    if tp in names:
        return names[tp]
    if dataclasses.is_dataclass(tp):
        return "an object"
    return "a list of texts" if typing.get_origin(tp) is list else str(tp)


def _check(value: Any, tp: Any, meta: Any, where: str) -> Any:
    """``value`` as the type ``tp`` wants it, or SchemaError naming ``where``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _check(value, inner, meta, where)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise SchemaError(where, f"must be an object, not {_kind(value)}")
        return parse(typing.cast(type, tp), value, where)
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise SchemaError(where, f"must be a list, not {_kind(value)}")
        if len(value) > meta.get("max_len", 1000):
            raise SchemaError(where, f"holds more than {meta.get('max_len', 1000)} entries")
        return [_check(v, item, {}, f"{where}[{i}]") for i, v in enumerate(value)]
    if tp is bool:
        if not isinstance(value, bool):
            raise SchemaError(where, f"must be true or false, not {_kind(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and math.isfinite(value) and value.is_integer():
                value = int(value)
            else:
                raise SchemaError(where, f"must be a whole number, not {_kind(value)}")
        return _in_range(value, meta, where)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SchemaError(where, f"must be a number, not {_kind(value)}")
        if not math.isfinite(value):
            raise SchemaError(where, "must be a finite number")
        return _in_range(float(value), meta, where)
    if tp is str:
        if not isinstance(value, str):
            raise SchemaError(where, f"must be a text, not {_kind(value)}")
        if len(value) > meta.get("max_len", MAX_TEXT):
            raise SchemaError(where, f"is longer than {meta.get('max_len', MAX_TEXT)} characters")
        if "\x00" in value:
            raise SchemaError(where, "holds a NUL character")
        allowed = meta.get("one_of")
        if allowed is not None and value not in allowed():
            raise SchemaError(where, f"must be one of {', '.join(allowed())}, not '{value[:40]}'")
        return value
    if tp is dict:
        if not isinstance(value, dict):
            raise SchemaError(where, f"must be an object, not {_kind(value)}")
        return value
    raise TypeError(f"no schema rule for {tp!r}")  # a programming error, not outside data


def _in_range(value: float, meta: Any, where: str) -> Any:
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and value < lo:
        raise SchemaError(where, f"must be at least {lo:g}, not {value:g}")
    if hi is not None and value > hi:
        raise SchemaError(where, f"must be at most {hi:g}, not {value:g}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text '{value[:40]}'"
    if isinstance(value, int | float):
        return f"{value!r}"[:40]
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def parse(cls: type[T], raw: Any, where: str = "") -> T:
    """An instance of the dataclass ``cls`` from a raw JSON object; unknown keys (from a
    newer version) are ignored, missing ones take their defaults, and a missing field
    without a default is an error. SchemaError names the first bad field."""
    if not isinstance(raw, dict):
        raise SchemaError(where or cls.__name__, f"must be an object, not {_kind(raw)}")
    hints = _hints(cls)
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(typing.cast(Any, cls)):
        if not f.init:
            continue
        name = f"{where}.{f.name}" if where else f.name
        if f.name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SchemaError(name, "is missing")
            continue
        kw[f.name] = _check(raw[f.name], hints[f.name], f.metadata, name)
    return cls(**kw)


def parse_lenient(cls: type[T], raw: Any, where: str = "") -> tuple[T, list[str]]:
    """Like ``parse``, but a bad field keeps its default: returns the instance and one
    sentence per value replaced."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        if raw is not None:
            problems.append(str(SchemaError(where or cls.__name__,
                                            f"must be an object, not {_kind(raw)}")) + "; the defaults are used")
        return cls(), problems
    hints = _hints(cls)
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(typing.cast(Any, cls)):
        if not f.init or f.name not in raw:
            continue
        name = f"{where}.{f.name}" if where else f.name
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            kw[f.name], more = parse_lenient(typing.cast(type, tp), raw[f.name], name)
            problems += more
            continue
        try:
            kw[f.name] = _check(raw[f.name], tp, f.metadata, name)
        except SchemaError as exc:
            problems.append(f"{exc}; the default is used")
    return cls(**kw), problems
