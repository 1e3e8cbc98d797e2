"""Command line: ``python -m openai_proto demo`` (see ``backends/_demo.py``)."""

from __future__ import annotations

import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print("usage: python -m openai_proto demo [--base-url URL] [--model NAME]")
        return 0 if args else 2
    if args[0] == "demo":
        from backends._demo import main as demo

        return demo(args[1:])
    print(f"unknown command {args[0]!r}; try: python -m openai_proto demo", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
