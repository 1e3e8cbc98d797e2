"""Call arguments for every catalogued operation, synthesized from the OpenAPI spec.

The Prism suite calls each generated method the way a user would, with keyword arguments
named as the method names them. The values come from the spec itself: a schema's
``example`` where it has one, else the smallest value its type, format, enum and bounds
allow. Objects get their required properties (plus every optional top-level parameter in
``full`` mode); unions take their first non-null member; arrays get one item.

Names: the generated method maps each wire name to a Python argument
(``"project_ids[]"`` -> ``project_ids``, ``"from"`` -> ``from_``); the map is read from the
method's own source (its ``query={...}`` / ``body={...}`` literals), so the tests follow the
generator instead of re-implementing its naming rules.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, List, Mapping, Optional, Tuple

from openai_proto._operation import Operation

__all__ = [
    "SPEC_PATH",
    "CallArgs",
    "Spec",
    "Synthesizer",
    "build_call",
    "load_spec",
    "resolve_method",
    "wire_names",
]

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = Path(os.environ.get("OPENAI_PROTO_SPEC_DIR", ROOT.parent / "shared" / "spec"))
SPEC_PATH = SPEC_DIR / "openapi.yaml"

# Content of uploaded files: Prism checks the multipart fields, not the bytes inside.
FILE_CONTENT = b"openai-proto prism test\n"

# How deep the synthesizer follows nested required objects before giving up (the spec has
# recursive schemas, e.g. compound filters and JSON-schema-like tool parameters).
MAX_DEPTH = 12


class SynthesisError(Exception):
    """The spec gives no way to build a valid value (a recursive required cycle)."""


@dataclass
class CallArgs:
    """One call: keyword arguments for the method, and what they put on the wire."""

    kwargs: Dict[str, Any] = field(default_factory=dict)
    path: Dict[str, str] = field(default_factory=dict)
    query: Dict[str, Any] = field(default_factory=dict)
    body: Dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"path={self.path!r} query={self.query!r} body={_short(self.body)}"


def _short(value: object, limit: int = 1500) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...<cut>"


class Spec:
    """The parsed OpenAPI document with ``$ref`` resolution and operation lookup."""

    def __init__(self, doc: Dict[str, Any]) -> None:
        self.doc = doc
        self.paths: Dict[str, Any] = doc["paths"]

    def resolve(self, node: Any) -> Any:
        """Follow local ``$ref`` pointers (``#/components/...``) until a plain node."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise SynthesisError(f"unsupported $ref {ref!r}")
            target: Any = self.doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
            if seen > 50:
                raise SynthesisError(f"$ref loop at {ref!r}")
        return node

    def ref_name(self, node: Any) -> Optional[str]:
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            return str(node["$ref"]).rsplit("/", 1)[-1]
        return None

    def operation(self, op: Operation) -> Dict[str, Any]:
        item = self.paths[op.path]
        found: Dict[str, Any] = item[op.method.lower()]
        return found

    def parameters(self, op: Operation) -> List[Dict[str, Any]]:
        item = self.paths[op.path]
        params = [self.resolve(p) for p in item.get("parameters", [])]
        params += [self.resolve(p) for p in self.operation(op).get("parameters", [])]
        return params

    def request_schema(self, op: Operation) -> Optional[Dict[str, Any]]:
        """The request body schema for the operation's content type (JSON or multipart)."""
        body = self.resolve(self.operation(op).get("requestBody") or {})
        content = body.get("content") or {}
        if not content:
            return None
        media = content.get(op.content_type) or next(iter(content.values()))
        schema = media.get("schema")
        return schema if isinstance(schema, dict) else None


@functools.lru_cache(maxsize=1)
def load_spec() -> Spec:
    """Parse the spec once per process (libyaml when available: ~1 s instead of ~15 s)."""
    import yaml  # type: ignore[import-untyped,unused-ignore]

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(SPEC_PATH, encoding="utf-8") as fh:
        return Spec(yaml.load(fh, Loader=loader))


# -- method lookup and wire-name map -------------------------------------------------------


def resolve_method(client: Any, name: str) -> Tuple[Any, Callable[..., Any]]:
    """``"chat.completions.create"`` -> (the ``client.chat.completions`` resource, its method)."""
    *parents, meth = name.split(".")
    resource = client
    for part in parents:
        resource = getattr(resource, part)
    return resource, getattr(resource, meth)


@functools.cache
def _wire_map(func: Callable[..., Any]) -> Dict[str, Dict[str, str]]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    out: Dict[str, Dict[str, str]] = {"path_params": {}, "query": {}, "body": {}}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg in out and isinstance(kw.value, ast.Dict):
                for key, value in zip(kw.value.keys, kw.value.values):
                    if isinstance(key, ast.Constant) and isinstance(value, ast.Name):
                        out[kw.arg][str(key.value)] = value.id
    return out


def wire_names(method: Callable[..., Any]) -> Dict[str, Dict[str, str]]:
    """Where each wire name goes: ``{"path_params"|"query"|"body": {wire: python_name}}``.

    Read from the generated method: a hand-written override (``client.embeddings.create``
    decodes base64 vectors) keeps the signature and calls it, so the MRO is searched for
    the class whose method sends the request itself.
    """
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    for cls in type(owner).__mro__ if owner is not None else ():
        func = cls.__dict__.get(name)
        if func is not None and "self._client._" in inspect.getsource(func):
            return _wire_map(func)
    return _wire_map(getattr(method, "__func__", method))


# -- value synthesis -----------------------------------------------------------------------


def _first_type(schema: Mapping[str, Any]) -> Optional[str]:
    t = schema.get("type")
    if isinstance(t, list):
        non_null = [x for x in t if x != "null"]
        return str(non_null[0]) if non_null else "null"
    return str(t) if isinstance(t, str) else None


_ANNOTATIONS = frozenset({"nullable", "description", "title", "default", "deprecated"})


def _annotation_only(schema: Any) -> bool:
    """A schema that only annotates (``{"nullable": true}``) and constrains nothing."""
    return isinstance(schema, dict) and all(k in _ANNOTATIONS or k.startswith("x-") for k in schema)


def _is_null_schema(schema: Any) -> bool:
    return isinstance(schema, dict) and (
        schema.get("type") == "null" or schema.get("enum") == [None]
    )


class Synthesizer:
    """Builds minimal valid values for spec schemas (examples first)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def value(
        self,
        schema: Any,
        *,
        hint: str = "value",
        multipart: bool = False,
        depth: int = 0,
        refs: FrozenSet[str] = frozenset(),
    ) -> Any:
        if depth > MAX_DEPTH:
            raise SynthesisError(f"{hint}: nesting deeper than {MAX_DEPTH}")
        name = self.spec.ref_name(schema)
        if name is not None:
            if name in refs and depth > 4:
                raise SynthesisError(f"{hint}: recursive schema {name}")
            refs = refs | {name}
        s = self.spec.resolve(schema)
        if not isinstance(s, dict) or not s:
            return "string"  # `{}` / `true`: any value is valid
        if "example" in s and not (multipart and _is_binary(s)):
            return copy.deepcopy(s["example"])
        examples = s.get("examples")
        if isinstance(examples, list) and examples:
            return copy.deepcopy(examples[0])
        if "const" in s:
            return copy.deepcopy(s["const"])
        enum = [v for v in s.get("enum") or [] if v is not None]
        if enum:
            return copy.deepcopy(enum[0])
        kw: Dict[str, Any] = {"hint": hint, "multipart": multipart, "depth": depth + 1}
        if "allOf" in s:
            # `allOf: [X, {nullable: true}]` is X; several real parts make one object.
            parts = [p for p in s["allOf"] if not _annotation_only(self.spec.resolve(p))]
            if len(parts) == 1 and not s.get("properties"):
                return self.value(parts[0], refs=refs, **kw)
            merged = self.merge_object(s)
            return self.object_value(merged, full=False, refs=refs, **kw)
        for key in ("oneOf", "anyOf"):
            if key in s:
                members = [m for m in s[key] if not _is_null_schema(self.spec.resolve(m))]
                if not members:
                    return None
                return self.value(members[0], refs=refs, **kw)
        t = _first_type(s)
        if t is None and ("properties" in s or "additionalProperties" in s):
            t = "object"
        if t == "object":
            return self.object_value(self.merge_object(s), full=False, refs=refs, **kw)
        if t == "array":
            items = s.get("items") or {}
            count = max(1, int(s.get("minItems") or 0))
            return [self.value(items, refs=refs, **kw) for _ in range(count)]
        if t == "string":
            return self._string(s, hint, multipart)
        if t == "integer":
            return int(self._number(s))
        if t == "number":
            return float(self._number(s))
        if t == "boolean":
            return False
        if t == "null":
            return None
        return "string"

    def merge_object(self, schema: Any) -> Dict[str, Any]:
        """Flatten ``allOf`` into one object schema: properties and required, merged."""
        s = self.spec.resolve(schema)
        props: Dict[str, Any] = {}
        required: List[str] = []
        extra: Dict[str, Any] = {}
        for part in s.get("allOf") or []:
            sub = self.merge_object(part)
            props.update(sub.get("properties") or {})
            required += [r for r in sub.get("required") or [] if r not in required]
            if "additionalProperties" in sub:
                extra["additionalProperties"] = sub["additionalProperties"]
        props.update(s.get("properties") or {})
        required += [r for r in s.get("required") or [] if r not in required]
        if "additionalProperties" in s:
            extra["additionalProperties"] = s["additionalProperties"]
        out = {"type": "object", "properties": props, "required": required, **extra}
        if "discriminator" in s:
            out["discriminator"] = s["discriminator"]
        return out

    def object_value(
        self,
        merged: Dict[str, Any],
        *,
        full: bool,
        hint: str,
        multipart: bool,
        depth: int,
        refs: FrozenSet[str],
    ) -> Dict[str, Any]:
        props: Dict[str, Any] = merged.get("properties") or {}
        required = set(merged.get("required") or [])
        out: Dict[str, Any] = {}
        for key, sub in props.items():
            if key in required or full:
                out[key] = self.value(sub, hint=key, multipart=multipart, depth=depth, refs=refs)
        if not props and isinstance(merged.get("additionalProperties"), dict):
            # A map (metadata-like): one entry shows the shape without asking for much.
            out["key"] = self.value(
                merged["additionalProperties"], hint=hint, depth=depth, refs=refs
            )
        return out

    def _string(self, s: Mapping[str, Any], hint: str, multipart: bool) -> Any:
        fmt = s.get("format")
        if fmt == "binary" or (multipart and s.get("contentMediaType")):
            return (f"{hint}.txt", FILE_CONTENT, "text/plain")
        if fmt == "date-time":
            return "2024-01-01T00:00:00Z"
        if fmt == "date":
            return "2024-01-01"
        if fmt in ("uri", "url", "uri-reference"):
            return "https://example.com/resource"
        if fmt == "email":
            return "user@example.com"
        if fmt == "uuid":
            return "00000000-0000-4000-8000-000000000000"
        text = "string"
        min_len = int(s.get("minLength") or 0)
        max_len = s.get("maxLength")
        if len(text) < min_len:
            text = text + "x" * (min_len - len(text))
        if isinstance(max_len, int) and len(text) > max_len:
            text = text[:max_len]
        return text

    def _number(self, s: Mapping[str, Any]) -> float:
        low = s.get("minimum")
        ex_low = s.get("exclusiveMinimum")
        high = s.get("maximum")
        ex_high = s.get("exclusiveMaximum")
        if isinstance(ex_low, (int, float)) and not isinstance(ex_low, bool):
            low = ex_low + 1
        if isinstance(ex_high, (int, float)) and not isinstance(ex_high, bool):
            high = ex_high - 1
        value: float = 1
        if isinstance(low, (int, float)):
            value = max(value, low)
        if isinstance(high, (int, float)):
            value = min(value, high)
        return value


def _is_binary(s: Mapping[str, Any]) -> bool:
    return s.get("format") == "binary" or bool(s.get("contentMediaType"))


# -- one call ------------------------------------------------------------------------------


def build_call(
    spec: Spec, op: Operation, method: Callable[..., Any], *, full: bool, stream: bool = False
) -> CallArgs:
    """Keyword arguments for ``method``: required parameters only, or every one (``full``).

    ``stream=True`` adds ``stream=True`` (streaming operations only). In ``full`` mode a
    ``stream`` body parameter is sent as ``False`` so the call still returns one object.
    """
    names = wire_names(method)
    signature = inspect.signature(method).parameters
    synth = Synthesizer(spec)
    call = CallArgs()
    multipart = op.content_type == "multipart/form-data"
    value: Any
    for prm in spec.parameters(op):
        where, wire = prm.get("in"), prm["name"]
        if where == "path":
            value = synth.value(prm.get("schema") or {}, hint=wire)
            if "example" in prm:
                value = prm["example"]
            text = str(value) if value not in ("", None) else f"{wire}_123"
            if text == "string":
                text = f"{wire}_123"
            call.path[wire] = text
            call.kwargs[names["path_params"].get(wire, wire)] = text
        elif where == "query" and (full or prm.get("required")):
            py = names["query"].get(wire)
            if py is None:
                continue  # reported by test_method_exposes_spec_params
            value = (
                prm["example"] if "example" in prm else synth.value(prm.get("schema"), hint=wire)
            )
            call.query[wire] = value
            call.kwargs[py] = value
        elif where == "header" and (full or prm.get("required")):
            # Named as the official SDK names it (`betas` for `openai-beta`), when present.
            py = (prm.get("schema") or {}).get("x-stainless-param") or wire
            if py in signature:
                call.kwargs[py] = synth.value(prm.get("schema"), hint=wire)
    schema = spec.request_schema(op)
    if schema is not None and op.content_type in ("application/json", "multipart/form-data"):
        merged = synth.merge_object(schema)
        required = set(merged.get("required") or [])
        for wire, sub in (merged.get("properties") or {}).items():
            if wire == "stream":
                if stream:
                    value = True
                elif full:
                    value = False
                else:
                    continue
            elif not (full or wire in required):
                continue
            else:
                value = synth.value(sub, hint=wire, multipart=multipart)
            py = names["body"].get(wire)
            if py is None:
                continue  # reported by test_method_exposes_spec_params
            call.body[wire] = value
            call.kwargs[py] = value
    return call


# -- stream events -------------------------------------------------------------------------


def stream_event_schema(spec: Spec, op: Operation) -> Any:
    """The schema of one streamed event: the spec's ``text/event-stream`` schema if any.

    The spec leaves two streams without one: Assistants runs stream ``AssistantStreamEvent``
    (named by the SSE ``event:`` line) and legacy completions stream ``Completion`` objects.
    """
    responses = spec.operation(op).get("responses") or {}
    json_schema: Any = None
    for code in ("200", "201"):
        content = spec.resolve(responses.get(code) or {}).get("content") or {}
        if "text/event-stream" in content:
            return content["text/event-stream"].get("schema")
        json_schema = json_schema or (content.get("application/json") or {}).get("schema")
    if op.name.startswith("beta.threads."):
        return {"$ref": "#/components/schemas/AssistantStreamEvent"}
    return json_schema


def union_leaves(spec: Spec, schema: Any, depth: int = 0) -> List[Any]:
    """The non-union members of a (nested) ``anyOf``/``oneOf``, in spec order."""
    s = spec.resolve(schema)
    members = (s.get("anyOf") or s.get("oneOf")) if isinstance(s, dict) else None
    if not members or depth > 5:
        return [schema]
    out: List[Any] = []
    for m in members:
        if not _is_null_schema(spec.resolve(m)):
            out += union_leaves(spec, m, depth + 1)
    return out


def stream_events(spec: Spec, op: Operation) -> List[Tuple[str, Any]]:
    """One synthesized event per variant of the stream's event union: ``(sse_name, data)``.

    Error events are left out (the stream layer raises them as ``APIError``, by design),
    and so is the Assistants ``done`` event (its data is the ``[DONE]`` marker).
    """
    synth = Synthesizer(spec)
    out: List[Tuple[str, Any]] = []
    for leaf in union_leaves(spec, stream_event_schema(spec, op)):
        value = synth.value(leaf, hint="event")
        name = ""
        if op.name.startswith("beta.threads.") and isinstance(value, dict):
            name = str(value.get("event", ""))
            value = value.get("data")
            if name in ("done", "error"):
                continue
        elif isinstance(value, dict) and value.get("type") == "error":
            continue
        out.append((name, value))
    return out
