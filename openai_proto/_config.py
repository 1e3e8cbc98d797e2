"""Client configuration: constructor arguments merged with the environment.

The same parameters and environment variables as the official SDK's ``AsyncOpenAI``
(``OPENAI_API_KEY``, ``OPENAI_ADMIN_KEY``, ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``,
``OPENAI_WEBHOOK_SECRET``, ``OPENAI_BASE_URL``). The environment is a mapping argument, so
this module stays pure and tests need no monkeypatching.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

import msgspec

from ._exceptions import OpenAIError
from ._types import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, NOT_GIVEN, Omit, Timeout

__all__ = ["DEFAULT_BASE_URL", "ClientConfig", "Origin", "split_base_url"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"

_MISSING_KEY = (
    "Missing credentials. Please pass an `api_key`, `admin_api_key`, or set the "
    "`OPENAI_API_KEY` or `OPENAI_ADMIN_KEY` environment variable."
)


class Origin(msgspec.Struct, frozen=True):
    """Where to connect: scheme, host and port (the connection pool's key)."""

    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme in ("https", "wss")

    @property
    def host_header(self) -> str:
        """The ``Host`` header value (RFC 9112 §3.2): port omitted when it is the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        return host if self.port == default else f"{host}:{self.port}"


def split_base_url(url: str) -> Tuple[Origin, str, str]:
    """Split a base URL into its origin, its path (always ending in ``/``) and its query.

    The trailing slash matters: endpoint paths are appended to it, as the official SDK's
    ``_enforce_trailing_slash`` does.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {url!r}")
    port = parts.port or (443 if scheme in ("https", "wss") else 80)
    path = parts.path or "/"
    if not path.endswith("/"):
        path += "/"
    return Origin(scheme, parts.hostname, port), path, parts.query


class ClientConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a client needs to build requests; immutable (``copy()`` makes a new one)."""

    api_key: str
    """Bearer token; ``""`` when an async key provider supplies it per attempt."""
    organization: Optional[str] = None
    project: Optional[str] = None
    webhook_secret: Optional[str] = None
    base_url: str = DEFAULT_BASE_URL + "/"
    websocket_base_url: Optional[str] = None
    timeout: Timeout = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    default_headers: Dict[str, Union[str, Omit]] = {}
    default_query: Dict[str, object] = {}

    @classmethod
    def create(
        cls,
        *,
        api_key: Optional[str] = None,
        admin_api_key: Optional[str] = None,
        has_key_provider: bool = False,
        organization: Optional[str] = None,
        project: Optional[str] = None,
        webhook_secret: Optional[str] = None,
        base_url: Any = NOT_GIVEN,
        websocket_base_url: Optional[str] = None,
        timeout: Any = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        default_query: Optional[Mapping[str, object]] = None,
        environ: Mapping[str, str],
    ) -> ClientConfig:
        """Resolve arguments against ``environ`` as the official SDK does.

        A missing key raises :class:`OpenAIError` here, at construction, not at the first
        request. ``timeout=NOT_GIVEN`` means the default (600 s, 5 s to connect); ``None``
        means no timeout; a float applies to every phase.
        """
        if api_key is None and not has_key_provider:
            api_key = environ.get("OPENAI_API_KEY")
        if admin_api_key is None:
            admin_api_key = environ.get("OPENAI_ADMIN_KEY")
        if not has_key_provider and api_key is None:
            if admin_api_key is None:
                raise OpenAIError(_MISSING_KEY)
            api_key = admin_api_key
        if max_retries is None:
            raise TypeError("max_retries cannot be None; pass 0 to disable retries")
        if organization is None:
            organization = environ.get("OPENAI_ORG_ID")
        if project is None:
            project = environ.get("OPENAI_PROJECT_ID")
        if webhook_secret is None:
            webhook_secret = environ.get("OPENAI_WEBHOOK_SECRET")
        if base_url is NOT_GIVEN or base_url is None:
            base_url = environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        base_url = str(base_url)
        origin, path, query = split_base_url(base_url)
        base = f"{origin.scheme}://{origin.host_header}{path}" + (f"?{query}" if query else "")
        if timeout is NOT_GIVEN:
            resolved = DEFAULT_TIMEOUT
        else:
            resolved = Timeout.of(timeout)
        return cls(
            api_key=api_key or "",
            organization=organization,
            project=project,
            webhook_secret=webhook_secret,
            base_url=base,
            websocket_base_url=websocket_base_url,
            timeout=resolved,
            max_retries=int(max_retries),
            default_headers=dict(default_headers or {}),
            default_query=dict(default_query or {}),
        )

    def copy_arguments(
        self,
        *,
        organization: Optional[str] = None,
        project: Optional[str] = None,
        webhook_secret: Optional[str] = None,
        websocket_base_url: Optional[str] = None,
        timeout: Any = NOT_GIVEN,
        max_retries: Any = NOT_GIVEN,
        default_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        set_default_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        default_query: Optional[Mapping[str, object]] = None,
        set_default_query: Optional[Mapping[str, object]] = None,
    ) -> Dict[str, Any]:
        """Constructor arguments for a client's ``copy()`` / ``with_options()``.

        As the official SDK: what is not given keeps this configuration's value;
        ``default_headers`` / ``default_query`` merge over the current ones,
        ``set_default_headers`` / ``set_default_query`` replace them (not both at once).
        """
        if default_headers is not None and set_default_headers is not None:
            raise ValueError(
                "The `default_headers` and `set_default_headers` arguments are mutually exclusive"
            )
        if default_query is not None and set_default_query is not None:
            raise ValueError(
                "The `default_query` and `set_default_query` arguments are mutually exclusive"
            )
        return {
            "organization": self.organization if organization is None else organization,
            "project": self.project if project is None else project,
            "webhook_secret": self.webhook_secret if webhook_secret is None else webhook_secret,
            "websocket_base_url": websocket_base_url or self.websocket_base_url,
            "timeout": self.timeout if timeout is NOT_GIVEN else timeout,
            "max_retries": self.max_retries if max_retries is NOT_GIVEN else max_retries,
            "default_headers": (
                set_default_headers
                if set_default_headers is not None
                else {**self.default_headers, **(default_headers or {})}
            ),
            "default_query": (
                set_default_query
                if set_default_query is not None
                else {**self.default_query, **(default_query or {})}
            ),
        }
