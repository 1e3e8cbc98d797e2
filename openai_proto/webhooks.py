"""Webhook signature verification and decoding (Standard Webhooks, as OpenAI applies it).

OpenAI signs each delivery with the ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature`` headers: the signature is ``v1,`` + base64(HMAC-SHA256(key,
"{id}.{timestamp}.{body}")) (Standard Webhooks spec, "Verifying webhooks"). The rules here
are those of the official SDK's ``client.webhooks.verify_signature()``, with the clock
passed in as ``now`` so this module stays pure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any, Dict, List, Mapping, Sequence, Tuple, Union

import msgspec

from ._exceptions import InvalidWebhookSignatureError

__all__ = ["WebhookEvent", "unwrap", "verify_signature"]

HeadersLike = Union[Mapping[str, str], Sequence[Tuple[str, str]]]

_SECRET_PREFIX = "whsec_"


class WebhookEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A verified webhook event, decoded generically.

    ``data`` is the event's ``data`` object; ``raw`` (also :meth:`to_dict`) is the whole
    decoded body, so fields this struct does not name are never lost.
    """

    id: str
    type: str
    created_at: int
    data: Dict[str, Any]
    raw: Dict[str, Any] = msgspec.field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        """The whole event body as decoded JSON."""
        return self.raw


class _Envelope(msgspec.Struct, kw_only=True):
    id: str
    type: str
    created_at: int
    data: Dict[str, Any]


def _header(headers: HeadersLike, name: str) -> str:
    """The first value of ``name`` in any letter case (RFC 9110 §5.1)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    raise ValueError(f"Could not find {name} header")


def _key(secret: str) -> bytes:
    if secret.startswith(_SECRET_PREFIX):
        try:
            # Unpadded secrets are accepted, as the Standard Webhooks libraries do.
            return base64.b64decode(secret[len(_SECRET_PREFIX) :] + "==")
        except binascii.Error as exc:
            raise ValueError("The webhook secret is not valid base64 after 'whsec_'") from exc
    return secret.encode("utf-8", "surrogatepass")


def verify_signature(
    payload: Union[str, bytes],
    headers: HeadersLike,
    *,
    secret: str,
    tolerance: int = 300,
    now: float,
) -> None:
    """Check that ``payload`` was signed by the holder of ``secret``, within ``tolerance``
    seconds of ``now`` (Unix time) in either direction.

    ``headers`` is a mapping or a sequence of ``(name, value)`` pairs; names match in any
    case. A missing header raises :class:`ValueError` naming it; a malformed or out of
    window timestamp, or no matching signature among the space-separated ``v1,<base64>``
    candidates, raises :class:`~openai_proto.InvalidWebhookSignatureError`. A ``whsec_``
    secret is base64-decoded into the key, any other secret is used as its UTF-8 bytes.
    """
    signature_header = _header(headers, "webhook-signature")
    timestamp = _header(headers, "webhook-timestamp")
    webhook_id = _header(headers, "webhook-id")

    # Plain ASCII digits only: int() alone would also take "+1", " 1", "1_0" or other
    # scripts' digits, none of which a signer emits.
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise InvalidWebhookSignatureError("Invalid webhook timestamp format")
    try:
        timestamp_seconds = int(timestamp)
    except ValueError:  # longer than the interpreter's int-parsing limit
        raise InvalidWebhookSignatureError("Invalid webhook timestamp format") from None
    current = int(now)
    if current - timestamp_seconds > tolerance:
        raise InvalidWebhookSignatureError("Webhook timestamp is too old")
    if timestamp_seconds > current + tolerance:
        raise InvalidWebhookSignatureError("Webhook timestamp is too new")

    candidates: List[bytes] = []
    for part in signature_header.split():
        if part.startswith("v1,"):
            part = part[3:]
        if part.isascii():  # a base64 value is ASCII; anything else cannot match
            candidates.append(part.encode("ascii"))

    body = payload if isinstance(payload, bytes) else payload.encode("utf-8", "surrogatepass")
    signed = f"{webhook_id}.{timestamp}.".encode("utf-8", "surrogatepass") + body
    expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest())
    # No early exit: every candidate is compared, each in constant time.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise InvalidWebhookSignatureError(
            "The given webhook signature does not match the expected signature"
        )


def unwrap(
    payload: Union[str, bytes],
    headers: HeadersLike,
    *,
    secret: str,
    now: float,
    tolerance: int = 300,
    event_type: Any = None,
) -> object:
    """Verify ``payload`` (see :func:`verify_signature`), then decode its JSON body.

    With ``event_type`` (e.g. the generated tagged union of webhook events) the body is
    converted to it; a body it does not accept (a new event type, say) falls back to a
    generic :class:`WebhookEvent`, so new events never break a receiver. A body that is
    not JSON raises :class:`ValueError` ("Webhook payload is not valid JSON"); one that
    is not an event object (``id``, ``type``, ``created_at``, ``data``) raises
    :class:`ValueError` too.
    """
    verify_signature(payload, headers, secret=secret, tolerance=tolerance, now=now)
    try:
        raw = msgspec.json.decode(payload)
    except (msgspec.DecodeError, RecursionError) as exc:  # too deeply nested is not JSON here
        raise ValueError("Webhook payload is not valid JSON") from exc
    if event_type is not None:
        try:
            typed: object = msgspec.convert(raw, event_type)
        except msgspec.ValidationError:
            pass
        else:
            return typed
    try:
        envelope = msgspec.convert(raw, _Envelope)
    except msgspec.ValidationError as exc:
        raise ValueError(f"Webhook payload is not a webhook event: {exc}") from exc
    return WebhookEvent(
        id=envelope.id,
        type=envelope.type,
        created_at=envelope.created_at,
        data=envelope.data,
        raw=raw,
    )
