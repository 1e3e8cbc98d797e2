"""``AsyncAzureOpenAI``: the official SDK's Azure client over the same engine and drivers.

Same constructor, environment variables and ``copy()`` as ``openai.AsyncAzureOpenAI``. The
decisions (configuration, ``api-version``, deployment routing, auth headers) are the core's
(:mod:`openai_proto._azure`); this class calls the credential providers per attempt and
hands the engine one hook (``Engine(prepare=...)``), and the WebSocket handshakes of
``realtime.connect`` / ``beta.realtime.connect`` / ``responses.connect`` another
(``_prepare_websocket``, overriding the client's OpenAI rules).
"""

from __future__ import annotations

import inspect
import os
from typing import Awaitable, Callable, Mapping, Optional, Tuple, Union

from openai_proto._azure import API_KEY_SENTINEL, AzureSettings, auth_headers, check_ad_token
from openai_proto._config import ClientConfig
from openai_proto._operation import Operation
from openai_proto._types import NOT_GIVEN, NotGiven, Omit, Timeout

from ._base import AsyncTransport
from ._client import AsyncOpenAI
from ._engine import Engine

__all__ = ["AsyncAzureADTokenProvider", "AsyncAzureOpenAI"]

AsyncAzureADTokenProvider = Callable[[], Union[str, Awaitable[str]]]
AzureApiKey = Union[str, Callable[[], Awaitable[str]], None]


class AsyncAzureOpenAI(AsyncOpenAI):
    """Azure OpenAI client: ``AsyncOpenAI`` with Azure's URLs, ``api-version`` and auth.

    Pass one of ``api_key`` (a string or a callable), ``azure_ad_token`` or
    ``azure_ad_token_provider`` (called before every attempt; the async client also awaits
    what it returns); with none, ``AZURE_OPENAI_AD_TOKEN`` then ``AZURE_OPENAI_API_KEY``.
    """

    def __init__(
        self,
        *,
        api_version: Optional[str] = None,
        azure_endpoint: Optional[str] = None,
        azure_deployment: Optional[str] = None,
        api_key: AzureApiKey = None,
        azure_ad_token: Optional[str] = None,
        azure_ad_token_provider: Optional[AsyncAzureADTokenProvider] = None,
        organization: Optional[str] = None,
        project: Optional[str] = None,
        webhook_secret: Optional[str] = None,
        websocket_base_url: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: Union[float, Timeout, NotGiven, None] = NOT_GIVEN,
        max_retries: int = 2,
        default_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        default_query: Optional[Mapping[str, object]] = None,
        http_client: object = None,
        backend: str = "auto",
        _strict_response_validation: bool = False,
        _environ: Optional[Mapping[str, str]] = None,
    ) -> None:
        environ = os.environ if _environ is None else _environ
        key_provider = api_key if callable(api_key) else None
        self._azure = AzureSettings.resolve(
            api_version=api_version,
            azure_endpoint=azure_endpoint,
            azure_deployment=azure_deployment,
            api_key=api_key if isinstance(api_key, str) else None,
            has_key_provider=key_provider is not None,
            azure_ad_token=azure_ad_token,
            has_ad_token_provider=azure_ad_token_provider is not None,
            base_url=base_url,
            environ=environ,
        )
        # The credential is the hook's to send: the OpenAI client underneath gets none
        # (``""`` sends no ``Authorization`` and skips ``OPENAI_API_KEY``).
        super().__init__(
            api_key="",
            organization=organization,
            project=project,
            webhook_secret=webhook_secret,
            base_url=self._azure.base_url,
            websocket_base_url=websocket_base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            default_query=self._azure.default_query(default_query),
            http_client=http_client,
            backend=backend,
            _strict_response_validation=_strict_response_validation,
            _environ=environ,
        )
        self._api_key_provider = key_provider
        self._azure_ad_token_provider = azure_ad_token_provider
        self._engine = Engine(config=self._config, http=self._http, prepare=self._prepare)

    @property
    def api_key(self) -> str:
        """The API key, or ``"<missing API key>"`` (as the official client) when another
        credential is used."""
        return self._azure.api_key or API_KEY_SENTINEL

    @property
    def api_version(self) -> str:
        return self._azure.api_version

    async def _credentials(self) -> Tuple[Optional[str], Optional[str]]:
        """The API key and the Azure AD token of one attempt or handshake, their providers
        called (and, for the async client, awaited) now. At most one kind is configured."""
        token = self._azure.azure_ad_token
        provider = self._azure_ad_token_provider
        if token is None and provider is not None:
            value: object = provider()
            # unasync: async-only
            if inspect.isawaitable(value):
                value = await value
            token = check_ad_token(value)
        key = self._azure.api_key
        if self._api_key_provider is not None:
            key = await self._api_key_provider()
        return key, token

    async def _prepare(
        self, op: Operation, body: Optional[Mapping[str, object]]
    ) -> Tuple[ClientConfig, Operation, Mapping[str, str]]:
        """The engine's per-attempt hook: route the call, then fetch the credential."""
        config, routed = self._azure.route(self._config, op, body)
        key, token = await self._credentials()
        return config, routed, auth_headers(azure_ad_token=token, api_key=key)

    async def _prepare_websocket(
        self,
        *,
        path: str,
        beta: bool,
        model: Optional[str],
        call_id: Optional[str],
        extra_query: Optional[Mapping[str, object]],
        extra_headers: Optional[Mapping[str, Union[str, Omit]]],
    ) -> Tuple[str, Mapping[str, str], Mapping[str, Union[str, Omit]]]:
        """The WebSocket handshake's hook (``realtime.connect``, ``beta.realtime.connect``,
        ``responses.connect``; every reconnection too): the URL, the credential ranked
        below ``default_headers`` and the call's headers, as the core decides them."""
        key, token = await self._credentials()
        request = self._azure.websocket_request(
            self._config,
            path=path,
            beta=beta,
            model=model,
            call_id=call_id,
            extra_query=extra_query,
            extra_headers=extra_headers,
            api_key=key,
            azure_ad_token=token,
        )
        return request.url, request.auth_headers, request.extra_headers

    def copy(
        self,
        *,
        api_key: AzureApiKey = None,
        organization: Optional[str] = None,
        project: Optional[str] = None,
        webhook_secret: Optional[str] = None,
        websocket_base_url: Optional[str] = None,
        api_version: Optional[str] = None,
        azure_ad_token: Optional[str] = None,
        azure_ad_token_provider: Optional[AsyncAzureADTokenProvider] = None,
        base_url: Optional[str] = None,
        timeout: Union[float, Timeout, NotGiven, None] = NOT_GIVEN,
        max_retries: Union[int, NotGiven] = NOT_GIVEN,
        default_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        set_default_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        default_query: Optional[Mapping[str, object]] = None,
        set_default_query: Optional[Mapping[str, object]] = None,
        http_client: Optional[AsyncTransport] = None,
    ) -> AsyncAzureOpenAI:
        """A new client with some options changed, sharing the connection pool.

        As the official SDK: a new credential replaces the old one (of any kind); the
        endpoint and deployment routing carry over unless ``base_url`` is given.
        """
        cfg, azure = self._config, self._azure
        if api_key is None and azure_ad_token is None and azure_ad_token_provider is None:
            api_key = self._api_key_provider or azure.api_key
            azure_ad_token = azure.azure_ad_token
            azure_ad_token_provider = self._azure_ad_token_provider
        endpoint, deployment = azure.azure_endpoint, azure.azure_deployment
        if base_url is not None or endpoint is None:
            base_url, endpoint, deployment = base_url or azure.base_url, None, None
        return type(self)(
            api_version=api_version or azure.api_version,
            api_key=api_key,
            azure_ad_token=azure_ad_token,
            azure_ad_token_provider=azure_ad_token_provider,
            http_client=http_client or self._http,
            azure_endpoint=endpoint,
            azure_deployment=deployment,
            base_url=base_url,
            _environ={},
            **cfg.copy_arguments(
                organization=organization,
                project=project,
                webhook_secret=webhook_secret,
                websocket_base_url=websocket_base_url,
                timeout=timeout,
                max_retries=max_retries,
                default_headers=default_headers,
                set_default_headers=set_default_headers,
                default_query=default_query,
                set_default_query=set_default_query,
            ),
        )

    with_options = copy

    def __repr__(self) -> str:
        return f"<AsyncAzureOpenAI base_url={self.base_url!r} backend={self._http!r}>"
