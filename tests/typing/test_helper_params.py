"""A type checker sees the keyword arguments the structured-output helpers and the Responses
WebSocket ``response.create`` forward (``**params: Unpack[...]``, PEP 692).

``mypy --strict`` runs on two sample files that are never executed: ``params_ok.py`` must be
clean, and ``params_bad.py`` must be reported on exactly its lines marked ``# error``
(misspelled keywords such as ``temprature=0.1``, wrong value types, ``stream=`` that the
helpers set themselves).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Set

import pytest

pytest.importorskip("mypy")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OK = HERE / "params_ok.py"
BAD = HERE / "params_bad.py"
_ERROR_RE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<msg>.*)$")


def _mypy_errors(tmp_path: Path) -> Dict[str, Dict[int, str]]:
    """Errors by file name and line from one ``mypy --strict`` run on both samples."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "mypy_cache"),
            str(OK.relative_to(ROOT)),
            str(BAD.relative_to(ROOT)),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=50,
        check=False,
    )
    assert out.returncode in (0, 1), out.stderr or out.stdout  # 2: mypy itself failed
    errors: Dict[str, Dict[int, str]] = {}
    for line in out.stdout.splitlines():
        m = _ERROR_RE.match(line)
        if m:
            errors.setdefault(Path(m["file"]).name, {})[int(m["line"])] = m["msg"]
    return errors


def _marked(path: Path) -> Set[int]:
    lines = path.read_text().splitlines()
    return {i for i, text in enumerate(lines, 1) if text.rstrip().endswith("# error")}


def test_type_checker_sees_the_forwarded_keywords(tmp_path: Path) -> None:
    errors = _mypy_errors(tmp_path)
    assert errors.get(OK.name, {}) == {}
    bad = errors.get(BAD.name, {})
    marked = _marked(BAD)
    assert len(marked) >= 10
    assert set(bad) == marked, bad
    typo = [msg for msg in bad.values() if '"temprature"' in msg]
    assert len(typo) == 8
    assert all('did you mean "temperature"' in msg for msg in typo)
    assert any('"temperature"' in msg and "incompatible type" in msg for msg in bad.values())
