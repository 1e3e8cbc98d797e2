"""Azure OpenAI: configuration, per-request routing and authentication, decided purely.

The same rules as the official SDK's ``AzureOpenAI`` (``openai/lib/azure.py``):

- configuration from arguments and an environment mapping (``OPENAI_API_VERSION``,
  ``AZURE_OPENAI_ENDPOINT``, ``AZURE_OPENAI_API_KEY``, ``AZURE_OPENAI_AD_TOKEN``), with the
  official error messages and types;
- the base URL ``{endpoint}/openai`` or ``{endpoint}/openai/deployments/{deployment}``, and
  ``api-version`` in the query of every request (a default query parameter);
- ``/deployments/{model}`` in front of the deployment-based endpoints when the base URL
  names no deployment, the model taken from the call's body; with a deployment fixed by
  ``azure_deployment``, every other endpoint goes to ``{endpoint}/openai`` instead;
- ``api-key: <key>`` or ``Authorization: Bearer <Azure AD token>``;
- the URL and credential of a WebSocket (:meth:`AzureSettings.websocket_request`): the
  Realtime API's own Azure rules, and the client's ordinary ones for the Responses API.

The facade (``backends/_azure.py``) calls :meth:`AzureSettings.route` and
:func:`auth_headers` once per attempt, and :meth:`AzureSettings.websocket_request` once per
WebSocket handshake; an Azure AD token provider is awaited there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Mapping, Optional, Tuple, Union
from urllib.parse import quote, urlsplit, urlunsplit

import msgspec

from ._config import ClientConfig, split_base_url
from ._exceptions import OpenAIError
from ._operation import Operation
from ._types import Omit
from .realtime import build_realtime_url

__all__ = [
    "API_KEY_SENTINEL",
    "DEPLOYMENT_ENDPOINTS",
    "AzureSettings",
    "MutuallyExclusiveAuthError",
    "WebSocketRequest",
    "auth_headers",
    "check_ad_token",
]

#: Endpoints served per deployment (``/openai/deployments/{model}/...``), as the official SDK.
DEPLOYMENT_ENDPOINTS: FrozenSet[str] = frozenset(
    {
        "/completions",
        "/chat/completions",
        "/embeddings",
        "/audio/transcriptions",
        "/audio/translations",
        "/audio/speech",
        "/images/generations",
        "/images/edits",
    }
)

#: What the official client reports as ``api_key`` when it authenticates otherwise.
API_KEY_SENTINEL = "<missing API key>"

_MISSING_CREDENTIALS = (
    "Missing credentials. Please pass one of `api_key`, `azure_ad_token`, "
    "`azure_ad_token_provider`, or the `AZURE_OPENAI_API_KEY` or `AZURE_OPENAI_AD_TOKEN` "
    "environment variables."
)
_MISSING_VERSION = (
    "Must provide either the `api_version` argument or the `OPENAI_API_VERSION` "
    "environment variable"
)
_MISSING_ENDPOINT = (
    "Must provide one of the `base_url` or `azure_endpoint` arguments, or the "
    "`AZURE_OPENAI_ENDPOINT` environment variable"
)
#: Characters a path segment keeps unescaped (RFC 3986 §3.3 ``pchar``), as the official SDK.
_PCHAR = "!$&'()*+,;=:@"
_BAD_TOKEN = "Expected `azure_ad_token_provider` argument to return a non-empty string."
_REALTIME_PATH = "/realtime"
_NO_MODEL = "`model` is required for Azure Realtime API"


class MutuallyExclusiveAuthError(OpenAIError):
    """More than one of ``api_key``, ``azure_ad_token``, ``azure_ad_token_provider``."""

    def __init__(self) -> None:
        super().__init__(
            "The `api_key`, `azure_ad_token` and `azure_ad_token_provider` arguments are "
            "mutually exclusive; Only one can be passed at a time"
        )


@dataclass(frozen=True)
class WebSocketRequest:
    """Where and how a WebSocket of an Azure client connects (see
    :meth:`AzureSettings.websocket_request`).

    ``auth_headers`` rank where the OpenAI client's ``Authorization`` does (below
    ``default_headers``); ``extra_headers`` replace the call's own (the top rank).
    """

    url: str
    auth_headers: Dict[str, str]
    extra_headers: Dict[str, Union[str, Omit]]


class AzureSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The resolved Azure configuration of one client (see :meth:`resolve`)."""

    api_version: str
    base_url: str
    azure_endpoint: Optional[str] = None
    """The endpoint the base URL was built from (``None`` when ``base_url`` was given)."""
    azure_deployment: Optional[str] = None
    """The deployment fixed in the base URL by ``azure_deployment`` (with an endpoint only)."""
    api_key: Optional[str] = None
    azure_ad_token: Optional[str] = None

    @classmethod
    def resolve(
        cls,
        *,
        api_version: Optional[str] = None,
        azure_endpoint: Optional[str] = None,
        azure_deployment: Optional[str] = None,
        api_key: Optional[str] = None,
        has_key_provider: bool = False,
        azure_ad_token: Optional[str] = None,
        has_ad_token_provider: bool = False,
        base_url: Optional[str] = None,
        environ: Mapping[str, str],
    ) -> AzureSettings:
        """Resolve the arguments against ``environ`` in the official SDK's order.

        Explicit credentials exclude each other (:class:`MutuallyExclusiveAuthError`); with
        none, ``AZURE_OPENAI_AD_TOKEN`` wins over ``AZURE_OPENAI_API_KEY``; none at all is an
        :class:`OpenAIError`. A missing API version or endpoint, or ``base_url`` together
        with ``azure_endpoint``, is a ``ValueError``.
        """
        given = (api_key is not None or has_key_provider, azure_ad_token is not None)
        if sum(given) + has_ad_token_provider > 1:
            raise MutuallyExclusiveAuthError()
        if not any(given) and not has_ad_token_provider:
            azure_ad_token = environ.get("AZURE_OPENAI_AD_TOKEN")
            if azure_ad_token is None:
                api_key = environ.get("AZURE_OPENAI_API_KEY")
        if (
            api_key is None
            and not has_key_provider
            and azure_ad_token is None
            and not has_ad_token_provider
        ):
            raise OpenAIError(_MISSING_CREDENTIALS)
        if api_version is None:
            api_version = environ.get("OPENAI_API_VERSION")
        if api_version is None:
            raise ValueError(_MISSING_VERSION)
        if base_url is None:
            if azure_endpoint is None:
                azure_endpoint = environ.get("AZURE_OPENAI_ENDPOINT")
            if azure_endpoint is None:
                raise ValueError(_MISSING_ENDPOINT)
            base_url = f"{azure_endpoint.rstrip('/')}/openai"
            if azure_deployment is not None:
                base_url += f"/deployments/{azure_deployment}"
        elif azure_endpoint is not None:
            raise ValueError("base_url and azure_endpoint are mutually exclusive")
        return cls(
            api_version=api_version,
            base_url=base_url,
            azure_endpoint=azure_endpoint,
            azure_deployment=azure_deployment if azure_endpoint else None,
            api_key=api_key,
            azure_ad_token=azure_ad_token,
        )

    def default_query(self, query: Optional[Mapping[str, object]]) -> Dict[str, object]:
        """The client's default query with ``api-version`` set (it wins over the caller's)."""
        return {**(query or {}), "api-version": self.api_version}

    def route(
        self, config: ClientConfig, op: Operation, body: Optional[Mapping[str, object]]
    ) -> Tuple[ClientConfig, Operation]:
        """The configuration and operation one call is built with.

        A deployment-based endpoint gets ``/deployments/{model}`` in front of its path when
        the base URL names no deployment and the body has a ``model``; with a deployment
        fixed by ``azure_deployment``, any other endpoint is sent below ``{endpoint}/openai``.
        """
        path = op.path.partition("?")[0]
        if path in DEPLOYMENT_ENDPOINTS:
            model = body.get("model") if body is not None else None
            if isinstance(model, str) and "/deployments" not in urlsplit(config.base_url).path:
                prefixed = f"/deployments/{quote(model, safe=_PCHAR)}{op.path}"
                return config, msgspec.structs.replace(op, path=prefixed)
            return config, op
        if self.azure_deployment and self.azure_endpoint:
            origin, base_path, _ = split_base_url(f"{self.azure_endpoint.rstrip('/')}/openai")
            base = f"{origin.scheme}://{origin.host_header}{base_path}"
            return msgspec.structs.replace(config, base_url=base), op
        return config, op

    def websocket_request(
        self,
        config: ClientConfig,
        *,
        path: str,
        beta: bool,
        model: Optional[str],
        call_id: Optional[str],
        extra_query: Optional[Mapping[str, object]],
        extra_headers: Optional[Mapping[str, Union[str, Omit]]],
        api_key: Optional[str],
        azure_ad_token: Optional[str],
    ) -> WebSocketRequest:
        """The URL and credential of a WebSocket handshake below the endpoint ``path``.

        ``/realtime`` (GA and beta), the official SDK's ``_configure_realtime``: the query
        is ``extra_query`` (with ``call_id``), then ``api-version`` and
        ``deployment`` (``azure_deployment``, else ``model``; no ``model`` parameter), over
        the client's ``default_query``; the base is ``websocket_base_url`` as given, else
        ``{endpoint}/openai`` with a fixed deployment or ``base_url`` otherwise, with the
        scheme ``wss`` whatever the base's; the credential is ``api-key`` when there is a
        key, else ``Authorization: Bearer <AD token>``, ranked below ``default_headers``.
        The GA API needs ``model`` (:class:`OpenAIError`), even with a fixed deployment.

        Any other path (``/responses``): the SDK has no Azure branch there, so the client's
        ordinary WebSocket URL (``base_url`` with ``ws``/``wss``, ``api-version`` from the
        default query) and its HTTP credential (:func:`auth_headers`, AD token first) ranked
        as a request's own header: above ``default_headers``, below an ``extra_headers``
        entry of the same name.
        """
        if path != _REALTIME_PATH:
            url = build_realtime_url(
                base_url=config.base_url,
                websocket_base_url=config.websocket_base_url,
                model=model,
                call_id=call_id,
                extra_query=extra_query,
                beta=beta,
                default_query=config.default_query,
                path=path,
            )
            given = {name.lower() for name in extra_headers or {}}
            credential = auth_headers(azure_ad_token=azure_ad_token, api_key=api_key)
            merged: Dict[str, Union[str, Omit]] = {
                name: value for name, value in credential.items() if name.lower() not in given
            }
            merged.update(extra_headers or {})
            return WebSocketRequest(url=url, auth_headers={}, extra_headers=merged)

        if not beta and not model:
            raise OpenAIError(_NO_MODEL)
        query: Dict[str, object] = dict(extra_query or {})
        if call_id is not None:
            query["call_id"] = call_id
        query["api-version"] = self.api_version
        query["deployment"] = self.azure_deployment or model
        base = config.websocket_base_url
        if base is None:
            rest = config.base_url
            if self.azure_deployment and self.azure_endpoint:
                rest = f"{self.azure_endpoint.rstrip('/')}/openai"
            parts = urlsplit(rest)
            base = urlunsplit(("wss", parts.netloc, parts.path, parts.query, ""))
        # The beta rule is Azure's: the base's scheme is kept (no http -> ws mapping).
        url = build_realtime_url(
            base_url=base,
            websocket_base_url=base,
            model=None,
            call_id=None,
            extra_query=query,
            beta=True,
            default_query=config.default_query,
        )
        if api_key and api_key != API_KEY_SENTINEL:
            credential = {"api-key": api_key}
        elif azure_ad_token:
            credential = {"Authorization": f"Bearer {azure_ad_token}"}
        else:
            credential = {}
        return WebSocketRequest(
            url=url, auth_headers=credential, extra_headers=dict(extra_headers or {})
        )


def check_ad_token(token: object) -> str:
    """What an ``azure_ad_token_provider`` returned, checked: a non-empty ``str``."""
    if isinstance(token, str):
        token = str.__str__(token)  # a str subclass must not pick its own rendering
    if not isinstance(token, str) or not token:
        raise ValueError(_BAD_TOKEN)
    return token


def auth_headers(*, azure_ad_token: Optional[str], api_key: Optional[str]) -> Dict[str, str]:
    """The request's credential: ``Authorization: Bearer <AD token>`` when there is a token,
    else ``api-key: <key>`` (none for an empty key, so ``default_headers`` may carry it).

    The engine puts these above ``default_headers`` and below the call's ``extra_headers``,
    the official SDK's precedence.
    """
    if azure_ad_token is not None:
        return {"Authorization": f"Bearer {azure_ad_token}"}
    if api_key and api_key != API_KEY_SENTINEL:
        return {"api-key": api_key}
    return {}
