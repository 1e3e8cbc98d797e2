"""Logging as users of the official SDK expect it: one logger, ``OPENAI_LOG``, no secrets.

- The logger is ``openai_proto`` (the official SDK's is ``openai``). Only the engine logs:
  ``HTTP Request: METHOD URL "STATUS"`` and retry decisions at INFO, the request options
  (method, URL, headers, timeout) at DEBUG.
- ``OPENAI_LOG=debug`` (or ``info``, ``warning``, ``error``, ``critical``) in the environment
  sets the logger's level and, through :func:`logging.basicConfig`, gives the root logger a
  stderr handler if it has none; read once, when the first client is constructed.
- :class:`SensitiveHeadersFilter` sits on the logger and replaces the values of
  ``Authorization`` and ``api-key`` (any case) in a record's ``headers`` argument with
  ``<redacted>`` before any handler formats it.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Final, List, Mapping

from openai_proto._headers import REDACTED, SENSITIVE_HEADERS
from openai_proto._request import Request

__all__ = [
    "LOG_LEVELS",
    "SENSITIVE_HEADERS",
    "SensitiveHeadersFilter",
    "logger",
    "request_options",
    "setup_logging",
]

logger: Final = logging.getLogger("openai_proto")

# Header names (lower case) whose values never reach a log record: one list, the core's.

#: Accepted ``OPENAI_LOG`` values, as in the official SDK's ``_utils/_logs.py``.
LOG_LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


# e.g. [2025-01-31 14:12:26 - openai_proto:161 - INFO] HTTP Request: POST https://... "200"
_FORMAT: Final = "[%(asctime)s - %(name)s:%(lineno)d - %(levelname)s] %(message)s"
_DATEFMT: Final = "%Y-%m-%d %H:%M:%S"

_configured = False


def setup_logging(environ: Mapping[str, str]) -> None:
    """Apply ``OPENAI_LOG`` from ``environ``; only the first call in a process does anything.

    An unknown value is ignored, as the official SDK ignores it. The handler comes from
    :func:`logging.basicConfig`, which leaves an application's own configuration alone.
    """
    global _configured
    if _configured:
        return
    _configured = True
    level = LOG_LEVELS.get(environ.get("OPENAI_LOG", "").strip().lower())
    if level is None:
        return
    logging.basicConfig(format=_FORMAT, datefmt=_DATEFMT)
    logger.setLevel(level)


def _redact_headers(headers: object) -> object:
    """A copy of ``headers`` (a mapping or a sequence of name/value pairs) with the
    sensitive values replaced; anything else is returned unchanged."""
    if isinstance(headers, Mapping):
        return {
            name: REDACTED if str(name).lower() in SENSITIVE_HEADERS else value
            for name, value in headers.items()
        }
    if isinstance(headers, (list, tuple)):
        out: List[object] = []
        for item in headers:
            if isinstance(item, (list, tuple)) and len(item) == 2:
                name = item[0]
                if isinstance(name, bytes):
                    name = name.decode("latin-1")
                if str(name).lower() in SENSITIVE_HEADERS:
                    item = (item[0], REDACTED)
            out.append(item)
        return out
    return headers


def _redact_options(args: Mapping[Any, Any]) -> Dict[Any, Any]:
    copy = dict(args)
    copy["headers"] = _redact_headers(copy["headers"])
    return copy


class SensitiveHeadersFilter(logging.Filter):
    """Redact credential headers in a record's arguments (the official SDK's filter of the
    same name, extended to header lists and to mappings inside a tuple of arguments).

    A mapping argument with a ``"headers"`` key is replaced by a copy whose sensitive
    header values read ``<redacted>``; the caller's objects are never modified.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, Mapping):
            if "headers" in args:
                record.args = _redact_options(args)
        elif isinstance(args, tuple) and args:
            record.args = tuple(
                _redact_options(arg) if isinstance(arg, Mapping) and "headers" in arg else arg
                for arg in args
            )
        return True


logger.addFilter(SensitiveHeadersFilter())


def request_options(request: Request, retries_taken: int) -> Dict[str, object]:
    """The DEBUG record's argument for one attempt (headers still to be redacted by the
    filter). The body is summarised by its size: prompts and uploads stay out of logs."""
    body = request.body
    return {
        "method": request.method,
        "url": request.url,
        "headers": request.headers,
        "timeout": request.timeout,
        "retries_taken": retries_taken,
        "content_length": None if body is None else len(body),
    }
