"""The documentation site builds with ``mkdocs build --strict`` (broken links, missing
snippets and API-reference errors all fail it)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_TOOLS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


def _missing_tools() -> list[str]:
    missing = []
    for name in _TOOLS:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        if not found:
            missing.append(name)
    return missing


@pytest.mark.timeout(150)
@pytest.mark.skipif(
    bool(_missing_tools()),
    reason=f"docs tools not installed ({', '.join(_missing_tools())}): "
    "pip install 'mkdocs-material>=9' 'mkdocstrings[python]>=0.24'",
)
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", str(site)],
        cwd=ROOT,  # snippet paths in the pages are relative to the repository root
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pages = {p.relative_to(site).as_posix() for p in site.rglob("index.html")}
    for page in (
        "index.html",
        "quickstart/index.html",
        "migrating/index.html",
        "guides/asyncio/index.html",
        "guides/trio/index.html",
        "guides/embedding/index.html",
        "guides/fuzzing/index.html",
        "guides/cli-and-logging/index.html",
        "architecture/index.html",
        "reference/openai_proto/index.html",
        "reference/sse/index.html",
        "reference/backends/index.html",
    ):
        assert page in pages
    # The API reference really rendered the objects, and the guide inlined the example.
    reference = (site / "reference" / "backends" / "index.html").read_text()
    assert 'id="backends.AsyncOpenAI"' in reference
    assert 'id="openai_proto.sse.SSEDecoder"' in (site / "reference/sse/index.html").read_text()
    embedding = (site / "guides" / "embedding" / "index.html").read_text()
    assert "stream_chat" in embedding and "HTTP11Connection" in embedding
