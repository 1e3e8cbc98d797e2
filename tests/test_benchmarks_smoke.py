"""Smoke test of ``benchmarks/``: every script runs with tiny sizes and reports ratios.

Proves the benchmarks still run against the current library and the installed official
SDK (they reach into both). Nothing here asserts a speed: the sizes are far too small for
the numbers to mean anything, and CI machines vary.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

pytest.importorskip("openai")

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [
    "bench_import",
    "bench_sse",
    "bench_decode",
    "bench_stream",
    "bench_requests",
    "bench_embeddings",
]
ROW_KEYS = {"workload", "unit", "ours", "official", "ratio", "better", "goal", "met", "note"}


def run(args: List[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=55, check=False
    )


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_runs_and_reports_ratios(name: str) -> None:
    proc = run([f"benchmarks/{name}.py", "--quick", "--json"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ratio" in proc.stderr  # the human-readable report goes to stderr with --json
    doc = json.loads(proc.stdout)  # stdout carries only the JSON document
    assert doc["benchmark"] == name.removeprefix("bench_")
    assert doc["versions"]["openai"]
    rows = doc["rows"]
    assert rows
    for row in rows:
        assert ROW_KEYS <= row.keys()
        assert row["official"] > 0
        if row["ratio"] is not None:
            assert row["ours"] > 0
            assert row["ratio"] > 0
        if row["goal"]:
            assert isinstance(row["met"], bool)
    assert any(row["ratio"] is not None for row in rows)


def test_run_all_prints_one_markdown_table(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    proc = run(
        ["benchmarks/run_all.py", "--quick", "--only", "sse,embeddings", "--output", str(out)]
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert proc.stdout.strip() == text.strip()
    assert "nproc" in text and "python: CPython" in text and "msgspec" in text
    lines = text.splitlines()
    header = lines.index(
        "| workload | openai-proto | openai " + _sdk_version() + " | ratio | goal | status |"
    )
    rows = [line for line in lines[header + 2 :] if line.startswith("| ")]
    assert len(rows) == 2 + 4  # bench_sse's rows, then bench_embeddings'
    assert all(line.count(" | ") == 5 for line in rows)
    assert "x |" in rows[0]  # a ratio
    assert "Goals met:" in text


def test_run_all_rejects_an_unknown_benchmark() -> None:
    proc = run(["benchmarks/run_all.py", "--only", "nonsense"])
    assert proc.returncode == 2
    assert "unknown benchmark" in proc.stderr


def _sdk_version() -> str:
    import openai

    return openai.__version__
