"""``client.webhooks``: deliveries signed by the ``standardwebhooks`` reference package.

The client reads the clock itself (``time.time()``), so signatures are made for "now"
and the stale / future cases sit well outside the 300-second window.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from typing import Any, Dict, Optional

import pytest
from standardwebhooks.webhooks import Webhook

from openai_proto import AsyncOpenAI, InvalidWebhookSignatureError
from openai_proto.types import webhooks as wt
from openai_proto.webhooks import WebhookEvent

SECRET = "whsec_" + base64.b64encode(b"client-side webhook test key 32b").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"a different key, also 32 bytes!!").decode()
MSG_ID = "wh_685342e6c53c8190a1be43f081506c52"


def event_body(event_type: str = "response.completed", **data: Any) -> str:
    return json.dumps(
        {
            "id": "evt_685343a1381c819085d44c354e1b330e",
            "object": "event",
            "type": event_type,
            "created_at": int(time.time()) - 2,
            "data": {"id": "resp_abc", **data},
        }
    )


def signed(
    body: str,
    *,
    secret: str = SECRET,
    msg_id: str = MSG_ID,
    timestamp: Optional[int] = None,
) -> Dict[str, str]:
    """The three ``webhook-*`` headers, as an OpenAI delivery carries them."""
    when = int(time.time()) if timestamp is None else timestamp
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(when, tz=timezone.utc), body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(when), "webhook-signature": signature}


@pytest.fixture
def client() -> AsyncOpenAI:
    return AsyncOpenAI(api_key="sk-test", webhook_secret=SECRET, _environ={})


def test_reference_signature_verifies(client: AsyncOpenAI) -> None:
    body = event_body()
    client.webhooks.verify_signature(body, signed(body))
    client.webhooks.verify_signature(body.encode(), signed(body))  # bytes payload
    # Header names in any case, and a list of pairs instead of a mapping.
    pairs = [(name.upper(), value) for name, value in signed(body).items()]
    client.webhooks.verify_signature(body, pairs)  # type: ignore[arg-type]


def test_secret_argument_overrides_the_client_secret(client: AsyncOpenAI) -> None:
    body = event_body()
    client.webhooks.verify_signature(body, signed(body, secret=OTHER_SECRET), secret=OTHER_SECRET)
    with pytest.raises(InvalidWebhookSignatureError):
        client.webhooks.verify_signature(body, signed(body, secret=OTHER_SECRET))


def test_secret_from_the_environment() -> None:
    client = AsyncOpenAI(api_key="sk-test", _environ={"OPENAI_WEBHOOK_SECRET": SECRET})
    body = event_body()
    client.webhooks.verify_signature(body, signed(body))


def test_missing_secret_is_a_value_error() -> None:
    client = AsyncOpenAI(api_key="sk-test", _environ={})
    body = event_body()
    with pytest.raises(ValueError, match="webhook secret must either be set") as info:
        client.webhooks.verify_signature(body, signed(body))
    assert not isinstance(info.value, InvalidWebhookSignatureError)
    with pytest.raises(ValueError, match="webhook secret must either be set"):
        client.webhooks.unwrap(body, signed(body))


@pytest.mark.parametrize(
    "tamper",
    ["body", "id", "timestamp", "secret", "signature"],
)
def test_tampered_deliveries_are_rejected(client: AsyncOpenAI, tamper: str) -> None:
    body = event_body()
    headers = signed(body)
    if tamper == "body":
        body = body.replace("resp_abc", "resp_abd")
    elif tamper == "id":
        headers["webhook-id"] = MSG_ID + "x"
    elif tamper == "timestamp":
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    elif tamper == "secret":
        headers = signed(body, secret=OTHER_SECRET)
    else:
        headers["webhook-signature"] = "v1," + base64.b64encode(b"\0" * 32).decode()
    with pytest.raises(InvalidWebhookSignatureError, match="does not match"):
        client.webhooks.verify_signature(body, headers)
    with pytest.raises(InvalidWebhookSignatureError):
        client.webhooks.unwrap(body, headers)


@pytest.mark.parametrize(("offset", "message"), [(-301, "too old"), (301, "too new")])
def test_stale_and_future_timestamps_are_rejected(
    client: AsyncOpenAI, offset: int, message: str
) -> None:
    body = event_body()
    headers = signed(body, timestamp=int(time.time()) + offset)  # a valid signature
    with pytest.raises(InvalidWebhookSignatureError, match=message):
        client.webhooks.verify_signature(body, headers)
    # A wider tolerance accepts the same delivery.
    client.webhooks.verify_signature(body, headers, tolerance=400)


def test_missing_header_is_a_value_error(client: AsyncOpenAI) -> None:
    body = event_body()
    headers = signed(body)
    del headers["webhook-id"]
    with pytest.raises(ValueError, match="webhook-id"):
        client.webhooks.verify_signature(body, headers)


@pytest.mark.parametrize(
    ("event_type", "cls"),
    [
        ("response.completed", wt.WebhookResponseCompleted),
        ("batch.failed", wt.WebhookBatchFailed),
        ("eval.run.canceled", wt.WebhookEvalRunCanceled),
        ("fine_tuning.job.succeeded", wt.WebhookFineTuningJobSucceeded),
        ("realtime.call.incoming", wt.WebhookRealtimeCallIncoming),
    ],
)
def test_unwrap_returns_the_typed_event(client: AsyncOpenAI, event_type: str, cls: type) -> None:
    extra: Dict[str, Any] = {}
    if event_type == "realtime.call.incoming":
        extra = {"call_id": "rtc_1", "sip_headers": [{"name": "From", "value": "sip:a@b"}]}
    body = event_body(event_type, **extra)
    event = client.webhooks.unwrap(body, signed(body))
    assert type(event) is cls
    assert event.type == event_type
    assert event.id == "evt_685343a1381c819085d44c354e1b330e"
    if extra:
        assert event.data.call_id == "rtc_1"
        assert event.data.sip_headers[0].value == "sip:a@b"
    else:
        assert event.data.id == "resp_abc"


def test_unwrap_of_a_known_type_with_another_shape_is_generic(client: AsyncOpenAI) -> None:
    """``realtime.call.incoming`` without its required ``call_id``: not forced into the
    class of another event type that happens to fit."""
    body = event_body("realtime.call.incoming")
    event = client.webhooks.unwrap(body, signed(body))
    assert type(event) is WebhookEvent
    assert event.type == "realtime.call.incoming"


def test_unwrap_of_an_unknown_event_type_is_generic(client: AsyncOpenAI) -> None:
    body = event_body("brand.new.thing", extra=1)
    event = client.webhooks.unwrap(body.encode(), signed(body))
    assert isinstance(event, WebhookEvent)
    assert event.type == "brand.new.thing"
    assert event.data == {"id": "resp_abc", "extra": 1}
    assert event.to_dict()["object"] == "event"


def test_every_declared_event_type_decodes(client: AsyncOpenAI) -> None:
    """Each type of the client's table selects the generated class of that name."""
    from backends._webhooks import _EVENT_TYPES, _class_name

    for event_type in _EVENT_TYPES:
        body = event_body(event_type, call_id="rtc_1", session_id="rtc_1", sip_headers=[])
        event = client.webhooks.unwrap(body, signed(body))
        assert type(event) is getattr(wt, _class_name(event_type)), event_type
