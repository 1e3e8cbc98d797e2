"""Session-wide servers and sockets shared by every test directory.

The fake OpenAI server (``backends/fake_openai.py``) is imported lazily, so core tests
do not load starlette or uvicorn.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    import trustme

    from backends.fake_openai import FakeServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the pure core and fuzz tests first, before any test-server thread exists:
    hypothesis checks that nothing else draws from the global ``random`` while it
    generates data, and some server libraries do (keepalive ping payloads)."""
    first = ("tests/core/", "tests/fuzz/")
    items.sort(key=lambda item: 0 if item.nodeid.startswith(first) else 1)


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    """A fake OpenAI server over plain HTTP on 127.0.0.1, shared by the session."""
    from backends.fake_openai import FakeServer

    with FakeServer() as server:
        yield server


@pytest.fixture
def server(fake_server: FakeServer) -> Iterator[FakeServer]:
    """The session's HTTP server with fresh state (no requests, scripts, key or delay)."""
    fake_server.state.reset()
    yield fake_server


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    """A throwaway certificate authority; trust it with ``tls_ca.configure_trust(ctx)``."""
    import trustme

    return trustme.CA()


@pytest.fixture(scope="session")
def tls_ca_pem(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CA certificate as a PEM file (for ``cafile=`` style APIs)."""
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def tls_server(
    tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FakeServer]:
    """The fake server over HTTPS, certified by ``tls_ca`` for 127.0.0.1 and localhost.

    Session-scoped and not reset between tests: call ``tls_server.state.reset()`` if needed.
    """
    from backends.fake_openai import FakeServer

    cert = tls_ca.issue_cert("127.0.0.1", "localhost")
    path = tmp_path_factory.mktemp("tls") / "server.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(path))
    with FakeServer(certfile=str(path)) as server:
        yield server


@pytest.fixture
def refused_port() -> int:
    """A 127.0.0.1 port with nothing listening (bound, read back, closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
