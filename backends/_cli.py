"""``python -m openai_proto chat|models``: the client from a terminal.

``chat "prompt"`` streams the answer token by token; ``models`` lists the model ids.
The key comes from ``OPENAI_API_KEY``, the endpoint from ``--base-url`` (or
``OPENAI_BASE_URL``), the event loop from ``--backend``. Failures are one line on stderr
and exit status 1, never a traceback. ``demo`` is served by ``backends/_demo.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Coroutine, List, Optional, Sequence, TextIO

from openai_proto._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    OpenAIError,
    RateLimitError,
)

__all__ = ["build_parser", "describe_error", "main"]

PROG = "python -m openai_proto"
DEFAULT_MODEL = "gpt-4o-mini"
BACKENDS = ("auto", "asyncio", "trio")


class CLIError(Exception):
    """A failure already phrased for the user (printed as ``error: <message>``)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="A Sans-IO OpenAI client from the command line."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--base-url",
        default=None,
        help="API base URL (default: $OPENAI_BASE_URL or https://api.openai.com/v1)",
    )
    common.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="event loop and driver: auto (asyncio), asyncio or trio (default: auto)",
    )
    common.add_argument(
        "--max-retries", type=int, default=2, help="retries of a failed request (default: 2)"
    )

    chat = commands.add_parser(
        "chat", parents=[common], help="stream a chat completion to the terminal"
    )
    chat.add_argument("prompt", help='the user message ("-" reads it from standard input)')
    chat.add_argument("--model", default=DEFAULT_MODEL, help=f"default: {DEFAULT_MODEL}")
    commands.add_parser("models", parents=[common], help="list the available model ids")
    commands.add_parser("demo", help="run the end-to-end demo against a local server")
    return parser


def _message_of(exc: APIError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, str) and message:
            return message
    return exc.message


def describe_error(exc: BaseException, base_url: str) -> str:
    """One line saying what went wrong, for the errors a terminal user can act on."""
    if isinstance(exc, CLIError):
        text = str(exc)
    elif isinstance(exc, APITimeoutError):
        text = f"request to {base_url} timed out"
    elif isinstance(exc, APIConnectionError):
        cause = exc.__cause__
        detail = f": {cause}" if cause is not None and str(cause) else ""
        text = f"cannot connect to {base_url}{detail}"
    elif isinstance(exc, AuthenticationError):
        text = f"authentication failed (HTTP 401): {_message_of(exc)}; check OPENAI_API_KEY"
    elif isinstance(exc, RateLimitError):
        text = f"rate limited (HTTP 429), giving up after retries: {_message_of(exc)}"
    elif isinstance(exc, APIStatusError):
        text = f"HTTP {exc.status_code}: {_message_of(exc)}"
    elif isinstance(exc, APIError):
        text = _message_of(exc)
    else:
        text = str(exc) or type(exc).__name__
    return "error: " + " ".join(text.split())


def _client(args: argparse.Namespace) -> Any:
    from ._client import AsyncOpenAI

    key = os.environ.get("OPENAI_API_KEY")
    if not key:
        raise CLIError("no API key: set the OPENAI_API_KEY environment variable")
    try:
        return AsyncOpenAI(
            api_key=key,
            base_url=args.base_url,
            max_retries=args.max_retries,
            backend=args.backend,
        )
    except ValueError as exc:  # a malformed base URL
        raise CLIError(str(exc)) from exc


async def chat(args: argparse.Namespace, out: TextIO) -> None:
    """Stream the answer to ``out``, writing each token as it arrives."""
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    messages: Any = [{"role": "user", "content": prompt}]
    wrote = False
    async with _client(args) as client:
        stream = await client.chat.completions.create(
            model=args.model, messages=messages, stream=True
        )
        try:
            async with stream:
                async for chunk in stream:
                    if not chunk.choices:
                        continue
                    text = chunk.choices[0].delta.content
                    if isinstance(text, str) and text:
                        out.write(text)
                        out.flush()
                        wrote = True
        except BaseException:
            if wrote:  # keep the error message off the answer's line
                out.write("\n")
                out.flush()
            raise
    out.write("\n")
    out.flush()


async def models(args: argparse.Namespace, out: TextIO) -> None:
    """Print one model id per line, following pagination."""
    async with _client(args) as client:
        async for model in client.models.list():
            out.write(model.id + "\n")
    out.flush()


def _run(backend: str, command: Callable[[], Coroutine[Any, Any, None]]) -> None:
    if backend == "trio":
        try:
            import trio
        except ImportError:
            raise CLIError("--backend trio needs trio: pip install 'openai-proto[trio]'") from None
        trio.run(command)
    else:
        import asyncio

        asyncio.run(command())


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; return the exit status (0 success, 1 failure, 2 usage error)."""
    args_list: List[str] = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["demo"]:
        from ._demo import main as demo

        return demo(args_list[1:])
    args = build_parser().parse_args(args_list)
    out = sys.stdout
    command = chat if args.command == "chat" else models
    base_url = args.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    try:
        _run(args.backend, lambda: command(args, out))
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``| head``): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 1
    except (OpenAIError, CLIError) as exc:
        print(describe_error(exc, base_url), file=sys.stderr)
        return 1
    return 0
