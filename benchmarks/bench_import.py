"""Import cost, openai-proto vs the official SDK: time and memory in fresh interpreters.

Every measurement runs in a new ``python`` process (nothing cached in ``sys.modules``), with
the repository root as the working directory, alternating between the two libraries:

- **import, in-process**: ``time.perf_counter`` around ``import openai_proto`` (resp.
  ``import openai``) inside the child: the cost of the import statement alone;
- **import + construct, in-process**: the same around ``from openai_proto import
  AsyncOpenAI; AsyncOpenAI(api_key=...)`` (resp. ``openai.AsyncOpenAI``);
- **wall time** of ``python -c "import openai_proto"`` as a whole, timed by this process;
  it includes interpreter start-up (shown separately: ``python -c pass``);
- **RSS growth**: ``VmRSS`` of ``/proc/self/status`` read before and after import + client;
- the same two for import + client in a process that already imported ``asyncio`` (as any
  asyncio application has): the official SDK imports asyncio (and with it ssl) itself, while
  openai-proto loads its event-loop driver only on first use, so the bare-interpreter rows
  charge asyncio to the SDK alone.

Medians of ``--runs`` runs; ratios are official / openai-proto (higher is better for us).

    python benchmarks/bench_import.py [--runs 10] [--quick] [--json] [--no-site]

``--no-site`` starts the children with ``python -S`` (site-packages put on ``PYTHONPATH``),
so start-up hooks (``.pth`` files) that pre-import modules do not hide part of the cost.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]

# What each child runs, per library: the bare import, and import + client construction.
STATEMENTS: Dict[str, Dict[str, str]] = {
    "openai-proto": {
        "import": "import openai_proto",
        "client": "from openai_proto import AsyncOpenAI; AsyncOpenAI(api_key='sk-bench')",
    },
    "openai": {
        "import": "import openai",
        "client": "import openai; openai.AsyncOpenAI(api_key='sk-bench')",
    },
}

# The child measures itself; ``json`` is imported only after the measurement.
CHILD = """\
import sys, time
def _rss():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0
{prelude}
_modules = len(sys.modules)
_r0 = _rss()
_t0 = time.perf_counter()
{statement}
_t1 = time.perf_counter()
_r1 = _rss()
import json
print(json.dumps({{"ms": (_t1 - _t0) * 1e3, "rss_kib": _r1 - _r0,
                  "modules": len(sys.modules) - _modules}}))
"""


def child_command(code: str, *, no_site: bool) -> List[str]:
    return [sys.executable, *(["-S"] if no_site else []), "-c", code]


def child_env(*, no_site: bool) -> Dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if no_site:
        paths = [str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def run_child(code: str, *, no_site: bool) -> tuple[float, Optional[Dict[str, Any]]]:
    """Run one child; return its wall time (ms) and its JSON report (if it printed one)."""
    start = time.perf_counter()
    proc = subprocess.run(
        child_command(code, no_site=no_site),
        cwd=ROOT,
        env=child_env(no_site=no_site),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = (time.perf_counter() - start) * 1e3
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}): {code!r}\n{proc.stderr}")
    out = proc.stdout.strip()
    return wall, (json.loads(out.splitlines()[-1]) if out else None)


def measure(runs: int, *, no_site: bool) -> Dict[str, Dict[str, List[float]]]:
    """Samples per library and metric; the libraries alternate so drift hits both."""
    samples: Dict[str, Dict[str, List[float]]] = {
        name: {
            "import_ms": [],
            "import_wall": [],
            "client_ms": [],
            "client_rss": [],
            "asyncio_ms": [],
            "asyncio_rss": [],
        }
        for name in STATEMENTS
    }
    samples["python"] = {"pass_wall": []}
    modules: Dict[str, int] = {}
    for _ in range(runs):
        wall, _report = run_child("pass", no_site=no_site)
        samples["python"]["pass_wall"].append(wall)
        for name, statements in STATEMENTS.items():
            wall, report = run_child(
                CHILD.format(prelude="", statement=statements["import"]), no_site=no_site
            )
            assert report is not None
            samples[name]["import_ms"].append(report["ms"])
            samples[name]["import_wall"].append(wall)
            _wall, report = run_child(
                CHILD.format(prelude="", statement=statements["client"]), no_site=no_site
            )
            assert report is not None
            samples[name]["client_ms"].append(report["ms"])
            samples[name]["client_rss"].append(report["rss_kib"] / 1024)
            modules[name] = report["modules"]
            _wall, report = run_child(
                CHILD.format(prelude="import asyncio", statement=statements["client"]),
                no_site=no_site,
            )
            assert report is not None
            samples[name]["asyncio_ms"].append(report["ms"])
            samples[name]["asyncio_rss"].append(report["rss_kib"] / 1024)
    samples["modules"] = {name: [float(n)] for name, n in modules.items()}
    return samples


def make_row(
    workload: str,
    unit: str,
    ours: float,
    official: float,
    *,
    goal: str = "",
    met: Optional[bool] = None,
    note: str = "",
) -> Dict[str, Any]:
    """One result row (lower is better for every metric here)."""
    return {
        "workload": workload,
        "unit": unit,
        "ours": ours,
        "official": official,
        "ratio": official / ours if ours else None,
        "better": "lower",
        "goal": goal,
        "met": met,
        "note": note,
    }


def rows_from(samples: Dict[str, Dict[str, List[float]]], runs: int) -> List[Dict[str, Any]]:
    med = {name: {k: statistics.median(v) for k, v in d.items()} for name, d in samples.items()}
    ours, theirs = med["openai-proto"], med["openai"]
    bare = med["python"]["pass_wall"]
    mods = med["modules"]
    rows = []
    for key, label, stmt in (
        ("import_ms", "`import openai_proto` (in-process)", "import"),
        ("client_ms", "import + construct `AsyncOpenAI` (in-process)", "client"),
    ):
        value, other = ours[key], theirs[key]
        rows.append(
            make_row(
                label,
                "ms",
                value,
                other,
                goal="<= 30 ms; >= 10x",
                met=value <= 30.0 and other / value >= 10.0,
                note=f"fresh interpreter, median of {runs}"
                + (
                    f"; modules loaded: {mods['openai-proto']:.0f} vs {mods['openai']:.0f}"
                    if stmt == "client"
                    else ""
                ),
            )
        )
    wall, other_wall = ours["import_wall"], theirs["import_wall"]
    rows.append(
        make_row(
            '`python -c "import openai_proto"` wall time',
            "ms",
            wall,
            other_wall,
            note=f"includes interpreter start-up (`python -c pass`: {bare:.0f} ms); "
            f"minus start-up: {wall - bare:.0f} vs {other_wall - bare:.0f} ms",
        )
    )
    rss, other_rss = ours["client_rss"], theirs["client_rss"]
    rows.append(
        make_row(
            "RSS growth, import + client",
            "MiB",
            rss,
            other_rss,
            goal=">= 5x smaller",
            met=other_rss / rss >= 5.0 if rss > 0 else None,
            note="VmRSS after minus before, fresh interpreter",
        )
    )
    rows.append(
        make_row(
            "import + construct `AsyncOpenAI`, asyncio already imported",
            "ms",
            ours["asyncio_ms"],
            theirs["asyncio_ms"],
            note="as in an asyncio application; in-process time",
        )
    )
    rows.append(
        make_row(
            "RSS growth, import + client, asyncio already imported",
            "MiB",
            ours["asyncio_rss"],
            theirs["asyncio_rss"],
            note="as in an asyncio application",
        )
    )
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10, help="fresh interpreters per metric")
    parser.add_argument("--quick", action="store_true", help="1 run (for CI smoke tests)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--no-site", action="store_true", help="children run with python -S")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    if not Path("/proc/self/status").exists():
        raise SystemExit("needs /proc/self/status (Linux) to read VmRSS")
    import openai

    rows = rows_from(measure(runs, no_site=args.no_site), runs)
    # With --json the text goes to stderr and stdout carries only the JSON document.
    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout)
    say(
        f"import cost, fresh interpreters, median of {runs}"
        f"{' (python -S)' if args.no_site else ''}; openai {openai.__version__}"
    )
    say(f"{'workload':<60} {'openai-proto':>13} {'openai':>10} {'ratio':>8}")
    for row in rows:
        say(
            f"{row['workload']:<60} {row['ours']:>10.1f} {row['unit']:<3}"
            f"{row['official']:>7.1f} {row['unit']:<3}{row['ratio']:>7.1f}x"
        )
        if row["note"]:
            say(f"    {row['note']}")
    for row in rows:
        if row["goal"]:
            status = "met" if row["met"] else "NOT met"
            say(f"goal {row['goal']} for {row['workload']}: {status}")
    say("ratio (official / openai-proto, median): " + ", ".join(f"{r['ratio']:.1f}x" for r in rows))
    if args.json:
        doc = {
            "benchmark": "import",
            "params": {"runs": runs, "no_site": args.no_site},
            "versions": {"openai": openai.__version__},
            "rows": rows,
        }
        print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
