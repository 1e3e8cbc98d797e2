"""Run the fake OpenAI server in a child process for benchmarks (its CPU is not ours)."""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def server_process(timeout: float = 30.0) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT/v1``) of a fresh server process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "backends.fake_openai", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("LISTENING "):
                yield line.split()[1] + "/v1"
                return
            if not line:
                break
        raise RuntimeError("benchmark server did not start")
    finally:
        proc.terminate()
        proc.wait(10)
