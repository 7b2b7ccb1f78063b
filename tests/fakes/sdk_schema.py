"""Strict validation of what a client sends to OpenAI, against the installed ``openai`` package's own types.

The fakes use it so that a request the real API would refuse is refused here too. The SDK's request
types (``TypedDict`` params, and ``BaseModel`` classes that allow extra keys) are turned into pydantic
validators whose every object refuses unknown keys (``extra_behavior="forbid"`` throughout the core schema,
nested objects included) and that validate in strict mode (no ``"5"`` for an integer).

A failure is reported the way the API reports it: an ``invalid_request_error`` with ``code``
(``unknown_parameter``, ``missing_required_parameter``, ``invalid_type``, ``invalid_value``), ``param``
(the dotted path of the offending key) and a message naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, get_args, get_type_hints

from pydantic import TypeAdapter
from pydantic_core import SchemaValidator, ValidationError

_KEY = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Refusal:
    """Why the API would refuse a request."""

    code: str
    param: str
    message: str

    def error(self, event_id: str | None = None) -> dict[str, Any]:
        """The ``error`` object of the API's reply (``event_id``: the client event it answers)."""
        error: dict[str, Any] = {"type": "invalid_request_error", "code": self.code, "message": self.message,
                                 "param": self.param}
        if event_id is not None:
            error["event_id"] = event_id
        return error


def _forbid_extra(node: Any) -> Any:
    """A copy of a pydantic core schema in which no object accepts keys it does not declare."""
    if isinstance(node, dict):
        copy = {key: _forbid_extra(value) for key, value in node.items()}
        if copy.get("type") in ("typed-dict", "model-fields"):
            copy["extra_behavior"] = "forbid"
        if copy.get("type") == "model":
            copy["config"] = {**copy.get("config", {}), "extra_fields_behavior": "forbid"}
        return copy
    if isinstance(node, list):
        return [_forbid_extra(value) for value in node]
    return node


@lru_cache(maxsize=64)
def strict_validator(sdk_type: Any) -> SchemaValidator:
    """A validator of ``sdk_type`` that refuses unknown keys at every depth."""
    return SchemaValidator(_forbid_extra(TypeAdapter(sdk_type).core_schema))


def literal_values(alias: Any) -> tuple[str, ...]:
    """The strings of every ``Literal`` inside a type alias (e.g. the SDK's built-in voice names)."""
    values: list[str] = []
    for arg in get_args(alias):
        if isinstance(arg, str):
            values.append(arg)
        else:
            values.extend(literal_values(arg))
    return tuple(values)


def members_by_type(union: Any) -> dict[str, Any]:
    """``{type literal: member}`` of a union of ``TypedDict``/models discriminated by their ``type`` key."""
    members = {}
    for member in get_args(union):
        for value in literal_values(get_type_hints(member, include_extras=True)["type"]):
            members[value] = member
    return members


def _relevant(errors: list[Any]) -> Any:
    """Of a union's errors, the first in a branch whose ``type`` matched (the branch the client meant)."""
    mismatched = {tuple(e["loc"][:-1]) for e in errors
                  if e["type"] == "literal_error" and e["loc"] and e["loc"][-1] == "type"}
    for error in errors:
        if not any(tuple(error["loc"][:len(branch)]) == branch for branch in mismatched):
            return error
    return errors[0]


def refusal(sdk_type: Any, payload: Any, prefix: str = "") -> Refusal | None:
    """None when ``payload`` is a valid ``sdk_type``; else the API's reason to refuse it."""
    try:
        strict_validator(sdk_type).validate_python(payload, strict=True)
        return None
    except ValidationError as exc:
        error = _relevant(exc.errors())
    path = [str(p) if isinstance(p, str) else f"[{p}]" for p in error["loc"]
            if isinstance(p, int) or _KEY.match(str(p))]
    param = (prefix + ".".join(path)).replace(".[", "[")
    kind = error["type"]
    if kind == "extra_forbidden":
        return Refusal("unknown_parameter", param, f"Unknown parameter: '{param}'.")
    if kind == "missing":
        return Refusal("missing_required_parameter", param, f"Missing required parameter: '{param}'.")
    if kind in ("literal_error", "enum"):
        return Refusal("invalid_value", param, f"Invalid value: {error.get('input')!r}. "
                                               f"{error.get('msg', '')} ('{param}').")
    return Refusal("invalid_type", param, f"Invalid type for '{param}': {error.get('msg', '')}.")
