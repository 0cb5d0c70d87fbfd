"""The checkpoint serializer: msgpack with an explicit allow-list of our own state types.

LangGraph's default serializer revives any class named in a checkpoint and logs a warning for each type it does
not know ("Deserializing unregistered type ..."); in strict mode it returns plain dicts instead. We build the
allow-list from the state schemas of the session graphs (every pydantic model, dataclass and enum reachable from
their fields), so a session resumed in a new process gets its typed state back, silently, and a checkpoint cannot
name arbitrary classes to construct.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Iterable
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from pydantic import BaseModel
from typing_extensions import is_typeddict

TypeKey = tuple[str, str]


def allowed_types(schemas: Iterable[Any]) -> set[TypeKey]:
    """The (module, class name) of every model, dataclass and enum reachable from the given state schemas."""
    found: set[TypeKey] = set()
    seen: set[int] = set()
    for schema in schemas:
        _collect(schema, found, seen)
    return found


def strict_serializer() -> JsonPlusSerializer:
    """A serializer that revives only LangGraph's safe types (extend it with `with_msgpack_allowlist`)."""
    return JsonPlusSerializer(allowed_msgpack_modules=None)


def _collect(tp: Any, found: set[TypeKey], seen: set[int]) -> None:
    """Walk one annotation: generics and unions by their arguments, classes by their fields."""
    if id(tp) in seen or tp is None or tp is Any:
        return
    seen.add(id(tp))
    args = typing.get_args(tp)
    if typing.get_origin(tp) is typing.Literal:
        return
    if args or isinstance(tp, types.UnionType):
        for arg in args:
            _collect(arg, found, seen)
        origin = typing.get_origin(tp)
        if origin is not None and origin is not typing.Annotated:
            _collect(origin, found, seen)
        return
    if isinstance(tp, type):
        _collect_class(tp, found, seen)


def _collect_class(cls: type, found: set[TypeKey], seen: set[int]) -> None:
    """Record a model, dataclass or enum and walk its fields; TypedDicts are walked but need no entry."""
    if issubclass(cls, enum.Enum):
        found.add((cls.__module__, cls.__name__))
        return
    if issubclass(cls, BaseModel):
        found.add((cls.__module__, cls.__name__))
        for field in cls.model_fields.values():
            _collect(field.annotation, found, seen)
        return
    if dataclasses.is_dataclass(cls):
        found.add((cls.__module__, cls.__name__))
    if dataclasses.is_dataclass(cls) or is_typeddict(cls):
        for hint in typing.get_type_hints(cls, include_extras=True).values():
            _collect(hint, found, seen)
