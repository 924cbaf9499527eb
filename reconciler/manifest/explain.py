"""Turn pydantic's validation errors into diagnostics a person can act on.

Pydantic says "Input should be a valid string"; a person needs "must be a string of digits (got the
number 1001) — quote it", on the right line. This module writes those sentences from the error,
the model and the YAML node written at the error's place. It judges nothing itself, and for a
secret field it never describes what was written.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.manifest import secrets
from reconciler.manifest.diagnostics import Diagnostic, field_path
from reconciler.manifest.schedule import UNION_TAGS
from reconciler.manifest.yaml_nodes import Map, Node, Scalar, Seq, YamlDocument

_TAG: Final = "tag:yaml.org,2002:"
_UID_FIELDS: Final = frozenset({"agent_rtc_uid", "remote_rtc_uids"})
_SHOWN_CHARS: Final = 40


def explain(
    error: ValidationError, *, doc: YamlDocument, model: type[BaseModel]
) -> list[Diagnostic]:
    """One diagnostic per error, located at the value (or, for a key, at the key) it concerns."""
    return [_diagnostic(detail, doc=doc, model=model) for detail in error.errors()]


def _diagnostic(detail: ErrorDetails, *, doc: YamlDocument, model: type[BaseModel]) -> Diagnostic:
    loc = tuple(part for part in detail["loc"] if part not in UNION_TAGS)
    kind = detail["type"]
    node = doc.node_at(loc)
    line, column = doc.position(loc, key=kind in ("extra_forbidden", "missing"))
    message = _message(detail, loc=loc, node=node, model=model)
    return Diagnostic(doc.path, line, column, field_path(loc) or None, message)


def _message(
    detail: ErrorDetails, *, loc: tuple[str | int, ...], node: Node | None, model: type[BaseModel]
) -> str:
    kind = detail["type"]
    ctx: dict[str, Any] = dict(detail.get("ctx") or {})
    secret = secrets.is_secret_path(loc)
    got = "" if secret else _describe(node)
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return _unknown_field(loc, model=model)
    if kind == "string_type":
        wanted = "a string"
        if isinstance(node, Scalar) and node.tag == _TAG + "int" and _is_uid(loc):
            wanted = "a string of digits"
        hint = " — quote it" if isinstance(node, Scalar) and node.plain and not secret else ""
        return _must(f"be {wanted}", got) + hint
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    simple = _SIMPLE.get(kind)
    if simple:
        return _must(simple, got)
    if kind in _BOUNDS:
        return _must(_BOUNDS[kind].format(**ctx), got)
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        one = " or " not in expected
        return _must(f"be {expected}" if one else f"be one of {expected}", got)
    if kind == "too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else _lower(detail["msg"])
    return _lower(detail["msg"])


_SIMPLE: Final = {
    "int_type": "be a whole number",
    "int_from_float": "be a whole number",
    "bool_type": "be true or false",
    "list_type": "be a list",
    "dict_type": "be a mapping",
    "model_type": "be a mapping",
    "model_attributes_type": "be a mapping",
}
_BOUNDS: Final = {
    "greater_than_equal": "be at least {ge}",
    "less_than_equal": "be at most {le}",
    "greater_than": "be more than {gt}",
    "less_than": "be less than {lt}",
}


def _must(what: str, got: str) -> str:
    return f"must {what} (got {got})" if got else f"must {what}"


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def _is_uid(loc: Sequence[str | int]) -> bool:
    names = [part for part in loc if isinstance(part, str)]
    return bool(names) and names[-1] in _UID_FIELDS


def _describe(node: Node | None) -> str:
    """What was written, in words: 'the number 1001', 'a list', 'the string "abc"'."""
    if isinstance(node, Seq):
        return "a list"
    if isinstance(node, Map):
        return "a mapping"
    if node is None:
        return ""
    if node.tag == _TAG + "null":
        return "nothing" if not node.text else f"null ({node.text})"
    if node.tag in (_TAG + "int", _TAG + "float"):
        return f"the number {node.text}"
    if node.tag == _TAG + "bool":
        value = node.text.lower() in ("true", "yes", "on")
        if node.text.lower() in ("true", "false"):
            return f"the boolean {str(value).lower()}"
        return (
            f"the boolean {str(value).lower()}: YAML 1.1 reads an unquoted {node.text} "
            f"as {str(value).lower()}"
        )
    text = node.text if len(node.text) <= _SHOWN_CHARS else node.text[:_SHOWN_CHARS] + "…"
    return f'the string "{text}"'


def _unknown_field(loc: tuple[str | int, ...], *, model: type[BaseModel]) -> str:
    known = _fields_at(model, loc[:-1])
    name = str(loc[-1])
    if not known:
        return "unknown field"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"unknown field — did you mean {close[0]}?"
    return f"unknown field (expected one of: {', '.join(sorted(known))})"


def _fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The field names a model accepts at ``loc``, found by walking its type annotations."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [field.alias or name for name, field in current.model_fields.items()]
    return []


def _step(tp: Any, part: str | int) -> Any:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
        for name, field in tp.model_fields.items():
            if (field.alias or name) == part:
                return _unwrap(field.annotation)
        return None
    if typing.get_origin(tp) is list and isinstance(part, int):
        return _unwrap(typing.get_args(tp)[0])
    return None


def _unwrap(tp: Any) -> Any:
    """``Annotated[X | None, ...]`` → ``X``: the type that decides which fields exist."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [arg for arg in typing.get_args(tp) if arg is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp
