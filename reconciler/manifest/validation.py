"""Turning one YAML document into a typed document, or into diagnostics at the right lines."""

import difflib
import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.manifest.application import ApplicationDocument
from reconciler.manifest.cluster import ClusterDocument
from reconciler.manifest.codes import RULE_CODES
from reconciler.manifest.common import API_VERSION
from reconciler.manifest.diagnostics import Diagnostic
from reconciler.manifest.yamlsource import PathElement, SourceDocument

Document = ClusterDocument | ApplicationDocument
DOCUMENT_KINDS: dict[str, type[ClusterDocument] | type[ApplicationDocument]] = {
    "Cluster": ClusterDocument,
    "Application": ApplicationDocument,
}

# pydantic error types -> our codes; anything else is an invalid value.
_CODES = {
    "extra_forbidden": "unknown-key",
    "missing": "missing-key",
    "literal_error": "invalid-value",
    "enum": "invalid-value",
    "union_tag_invalid": "invalid-value",
    "union_tag_not_found": "missing-key",
}
_TYPE_ERRORS = ("_type", "_parsing")


def validate_document(source: SourceDocument) -> tuple[Document | None, list[Diagnostic]]:
    data = source.data
    if not isinstance(data, dict):
        return None, [
            _at(
                source,
                (),
                "not-a-mapping",
                "a manifest document must be a mapping (apiVersion, kind, metadata, spec)",
            )
        ]
    model, problem = _document_model(source, data)
    if model is None:
        return None, problem
    try:
        return model.model_validate(data), []
    except ValidationError as err:
        return None, [_diagnostic(source, model, e) for e in _root_causes(err.errors(include_url=False))]


def _root_causes(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop a collection's "too short" when it is only short because an item under it failed."""

    def echoes(error: ErrorDetails) -> bool:
        loc = tuple(error["loc"])
        return error["type"] == "too_short" and any(
            tuple(other["loc"])[: len(loc)] == loc and len(other["loc"]) > len(loc) for other in errors
        )

    return [e for e in errors if not echoes(e)]


def _document_model(
    source: SourceDocument, data: dict[Any, Any]
) -> tuple[type[ClusterDocument] | type[ApplicationDocument] | None, list[Diagnostic]]:
    kind = data.get("kind")
    if kind is None:
        return None, [_at(source, (), "missing-key", "the document has no 'kind'", hint=_kinds_hint())]
    if kind not in DOCUMENT_KINDS:
        hint = _suggest(str(kind), list(DOCUMENT_KINDS)) or _kinds_hint()
        return None, [_at(source, ("kind",), "unknown-kind", f"unknown kind {kind!r}", hint=hint)]
    if data.get("apiVersion") != API_VERSION and "apiVersion" in data:
        message = f"apiVersion {data['apiVersion']!r} is not supported"
        return None, [
            _at(source, ("apiVersion",), "bad-api-version", message, hint=f"use apiVersion: {API_VERSION}")
        ]
    return DOCUMENT_KINDS[kind], []


def _kinds_hint() -> str:
    return f"kind is one of: {', '.join(DOCUMENT_KINDS)}"


def _at(
    source: SourceDocument, path: Sequence[PathElement], code: str, message: str, hint: str | None = None
) -> Diagnostic:
    return Diagnostic(position=source.locate(path), code=code, message=message, hint=hint)


def _diagnostic(source: SourceDocument, model: type[BaseModel], error: ErrorDetails) -> Diagnostic:
    loc = tuple(error["loc"])
    kind = error["type"]
    code = kind if kind in RULE_CODES else _CODES.get(kind)
    code = code or ("wrong-type" if kind.endswith(_TYPE_ERRORS) else "invalid-value")
    if kind == "missing":
        # Point at the key of the mapping that lacks it: "filesystem:" rather than its first child.
        position, where = source.resolve(loc[:-1], key=True)
    elif kind == "union_tag_invalid":
        position, where = source.resolve((*loc, "type"))
    else:
        position, where = source.resolve(loc, key=(kind == "extra_forbidden"))
    message, hint = _message(model, loc, where, error)
    return Diagnostic(position=position, code=code, message=message, hint=hint)


def _message(
    model: type[BaseModel], loc: tuple[PathElement, ...], where: tuple[PathElement, ...], error: ErrorDetails
) -> tuple[str, str | None]:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    given = error.get("input")
    if kind == "extra_forbidden":
        allowed = fields_at(model, loc[:-1])
        key = str(loc[-1])
        hint = _suggest(key, allowed) or (f"valid keys here: {', '.join(allowed)}" if allowed else None)
        return f"unknown key {key!r}" + (f" in {_dotted(where[:-1])}" if where[:-1] else ""), hint
    if kind == "missing":
        return f"{_dotted(where) or 'the document'}: required key {str(loc[-1])!r} is missing", None
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        hint = _suggest(str(ctx.get("tag")), tags) or f"type is one of: {', '.join(tags)}"
        return f"{_dotted(where)}: unknown type {ctx.get('tag')!r}", hint
    text = error["msg"].removeprefix("Value error, ")
    hint = None
    expected = ctx.get("expected")
    if isinstance(expected, str) and isinstance(given, str):
        choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",")]
        hint = _suggest(given, choices)
    if kind.endswith(_TYPE_ERRORS) and not isinstance(given, dict | list):
        text = f"{text} (got {given!r})"
    dotted = _dotted(where)
    return (f"{dotted}: {text}" if dotted else text), hint


def _dotted(loc: Sequence[PathElement]) -> str:
    out = ""
    for element in loc:
        if isinstance(element, int):
            out += f"[{element}]"
        elif element == "[key]":
            out += " (key)"
        else:
            out += f".{element}" if out else str(element)
    return out


def _suggest(word: str, choices: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    return f"did you mean {close[0]!r}?" if close else None


def fields_at(model: type[BaseModel], loc: Sequence[PathElement]) -> list[str]:
    """The keys valid at `loc` inside `model` (by YAML spelling), for suggestions."""
    candidates: list[Any] = [model]
    for element in loc:
        candidates = [t for c in candidates for t in _step(c, element)]
    names: list[str] = []
    for candidate in candidates:
        for t in _members(candidate):
            if isinstance(t, type) and issubclass(t, BaseModel):
                names.extend(f.alias or n for n, f in t.model_fields.items() if n not in names)
    return list(dict.fromkeys(names))


def _members(tp: Any) -> list[Any]:
    """The concrete types behind Annotated[...], X | None and unions."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _members(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def _step(tp: Any, element: PathElement) -> list[Any]:
    out: list[Any] = []
    for member in _members(tp):
        origin = get_origin(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            out.extend(f.annotation for n, f in member.model_fields.items() if (f.alias or n) == element)
            if _is_tag_of(member, element):
                out.append(member)  # a union tag in the error location names the member itself
        elif origin is dict:
            out.append(get_args(member)[1])
        elif origin in (tuple, list) and isinstance(element, int):
            args = [a for a in get_args(member) if a is not Ellipsis]
            out.append(args[min(element, len(args) - 1)] if args else Any)
    return out


def _is_tag_of(model: type[BaseModel], element: PathElement) -> bool:
    tag = model.model_fields.get("type")
    return tag is not None and get_origin(tag.annotation) is Literal and element in get_args(tag.annotation)
