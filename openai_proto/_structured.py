"""Structured outputs: JSON schemas from Python types, strict-mode conversion, parsing, and
the accumulation machines behind ``chat.completions.stream`` and ``responses.stream``.

Pure: types and events in, schemas, parsed objects and helper events out. The rules follow
the OpenAI structured-outputs guide ("Supported schemas": every object closed with
``additionalProperties: false``, every property required, no ``$ref`` with sibling keys)
and the official SDK's helper events (notes ``official-sdk.md`` §10).

Types accepted as a format: a ``msgspec.Struct``, a dataclass (both through
``msgspec.json.schema`` and ``msgspec.json.decode``), or a pydantic model (its
``model_json_schema()`` and ``model_validate_json``) when pydantic is imported by the caller.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import (
    Any,
    Dict,
    Generic,
    Iterable,
    List,
    Literal,
    Mapping,
    Optional,
    Set,
    Tuple,
    Type,
    TypeVar,
    Union,
)

import msgspec
from msgspec import UNSET

from ._exceptions import (
    APIResponseValidationError,
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
    LocalProtocolError,
    RemoteProtocolError,
)
from ._partial_json import PartialJSON, PartialJSONError
from .types import chat as _chat
from .types import responses as _resp
from .types._base import dec_hook

__all__ = [
    "ChatCompletionStreamEvent",
    "ChatCompletionStreamState",
    "ChunkEvent",
    "ContentDeltaEvent",
    "ContentDoneEvent",
    "FunctionTool",
    "FunctionToolCallArgumentsDeltaEvent",
    "FunctionToolCallArgumentsDoneEvent",
    "LogprobsContentDeltaEvent",
    "LogprobsContentDoneEvent",
    "LogprobsRefusalDeltaEvent",
    "LogprobsRefusalDoneEvent",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedFunction",
    "ParsedFunctionToolCall",
    "ParsedResponse",
    "ParsedResponseCompletedEvent",
    "ParsedResponseFunctionToolCall",
    "ParsedResponseOutputText",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseStreamState",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "function_tool",
    "is_format_type",
    "json_schema",
    "parse_chat_completion",
    "parse_content",
    "parse_response",
    "to_strict_json_schema",
    "type_to_response_format",
    "type_to_text_format",
    "validate_input_tools",
]

T = TypeVar("T")

# -- schemas ----------------------------------------------------------------------------------


def _pydantic_model(tp: Any) -> bool:
    """``tp`` is a pydantic v2 model class; pydantic is looked up, never imported here."""
    pydantic = sys.modules.get("pydantic")
    base = getattr(pydantic, "BaseModel", None) if pydantic is not None else None
    return isinstance(tp, type) and base is not None and issubclass(tp, base)


def is_format_type(value: object) -> bool:
    """``value`` is a type the helpers can describe and parse (not a ready ``response_format``
    mapping, not ``omit``)."""
    if not isinstance(value, type):
        return False
    return (
        issubclass(value, msgspec.Struct)
        or dataclasses.is_dataclass(value)
        or _pydantic_model(value)
    )


def json_schema(tp: Any) -> Dict[str, Any]:
    """The JSON schema of ``tp`` with the top-level object inlined (``$defs`` kept for the
    nested and recursive types), before the strict conversion."""
    if _pydantic_model(tp):
        out: Dict[str, Any] = tp.model_json_schema()
        return out
    if not is_format_type(tp):
        raise TypeError(
            f"Unsupported response format type {tp!r}: use a msgspec.Struct, a dataclass or a pydantic model"
        )
    schema: Dict[str, Any] = msgspec.json.schema(tp)
    defs: Dict[str, Any] = dict(schema.pop("$defs", {}))
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and len(schema) == 1:
        name = ref[len("#/$defs/") :]
        top = dict(defs[name])
        if ref not in msgspec.json.encode(defs).decode():
            del defs[name]  # not recursive: no need to keep a copy
        schema = top
    if defs:
        schema["$defs"] = defs
    return schema


def to_strict_json_schema(schema: Mapping[str, Any]) -> Dict[str, Any]:
    """``schema`` made valid for ``strict: true``: objects closed, every property required,
    ``None`` defaults dropped, single ``allOf`` merged and ``$ref`` with siblings inlined,
    through ``$defs``/``definitions``, ``properties``, ``items``, ``anyOf`` and ``allOf``.
    The input is not modified."""
    root = msgspec.json.decode(msgspec.json.encode(schema))  # a deep copy of JSON data
    if not isinstance(root, dict):
        raise TypeError(f"Expected a JSON schema object, got {type(schema).__name__}")
    return _strict(root, path=(), root=root)


def _strict(node: Dict[str, Any], *, path: Tuple[str, ...], root: Dict[str, Any]) -> Dict[str, Any]:
    for key in ("$defs", "definitions"):
        defs = node.get(key)
        if isinstance(defs, dict):
            for name, sub in defs.items():
                if isinstance(sub, dict):
                    _strict(sub, path=(*path, key, name), root=root)
    if node.get("type") == "object" and "additionalProperties" not in node:
        node["additionalProperties"] = False
    properties = node.get("properties")
    if isinstance(properties, dict):
        node["required"] = list(properties)
        for name, sub in properties.items():
            if isinstance(sub, dict):
                properties[name] = _strict(sub, path=(*path, "properties", name), root=root)
    items = node.get("items")
    if isinstance(items, dict):
        node["items"] = _strict(items, path=(*path, "items"), root=root)
    any_of = node.get("anyOf")
    if isinstance(any_of, list):
        node["anyOf"] = [
            _strict(v, path=(*path, "anyOf", str(i)), root=root) if isinstance(v, dict) else v
            for i, v in enumerate(any_of)
        ]
    all_of = node.get("allOf")
    if isinstance(all_of, list):
        if len(all_of) == 1 and isinstance(all_of[0], dict):
            node.update(_strict(all_of[0], path=(*path, "allOf", "0"), root=root))
            node.pop("allOf")
        else:
            node["allOf"] = [
                _strict(v, path=(*path, "allOf", str(i)), root=root) if isinstance(v, dict) else v
                for i, v in enumerate(all_of)
            ]
    if "default" in node and node["default"] is None:
        del node["default"]
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        resolved = _resolve_ref(root, ref)
        merged = {**resolved, **node}
        merged.pop("$ref")
        node.clear()
        node.update(merged)
        return _strict(node, path=path, root=root)
    return node


def _resolve_ref(root: Dict[str, Any], ref: str) -> Dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(
            f"Unexpected $ref format {ref!r}; only local '#/...' references are supported"
        )
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        raise ValueError(f"$ref {ref!r} does not point to a schema object")
    return dict(node)


def _format_name(tp: Any, name: Optional[str]) -> str:
    return name if name is not None else str(getattr(tp, "__name__", "response"))


def type_to_response_format(tp: Any, *, name: Optional[str] = None) -> Dict[str, Any]:
    """Chat Completions ``response_format`` for ``tp``: a strict ``json_schema`` format."""
    return {
        "type": "json_schema",
        "json_schema": {
            "schema": to_strict_json_schema(json_schema(tp)),
            "name": _format_name(tp, name),
            "strict": True,
        },
    }


def type_to_text_format(tp: Any, *, name: Optional[str] = None) -> Dict[str, Any]:
    """Responses ``text.format`` for ``tp``: a strict ``json_schema`` format."""
    return {
        "type": "json_schema",
        "name": _format_name(tp, name),
        "schema": to_strict_json_schema(json_schema(tp)),
        "strict": True,
    }


# -- parsing ----------------------------------------------------------------------------------


def parse_content(tp: Type[T], content: Union[str, bytes]) -> T:
    """Decode the model's JSON ``content`` into ``tp``; a document that does not fit raises
    :class:`APIResponseValidationError` (with the text as ``body``)."""
    try:
        if _pydantic_model(tp):
            parsed: T = tp.model_validate_json(content)  # type: ignore[attr-defined]
            return parsed
        return msgspec.json.decode(content, type=tp, dec_hook=dec_hook)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError) as exc:
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        raise APIResponseValidationError(
            None,
            text,
            message=f"Could not parse the content into {getattr(tp, '__name__', tp)}: {exc}",
        ) from exc


class FunctionTool(Dict[str, Any]):
    """A strict function tool whose arguments are parsed into ``model`` (a ``dict``, sent as
    is; made by :func:`function_tool`)."""

    __slots__ = ("model",)
    model: Any


def function_tool(
    tp: Any, *, name: Optional[str] = None, description: Optional[str] = None
) -> FunctionTool:
    """A Chat Completions function tool (strict schema of ``tp``) whose call arguments
    ``parse`` and ``stream`` decode into ``tp`` (``parsed_arguments``)."""
    function: Dict[str, Any] = {
        "name": _format_name(tp, name),
        "strict": True,
        "parameters": to_strict_json_schema(json_schema(tp)),
    }
    if description is not None:
        function["description"] = description
    tool = FunctionTool(type="function", function=function)
    tool.model = tp
    return tool


def validate_input_tools(tools: object) -> List[Any]:
    """The tools as a list; only strict function tools can be auto-parsed (as upstream)."""
    if not isinstance(tools, Iterable) or isinstance(tools, (str, bytes, Mapping)):
        return []
    out = list(tools)
    for tool in out:
        if not isinstance(tool, Mapping):
            raise TypeError(f"Expected a tool mapping, got {type(tool).__name__}")
        if tool.get("type") != "function":
            raise ValueError(
                f"Currently only `function` tool types support auto-parsing; Received `{tool.get('type')}`"
            )
        function = tool.get("function")
        if not isinstance(function, Mapping) or function.get("strict") is not True:
            name = function.get("name") if isinstance(function, Mapping) else None
            raise ValueError(
                f"`{name}` is not strict. Only `strict` function tools can be auto-parsed"
            )
    return out


def _parse_arguments(input_tools: List[Any], name: str, arguments: str) -> Any:
    for tool in input_tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and function.get("name") == name:
            if isinstance(tool, FunctionTool):
                return parse_content(tool.model, arguments)
            if function.get("strict") is True:
                return parse_content(Any, arguments)
            return None
    return None


def _fields(obj: msgspec.Struct) -> Dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__struct_fields__}


class ParsedFunction(_chat.ChatCompletionMessageToolCallFunction, kw_only=True):
    """A function call with its arguments decoded (strict tools only)."""

    parsed_arguments: Any = None


class ParsedFunctionToolCall(_chat.ChatCompletionMessageToolCall, kw_only=True):
    """A function tool call with :class:`ParsedFunction`."""

    function: ParsedFunction


class ParsedChatCompletionMessage(_chat.ChatCompletionMessage, Generic[T], kw_only=True):
    """The message with ``parsed``: the content decoded into the ``response_format`` type."""

    parsed: Optional[T] = None


class ParsedChoice(_chat.Choice, Generic[T], kw_only=True):
    """A choice whose message is a :class:`ParsedChatCompletionMessage`."""

    message: ParsedChatCompletionMessage[T]


class ParsedChatCompletion(_chat.ChatCompletion, Generic[T], kw_only=True):
    """``chat.completions.parse``'s result: choices with parsed messages."""

    choices: List[ParsedChoice[T]]  # type: ignore[assignment]


def _parse_tool_calls(tool_calls: Any, input_tools: List[Any]) -> Any:
    if not isinstance(tool_calls, list):
        return tool_calls
    out: List[Any] = []
    for call in tool_calls:
        if isinstance(call, _chat.ChatCompletionMessageToolCall) and call.type == "function":
            fn = call.function
            parsed = _parse_arguments(input_tools, fn.name, fn.arguments)
            function = ParsedFunction(**{**_fields(fn), "parsed_arguments": parsed})
            call = ParsedFunctionToolCall(**{**_fields(call), "function": function})
        out.append(call)
    return out


def parse_chat_completion(
    completion: _chat.ChatCompletion,
    *,
    response_format: Any,
    input_tools: Optional[List[Any]] = None,
) -> ParsedChatCompletion[Any]:
    """The completion with each message's ``parsed`` content and tool arguments.

    Raises :class:`LengthFinishReasonError` / :class:`ContentFilterFinishReasonError` when a
    choice stopped for the token limit or the content filter (its JSON cannot be whole).
    """
    tools = input_tools or []
    choices: List[ParsedChoice[Any]] = []
    for choice in completion.choices:
        if choice.finish_reason == "length":
            raise LengthFinishReasonError(completion=completion)
        if choice.finish_reason == "content_filter":
            raise ContentFilterFinishReasonError()
        message = choice.message
        parsed = None
        if is_format_type(response_format) and message.content and not message.refusal:
            parsed = parse_content(response_format, message.content)
        values = _fields(message)
        values["tool_calls"] = _parse_tool_calls(values["tool_calls"], tools)
        if isinstance(message, ParsedChatCompletionMessage):
            values.pop("parsed")
        new_message: ParsedChatCompletionMessage[Any] = ParsedChatCompletionMessage(
            **values, parsed=parsed
        )
        choices.append(ParsedChoice(**{**_fields(choice), "message": new_message}))
    return ParsedChatCompletion(**{**_fields(completion), "choices": choices})


# -- chat stream events -------------------------------------------------------------------


class ChunkEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Every chunk as received, with the completion accumulated so far (mutated in place)."""

    type: Literal["chunk"] = "chunk"

    chunk: _chat.ChatCompletionChunk
    snapshot: ParsedChatCompletion[Any]


class ContentDeltaEvent(msgspec.Struct, frozen=True, kw_only=True):
    """New message content; ``snapshot`` is the content so far. With a ``response_format``
    type, ``parsed`` is the snapshot read as partial JSON (plain ``dict``/``list`` values;
    unfinished strings, literals and members left out, as the official SDK's
    ``jiter.from_json(..., partial_mode=True)``): ``None`` while the snapshot is blank, no
    longer updated once a refusal started. ``content.done`` carries the typed value."""

    type: Literal["content.delta"] = "content.delta"

    delta: str
    snapshot: str
    parsed: Any = None


class ContentDoneEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The whole content, and its value in the ``response_format`` type when one was given."""

    type: Literal["content.done"] = "content.done"

    content: str
    parsed: Any = None


class RefusalDeltaEvent(msgspec.Struct, frozen=True, kw_only=True):
    """New refusal text; ``snapshot`` is the refusal so far."""

    type: Literal["refusal.delta"] = "refusal.delta"

    delta: str
    snapshot: str


class RefusalDoneEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The whole refusal."""

    type: Literal["refusal.done"] = "refusal.done"

    refusal: str


class FunctionToolCallArgumentsDeltaEvent(msgspec.Struct, frozen=True, kw_only=True):
    """New arguments of the tool call at ``index``; ``arguments`` is the text so far and,
    for a strict input tool, ``parsed_arguments`` that text read as partial JSON (as
    :class:`ContentDeltaEvent`'s ``parsed``)."""

    type: Literal["tool_calls.function.arguments.delta"] = "tool_calls.function.arguments.delta"

    name: str
    index: int
    arguments: str
    parsed_arguments: Any = None
    arguments_delta: str


class FunctionToolCallArgumentsDoneEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The whole arguments of a tool call, decoded for strict tools."""

    type: Literal["tool_calls.function.arguments.done"] = "tool_calls.function.arguments.done"

    name: str
    index: int
    arguments: str
    parsed_arguments: Any = None


class LogprobsContentDeltaEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Log probabilities of new content tokens, and all of them so far."""

    type: Literal["logprobs.content.delta"] = "logprobs.content.delta"

    content: List[_chat.ChatCompletionTokenLogprob]
    snapshot: List[_chat.ChatCompletionTokenLogprob]


class LogprobsContentDoneEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Log probabilities of every content token."""

    type: Literal["logprobs.content.done"] = "logprobs.content.done"

    content: List[_chat.ChatCompletionTokenLogprob]


class LogprobsRefusalDeltaEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Log probabilities of new refusal tokens, and all of them so far."""

    type: Literal["logprobs.refusal.delta"] = "logprobs.refusal.delta"

    refusal: List[_chat.ChatCompletionTokenLogprob]
    snapshot: List[_chat.ChatCompletionTokenLogprob]


class LogprobsRefusalDoneEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Log probabilities of every refusal token."""

    type: Literal["logprobs.refusal.done"] = "logprobs.refusal.done"

    refusal: List[_chat.ChatCompletionTokenLogprob]


ChatCompletionStreamEvent = Union[
    ChunkEvent,
    ContentDeltaEvent,
    ContentDoneEvent,
    RefusalDeltaEvent,
    RefusalDoneEvent,
    FunctionToolCallArgumentsDeltaEvent,
    FunctionToolCallArgumentsDoneEvent,
    LogprobsContentDeltaEvent,
    LogprobsContentDoneEvent,
    LogprobsRefusalDeltaEvent,
    LogprobsRefusalDoneEvent,
]


class _ChoiceDone:
    """Which done events one choice has emitted (each fires once), and the partial-JSON
    readers of its content and tool-call arguments until then."""

    __slots__ = (
        "content",
        "content_reader",
        "current_tool",
        "logprobs_content",
        "logprobs_refusal",
        "refusal",
        "tool_readers",
        "tools",
    )

    def __init__(self) -> None:
        self.content = False
        self.refusal = False
        self.logprobs_content = False
        self.logprobs_refusal = False
        self.tools: Set[int] = set()
        self.current_tool: Optional[int] = None
        self.content_reader: Optional[PartialJSON] = None
        self.tool_readers: Dict[int, PartialJSON] = {}


def _given(value: Any) -> bool:
    return value is not None and value is not UNSET


class ChatCompletionStreamState:
    """Chat Completions chunks in, helper events out: accumulates the completion snapshot
    and emits ``chunk``, ``content.*``, ``refusal.*``, ``tool_calls.function.arguments.*``
    and ``logprobs.*`` (``.done`` when the choice finishes or the next tool call starts).

    Pass the request's ``response_format`` (a type, to get ``parsed``) and ``tools``.
    While content or strict tool arguments arrive, ``message.parsed`` /
    ``function.parsed_arguments`` hold the partial JSON read so far (one incremental
    :class:`~openai_proto._partial_json.PartialJSON` each: every character is read once);
    the ``.done`` events replace them with the values in the requested types. Content that
    cannot be JSON raises :class:`APIResponseValidationError` as soon as it shows.
    """

    def __init__(
        self, *, response_format: Any = None, input_tools: Optional[Iterable[Any]] = None
    ) -> None:
        self._response_format = response_format
        self._tools = validate_input_tools(input_tools)
        self._snapshot: Optional[ParsedChatCompletion[Any]] = None
        self._done: Dict[int, _ChoiceDone] = {}

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[Any]:
        """The completion accumulated so far; raises before the first chunk."""
        if self._snapshot is None:
            raise LocalProtocolError("No chunk has been received yet")
        return self._snapshot

    def get_final_completion(self) -> ParsedChatCompletion[Any]:
        """The accumulated completion, parsed (raises the finish-reason errors)."""
        return parse_chat_completion(
            self.current_completion_snapshot,
            response_format=self._response_format,
            input_tools=self._tools,
        )

    def handle_chunk(self, chunk: _chat.ChatCompletionChunk) -> List[ChatCompletionStreamEvent]:
        """Accumulate ``chunk`` and return the events it causes, ``chunk`` first."""
        snapshot = self._accumulate(chunk)
        events: List[ChatCompletionStreamEvent] = [ChunkEvent(chunk=chunk, snapshot=snapshot)]
        for choice in chunk.choices:
            snap = snapshot.choices[choice.index]
            message = snap.message
            delta = choice.delta
            state = self._done.setdefault(choice.index, _ChoiceDone())
            if isinstance(delta.content, str) and delta.content:
                self._partial_content(state, message, delta.content)
            if isinstance(delta.tool_calls, list):
                self._partial_arguments(state, message, delta.tool_calls)
            if _given(delta.content) and message.content is not None:
                events.append(
                    ContentDeltaEvent(
                        delta=delta.content,  # type: ignore[arg-type]
                        snapshot=message.content,
                        parsed=message.parsed,
                    )
                )
            if _given(delta.refusal) and message.refusal is not None:
                events.append(RefusalDeltaEvent(delta=delta.refusal, snapshot=message.refusal))  # type: ignore[arg-type]
            if isinstance(delta.tool_calls, list) and isinstance(message.tool_calls, list):
                for call_delta in delta.tool_calls:
                    call = message.tool_calls[call_delta.index]
                    if isinstance(call, ParsedFunctionToolCall):
                        fn_delta = call_delta.function
                        piece = (
                            fn_delta.arguments
                            if isinstance(
                                fn_delta, _chat.ChatCompletionMessageToolCallChunkFunction
                            )
                            else UNSET
                        )
                        events.append(
                            FunctionToolCallArgumentsDeltaEvent(
                                name=call.function.name,
                                index=call_delta.index,
                                arguments=call.function.arguments,
                                parsed_arguments=call.function.parsed_arguments,
                                arguments_delta=piece if isinstance(piece, str) else "",
                            )
                        )
            logprobs = choice.logprobs
            if _given(logprobs) and snap.logprobs is not None:
                assert isinstance(logprobs, _chat.ChunkChoiceLogprobs)
                if logprobs.content and snap.logprobs.content:
                    events.append(
                        LogprobsContentDeltaEvent(
                            content=logprobs.content, snapshot=snap.logprobs.content
                        )
                    )
                if logprobs.refusal and snap.logprobs.refusal:
                    events.append(
                        LogprobsRefusalDeltaEvent(
                            refusal=logprobs.refusal, snapshot=snap.logprobs.refusal
                        )
                    )
            events.extend(self._done_events(choice, snap))
        return events

    # -- internals ------------------------------------------------------------------------

    def _partial_content(
        self, state: _ChoiceDone, message: ParsedChatCompletionMessage[Any], piece: str
    ) -> None:
        """``message.parsed`` after new content ``piece``: the official SDK's rule (a
        rich format, no refusal, a non-blank snapshot), read incrementally."""
        if state.content or message.refusal or not is_format_type(self._response_format):
            return
        reader = state.content_reader
        content = message.content or ""
        if reader is None:
            if not content.lstrip():
                return
            reader = state.content_reader = PartialJSON()
            piece = content  # the first non-blank piece: read everything so far
        message.parsed = _read_partial(reader, piece, content, "content")

    def _partial_arguments(
        self,
        state: _ChoiceDone,
        message: ParsedChatCompletionMessage[Any],
        deltas: List[_chat.ChoiceDeltaToolCall],
    ) -> None:
        """Each strict call's ``function.parsed_arguments`` after new argument text."""
        calls = message.tool_calls
        if not isinstance(calls, list):
            return
        for d in deltas:
            call = calls[d.index]
            if not isinstance(call, ParsedFunctionToolCall) or d.index in state.tools:
                continue
            fn = call.function
            reader = state.tool_readers.get(d.index)
            if reader is None:
                if not fn.arguments.lstrip() or not self._strict_tool(fn.name):
                    continue
                reader = state.tool_readers[d.index] = PartialJSON()
                piece = fn.arguments  # read everything so far
            else:
                f = d.function
                text = (
                    f.arguments
                    if isinstance(f, _chat.ChatCompletionMessageToolCallChunkFunction)
                    else None
                )
                piece = text if isinstance(text, str) else ""
            fn.parsed_arguments = _read_partial(reader, piece, fn.arguments, "tool arguments")

    def _strict_tool(self, name: str) -> bool:
        for tool in self._tools:
            function = tool.get("function") if isinstance(tool, Mapping) else None
            if isinstance(function, Mapping) and function.get("name") == name:
                return bool(function.get("strict"))
        return False

    def _accumulate(self, chunk: _chat.ChatCompletionChunk) -> ParsedChatCompletion[Any]:
        snapshot = self._snapshot
        if snapshot is None:
            snapshot = self._snapshot = ParsedChatCompletion(
                id=chunk.id,
                choices=[],
                created=chunk.created,
                model=chunk.model,
                object="chat.completion",
                system_fingerprint=chunk.system_fingerprint,
                service_tier=chunk.service_tier,
            )
        if isinstance(chunk.usage, _chat.CompletionUsage):
            snapshot.usage = chunk.usage
        if _given(chunk.system_fingerprint):
            snapshot.system_fingerprint = chunk.system_fingerprint
        for choice in chunk.choices:
            if choice.index < 0 or choice.index > len(snapshot.choices) + 1024:
                raise RemoteProtocolError(f"Chunk choice index {choice.index} is out of range")
            while len(snapshot.choices) <= choice.index:
                snapshot.choices.append(
                    ParsedChoice(
                        index=len(snapshot.choices),
                        finish_reason=None,  # type: ignore[arg-type]  # not finished yet
                        logprobs=None,
                        message=ParsedChatCompletionMessage(
                            role="assistant", content=None, refusal=None
                        ),
                    )
                )
            snap = snapshot.choices[choice.index]
            message = snap.message
            delta = choice.delta
            if isinstance(delta.role, str):
                message.role = delta.role
            if isinstance(delta.content, str):
                message.content = (message.content or "") + delta.content
            if isinstance(delta.refusal, str):
                message.refusal = (message.refusal or "") + delta.refusal
            if isinstance(delta.tool_calls, list):
                self._accumulate_tools(message, delta.tool_calls)
            if choice.finish_reason is not None:
                snap.finish_reason = choice.finish_reason
                if choice.finish_reason == "length" and is_format_type(self._response_format):
                    raise LengthFinishReasonError(completion=snapshot)
                if choice.finish_reason == "content_filter":
                    raise ContentFilterFinishReasonError()
            logprobs = choice.logprobs
            if isinstance(logprobs, _chat.ChunkChoiceLogprobs):
                if snap.logprobs is None:
                    snap.logprobs = _chat.ChoiceLogprobs(content=None, refusal=None)
                if logprobs.content:
                    snap.logprobs.content = [*(snap.logprobs.content or ()), *logprobs.content]
                if logprobs.refusal:
                    snap.logprobs.refusal = [*(snap.logprobs.refusal or ()), *logprobs.refusal]
        return snapshot

    @staticmethod
    def _accumulate_tools(
        message: ParsedChatCompletionMessage[Any], deltas: List[_chat.ChoiceDeltaToolCall]
    ) -> None:
        if not isinstance(message.tool_calls, list):
            message.tool_calls = []
        calls: List[Any] = message.tool_calls
        for d in deltas:
            fn = (
                d.function
                if isinstance(d.function, _chat.ChatCompletionMessageToolCallChunkFunction)
                else None
            )
            name = fn.name if fn is not None and isinstance(fn.name, str) else ""
            args = fn.arguments if fn is not None and isinstance(fn.arguments, str) else ""
            if d.index == len(calls):
                calls.append(
                    ParsedFunctionToolCall(
                        id=d.id if isinstance(d.id, str) else "",
                        type=d.type if isinstance(d.type, str) else "function",
                        function=ParsedFunction(name=name, arguments=args),
                    )
                )
                continue
            if not 0 <= d.index < len(calls):
                raise RemoteProtocolError(
                    f"Tool call index {d.index} skips ahead of {len(calls)} calls"
                )
            call = calls[d.index]
            if isinstance(d.id, str) and not call.id:
                call.id = d.id
            call.function.name += name if not call.function.name else ""
            call.function.arguments += args

    def _done_events(
        self, choice: _chat.ChunkChoice, snap: ParsedChoice[Any]
    ) -> List[ChatCompletionStreamEvent]:
        state = self._done.setdefault(choice.index, _ChoiceDone())
        events: List[ChatCompletionStreamEvent] = []
        if snap.finish_reason:
            events.extend(self._content_done(state, snap))
            if state.current_tool is not None:
                self._tool_done(state, snap, state.current_tool, events)
        calls = choice.delta.tool_calls
        for call in calls if isinstance(calls, list) else ():
            if state.current_tool != call.index:
                events.extend(self._content_done(state, snap))
                if state.current_tool is not None:
                    self._tool_done(state, snap, state.current_tool, events)
            state.current_tool = call.index
        return events

    def _content_done(
        self, state: _ChoiceDone, snap: ParsedChoice[Any]
    ) -> List[ChatCompletionStreamEvent]:
        events: List[ChatCompletionStreamEvent] = []
        message = snap.message
        if message.content and not state.content:
            state.content = True
            state.content_reader = None
            parsed = None
            if is_format_type(self._response_format) and not message.refusal:
                parsed = parse_content(self._response_format, message.content)
            message.parsed = parsed
            events.append(ContentDoneEvent(content=message.content, parsed=parsed))
        if message.refusal is not None and not state.refusal:
            state.refusal = True
            events.append(RefusalDoneEvent(refusal=message.refusal))
        lp = snap.logprobs
        if lp is not None and lp.content is not None and not state.logprobs_content:
            state.logprobs_content = True
            events.append(LogprobsContentDoneEvent(content=lp.content))
        if lp is not None and lp.refusal is not None and not state.logprobs_refusal:
            state.logprobs_refusal = True
            events.append(LogprobsRefusalDoneEvent(refusal=lp.refusal))
        return events

    def _tool_done(
        self,
        state: _ChoiceDone,
        snap: ParsedChoice[Any],
        index: int,
        events: List[ChatCompletionStreamEvent],
    ) -> None:
        if index in state.tools or not isinstance(snap.message.tool_calls, list):
            return
        state.tools.add(index)
        state.tool_readers.pop(index, None)
        call = snap.message.tool_calls[index]
        if isinstance(call, ParsedFunctionToolCall):
            fn = call.function
            fn.parsed_arguments = _parse_arguments(self._tools, fn.name, fn.arguments)
            events.append(
                FunctionToolCallArgumentsDoneEvent(
                    name=fn.name,
                    index=index,
                    arguments=fn.arguments,
                    parsed_arguments=fn.parsed_arguments,
                )
            )


def _read_partial(reader: PartialJSON, piece: str, text: str, what: str) -> Any:
    """Feed ``piece`` to ``reader``; its value. Text that cannot be JSON is content that
    does not fit: :class:`APIResponseValidationError` (with the text as ``body``), as the
    final parse would raise."""
    try:
        reader.feed(piece)
        return reader.value()
    except PartialJSONError as exc:
        raise APIResponseValidationError(
            None, text, message=f"Could not read the streamed {what} as JSON: {exc}"
        ) from exc


# -- Responses ----------------------------------------------------------------------------


class ParsedResponseOutputText(_resp.OutputTextContent, kw_only=True):
    """An ``output_text`` part with ``parsed``: its text in the ``text_format`` type."""

    parsed: Any = None


class ParsedResponseFunctionToolCall(_resp.FunctionToolCall, kw_only=True):
    """A ``function_call`` item with its arguments decoded (strict tools only)."""

    parsed_arguments: Any = None


class ParsedResponse(_resp.Response, Generic[T], kw_only=True):
    """``responses.parse``'s result; ``output_parsed`` is the first parsed text part."""

    @property
    def output_parsed(self) -> Optional[T]:
        for item in self.output:
            if isinstance(item, _resp.OutputMessage):
                for part in item.content:
                    if isinstance(part, ParsedResponseOutputText) and part.parsed is not None:
                        parsed: T = part.parsed
                        return parsed
        return None


def _response_tools(tools: Any) -> List[Any]:
    """Responses tools are flat (``{"type": "function", "name", "strict", ...}``)."""
    if not isinstance(tools, Iterable) or isinstance(tools, (str, bytes, Mapping)):
        return []
    out: List[Any] = []
    for tool in tools:
        if isinstance(tool, Mapping) and tool.get("type") == "function":
            function = tool.get("function")
            out.append(
                tool if isinstance(function, Mapping) else {"type": "function", "function": tool}
            )
    return out


def parse_response(
    response: _resp.Response, *, text_format: Any, input_tools: Any = None
) -> ParsedResponse[Any]:
    """The response with ``output_text`` parts parsed into ``text_format`` and the
    arguments of strict function calls decoded."""
    tools = _response_tools(input_tools)
    output: List[Any] = []
    for item in response.output:
        if isinstance(item, _resp.OutputMessage):
            parts: List[Any] = []
            for part in item.content:
                if isinstance(part, _resp.OutputTextContent):
                    values = _fields(part)
                    values.pop("parsed", None)
                    parsed = (
                        parse_content(text_format, part.text)
                        if is_format_type(text_format)
                        else None
                    )
                    part = ParsedResponseOutputText(**values, parsed=parsed)
                parts.append(part)
            item = _resp.OutputMessage(**{**_fields(item), "content": parts})
        elif isinstance(item, _resp.FunctionToolCall):
            values = _fields(item)
            values.pop("parsed_arguments", None)
            item = ParsedResponseFunctionToolCall(
                **values, parsed_arguments=_parse_arguments(tools, item.name, item.arguments)
            )
        output.append(item)
    return ParsedResponse(**{**_fields(response), "output": output})


class ResponseTextDeltaEvent(_resp.ResponseTextDeltaEvent, kw_only=True):
    """``response.output_text.delta`` with ``snapshot``: the part's text so far."""

    snapshot: str = ""


class ResponseTextDoneEvent(_resp.ResponseTextDoneEvent, kw_only=True):
    """``response.output_text.done`` with ``parsed``: the text in the ``text_format`` type."""

    parsed: Any = None


class ResponseFunctionCallArgumentsDeltaEvent(
    _resp.ResponseFunctionCallArgumentsDeltaEvent, kw_only=True
):
    """``response.function_call_arguments.delta`` with ``snapshot``: the arguments so far."""

    snapshot: str = ""


class ParsedResponseCompletedEvent(_resp.ResponseCompletedEvent, kw_only=True):
    """``response.completed`` whose ``response`` is a :class:`ParsedResponse`."""

    response: ParsedResponse[Any]


class ResponseStreamState:
    """Responses stream events in, events out: accumulates the response snapshot and
    re-emits ``response.output_text.delta`` (+``snapshot``), ``response.output_text.done``
    (+``parsed``), ``response.function_call_arguments.delta`` (+``snapshot``) and
    ``response.completed`` (a :class:`ParsedResponse`); other events pass through."""

    def __init__(self, *, text_format: Any = None, input_tools: Any = None) -> None:
        self._text_format = text_format
        self._tools = input_tools
        self._snapshot: Optional[_resp.Response] = None
        self._completed: Optional[ParsedResponse[Any]] = None

    @property
    def current_snapshot(self) -> _resp.Response:
        """The response accumulated so far; raises before ``response.created``."""
        if self._snapshot is None:
            raise LocalProtocolError("No response.created event has been received yet")
        return self._snapshot

    @property
    def completed_response(self) -> Optional[ParsedResponse[Any]]:
        """The parsed response of ``response.completed``, once it arrived."""
        return self._completed

    def handle_event(self, event: Any) -> List[Any]:
        """Accumulate ``event``; return it (or its enriched form) as a one-item list."""
        kind = getattr(event, "type", None)
        if kind == "response.created" and isinstance(event, _resp.ResponseCreatedEvent):
            self._snapshot = event.response
            return [event]
        if kind == "response.completed" and isinstance(event, _resp.ResponseCompletedEvent):
            parsed = parse_response(
                event.response, text_format=self._text_format, input_tools=self._tools
            )
            self._completed = parsed
            self._snapshot = parsed
            return [ParsedResponseCompletedEvent(**{**_fields(event), "response": parsed})]
        snapshot = self._snapshot
        if snapshot is None:
            return [event]  # a stream resumed mid-way: nothing to accumulate into
        if kind == "response.output_item.added" and isinstance(
            event, _resp.ResponseOutputItemAddedEvent
        ):
            snapshot.output.append(event.item)
        elif kind == "response.content_part.added" and isinstance(
            event, _resp.ResponseContentPartAddedEvent
        ):
            item = self._item(event.output_index)
            if isinstance(item, _resp.OutputMessage):
                item.content.append(event.part)  # type: ignore[arg-type]
        elif kind == "response.output_text.delta" and isinstance(
            event, _resp.ResponseTextDeltaEvent
        ):
            part = self._part(event.output_index, event.content_index)
            text = event.delta
            if isinstance(part, _resp.OutputTextContent):
                part.text += event.delta
                text = part.text
            return [ResponseTextDeltaEvent(**_fields(event), snapshot=text)]
        elif kind == "response.output_text.done" and isinstance(event, _resp.ResponseTextDoneEvent):
            value: Any = None
            if is_format_type(self._text_format):
                value = parse_content(self._text_format, event.text)
            return [ResponseTextDoneEvent(**_fields(event), parsed=value)]
        elif kind == "response.function_call_arguments.delta" and isinstance(
            event, _resp.ResponseFunctionCallArgumentsDeltaEvent
        ):
            item = self._item(event.output_index)
            arguments = event.delta
            if isinstance(item, _resp.FunctionToolCall):
                item.arguments += event.delta
                arguments = item.arguments
            return [ResponseFunctionCallArgumentsDeltaEvent(**_fields(event), snapshot=arguments)]
        return [event]

    def _item(self, index: int) -> Any:
        output = self.current_snapshot.output
        if not 0 <= index < len(output):
            raise RemoteProtocolError(
                f"Stream event refers to output item {index} of {len(output)}"
            )
        return output[index]

    def _part(self, index: int, content_index: int) -> Any:
        item = self._item(index)
        content = getattr(item, "content", None)
        if not isinstance(content, list) or not 0 <= content_index < len(content):
            raise RemoteProtocolError(
                f"Stream event refers to content part {content_index} of item {index}"
            )
        return content[content_index]
