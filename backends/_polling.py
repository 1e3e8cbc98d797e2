"""The official SDK's polling helpers: ``create_and_poll``, ``poll``, ``upload``,
``upload_and_poll``, ``submit_tool_outputs_and_poll``, ``create_and_run_poll`` and
``files.wait_for_processing``.

Each resource here subclasses its generated class (registered in ``RESOURCE_OVERRIDES`` of
``scripts/generate.py``). What is finished and how long to wait are the core's decisions
(``openai_proto._polling``); this module sends the requests, reads the
``openai-poll-after-ms`` header from the raw response, and sleeps with the client's driver
(``backend.sleep``), so the same code runs on asyncio, trio and, through
``scripts/unasync.py``, the blocking client.

Unlike the official SDK, no ``X-Stainless-Poll-Helper`` or ``X-Stainless-Custom-Poll-Interval``
header is sent: this library sends no vendor telemetry headers.
"""

from __future__ import annotations

import functools
import time
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Optional,
    Sequence,
    Union,
)

from openai_proto._polling import (
    FILE_WAIT_INTERVAL,
    FILE_WAIT_MAX_SECONDS,
    batch_finished,
    check_deadline,
    deadline_from,
    file_wait_expired,
    is_finished,
    next_delay_ms,
    poll_sleep,
    validate_max_concurrency,
    validate_max_wait_seconds,
)
from openai_proto._types import Body, Headers, NotGiven, Omit, Query, Timeout, not_given, omit

from .resources.beta.threads.runs.runs import AsyncRuns as _GeneratedRuns
from .resources.beta.threads.threads import AsyncThreads as _GeneratedThreads
from .resources.files import AsyncFiles as _GeneratedFiles
from .resources.vector_stores.file_batches import AsyncFileBatches as _GeneratedFileBatches
from .resources.vector_stores.files import AsyncFiles as _GeneratedVectorStoreFiles
from .resources.videos import AsyncVideos as _GeneratedVideos

if TYPE_CHECKING:
    from openai_proto.types.beta import Run
    from openai_proto.types.files import FileObject
    from openai_proto.types.vector_stores import VectorStoreFile, VectorStoreFileBatch
    from openai_proto.types.videos import Video

    from ._resource import AsyncAPIResource

__all__ = [
    "AsyncFileBatches",
    "AsyncFiles",
    "AsyncRuns",
    "AsyncThreads",
    "AsyncVectorStoreFiles",
    "AsyncVideos",
]

#: The clock of deadlines (monotonic: a wall-clock step never ends a wait early).
_now: Callable[[], float] = time.monotonic


async def _sleep(resource: AsyncAPIResource, seconds: float) -> None:
    """Sleep with the client's driver (asyncio, trio or blocking), never the loop directly."""
    await resource._client._http.backend.sleep(seconds)


async def _poll_until(
    resource: AsyncAPIResource,
    retrieve: Callable[[], Awaitable[Any]],
    finished: Callable[[Any], bool],
    poll_interval_ms: Union[int, Omit],
    *,
    deadline: Optional[float] = None,
    what: str = "",
) -> Any:
    """Look at an object (``retrieve`` gives the raw response) until ``finished`` says so,
    waiting between looks as the core decides (``poll_interval_ms``, else the server's
    ``openai-poll-after-ms``); with ``deadline``, the builtin ``TimeoutError`` when it
    passes."""
    while True:
        check_deadline(deadline, _now(), what)
        raw = await retrieve()
        obj = raw.parse()
        if finished(obj):
            return obj
        delay = next_delay_ms(poll_interval_ms, raw.headers)
        await _sleep(resource, poll_sleep(delay, deadline=deadline, now=_now(), what=what))


class AsyncFiles(_GeneratedFiles):
    """Operations of ``client.files``, plus ``wait_for_processing``."""

    async def wait_for_processing(
        self,
        id: str,
        *,
        poll_interval: float = FILE_WAIT_INTERVAL,
        max_wait_seconds: float = FILE_WAIT_MAX_SECONDS,
    ) -> FileObject:
        """Wait until the file is ``processed``, ``error`` or ``deleted``, looking every
        ``poll_interval`` seconds; ``RuntimeError`` after ``max_wait_seconds`` (30 min)."""
        started = _now()
        file = await self.retrieve(id)
        while not is_finished("files", file.status):
            await _sleep(self, poll_interval)
            file = await self.retrieve(id)
            if not is_finished("files", file.status) and file_wait_expired(
                started, _now(), max_wait_seconds
            ):
                raise RuntimeError(
                    f"Giving up on waiting for file {id} to finish processing after "
                    f"{max_wait_seconds} seconds."
                )
        return file


class AsyncVectorStoreFiles(_GeneratedVectorStoreFiles):
    """Operations of ``client.vector_stores.files``, plus the polling and upload helpers."""

    async def create_and_poll(
        self,
        file_id: str,
        *,
        vector_store_id: str,
        attributes: Union[Optional[Mapping[str, Union[str, float, bool]]], Omit] = omit,
        poll_interval_ms: Union[int, Omit] = omit,
        max_wait_seconds: Union[float, Omit] = omit,
        chunking_strategy: Union[object, Omit] = omit,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        timeout: Union[float, Timeout, NotGiven, None] = not_given,
    ) -> VectorStoreFile:
        """Attach a file to the vector store and wait until it is processed.

        ``max_wait_seconds`` limits the polling after the attachment; see :meth:`poll`.
        """
        validate_max_wait_seconds(max_wait_seconds)
        await self.create(
            vector_store_id,
            file_id=file_id,
            chunking_strategy=chunking_strategy,
            attributes=attributes,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self.poll(
            file_id,
            vector_store_id=vector_store_id,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
        )

    async def poll(
        self,
        file_id: str,
        *,
        vector_store_id: str,
        poll_interval_ms: Union[int, Omit] = omit,
        max_wait_seconds: Union[float, Omit] = omit,
    ) -> VectorStoreFile:
        """Wait until the vector store file is no longer ``in_progress``.

        Returns a ``failed`` or ``cancelled`` file too: check ``status`` and ``last_error``.
        ``max_wait_seconds`` (finite, >= 0) bounds the polling with the builtin
        ``TimeoutError``; ``0`` sends no request. Omitted, the wait has no limit. The
        processing on the server goes on either way.
        """
        file: VectorStoreFile = await _poll_until(
            self,
            lambda: self.with_raw_response.retrieve(file_id, vector_store_id=vector_store_id),
            lambda file: is_finished("vector_stores.files", file.status),
            poll_interval_ms,
            deadline=deadline_from(max_wait_seconds, _now()),
            what=f"vector store file {file_id!r}",
        )
        return file

    async def upload(
        self,
        *,
        vector_store_id: str,
        file: object,
        chunking_strategy: Union[object, Omit] = omit,
    ) -> VectorStoreFile:
        """Upload a file (``purpose="assistants"``) and attach it to the vector store,
        without waiting for its processing (see :meth:`upload_and_poll`)."""
        uploaded: FileObject = await self._client.files.create(file=file, purpose="assistants")
        return await self.create(
            vector_store_id, file_id=uploaded.id, chunking_strategy=chunking_strategy
        )

    async def upload_and_poll(
        self,
        *,
        vector_store_id: str,
        file: object,
        attributes: Union[Optional[Mapping[str, Union[str, float, bool]]], Omit] = omit,
        poll_interval_ms: Union[int, Omit] = omit,
        max_wait_seconds: Union[float, Omit] = omit,
        chunking_strategy: Union[object, Omit] = omit,
    ) -> VectorStoreFile:
        """Upload a file, attach it to the vector store and wait until it is processed.

        ``max_wait_seconds`` limits the polling after upload and attachment; see :meth:`poll`.
        """
        validate_max_wait_seconds(max_wait_seconds)
        uploaded: FileObject = await self._client.files.create(file=file, purpose="assistants")
        return await self.create_and_poll(
            uploaded.id,
            vector_store_id=vector_store_id,
            attributes=attributes,
            poll_interval_ms=poll_interval_ms,
            max_wait_seconds=max_wait_seconds,
            chunking_strategy=chunking_strategy,
        )


class AsyncFileBatches(_GeneratedFileBatches):
    """Operations of ``client.vector_stores.file_batches``, plus the polling helpers."""

    async def create_and_poll(
        self,
        vector_store_id: str,
        *,
        attributes: Union[Optional[Mapping[str, Union[str, float, bool]]], Omit] = omit,
        chunking_strategy: Union[object, Omit] = omit,
        file_ids: Union[Sequence[str], Omit] = omit,
        files: Union[Iterable[object], Omit] = omit,
        poll_interval_ms: Union[int, Omit] = omit,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        timeout: Union[float, Timeout, NotGiven, None] = not_given,
    ) -> VectorStoreFileBatch:
        """Create a file batch and wait until none of its files is in progress."""
        batch = await self.create(
            vector_store_id,
            attributes=attributes,
            chunking_strategy=chunking_strategy,
            file_ids=file_ids,
            files=files,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self.poll(
            batch.id, vector_store_id=vector_store_id, poll_interval_ms=poll_interval_ms
        )

    async def poll(
        self,
        batch_id: str,
        *,
        vector_store_id: str,
        poll_interval_ms: Union[int, Omit] = omit,
    ) -> VectorStoreFileBatch:
        """Wait until ``file_counts.in_progress`` is zero.

        Returns even if files failed: check ``file_counts.failed``. No time limit, as the
        official SDK's.
        """
        batch: VectorStoreFileBatch = await _poll_until(
            self,
            lambda: self.with_raw_response.retrieve(batch_id, vector_store_id=vector_store_id),
            lambda batch: batch_finished(batch.file_counts.in_progress),
            poll_interval_ms,
        )
        return batch

    async def upload_and_poll(
        self,
        vector_store_id: str,
        *,
        files: Iterable[object],
        max_concurrency: int = 5,
        file_ids: Sequence[str] = (),
        poll_interval_ms: Union[int, Omit] = omit,
        chunking_strategy: Union[object, Omit] = omit,
    ) -> VectorStoreFileBatch:
        """Upload ``files`` (``purpose="assistants"``), at most ``max_concurrency`` at a
        time, then create a batch of them and of ``file_ids`` and wait for it.

        Concurrent uploads run as tasks of the running loop (asyncio or trio) and, on the
        blocking client, on a pool of threads. The first failed upload is raised and the
        others are cancelled; uploaded ids keep the order of ``files``.
        """
        limit = validate_max_concurrency(max_concurrency)
        create = self._client.files.create
        calls = [functools.partial(create, file=file, purpose="assistants") for file in files]
        uploaded = await self._client._http.backend.run_all(calls, limit)
        return await self.create_and_poll(
            vector_store_id,
            file_ids=[*file_ids, *(f.id for f in uploaded)],
            poll_interval_ms=poll_interval_ms,
            chunking_strategy=chunking_strategy,
        )


class AsyncVideos(_GeneratedVideos):
    """Operations of ``client.videos``, plus ``create_and_poll`` and ``poll``."""

    async def create_and_poll(
        self,
        *,
        prompt: str,
        input_reference: Union[object, Omit] = omit,
        model: Union[str, Omit] = omit,
        seconds: Union[str, Omit] = omit,
        size: Union[str, Omit] = omit,
        poll_interval_ms: Union[int, Omit] = omit,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        timeout: Union[float, Timeout, NotGiven, None] = not_given,
    ) -> Video:
        """Create a video and wait until it is ``completed`` or ``failed``."""
        video = await self.create(
            prompt=prompt,
            input_reference=input_reference,
            model=model,
            seconds=seconds,
            size=size,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self.poll(video.id, poll_interval_ms=poll_interval_ms)

    async def poll(self, video_id: str, *, poll_interval_ms: Union[int, Omit] = omit) -> Video:
        """Wait while the video is ``queued`` or ``in_progress``.

        Returns a ``failed`` video too: check ``status`` and ``error``. No time limit.
        """
        video: Video = await _poll_until(
            self,
            lambda: self.with_raw_response.retrieve(video_id),
            lambda video: is_finished("videos", video.status),
            poll_interval_ms,
        )
        return video


class AsyncRuns(_GeneratedRuns):
    """Operations of ``client.beta.threads.runs``, plus the polling helpers."""

    async def create_and_poll(
        self,
        *,
        assistant_id: str,
        include: Union[Sequence[str], Omit] = omit,
        additional_instructions: Union[Optional[str], Omit] = omit,
        additional_messages: Union[Optional[Iterable[object]], Omit] = omit,
        instructions: Union[Optional[str], Omit] = omit,
        max_completion_tokens: Union[Optional[int], Omit] = omit,
        max_prompt_tokens: Union[Optional[int], Omit] = omit,
        metadata: Union[Optional[Mapping[str, str]], Omit] = omit,
        model: Union[Optional[str], Omit] = omit,
        parallel_tool_calls: Union[bool, Omit] = omit,
        reasoning_effort: Union[Optional[str], Omit] = omit,
        response_format: Union[object, Omit] = omit,
        temperature: Union[Optional[float], Omit] = omit,
        tool_choice: Union[object, Omit] = omit,
        tools: Union[Optional[Iterable[object]], Omit] = omit,
        top_p: Union[Optional[float], Omit] = omit,
        truncation_strategy: Union[object, Omit] = omit,
        poll_interval_ms: Union[int, Omit] = omit,
        thread_id: str,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        timeout: Union[float, Timeout, NotGiven, None] = not_given,
    ) -> Run:
        """Create a run (``stream=False``) and poll it to a resting state; see :meth:`poll`."""
        run = await self.create(
            thread_id,
            assistant_id=assistant_id,
            include=include,
            additional_instructions=additional_instructions,
            additional_messages=additional_messages,
            instructions=instructions,
            max_completion_tokens=max_completion_tokens,
            max_prompt_tokens=max_prompt_tokens,
            metadata=metadata,
            model=model,
            parallel_tool_calls=parallel_tool_calls,
            reasoning_effort=reasoning_effort,
            response_format=response_format,
            temperature=temperature,
            tool_choice=tool_choice,
            tools=tools,
            top_p=top_p,
            truncation_strategy=truncation_strategy,
            stream=False,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self.poll(
            run.id,
            thread_id,
            extra_headers,
            extra_query,
            extra_body,
            timeout,
            poll_interval_ms,
        )

    async def poll(
        self,
        run_id: str,
        thread_id: str,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        timeout: Union[float, Timeout, NotGiven, None] = not_given,
        poll_interval_ms: Union[int, Omit] = omit,
    ) -> Run:
        """Poll the run until it is ``requires_action``, ``cancelled``, ``completed``,
        ``failed``, ``expired`` or ``incomplete`` (the lifecycle's resting states). No time
        limit. The ``extra_*`` and ``timeout`` options go with every look."""
        run: Run = await _poll_until(
            self,
            lambda: self.with_raw_response.retrieve(
                run_id,
                thread_id=thread_id,
                extra_headers=extra_headers,
                extra_query=extra_query,
                extra_body=extra_body,
                timeout=timeout,
            ),
            lambda run: is_finished("beta.threads.runs", run.status),
            poll_interval_ms,
        )
        return run

    async def submit_tool_outputs_and_poll(
        self,
        *,
        tool_outputs: Iterable[object],
        run_id: str,
        thread_id: str,
        poll_interval_ms: Union[int, Omit] = omit,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        timeout: Union[float, Timeout, NotGiven, None] = not_given,
    ) -> Run:
        """Submit tool outputs (``stream=False``) and poll the run to a resting state."""
        run = await self.submit_tool_outputs(
            run_id,
            thread_id=thread_id,
            tool_outputs=tool_outputs,
            stream=False,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self.poll(
            run.id,
            thread_id,
            extra_headers,
            extra_query,
            extra_body,
            timeout,
            poll_interval_ms,
        )


class AsyncThreads(_GeneratedThreads):
    """Operations of ``client.beta.threads``, plus ``create_and_run_poll``."""

    async def create_and_run_poll(
        self,
        *,
        assistant_id: str,
        instructions: Union[Optional[str], Omit] = omit,
        max_completion_tokens: Union[Optional[int], Omit] = omit,
        max_prompt_tokens: Union[Optional[int], Omit] = omit,
        metadata: Union[Optional[Mapping[str, str]], Omit] = omit,
        model: Union[Optional[str], Omit] = omit,
        parallel_tool_calls: Union[bool, Omit] = omit,
        response_format: Union[object, Omit] = omit,
        temperature: Union[Optional[float], Omit] = omit,
        thread: Union[object, Omit] = omit,
        tool_choice: Union[object, Omit] = omit,
        tool_resources: Union[object, Omit] = omit,
        tools: Union[Optional[Iterable[object]], Omit] = omit,
        top_p: Union[Optional[float], Omit] = omit,
        truncation_strategy: Union[object, Omit] = omit,
        poll_interval_ms: Union[int, Omit] = omit,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        timeout: Union[float, Timeout, NotGiven, None] = not_given,
    ) -> Run:
        """Create a thread, start a run (``stream=False``) and poll it to a resting state."""
        run = await self.create_and_run(
            assistant_id=assistant_id,
            instructions=instructions,
            max_completion_tokens=max_completion_tokens,
            max_prompt_tokens=max_prompt_tokens,
            metadata=metadata,
            model=model,
            parallel_tool_calls=parallel_tool_calls,
            response_format=response_format,
            temperature=temperature,
            stream=False,
            thread=thread,
            tool_choice=tool_choice,
            tool_resources=tool_resources,
            tools=tools,
            top_p=top_p,
            truncation_strategy=truncation_strategy,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return await self.runs.poll(
            run.id,
            run.thread_id,
            extra_headers,
            extra_query,
            extra_body,
            timeout,
            poll_interval_ms,
        )
