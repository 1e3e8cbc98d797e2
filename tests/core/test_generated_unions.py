"""The event unions the spec lists outside ``components.schemas``, generated.

- ``UnwrapWebhookEvent`` (``openai_proto.types.webhooks``): the payloads of the spec's
  top-level ``webhooks`` section, tagged on ``type``; ``_catalogue.WEBHOOK_EVENTS`` is the same
  table as ``type`` -> ``"module:Class"`` for ``client.webhooks.unwrap``.
- ``RealtimeBetaServerEvent`` (``openai_proto.types.realtime``): the spec's
  ``realtime-beta-server-events`` reference group, each text/audio event also under the name
  the beta service sends (``response.text.delta`` for the spec's ``response.output_text.delta``).

The backends used to keep both tables by hand; the old entries are pinned below so that the
generated unions are shown to cover every one of them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple, cast

import pytest

from backends._realtime import AsyncBetaRealtimeConnection
from backends._sync._realtime import BetaRealtimeConnection
from openai_proto._catalogue import WEBHOOK_EVENTS
from openai_proto.realtime import RealtimeEvent
from openai_proto.types import realtime as rt
from openai_proto.types import webhooks as wt

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = Path(os.environ.get("OPENAI_PROTO_SPEC_DIR", ROOT.parent / "shared" / "spec"))
SPEC = SPEC_DIR / "openapi.yaml"
needs_spec = pytest.mark.skipif(not SPEC.exists(), reason="spec directory not available")

# The hand tables the backends had before (backends/_webhooks.py, backends/_realtime.py).
OLD_WEBHOOK_TYPES = (
    "batch.cancelled",
    "batch.completed",
    "batch.expired",
    "batch.failed",
    "eval.run.canceled",
    "eval.run.failed",
    "eval.run.succeeded",
    "fine_tuning.job.cancelled",
    "fine_tuning.job.failed",
    "fine_tuning.job.succeeded",
    "live.call.incoming",
    "realtime.call.incoming",
    "response.cancelled",
    "response.completed",
    "response.failed",
    "response.incomplete",
)
OLD_BETA_SERVER_EVENTS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("ConversationItemCreated", ("conversation.item.created",)),
    ("ConversationItemDeleted", ("conversation.item.deleted",)),
    (
        "ConversationItemInputAudioTranscriptionCompleted",
        ("conversation.item.input_audio_transcription.completed",),
    ),
    (
        "ConversationItemInputAudioTranscriptionDelta",
        ("conversation.item.input_audio_transcription.delta",),
    ),
    (
        "ConversationItemInputAudioTranscriptionFailed",
        ("conversation.item.input_audio_transcription.failed",),
    ),
    (
        "ConversationItemInputAudioTranscriptionSegment",
        ("conversation.item.input_audio_transcription.segment",),
    ),
    ("ConversationItemRetrieved", ("conversation.item.retrieved",)),
    ("ConversationItemTruncated", ("conversation.item.truncated",)),
    ("Error", ("error",)),
    ("InputAudioBufferCleared", ("input_audio_buffer.cleared",)),
    ("InputAudioBufferCommitted", ("input_audio_buffer.committed",)),
    ("InputAudioBufferSpeechStarted", ("input_audio_buffer.speech_started",)),
    ("InputAudioBufferSpeechStopped", ("input_audio_buffer.speech_stopped",)),
    ("MCPListToolsCompleted", ("mcp_list_tools.completed",)),
    ("MCPListToolsFailed", ("mcp_list_tools.failed",)),
    ("MCPListToolsInProgress", ("mcp_list_tools.in_progress",)),
    ("RateLimitsUpdated", ("rate_limits.updated",)),
    ("ResponseAudioDelta", ("response.output_audio.delta", "response.audio.delta")),
    ("ResponseAudioDone", ("response.output_audio.done", "response.audio.done")),
    (
        "ResponseAudioTranscriptDelta",
        ("response.output_audio_transcript.delta", "response.audio_transcript.delta"),
    ),
    (
        "ResponseAudioTranscriptDone",
        ("response.output_audio_transcript.done", "response.audio_transcript.done"),
    ),
    ("ResponseContentPartAdded", ("response.content_part.added",)),
    ("ResponseContentPartDone", ("response.content_part.done",)),
    ("ResponseCreated", ("response.created",)),
    ("ResponseDone", ("response.done",)),
    ("ResponseFunctionCallArgumentsDelta", ("response.function_call_arguments.delta",)),
    ("ResponseFunctionCallArgumentsDone", ("response.function_call_arguments.done",)),
    ("ResponseMCPCallArgumentsDelta", ("response.mcp_call_arguments.delta",)),
    ("ResponseMCPCallArgumentsDone", ("response.mcp_call_arguments.done",)),
    ("ResponseMCPCallCompleted", ("response.mcp_call.completed",)),
    ("ResponseMCPCallFailed", ("response.mcp_call.failed",)),
    ("ResponseMCPCallInProgress", ("response.mcp_call.in_progress",)),
    ("ResponseOutputItemAdded", ("response.output_item.added",)),
    ("ResponseOutputItemDone", ("response.output_item.done",)),
    ("ResponseTextDelta", ("response.output_text.delta", "response.text.delta")),
    ("ResponseTextDone", ("response.output_text.done", "response.text.done")),
    ("SessionCreated", ("session.created",)),
    ("SessionUpdated", ("session.updated",)),
    ("TranscriptionSessionCreated", ("transcription_session.created",)),
    ("TranscriptionSessionUpdated", ("transcription_session.updated",)),
)


def _table(union: Any) -> Dict[str, Tuple[str, ...]]:
    """``type`` value -> ``"module:Class"`` refs the union's marker declares for it."""
    out: Dict[str, Tuple[str, ...]] = {}
    for tags, ref in union.__variants__:
        for tag in tags:
            out[tag] = (*out.get(tag, ()), ref)
    return out


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("_generate", ROOT / "scripts" / "generate.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_generate"] = mod  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(mod)
    finally:
        del sys.modules["_generate"]
    return mod


@pytest.fixture(scope="module")
def spec() -> Iterator[Dict[str, Any]]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(SPEC, "rb") as f:
        yield yaml.load(f, Loader=loader)


def _type_values(schema: Dict[str, Any]) -> List[str]:
    prop = schema["properties"]["type"]
    return [prop["const"]] if "const" in prop else list(prop["enum"])


# -- the old tables are covered ----------------------------------------------------------


def test_webhook_union_covers_the_old_table() -> None:
    table = _table(wt.UnwrapWebhookEvent)
    for event_type in OLD_WEBHOOK_TYPES:
        words = event_type.replace("_", ".").split(".")
        name = "Webhook" + "".join(w[:1].upper() + w[1:] for w in words)
        ref = f"openai_proto.types.webhooks:{name}"
        assert table[event_type] == (ref,), event_type
        assert WEBHOOK_EVENTS[event_type] == ref
    # The catalogue's table is the union's, entry for entry.
    assert {tag: (ref,) for tag, ref in WEBHOOK_EVENTS.items()} == table


def test_beta_union_covers_the_old_table() -> None:
    table = _table(rt.RealtimeBetaServerEvent)
    for suffix, tags in OLD_BETA_SERVER_EVENTS:
        for tag in tags:
            assert table[tag] == (f"openai_proto.types.realtime:RealtimeBetaServerEvent{suffix}",)
    old_tags = {tag for _, tags in OLD_BETA_SERVER_EVENTS for tag in tags}
    # One more than before: the spec's beta group also lists the GA timeout event.
    assert set(table) - old_tags == {"input_audio_buffer.timeout_triggered"}


def test_union_names_are_public_types() -> None:
    from openai_proto import types

    assert types.UnwrapWebhookEvent is wt.UnwrapWebhookEvent
    assert types.RealtimeBetaServerEvent is rt.RealtimeBetaServerEvent
    assert {"UnwrapWebhookEvent", "RealtimeBetaServerEvent"} <= set(types.__all__)
    assert rt.RealtimeBetaServerEvent.__discriminator__ == "type"
    assert wt.UnwrapWebhookEvent.__discriminator__ == "type"


# -- derived from the spec ----------------------------------------------------------------


@needs_spec
def test_webhook_union_is_the_spec_webhooks_section(spec: Dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    expected: Dict[str, Tuple[str, ...]] = {}
    for hook in spec["webhooks"].values():
        body = hook["post"]["requestBody"]["content"]["application/json"]["schema"]
        name = body["$ref"].rsplit("/", 1)[-1]
        for tag in _type_values(schemas[name]):
            expected[tag] = (f"openai_proto.types.webhooks:{name}",)
    assert len(expected) == len(spec["webhooks"]) == 16
    assert _table(wt.UnwrapWebhookEvent) == expected
    assert WEBHOOK_EVENTS == {tag: refs[0] for tag, refs in expected.items()}


@needs_spec
def test_beta_union_is_the_spec_reference_group(spec: Dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    group = next(g for g in spec["x-oaiMeta"]["groups"] if g["id"] == "realtime-beta-server-events")
    keys = [s["key"] for s in group["sections"]]
    wire = _generator().BETA_WIRE_PREFIXES
    expected: Dict[str, Tuple[str, ...]] = {}
    for key in keys:
        ref = f"openai_proto.types.realtime:{key}"
        for tag in _type_values(schemas[key]):
            expected[tag] = (ref,)
            for ga, old in wire:
                if key.startswith("RealtimeBeta") and tag.startswith(ga):
                    expected[old + tag[len(ga) :]] = (ref,)
    assert _table(rt.RealtimeBetaServerEvent) == expected
    assert len(keys) == len(rt.RealtimeBetaServerEvent.__variants__)


# -- what the backends do with them ---------------------------------------------------------


def _delta(event_type: str) -> bytes:
    return json.dumps(
        {
            "type": event_type,
            "event_id": "e1",
            "response_id": "r1",
            "item_id": "i1",
            "output_index": 0,
            "content_index": 0,
            "delta": "hi",
        }
    ).encode()


@pytest.mark.parametrize("connection_class", [AsyncBetaRealtimeConnection, BetaRealtimeConnection])
def test_beta_connection_decodes_with_the_generated_union(connection_class: Any) -> None:
    """``parse_event`` needs no socket; the beta union picks the class for both names of
    an event, and an unknown event stays generic."""
    connection = connection_class(cast(Any, None))
    for event_type in ("response.text.delta", "response.output_text.delta"):
        event = connection.parse_event(_delta(event_type))
        assert type(event) is rt.RealtimeBetaServerEventResponseTextDelta
        assert (event.type, event.delta) == (event_type, "hi")
    audio = connection.parse_event(_delta("response.audio.delta"))
    assert type(audio) is rt.RealtimeBetaServerEventResponseAudioDelta
    timeout = connection.parse_event(
        b'{"type":"input_audio_buffer.timeout_triggered","event_id":"e2",'
        b'"audio_start_ms":10,"audio_end_ms":900,"item_id":"i2"}'
    )
    assert type(timeout) is rt.RealtimeServerEventInputAudioBufferTimeoutTriggered
    assert timeout.audio_end_ms == 900
    unknown = connection.parse_event(b'{"type":"response.brand_new","event_id":"e3"}')
    assert type(unknown) is RealtimeEvent and unknown.type == "response.brand_new"


# -- the generator step ----------------------------------------------------------------------


def _small_spec(with_group: bool = True) -> Dict[str, Any]:
    def event(value: str) -> Dict[str, Any]:
        return {"type": "object", "properties": {"type": {"const": value}}}

    spec: Dict[str, Any] = {
        "webhooks": {
            "thing_done": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/WebhookThingDone"}
                            }
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "WebhookThingDone": {
                    "type": "object",
                    "properties": {"type": {"type": "string", "enum": ["thing.done"]}},
                },
                "RealtimeBetaServerEventResponseTextDelta": event("response.output_text.delta"),
                "RealtimeServerEventResponseTextDelta": event("response.output_text.delta"),
            }
        },
        "x-oaiMeta": {"groups": []},
    }
    if with_group:
        sections = [
            {"type": "object", "key": "RealtimeBetaServerEventResponseTextDelta"},
            {"type": "object", "key": "RealtimeServerEventResponseTextDelta"},
        ]
        spec["x-oaiMeta"]["groups"].append(
            {"id": "realtime-beta-server-events", "sections": sections}
        )
    return spec


def test_generator_adds_the_unions_to_a_spec() -> None:
    gen = _generator()
    spec = _small_spec()
    gen.add_event_unions(spec)
    schemas = spec["components"]["schemas"]
    assert schemas["UnwrapWebhookEvent"]["anyOf"] == [
        {"$ref": "#/components/schemas/WebhookThingDone"}
    ]
    beta = schemas["RealtimeBetaServerEvent"]
    assert beta["discriminator"] == {"propertyName": "type"}
    assert [m["$ref"].rsplit("/", 1)[-1] for m in beta["anyOf"]] == [
        "RealtimeBetaServerEventResponseTextDelta",
        "RealtimeServerEventResponseTextDelta",
    ]
    # The beta schema also takes the beta wire name; the GA schema keeps its one name.
    assert _type_values(schemas["RealtimeBetaServerEventResponseTextDelta"]) == [
        "response.output_text.delta",
        "response.text.delta",
    ]
    assert _type_values(schemas["RealtimeServerEventResponseTextDelta"]) == [
        "response.output_text.delta"
    ]


def test_generator_keeps_a_union_the_spec_defines_and_needs_the_group() -> None:
    gen = _generator()
    spec = _small_spec()
    own = {"description": "the spec's own", "anyOf": []}
    spec["components"]["schemas"]["UnwrapWebhookEvent"] = own
    gen.add_event_unions(spec)
    assert spec["components"]["schemas"]["UnwrapWebhookEvent"] is own
    with pytest.raises(SystemExit, match="realtime-beta-server-events"):
        gen.add_event_unions(_small_spec(with_group=False))
