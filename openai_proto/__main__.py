"""Command line: ``python -m openai_proto chat "prompt" | models | demo``.

Import-safe (the purity test imports every module of the core): the commands live in
``backends/_cli.py`` and ``backends/_demo.py`` and are imported only when run.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["demo"]:
        from backends._demo import main as demo

        return demo(args[1:])
    from backends._cli import main as cli

    return cli(args)


if __name__ == "__main__":
    sys.exit(main())
