"""Running a harness as a coverage-guided atheris campaign (``python tests/fuzz/<file>.py``).

Shared by every harness in this folder: only the named modules are instrumented
(``atheris.instrument_all()`` would also walk hypothesis and pytest), then libFuzzer gets
the command-line arguments. See ``docs/guides/fuzzing.md``.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Any, Callable, List, Optional, Sequence


def _functions(module: Any) -> List[Any]:
    """Functions and methods defined in ``module`` (properties and class/static methods
    included)."""
    out = []
    for obj in list(vars(module).values()):
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        for member in list(vars(obj).values()) if isinstance(obj, type) else [obj]:
            if isinstance(member, property):
                member = member.fget
            elif isinstance(member, (classmethod, staticmethod)):
                member = member.__func__
            if inspect.isfunction(member):
                out.append(member)
    return out


def campaign(
    fuzz_one_input: Callable[[bytes], None],
    modules: Sequence[str],
    packages: Sequence[str] = (),
    argv: Optional[List[str]] = None,
) -> None:
    """Instrument ``modules`` and every loaded module of ``packages`` (e.g. ``"h11"``),
    then fuzz ``fuzz_one_input`` until libFuzzer stops."""
    try:
        atheris = importlib.import_module("atheris")
    except ImportError:
        print("atheris is not installed: nothing to do (pip install atheris)")
        return
    names = [importlib.import_module(name).__name__ for name in modules]
    names += [name for name in sys.modules if name.split(".")[0] in packages]
    for name in names:
        for function in _functions(sys.modules[name]):
            atheris.instrument_func(function)
    atheris.Setup(argv or sys.argv, fuzz_one_input)
    atheris.Fuzz()
