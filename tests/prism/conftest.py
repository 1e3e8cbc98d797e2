"""A Prism mock server built from the OpenAPI spec, shared by the session.

Prism (npm ``@stoplight/prism-cli``) answers every path of the spec with the spec's own
examples and, first, validates the request against the spec: a 422 from it means we built a
request the spec does not allow. It is installed into the git-ignored ``.cache/prism/``
(``.ci/run`` does it before the tests; the fixture does it when missing), started on a free
127.0.0.1 port in static mode, and stopped when the session ends.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from ._args import SPEC_PATH

ROOT = Path(__file__).resolve().parents[2]
PRISM_DIR = ROOT / ".cache" / "prism"
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
INSTALL_TIMEOUT = 300.0
# Prism parses and dereferences the 80k-line spec before it listens: ~17 s on 2 cores.
STARTUP_TIMEOUT = 150.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class PrismServer:
    """A running Prism mock: where it listens, how long it took to start, where it logs."""

    url: str
    startup_seconds: float
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _install_prism() -> None:
    if PRISM_BIN.exists():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("Prism mock tests need node and npm (to install @stoplight/prism-cli)")
    try:
        done = subprocess.run(
            [npm, "install", "--prefix", str(PRISM_DIR), "--no-audit", "--no-fund", PRISM_PACKAGE],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm install {PRISM_PACKAGE} took longer than {INSTALL_TIMEOUT:.0f} s")
    if done.returncode != 0 or not PRISM_BIN.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        pytest.skip(f"npm install {PRISM_PACKAGE} failed: " + " | ".join(tail))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _ready(port: int) -> bool:
    """True once Prism answers a spec path (it only listens after loading the spec)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2.0)
    try:
        conn.request("GET", "/models", headers={"Authorization": "Bearer sk-test"})
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismServer]:
    """Prism serving the spec on 127.0.0.1 (static examples, ``--errors false``)."""
    if not SPEC_PATH.exists():
        pytest.skip(f"spec not found at {SPEC_PATH}")
    _install_prism()
    port = _free_port()
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    cmd = [str(PRISM_BIN), "mock", str(SPEC_PATH), "-h", "127.0.0.1", "-p", str(port)]
    cmd += ["--errors", "false"]
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT
        )
    server = PrismServer(url=f"http://127.0.0.1:{port}", startup_seconds=0.0, log_path=log_path)
    try:
        deadline = started + STARTUP_TIMEOUT
        while not _ready(port):
            if proc.poll() is not None:
                pytest.fail(f"Prism exited with {proc.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Prism not ready after {STARTUP_TIMEOUT:.0f} s:\n{server.log_tail()}")
            time.sleep(0.25)
        server = PrismServer(
            url=server.url, startup_seconds=time.monotonic() - started, log_path=log_path
        )
        if os.environ.get("PRISM_VERBOSE"):
            sys.stderr.write(f"\nprism ready in {server.startup_seconds:.1f} s at {server.url}\n")
        yield server
    finally:
        _stop(proc)
