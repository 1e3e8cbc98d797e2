"""``client.realtime`` and ``client.beta.realtime`` of the blocking client: the generated REST
operations (client secrets, calls, sessions); no WebSocket ``connect()`` yet.

Hand-written stand-in until ``backends/_realtime.py`` is converted by ``scripts/unasync.py``
(then delete this file and its entry in ``HAND_WRITTEN`` there, and list the module in
``MODULES``).
"""

from __future__ import annotations

from typing import Any, NoReturn

from .resources.beta.realtime.realtime import Realtime as _GeneratedBetaRealtime
from .resources.realtime.realtime import Realtime as _GeneratedRealtime

__all__ = ["BetaRealtime", "Realtime"]

_NO_CONNECT = (
    "Realtime WebSocket sessions are not available in the blocking client yet; "
    "use AsyncOpenAI().realtime.connect(...)"
)


class Realtime(_GeneratedRealtime):
    """``client.realtime``: the generated REST operations."""

    def connect(self, **kwargs: Any) -> NoReturn:
        """Not available in the blocking client yet (raises ``NotImplementedError``)."""
        raise NotImplementedError(_NO_CONNECT)


class BetaRealtime(_GeneratedBetaRealtime):
    """``client.beta.realtime``: the generated REST operations."""

    def connect(self, **kwargs: Any) -> NoReturn:
        """Not available in the blocking client yet (raises ``NotImplementedError``)."""
        raise NotImplementedError(_NO_CONNECT)
