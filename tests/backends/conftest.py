"""Fixtures for the driver suites: which event loop and which HTTP driver run the tests.

anyio's pytest plugin runs every async test once per ``anyio_backend`` (asyncio, trio).
Tests that take ``driver`` (directly or through ``make_http_client``) run once more per
HTTP driver, which gives four combinations:

========  ==========  =============================================
loop      driver      HTTP client
========  ==========  =============================================
asyncio   native      ``AsyncHTTPClient`` over the asyncio driver
trio      native      ``AsyncHTTPClient`` over the trio driver
asyncio   httpcore    ``HttpcoreHTTPClient`` (httpcore on anyio)
trio      httpcore    ``HttpcoreHTTPClient`` (httpcore on trio)
========  ==========  =============================================
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Callable, List, Optional

import pytest

from backends import AsyncHTTPClient

_HERE = Path(__file__).parent

# httpcore 1.0.x leaves the async generators behind a response body to the garbage
# collector when the response is closed before its end (fixed upstream by
# encode/httpcore#1019, unreleased as of 1.0.9); trio reports each as a ResourceWarning,
# which pytest raises here. Only those generators, by name, and only in httpcore runs.
_HTTPCORE_ABANDONED_GENERATORS = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <async_generator object "
    r"(HTTP11ConnectionByteStream\.__aiter__|AsyncHTTP11Connection\._receive_response_body) at:"
    r"pytest.PytestUnraisableExceptionWarning"
)


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if (
            callspec is not None
            and callspec.params.get("driver") == "httpcore"
            and _HERE in item.path.parents
        ):
            item.add_marker(_HTTPCORE_ABANDONED_GENERATORS)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Async tests here run on every loop we have a driver for."""
    return str(request.param)


@pytest.fixture(params=["native", "httpcore"])
def driver(request: pytest.FixtureRequest) -> str:
    """``native``: our pool over the loop's own driver; ``httpcore``: an httpcore pool."""
    return str(request.param)


@pytest.fixture
def make_http_client(anyio_backend: str, driver: str) -> Callable[..., AsyncHTTPClient]:
    """A factory of the HTTP client for this test's (loop, driver) combination."""

    def make(
        *, ssl_context: Optional[ssl.SSLContext] = None, max_connections: int = 1000
    ) -> AsyncHTTPClient:
        if driver == "native":
            return AsyncHTTPClient(
                backend=anyio_backend, ssl_context=ssl_context, max_connections=max_connections
            )
        from backends._httpcore import HttpcoreHTTPClient

        return HttpcoreHTTPClient(ssl_context=ssl_context, max_connections=max_connections)

    return make
