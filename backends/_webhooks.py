"""``client.webhooks``: verify and decode OpenAI webhook deliveries, as the official SDK.

The checks are the core's (:mod:`openai_proto.webhooks`, Standard Webhooks); this module
supplies what the core may not take on its own: the clock (``time.time()``) and the
client's ``webhook_secret``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Optional, Union

import msgspec

from openai_proto._catalogue import WEBHOOK_EVENTS
from openai_proto._operation import resolve_type
from openai_proto.webhooks import HeadersLike, WebhookEvent, unwrap, verify_signature

from ._resource import AsyncAPIResource

if TYPE_CHECKING:
    from openai_proto.types.webhooks import UnwrapWebhookEvent as _TypedEvent

__all__ = ["AsyncWebhooks"]

# The event types of the spec's ``webhooks`` section and their classes, generated.
_EVENT_TYPES = tuple(WEBHOOK_EVENTS)


def _class_name(event_type: str) -> str:
    """The generated class of a known event type (``batch.cancelled`` →
    ``WebhookBatchCancelled``)."""
    return WEBHOOK_EVENTS[event_type].rpartition(":")[2]


if TYPE_CHECKING:
    UnwrapWebhookEvent = Union[_TypedEvent, WebhookEvent]


def _typed(event: WebhookEvent) -> UnwrapWebhookEvent:
    """The generated class for ``event.type``; the generic event itself for a type this
    version does not know or a body its class does not accept."""
    ref = WEBHOOK_EVENTS.get(event.type)
    if ref is None:
        return event
    from openai_proto.types import dec_hook

    try:
        typed: UnwrapWebhookEvent = msgspec.convert(event.raw, resolve_type(ref), dec_hook=dec_hook)
    except msgspec.ValidationError:
        return event
    return typed


_MISSING_SECRET = (
    "The webhook secret must either be set using the env var, OPENAI_WEBHOOK_SECRET, "
    "on the client class, OpenAI(webhook_secret='123'), or passed to this function"
)


class AsyncWebhooks(AsyncAPIResource):
    """``client.webhooks``: signature checks and decoding of webhook deliveries."""

    def _secret(self, secret: Optional[str]) -> str:
        if secret is None:
            secret = self._client.webhook_secret
        if secret is None:
            raise ValueError(_MISSING_SECRET)
        return secret

    def verify_signature(
        self,
        payload: Union[str, bytes],
        headers: HeadersLike,
        *,
        secret: Optional[str] = None,
        tolerance: int = 300,
    ) -> None:
        """Check that ``payload`` was signed by OpenAI within ``tolerance`` seconds of now.

        ``secret`` defaults to the client's ``webhook_secret`` (``OPENAI_WEBHOOK_SECRET``);
        without either, :class:`ValueError`. A missing ``webhook-*`` header raises
        :class:`ValueError`; a bad, stale or future-dated signature raises
        :class:`~openai_proto.InvalidWebhookSignatureError`.
        """
        verify_signature(
            payload, headers, secret=self._secret(secret), tolerance=tolerance, now=time.time()
        )

    def unwrap(
        self,
        payload: Union[str, bytes],
        headers: HeadersLike,
        *,
        secret: Optional[str] = None,
    ) -> UnwrapWebhookEvent:
        """Verify ``payload`` (as :meth:`verify_signature`), then decode it: a typed event
        (``WebhookResponseCompleted`` ...), or a generic
        :class:`~openai_proto.webhooks.WebhookEvent` for an event type (or shape) this
        version does not know."""
        event = unwrap(payload, headers, secret=self._secret(secret), now=time.time())
        assert isinstance(event, WebhookEvent)  # no event_type given: always generic
        return _typed(event)
