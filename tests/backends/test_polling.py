"""The polling helpers end to end on the fake server: every async driver, then the blocking
client. Vector-store files and batches are processed by the server over a few polls;
runs, videos and files are scripted. Intervals are a few milliseconds; every loop ends."""

from __future__ import annotations

import inspect
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import openai.resources.beta.threads.runs.runs as sdk_runs
import openai.resources.beta.threads.threads as sdk_threads
import openai.resources.files as sdk_files
import openai.resources.vector_stores.file_batches as sdk_file_batches
import openai.resources.vector_stores.files as sdk_vs_files
import openai.resources.videos as sdk_videos
import pytest

import backends._polling as async_polling
import backends._sync._polling as sync_polling
from backends import AsyncHTTPClient, OpenAI
from backends.fake_openai import FakeServer, RecordedRequest, Reply
from openai_proto import AsyncOpenAI, BadRequestError

VS = "vs_1"


def _run(status: str, *, run_id: str = "run_1", thread_id: str = "th_1") -> Dict[str, Any]:
    """A ``Run`` object (every required field of the spec's ``RunObject``)."""
    return {
        "id": run_id,
        "object": "thread.run",
        "created_at": 1_700_000_000,
        "thread_id": thread_id,
        "assistant_id": "asst_1",
        "status": status,
        "required_action": None,
        "last_error": None,
        "expires_at": None,
        "started_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "incomplete_details": None,
        "model": "gpt-4o-mini",
        "instructions": "",
        "tools": [],
        "metadata": {},
        "usage": None,
        "max_prompt_tokens": None,
        "max_completion_tokens": None,
        "truncation_strategy": None,
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "response_format": "auto",
    }


def _video(status: str) -> Dict[str, Any]:
    return {
        "id": "video_1",
        "object": "video",
        "model": "sora-2",
        "status": status,
        "progress": 100 if status == "completed" else 10,
        "created_at": 1_700_000_000,
        "completed_at": None,
        "expires_at": None,
        "prompt": "a cat",
        "size": "720x1280",
        "seconds": "4",
        "remixed_from_video_id": None,
        "error": None,
    }


def _file(status: str, file_id: str = "file-000001") -> Dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": 5,
        "created_at": 1_700_000_000,
        "filename": "a.txt",
        "purpose": "assistants",
        "status": status,
    }


def _paths(server: FakeServer) -> List[str]:
    return [f"{r.method} {r.path}" for r in server.state.requests]


def _no_vendor_headers(requests: List[RecordedRequest]) -> None:
    for request in requests:
        assert not [h for h in request.headers if h.lower().startswith("x-stainless")], request


class SleepLog:
    """Stands in for the helpers' ``_sleep``: records the seconds, sleeps nothing."""

    def __init__(self) -> None:
        self.seconds: List[float] = []

    async def async_sleep(self, resource: Any, seconds: float) -> None:
        self.seconds.append(seconds)

    def sleep(self, resource: Any, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepLog:
    log = SleepLog()
    monkeypatch.setattr(async_polling, "_sleep", log.async_sleep)
    monkeypatch.setattr(sync_polling, "_sleep", log.sleep)
    return log


# == async: every loop and driver ================================================================


@pytest.fixture
def aclient(server: FakeServer, make_http_client: Callable[..., AsyncHTTPClient]) -> AsyncOpenAI:
    return AsyncOpenAI(
        base_url=server.url, api_key="sk-test", http_client=make_http_client(), max_retries=0
    )


@pytest.mark.anyio
async def test_upload_and_poll_vector_store_file(server: FakeServer, aclient: AsyncOpenAI) -> None:
    server.state.poll_after_ms = 2  # the driver really sleeps 2 ms between looks
    async with aclient:
        result = await aclient.vector_stores.files.upload_and_poll(
            vector_store_id=VS, file=("a.txt", b"hello"), attributes={"k": "v"}
        )
    assert result.status == "completed"
    assert result.id == "file-000001" and result.vector_store_id == VS
    assert result.attributes == {"k": "v"}
    assert _paths(server) == [
        "POST /v1/files",
        f"POST /v1/vector_stores/{VS}/files",
        *[f"GET /v1/vector_stores/{VS}/files/file-000001"] * 3,
    ]
    _no_vendor_headers(server.state.requests)


@pytest.mark.anyio
async def test_poll_interval_sources(
    server: FakeServer, aclient: AsyncOpenAI, sleeps: SleepLog
) -> None:
    async with aclient:
        await aclient.files.create(file=("a.txt", b"x"), purpose="assistants")
        # the header when no interval is given
        server.state.poll_after_ms = 7
        await aclient.vector_stores.files.create_and_poll("file-000001", vector_store_id=VS)
        assert sleeps.seconds == [0.007, 0.007]
        # the caller's interval over the header
        sleeps.seconds.clear()
        await aclient.vector_stores.files.create_and_poll(
            "file-000001", vector_store_id="vs_2", poll_interval_ms=3
        )
        assert sleeps.seconds == [0.003, 0.003]
        # one second when neither
        sleeps.seconds.clear()
        server.state.poll_after_ms = None
        server.state.processing_polls = 1
        await aclient.vector_stores.files.create_and_poll("file-000001", vector_store_id="vs_3")
        assert sleeps.seconds == [1.0]


@pytest.mark.anyio
async def test_max_wait_seconds(server: FakeServer, aclient: AsyncOpenAI) -> None:
    server.state.processing_polls = 10_000
    server.state.poll_after_ms = 5
    async with aclient:
        await aclient.files.create(file=("a.txt", b"x"), purpose="assistants")
        with pytest.raises(ValueError, match="max_wait_seconds"):
            await aclient.vector_stores.files.create_and_poll(
                "file-000001", vector_store_id=VS, max_wait_seconds=-1
            )
        assert len(server.state.requests) == 1  # refused before attaching
        with pytest.raises(TimeoutError, match="vector store file 'file-000001'"):
            await aclient.vector_stores.files.create_and_poll(
                "file-000001", vector_store_id=VS, max_wait_seconds=0
            )
        assert _paths(server)[-1] == f"POST /v1/vector_stores/{VS}/files"  # no poll at all
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await aclient.vector_stores.files.poll(
                "file-000001", vector_store_id=VS, max_wait_seconds=0.05
            )
        assert time.monotonic() - started < 5
    polls = _paths(server).count(f"GET /v1/vector_stores/{VS}/files/file-000001")
    assert 1 <= polls <= 12  # about 50 ms of 5 ms waits


@pytest.mark.anyio
async def test_file_batch_upload_and_poll_bounded_concurrency(
    server: FakeServer, aclient: AsyncOpenAI
) -> None:
    server.state.poll_after_ms = 1
    in_flight = peak = 0
    async with aclient:
        existing = await aclient.files.create(file=("pre.txt", b"0"), purpose="assistants")
        create = aclient.files.create

        async def counted(**kwargs: Any) -> Any:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                await aclient._http.backend.sleep(0.02)
                return await create(**kwargs)
            finally:
                in_flight -= 1

        aclient.files.create = counted  # type: ignore[method-assign]
        batch = await aclient.vector_stores.file_batches.upload_and_poll(
            VS,
            files=[(f"{i}.txt", str(i).encode()) for i in range(5)],
            max_concurrency=2,
            file_ids=[existing.id],
        )
    assert peak == 2
    assert batch.status == "completed"
    assert batch.file_counts.completed == batch.file_counts.total == 6
    created = next(r for r in server.state.requests if r.path.endswith("/file_batches"))
    assert created.json["file_ids"][0] == existing.id
    assert sorted(created.json["file_ids"][1:]) == [f"file-{i:06d}" for i in range(2, 7)]
    assert _paths(server).count(f"GET /v1/vector_stores/{VS}/file_batches/vsfb_000001") == 3
    _no_vendor_headers(server.state.requests)


@pytest.mark.anyio
async def test_file_batch_upload_failure_is_raised(
    server: FakeServer, aclient: AsyncOpenAI
) -> None:
    server.state.script("/v1/files", Reply(status=400, json={"error": {"message": "bad file"}}))
    async with aclient:
        with pytest.raises(BadRequestError, match="bad file"):
            await aclient.vector_stores.file_batches.upload_and_poll(
                VS, files=[(f"{i}.txt", b"x") for i in range(3)], max_concurrency=3
            )
        with pytest.raises(ValueError, match="max_concurrency"):
            await aclient.vector_stores.file_batches.upload_and_poll(
                VS, files=[], max_concurrency=0
            )
    # The cancelled uploads' connections are gone, so any request of theirs is recorded in
    # this test, not in the next one.
    assert server.wait_for_connections(0)
    assert not any("file_batches" in p for p in _paths(server))


@pytest.mark.anyio
async def test_runs_create_and_poll(
    server: FakeServer, aclient: AsyncOpenAI, sleeps: SleepLog
) -> None:
    get = "/v1/threads/th_1/runs/run_1"
    server.state.script("/v1/threads/th_1/runs", Reply(json=_run("queued")))
    server.state.script(
        get,
        Reply(json=_run("in_progress"), headers={"openai-poll-after-ms": "4"}),
        Reply(json=_run("cancelling")),
        Reply(json=_run("requires_action")),
        Reply(json=_run("completed")),  # never reached
    )
    async with aclient:
        run = await aclient.beta.threads.runs.create_and_poll(
            thread_id="th_1", assistant_id="asst_1", extra_headers={"X-Trace": "t1"}
        )
    assert run.status == "requires_action"
    assert sleeps.seconds == [0.004, 1.0]
    assert server.state.pending(get) == 1
    created, *polls = server.state.requests
    assert created.path == "/v1/threads/th_1/runs"
    assert created.json["stream"] is False and created.json["assistant_id"] == "asst_1"
    assert [p.path for p in polls] == [get] * 3
    assert all(p.headers["x-trace"] == "t1" for p in polls)
    assert all(p.headers["openai-beta"] == "assistants=v2" for p in polls)
    _no_vendor_headers(server.state.requests)


@pytest.mark.anyio
async def test_submit_tool_outputs_and_poll_and_create_and_run_poll(
    server: FakeServer, aclient: AsyncOpenAI, sleeps: SleepLog
) -> None:
    server.state.script(
        "/v1/threads/th_1/runs/run_1/submit_tool_outputs", Reply(json=_run("queued"))
    )
    server.state.script(
        "/v1/threads/th_1/runs/run_1",
        Reply(json=_run("in_progress")),
        Reply(json=_run("completed")),
    )
    server.state.script("/v1/threads/runs", Reply(json=_run("queued", thread_id="th_9")))
    server.state.script(
        "/v1/threads/th_9/runs/run_1", Reply(json=_run("expired", thread_id="th_9"))
    )
    async with aclient:
        run = await aclient.beta.threads.runs.submit_tool_outputs_and_poll(
            run_id="run_1",
            thread_id="th_1",
            tool_outputs=[{"tool_call_id": "c1", "output": "42"}],
            poll_interval_ms=2,
        )
        assert run.status == "completed"
        assert sleeps.seconds == [0.002]
        run = await aclient.beta.threads.create_and_run_poll(
            assistant_id="asst_1", thread={"messages": []}
        )
        assert run.status == "expired" and run.thread_id == "th_9"
    submitted = server.state.requests[0]
    assert submitted.json == {
        "tool_outputs": [{"tool_call_id": "c1", "output": "42"}],
        "stream": False,
    }
    assert _paths(server)[-2:] == ["POST /v1/threads/runs", "GET /v1/threads/th_9/runs/run_1"]
    assert server.state.requests[-2].json["stream"] is False


@pytest.mark.anyio
async def test_videos_create_and_poll(server: FakeServer, aclient: AsyncOpenAI) -> None:
    server.state.script("/v1/videos", Reply(json=_video("queued")))
    server.state.script(
        "/v1/videos/video_1",
        Reply(json=_video("queued")),
        Reply(json=_video("in_progress"), headers={"openai-poll-after-ms": "1"}),
        Reply(json=_video("failed")),
    )
    async with aclient:
        video = await aclient.videos.create_and_poll(prompt="a cat", poll_interval_ms=1)
    assert video.status == "failed"  # returned, not raised: the caller checks status
    assert _paths(server) == ["POST /v1/videos", *["GET /v1/videos/video_1"] * 3]
    _no_vendor_headers(server.state.requests)


@pytest.mark.anyio
async def test_files_wait_for_processing(server: FakeServer, aclient: AsyncOpenAI) -> None:
    async with aclient:
        uploaded = await aclient.files.create(file=("a.txt", b"hello"), purpose="assistants")
        path = f"/v1/files/{uploaded.id}"
        server.state.script(path, Reply(json=_file("uploaded")), Reply(json=_file("uploaded")))
        done = await aclient.files.wait_for_processing(uploaded.id, poll_interval=0.001)
        assert done.status == "processed"
        assert _paths(server).count(f"GET {path}") == 3
        server.state.script(path, *[Reply(json=_file("uploaded"))] * 200)
        with pytest.raises(RuntimeError, match="Giving up on waiting for file"):
            await aclient.files.wait_for_processing(
                uploaded.id, poll_interval=0.002, max_wait_seconds=0.02
            )
    assert server.state.pending(path) > 0  # gave up well before the script ran out


# == the blocking client ===========================================================================


@pytest.fixture
def client(server: FakeServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.url, api_key="sk-test", max_retries=0) as client:
        yield client


def test_sync_upload_and_poll(server: FakeServer, client: OpenAI) -> None:
    server.state.poll_after_ms = 1
    result = client.vector_stores.files.upload_and_poll(vector_store_id=VS, file=("a.txt", b"hi"))
    assert result.status == "completed"
    assert _paths(server)[-1] == f"GET /v1/vector_stores/{VS}/files/file-000001"
    assert len(server.state.requests) == 5
    attached = client.vector_stores.files.upload(vector_store_id="vs_2", file=("b.txt", b"x"))
    assert attached.status == "in_progress"  # upload() does not wait
    _no_vendor_headers(server.state.requests)


def test_sync_poll_sources_and_deadline(
    server: FakeServer, client: OpenAI, sleeps: SleepLog
) -> None:
    client.files.create(file=("a.txt", b"x"), purpose="assistants")
    server.state.poll_after_ms = 9
    client.vector_stores.files.create_and_poll("file-000001", vector_store_id=VS)
    assert sleeps.seconds == [0.009, 0.009]
    server.state.processing_polls = 10_000
    with pytest.raises(TimeoutError):
        client.vector_stores.files.create_and_poll(
            "file-000001", vector_store_id="vs_2", max_wait_seconds=0
        )


def test_sync_file_batch_threads_bounded(server: FakeServer, client: OpenAI) -> None:
    server.state.poll_after_ms = 1
    lock = threading.Lock()
    in_flight = peak = 0
    create = client.files.create

    def counted(**kwargs: Any) -> Any:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            time.sleep(0.02)
            return create(**kwargs)
        finally:
            with lock:
                in_flight -= 1

    client.files.create = counted  # type: ignore[method-assign]
    batch = client.vector_stores.file_batches.upload_and_poll(
        VS, files=[(f"{i}.txt", b"x") for i in range(6)], max_concurrency=3
    )
    assert peak == 3
    assert batch.file_counts.completed == 6 and batch.file_counts.in_progress == 0
    created = next(r for r in server.state.requests if r.path.endswith("/file_batches"))
    assert sorted(created.json["file_ids"]) == [f"file-{i:06d}" for i in range(1, 7)]


def test_sync_runs_and_videos(server: FakeServer, client: OpenAI, sleeps: SleepLog) -> None:
    server.state.script("/v1/threads/th_1/runs", Reply(json=_run("queued")))
    server.state.script(
        "/v1/threads/th_1/runs/run_1",
        Reply(json=_run("in_progress"), headers={"openai-poll-after-ms": "6"}),
        Reply(json=_run("incomplete")),
    )
    server.state.script("/v1/videos/video_1", Reply(json=_video("completed")))
    run = client.beta.threads.runs.create_and_poll(thread_id="th_1", assistant_id="asst_1")
    assert run.status == "incomplete"
    video = client.videos.poll("video_1")
    assert video.status == "completed"
    assert sleeps.seconds == [0.006]
    _no_vendor_headers(server.state.requests)


def test_sync_wait_for_processing(server: FakeServer, client: OpenAI) -> None:
    uploaded = client.files.create(file=("a.txt", b"hello"), purpose="assistants")
    server.state.script(f"/v1/files/{uploaded.id}", Reply(json=_file("uploaded")))
    done = client.files.wait_for_processing(uploaded.id, poll_interval=0.001)
    assert done.status == "processed"
    assert _paths(server).count(f"GET /v1/files/{uploaded.id}") == 2


def test_helpers_on_both_clients(server: FakeServer) -> None:
    """The overrides are wired: both clients' attributes are the polling subclasses."""
    sync = OpenAI(base_url=server.url, api_key="sk-test")
    asyn = AsyncOpenAI(base_url=server.url, api_key="sk-test")
    pairs: List[tuple[Any, Optional[type]]] = [
        (sync.files, sync_polling.Files),
        (sync.vector_stores.files, sync_polling.VectorStoreFiles),
        (sync.vector_stores.file_batches, sync_polling.FileBatches),
        (sync.videos, sync_polling.Videos),
        (sync.beta.threads, sync_polling.Threads),
        (sync.beta.threads.runs, sync_polling.Runs),
        (asyn.files, async_polling.AsyncFiles),
        (asyn.vector_stores.files, async_polling.AsyncVectorStoreFiles),
        (asyn.vector_stores.file_batches, async_polling.AsyncFileBatches),
        (asyn.videos, async_polling.AsyncVideos),
        (asyn.beta.threads, async_polling.AsyncThreads),
        (asyn.beta.threads.runs, async_polling.AsyncRuns),
    ]
    for resource, cls in pairs:
        assert type(resource) is cls
    sync.close()


HELPERS = [
    ("Files", "AsyncFiles", sdk_files, "Files", ["wait_for_processing"]),
    (
        "VectorStoreFiles",
        "AsyncVectorStoreFiles",
        sdk_vs_files,
        "Files",
        ["create_and_poll", "poll", "upload", "upload_and_poll"],
    ),
    (
        "FileBatches",
        "AsyncFileBatches",
        sdk_file_batches,
        "FileBatches",
        ["create_and_poll", "poll", "upload_and_poll"],
    ),
    ("Videos", "AsyncVideos", sdk_videos, "Videos", ["create_and_poll", "poll"]),
    (
        "Runs",
        "AsyncRuns",
        sdk_runs,
        "Runs",
        ["create_and_poll", "poll", "submit_tool_outputs_and_poll"],
    ),
    ("Threads", "AsyncThreads", sdk_threads, "Threads", ["create_and_run_poll"]),
]


@pytest.mark.parametrize(("sync_name", "async_name", "sdk", "sdk_name", "methods"), HELPERS)
def test_signatures_match_the_official_sdk(
    sync_name: str, async_name: str, sdk: Any, sdk_name: str, methods: List[str]
) -> None:
    """Same parameter names, kinds, order and simple defaults as ``openai`` (sync and async)."""

    def shape(fn: Any) -> List[Any]:
        out = []
        for p in inspect.signature(fn).parameters.values():
            default = p.default if isinstance(p.default, (int, float)) else None
            out.append((p.name, p.kind, default))
        return out

    for ours, theirs in (
        (getattr(sync_polling, sync_name), getattr(sdk, sdk_name)),
        (getattr(async_polling, async_name), getattr(sdk, "Async" + sdk_name)),
    ):
        for method in methods:
            assert shape(getattr(ours, method)) == shape(getattr(theirs, method)), method
