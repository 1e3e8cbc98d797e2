"""The one rule: nothing under ``openai_proto`` does I/O or imports an event loop.

Each check runs in a fresh interpreter started with ``-S`` (no ``site`` hooks, which on
some machines import ``threading`` before any user code) and an explicit ``sys.path``.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import site
import subprocess
import sys
from pathlib import Path

import openai_proto

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = [
    "asyncio",
    "trio",
    "anyio",
    "httpcore",
    "httpx",
    "socket",
    "ssl",
    "selectors",
    "threading",
    "logging",
    "sniffio",
    "backends",
]


def _core_modules() -> list[str]:
    names = ["openai_proto"]
    for info in pkgutil.walk_packages(openai_proto.__path__, "openai_proto."):
        names.append(info.name)
    return sorted(names)


def _run(code: str) -> dict[str, object]:
    paths = [str(ROOT), *site.getsitepackages()]
    script = f"import sys; sys.path[:0] = {paths!r}\n{code}"
    out = subprocess.run(
        [sys.executable, "-S", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_every_core_module_is_pure() -> None:
    modules = _core_modules()
    assert "openai_proto.sse" in modules and "openai_proto._http11" in modules
    code = (
        "import importlib, json\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(json.dumps(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))\n"
    )
    assert _run(code) == []


def test_probe_detects_an_impure_import() -> None:
    # The check above would be worthless if the probe could not see a forbidden import.
    code = f"import asyncio, json\nprint(json.dumps(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))"
    assert "asyncio" in _run(code)


def test_facade_import_is_lazy() -> None:
    code = (
        "import json, openai_proto\n"
        "before = 'backends' in sys.modules\n"
        "from openai_proto import AsyncOpenAI\n"
        "print(json.dumps([before, AsyncOpenAI.__module__]))"
    )
    assert _run(code) == [False, "backends._client"]


SOURCE_FORBIDDEN = {"time", "random", "secrets", "os", "uuid", "datetime", "email"}


def _module_level(tree: ast.AST) -> list[ast.AST]:
    """Nodes outside function bodies: a function may import the I/O layer lazily on
    purpose (``openai_proto.__getattr__`` hands over ``AsyncOpenAI``)."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(
            child
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
        )
    return out


def test_core_sources_never_import_clock_randomness_or_environment() -> None:
    # msgspec itself imports ``time``, so this rule is checked on our own sources: the
    # clock, randomness and the environment reach the core only as arguments.
    offenders = []
    for path in sorted((ROOT / "openai_proto").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in _module_level(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno} {n}"
                for n in names
                if n.split(".")[0] in SOURCE_FORBIDDEN | set(FORBIDDEN)
            ]
    assert offenders == []
