"""Webhook verification against signatures made by the ``standardwebhooks`` reference package."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Tuple, Union

import msgspec
import pytest
from standardwebhooks.webhooks import Webhook

from openai_proto._exceptions import InvalidWebhookSignatureError
from openai_proto.webhooks import WebhookEvent, unwrap, verify_signature

SECRET = "whsec_" + base64.b64encode(b"a 32-byte key for webhook tests!").decode()
NOW = 1_750_000_000
MSG_ID = "wh_685342e6c53c8190a1be43f081506c52"
BODY = json.dumps(
    {
        "id": "evt_685343a1381c819085d44c354e1b330e",
        "object": "event",
        "type": "response.completed",
        "created_at": NOW - 2,
        "data": {"id": "resp_abc"},
    }
)


def sign(
    body: str = BODY,
    *,
    msg_id: str = MSG_ID,
    timestamp: int = NOW,
    secret: Union[str, bytes] = SECRET,
) -> str:
    """A ``webhook-signature`` value from the reference implementation."""
    when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return Webhook(secret).sign(msg_id, when, body)


def headers_for(body: str = BODY, **kwargs: Any) -> Dict[str, str]:
    timestamp = kwargs.get("timestamp", NOW)
    return {
        "webhook-id": kwargs.get("msg_id", MSG_ID),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(body, **kwargs),
    }


def test_reference_signature_verifies() -> None:
    verify_signature(BODY, headers_for(), secret=SECRET, now=NOW)
    # Within the window on both sides.
    verify_signature(BODY, headers_for(), secret=SECRET, now=NOW + 300)
    verify_signature(BODY, headers_for(), secret=SECRET, now=NOW - 300)
    verify_signature(
        BODY, headers_for(), secret=SECRET, now=NOW + 300.9
    )  # whole seconds, as upstream


def test_bytes_and_str_payloads_verify_alike() -> None:
    body = json.dumps(
        {"id": "e", "type": "t", "created_at": 1, "data": {"text": "héllo ☃"}}, ensure_ascii=False
    )
    headers = headers_for(body)
    verify_signature(body, headers, secret=SECRET, now=NOW)
    verify_signature(body.encode("utf-8"), headers, secret=SECRET, now=NOW)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b, h: (b.replace("resp_abc", "resp_abd"), h), id="body"),
        pytest.param(lambda b, h: (b + " ", h), id="body-trailing-space"),
        pytest.param(lambda b, h: (b, {**h, "webhook-id": MSG_ID + "x"}), id="id"),
        pytest.param(lambda b, h: (b, {**h, "webhook-timestamp": str(NOW + 1)}), id="timestamp"),
        pytest.param(
            lambda b, h: (b, {**h, "webhook-signature": "v1," + "A" * 44}), id="signature"
        ),
        pytest.param(
            lambda b, h: (b, {**h, "webhook-signature": h["webhook-signature"][3:-2] + "x="}),
            id="truncated",
        ),
        pytest.param(lambda b, h: (b, {**h, "webhook-signature": "v1,é"}), id="non-ascii"),
        pytest.param(lambda b, h: (b, {**h, "webhook-signature": ""}), id="empty"),
    ],
)
def test_tampering_is_detected(mutate: Any) -> None:
    body, headers = mutate(BODY, headers_for())
    with pytest.raises(InvalidWebhookSignatureError, match="does not match the expected signature"):
        verify_signature(body, headers, secret=SECRET, now=NOW)


def test_wrong_secret() -> None:
    other = "whsec_" + base64.b64encode(b"another key entirely, 32 bytes!!").decode()
    with pytest.raises(InvalidWebhookSignatureError, match="does not match"):
        verify_signature(BODY, headers_for(), secret=other, now=NOW)


@pytest.mark.parametrize(("now", "message"), [(NOW + 301, "too old"), (NOW - 301, "too new")])
def test_timestamp_outside_tolerance(now: int, message: str) -> None:
    with pytest.raises(InvalidWebhookSignatureError, match=message):
        verify_signature(BODY, headers_for(), secret=SECRET, now=now)


def test_custom_tolerance() -> None:
    verify_signature(BODY, headers_for(), secret=SECRET, now=NOW + 3600, tolerance=3600)
    with pytest.raises(InvalidWebhookSignatureError, match="too old"):
        verify_signature(BODY, headers_for(), secret=SECRET, now=NOW + 11, tolerance=10)


@pytest.mark.parametrize(
    "timestamp",
    ["", "abc", "1.5", " 1750000000", "+1750000000", "1_750_000_000", "١٢٣", "9" * 5000],
)
def test_timestamp_must_be_plain_digits(timestamp: str) -> None:
    headers = {**headers_for(), "webhook-timestamp": timestamp}
    with pytest.raises(InvalidWebhookSignatureError, match="Invalid webhook timestamp format"):
        verify_signature(BODY, headers, secret=SECRET, now=NOW)


@pytest.mark.parametrize("missing", ["webhook-signature", "webhook-timestamp", "webhook-id"])
def test_missing_header_is_named(missing: str) -> None:
    headers = headers_for()
    del headers[missing]
    with pytest.raises(ValueError, match=f"Could not find {missing} header") as info:
        verify_signature(BODY, headers, secret=SECRET, now=NOW)
    assert not isinstance(info.value, InvalidWebhookSignatureError)


def test_multiple_signatures_one_valid() -> None:
    good = sign()
    bad = "v1," + base64.b64encode(b"x" * 32).decode()
    for value in (f"{bad} {good}", f"{good} {bad}", f"v2,abc  {good}\t{bad}", f"{bad} {good[3:]}"):
        headers = {**headers_for(), "webhook-signature": value}
        verify_signature(BODY, headers, secret=SECRET, now=NOW)
    with pytest.raises(InvalidWebhookSignatureError):
        verify_signature(
            BODY, {**headers_for(), "webhook-signature": f"{bad} {bad}"}, secret=SECRET, now=NOW
        )


def test_secret_without_prefix_is_used_as_utf8_bytes() -> None:
    plain = "my-plain-secret-ü"
    headers = {**headers_for(), "webhook-signature": sign(secret=plain.encode("utf-8"))}
    verify_signature(BODY, headers, secret=plain, now=NOW)
    # The same key bytes given as a whsec_ secret verify too; the plain text read as a
    # whsec_ secret (base64) is another key.
    verify_signature(
        BODY, headers, secret="whsec_" + base64.b64encode(plain.encode()).decode(), now=NOW
    )
    with pytest.raises(InvalidWebhookSignatureError):
        verify_signature(BODY, headers, secret="whsec_bXktcGxhaW4tc2VjcmV0", now=NOW)


def test_unpadded_whsec_secret() -> None:
    key = b"sixteen byte key"  # base64 of 16 bytes ends with "=="
    padded = "whsec_" + base64.b64encode(key).decode()
    headers = {**headers_for(), "webhook-signature": sign(secret=key)}
    verify_signature(BODY, headers, secret=padded, now=NOW)
    verify_signature(BODY, headers, secret=padded.rstrip("="), now=NOW)


def test_malformed_whsec_secret_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="base64"):
        verify_signature(BODY, headers_for(), secret="whsec_a", now=NOW)


@pytest.mark.parametrize("style", ["lower", "upper", "title", "pairs", "pairs-upper"])
def test_header_names_match_in_any_case(style: str) -> None:
    base = headers_for()
    headers: Union[Dict[str, str], List[Tuple[str, str]]]
    if style == "lower":
        headers = base
    elif style == "upper":
        headers = {k.upper(): v for k, v in base.items()}
    elif style == "title":
        headers = {"-".join(p.capitalize() for p in k.split("-")): v for k, v in base.items()}
    elif style == "pairs":
        headers = [("Content-Type", "application/json"), *base.items()]
    else:
        headers = [(k.upper(), v) for k, v in base.items()]
    verify_signature(BODY, headers, secret=SECRET, now=NOW)


def test_our_headers_class_is_accepted() -> None:
    from openai_proto._headers import Headers

    headers = Headers([(k.title(), v) for k, v in headers_for().items()])
    verify_signature(BODY.encode(), headers, secret=SECRET, now=NOW)


def test_same_verdicts_as_the_reference_verifier() -> None:
    """Cases where both implementations must agree (the reference reads the real clock, so
    the timestamp is taken from it here)."""
    now = int(datetime.now(tz=timezone.utc).timestamp())
    reference = Webhook(SECRET)
    for body, headers in [
        (BODY, headers_for(timestamp=now)),
        (BODY + "x", headers_for(timestamp=now)),
        (BODY, {**headers_for(timestamp=now), "webhook-id": "other"}),
    ]:
        try:
            reference.verify(body, headers)
            expected = True
        except Exception:
            expected = False
        try:
            verify_signature(body, headers, secret=SECRET, now=now)
            ours = True
        except InvalidWebhookSignatureError:
            ours = False
        assert ours is expected


# unwrap ------------------------------------------------------------------------------------


def test_unwrap_returns_a_generic_event_with_the_raw_body() -> None:
    event = unwrap(BODY, headers_for(), secret=SECRET, now=NOW)
    assert isinstance(event, WebhookEvent)
    assert event.id == "evt_685343a1381c819085d44c354e1b330e"
    assert event.type == "response.completed"
    assert event.created_at == NOW - 2
    assert event.data == {"id": "resp_abc"}
    assert event.raw == json.loads(BODY)
    assert event.to_dict()["object"] == "event"


def test_unwrap_bytes_payload() -> None:
    event = unwrap(BODY.encode(), headers_for(), secret=SECRET, now=NOW)
    assert isinstance(event, WebhookEvent) and event.data["id"] == "resp_abc"


def test_unwrap_verifies_first() -> None:
    with pytest.raises(InvalidWebhookSignatureError):
        unwrap(BODY.replace("abc", "abd"), headers_for(), secret=SECRET, now=NOW)


class ResponseCompleted(msgspec.Struct, tag_field="type", tag="response.completed", kw_only=True):
    id: str
    created_at: int
    data: Dict[str, Any]


class BatchFailed(msgspec.Struct, tag_field="type", tag="batch.failed", kw_only=True):
    id: str
    created_at: int
    data: Dict[str, Any]


Union_ = Union[ResponseCompleted, BatchFailed]


def test_unwrap_with_an_event_union() -> None:
    event = unwrap(BODY, headers_for(), secret=SECRET, now=NOW, event_type=Union_)
    assert event == ResponseCompleted(
        id="evt_685343a1381c819085d44c354e1b330e", created_at=NOW - 2, data={"id": "resp_abc"}
    )


def test_unwrap_unknown_event_type_falls_back_to_generic() -> None:
    body = json.dumps(
        {"id": "evt_1", "object": "event", "type": "brand.new", "created_at": 5, "data": {"k": 1}}
    )
    event = unwrap(body, headers_for(body), secret=SECRET, now=NOW, event_type=Union_)
    assert isinstance(event, WebhookEvent) and event.type == "brand.new" and event.data == {"k": 1}


def test_unwrap_invalid_json() -> None:
    body = '{"id": '
    with pytest.raises(ValueError, match="Webhook payload is not valid JSON") as info:
        unwrap(body, headers_for(body), secret=SECRET, now=NOW)
    assert isinstance(info.value.__cause__, msgspec.DecodeError)
    assert not isinstance(info.value, InvalidWebhookSignatureError)


@pytest.mark.parametrize(
    "body", ["[1]", '{"type": "x"}', '{"id": 1, "type": "x", "created_at": 1, "data": {}}']
)
def test_unwrap_json_that_is_not_an_event(body: str) -> None:
    with pytest.raises(ValueError, match="not a webhook event"):
        unwrap(body, headers_for(body), secret=SECRET, now=NOW)
