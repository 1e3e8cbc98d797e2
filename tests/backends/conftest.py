"""Fixtures for the driver suites: which event loop runs the async tests."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["asyncio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Async tests here run on every loop we have a driver for."""
    return str(request.param)
