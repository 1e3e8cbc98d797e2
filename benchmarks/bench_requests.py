"""Non-streamed chat over loopback: client CPU per request, openai-proto vs the official SDK.

Both clients call ``chat.completions.create`` (no streaming) against the same server process
(the ``backends.fake_openai`` application under uvicorn, in a child process so its CPU is not
counted), at two concurrencies:

- **1**: one request after the other;
- **64**: ``asyncio.gather`` of 64 tasks, each sending its share of the N requests one after
  the other, so 64 requests are in flight (on 64 kept-alive connections) all the time.

We time the client process's CPU (``time.process_time``: every thread, user + system) over
N requests and divide by N. Each client runs in its own ``asyncio.run`` and warms up first
(connections opened, lazy imports and model builds done). Medians of ``--rounds``;
ratio = official / openai-proto. Goal: 12x less CPU per request or better.

    python benchmarks/bench_requests.py [--requests 640] [--rounds 5] [--quick] [--json]
                                        [--stock-server]

The server: ``benchmarks/_server.py`` runs ``python -m backends.fake_openai``, whose listening
socket is created with protocol 0, so asyncio does not set ``TCP_NODELAY`` on the accepted
connections (``asyncio.base_events._set_nodelay`` checks ``sock.proto == IPPROTO_TCP``); the
response head and body then go out as two segments and the body waits for the client's
delayed ACK: about 40 ms per request, for every client. Until that is fixed, this script
serves the same application (``create_app``) from a socket made with ``IPPROTO_TCP``
(``--serve``); ``--stock-server`` uses ``_server.server_process`` instead.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import selectors
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, ContextManager, Dict, Iterator, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import h11
import openai

from benchmarks._server import server_process
from openai_proto import AsyncOpenAI

MESSAGES: Any = [{"role": "user", "content": "benchmark"}]
EXPECTED = "Hello! You said: benchmark"  # what backends.fake_openai answers
CONCURRENCIES = (1, 64)
#: The floor clients (see FloorClient) and how their rows are labelled.
FLOORS = {
    "floor: asyncio": "floor: asyncio transport and sockets only, no HTTP library",
    "floor: asyncio + h11": "floor: asyncio transport + h11, nothing else",
}


def serve() -> int:
    """Child mode: serve ``backends.fake_openai.create_app`` with ``TCP_NODELAY`` connections."""
    import uvicorn

    from backends.fake_openai import FakeState, create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    config = uvicorn.Config(
        create_app(FakeState()),
        log_level="warning",
        log_config=None,
        access_log=False,
        lifespan="off",
        loop="asyncio",
        http="h11",
        ws="none",
    )
    # Connections queue in the backlog until uvicorn accepts them; SIGTERM stops uvicorn.
    print(f"LISTENING http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


@contextmanager
def nodelay_server(timeout: float = 30.0) -> Iterator[str]:
    """Yield the base URL of a ``--serve`` child process; stop it afterwards."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve"],
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


class _FloorProtocol(asyncio.Protocol):
    """One raw connection of :class:`FloorClient`: collects one response at a time."""

    def __init__(self, with_h11: bool) -> None:
        self.h11 = h11.Connection(h11.CLIENT) if with_h11 else None
        self.buffer = bytearray()
        self.done: Optional[asyncio.Future[bytes]] = None

    def data_received(self, data: bytes) -> None:
        if self.h11 is None:
            # No HTTP library: just wait for Content-Length bytes after the head.
            self.buffer += data
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            start = head.index(b"content-length:") + len(b"content-length:")
            stop = head.find(b"\r\n", start)
            length = int(head[start:] if stop < 0 else head[start:stop])
            if len(self.buffer) >= end + 4 + length:
                self._finish(bytes(self.buffer[end + 4 :]))
            return
        conn = self.h11
        conn.receive_data(data)
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                return
            if type(event) is h11.Data:
                self.buffer += event.data
            elif type(event) is h11.EndOfMessage:
                conn.start_next_cycle()
                self._finish(bytes(self.buffer))
                return

    def _finish(self, body: bytes) -> None:
        self.buffer.clear()
        assert self.done is not None
        self.done.set_result(body)


class FloorClient:
    """What any client over asyncio must spend per request, measured on the same server.

    Not a client: the request is built once (by openai-proto's ``build_request``), nothing
    is decoded, there are no timeouts or retries. ``with_h11=False`` writes the fixed request
    bytes and waits for ``Content-Length`` bytes (the event loop and the sockets alone);
    ``with_h11=True`` also runs every request and response through ``h11.Connection`` (a
    new ``h11.Request`` each time, as every h11 client must), the HTTP/1.1 layer both
    openai-proto and the official SDK (via httpcore) use.
    """

    def __init__(self, url: str, *, with_h11: bool) -> None:
        from openai_proto._catalogue import chat_completions_create
        from openai_proto._config import ClientConfig, split_base_url
        from openai_proto._request import build_request

        config = ClientConfig.create(api_key="sk-bench", base_url=url, environ={})
        request = build_request(
            config, chat_completions_create, body={"model": "bench", "messages": MESSAGES}
        )
        origin, _, _ = split_base_url(url)
        self.address = (origin.host, origin.port)
        self.with_h11 = with_h11
        self.method = request.method.encode()
        self.target = request.target.encode()
        self.body = request.body or b""
        self.headers = [(n.encode(), v.encode()) for n, v in request.headers]
        self.headers.append((b"Content-Length", str(len(self.body)).encode()))
        head = b"".join(b"%s: %s\r\n" % pair for pair in self.headers)
        self.raw = b"%s %s HTTP/1.1\r\n%s\r\n%s" % (self.method, self.target, head, self.body)
        self.idle: List[Tuple[asyncio.Transport, _FloorProtocol]] = []

    async def call(self) -> bytes:
        loop = asyncio.get_running_loop()
        if self.idle:
            transport, protocol = self.idle.pop()
        else:
            made = await loop.create_connection(
                lambda: _FloorProtocol(self.with_h11), *self.address
            )
            transport, protocol = made  # type: ignore[assignment]
        protocol.done = loop.create_future()
        conn = protocol.h11
        if conn is None:
            transport.write(self.raw)
        else:
            request = h11.Request(method=self.method, target=self.target, headers=self.headers)
            transport.write(
                b"".join(
                    [
                        conn.send(request) or b"",
                        conn.send(h11.Data(data=self.body)) or b"",
                        conn.send(h11.EndOfMessage()) or b"",
                    ]
                )
            )
        body = await protocol.done
        self.idle.append((transport, protocol))
        return body

    async def close(self) -> None:
        for transport, _ in self.idle:
            transport.close()
        self.idle.clear()


async def one(client: Any) -> None:
    if isinstance(client, FloorClient):
        body = await client.call()
        if EXPECTED.encode() not in body:
            raise SystemExit(f"unexpected reply: {body!r}")
        return
    completion = await client.chat.completions.create(model="bench", messages=MESSAGES)
    if completion.choices[0].message.content != EXPECTED:
        raise SystemExit(f"unexpected reply: {completion.choices[0].message.content!r}")


class CountingSelector(selectors.DefaultSelector):
    """The default selector, adding up the process CPU time spent inside ``select()``.

    A blocked ``epoll_wait`` costs no CPU on bare metal, but on some virtual machines part
    of the blocked time is charged to the process, and the client that waits more (the
    faster one, at concurrency 1) would be charged more. "CPU outside select" shows how
    much that is (it also drops the small real cost of the system call, for both clients).
    """

    def __init__(self) -> None:
        super().__init__()
        self.cpu = 0.0

    def select(self, timeout: Optional[float] = None) -> Any:
        start = time.process_time()
        try:
            return super().select(timeout)
        finally:
            self.cpu += time.process_time() - start


async def batch(
    client: Any, requests: int, concurrency: int, selector: CountingSelector
) -> Tuple[float, float]:
    """Send ``requests`` requests, ``concurrency`` at a time.

    Returns the client's CPU seconds, and those spent outside ``select()``.
    """

    async def worker(count: int) -> None:
        for _ in range(count):
            await one(client)

    shares = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]
    start, in_select = time.process_time(), selector.cpu
    if concurrency == 1:
        await worker(requests)
    else:
        await asyncio.gather(*(worker(n) for n in shares))
    cpu = time.process_time() - start
    return cpu, cpu - (selector.cpu - in_select)


async def measure(
    make: Callable[[], Any],
    requests: int,
    rounds: int,
    concurrency: int,
    selector: CountingSelector,
) -> List[Tuple[float, float]]:
    """(CPU µs, CPU µs outside select) per request, for each round."""
    client = make()
    try:
        await batch(client, concurrency * 2, concurrency, selector)  # warm up: connections
        out = []
        for _ in range(rounds):
            cpu, outside = await batch(client, requests, concurrency, selector)
            out.append((cpu / requests * 1e6, outside / requests * 1e6))
        return out
    finally:
        await client.close()


def run_client(
    make: Callable[[], Any], requests: int, rounds: int, concurrency: int
) -> List[Tuple[float, float]]:
    """``measure`` on a fresh selector event loop whose selector counts its CPU time."""
    selector = CountingSelector()
    loop = asyncio.SelectorEventLoop(selector)
    try:
        return loop.run_until_complete(measure(make, requests, rounds, concurrency, selector))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def make_row(
    concurrency: int, ours: List[float], official: List[float], note: str
) -> Dict[str, Any]:
    value, other = statistics.median(ours), statistics.median(official)
    ratio = other / value
    return {
        "workload": "non-stream chat over loopback, client CPU per request, "
        f"concurrency {concurrency}",
        "unit": "µs/request",
        "ours": value,
        "official": other,
        "ratio": ratio,
        "better": "lower",
        "goal": ">= 12x less",
        "met": ratio >= 12.0,
        "note": note,
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=640, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="64 requests, 2 rounds")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--stock-server", action="store_true", help="use benchmarks/_server.py as it is"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve()
    if args.quick:
        args.requests, args.rounds = 64, 2
    # results[concurrency][client] = [(CPU µs, CPU µs outside select) per request, per round]
    results: Dict[int, Dict[str, List[Tuple[float, float]]]] = {}
    server: ContextManager[str] = server_process() if args.stock_server else nodelay_server()
    with server as url:
        makers: Dict[str, Callable[[], Any]] = {
            "openai-proto": lambda: AsyncOpenAI(api_key="sk-bench", base_url=url),
            "openai": lambda: openai.AsyncOpenAI(api_key="sk-bench", base_url=url),
            "floor: asyncio": lambda: FloorClient(url, with_h11=False),
            "floor: asyncio + h11": lambda: FloorClient(url, with_h11=True),
        }
        for concurrency in CONCURRENCIES:
            results[concurrency] = {
                name: run_client(make, args.requests, args.rounds, concurrency)
                for name, make in makers.items()
            }
    note = f"{args.requests} requests per round, median of {args.rounds} rounds"
    if args.stock_server:
        note += " (stock server: ~40 ms delayed-ACK stall per request)"

    def column(concurrency: int, name: str, index: int) -> List[float]:
        return [sample[index] for sample in results[concurrency][name]]

    rows = []
    for c in CONCURRENCIES:
        ours_out = statistics.median(column(c, "openai-proto", 1))
        theirs_out = statistics.median(column(c, "openai", 1))
        rows.append(
            make_row(
                c,
                column(c, "openai-proto", 0),
                column(c, "openai", 0),
                f"{note}; outside select(): {ours_out:.0f} vs {theirs_out:.0f} µs",
            )
        )
    for c in CONCURRENCIES:
        official = statistics.median(column(c, "openai", 0))
        for name in FLOORS:
            value = statistics.median(column(c, name, 0))
            rows.append(
                {
                    "workload": f"{FLOORS[name]}, concurrency {c}",
                    "unit": "µs/request",
                    "ours": value,
                    "official": official,
                    "ratio": official / value,
                    "better": "lower",
                    "goal": None,
                    "met": None,
                    "note": "the best ratio any client doing this much could reach; "
                    f"12x would need <= {official / 12:.0f} µs",
                }
            )
    # With --json the text goes to stderr and stdout carries only the JSON document.
    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout)
    say(f"non-streamed chat, {note}; client CPU µs per request (and outside select())")
    say(f"{'client':<22} {'concurrency':>11} {'median':>9} {'best':>9} {'outside select':>15}")
    for concurrency, by_client in results.items():
        for name in by_client:
            label = f"openai {openai.__version__}" if name == "openai" else name
            cpu, outside = column(concurrency, name, 0), column(concurrency, name, 1)
            say(
                f"{label:<22} {concurrency:>11} {statistics.median(cpu):9.1f} "
                f"{min(cpu):9.1f} {statistics.median(outside):15.1f}"
            )
    for c, row in zip(CONCURRENCIES, rows):
        status = "met" if row["met"] else "NOT met"
        say(
            f"ratio (official / openai-proto, median), concurrency {c}: "
            f"{row['ratio']:.1f}x less CPU per request (goal >= 12x: {status})"
        )
    if args.json:
        doc = {
            "benchmark": "requests",
            "params": {
                "requests": args.requests,
                "rounds": args.rounds,
                "stock_server": args.stock_server,
            },
            "versions": {"openai": openai.__version__},
            "rows": rows,
        }
        print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
