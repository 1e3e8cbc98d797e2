"""Run every benchmark (openai-proto vs the official ``openai`` SDK) and print one table.

Each ``bench_*.py`` script runs in its own process with ``--json`` (one at a time, so they do
not compete for the CPU) and reports rows of (workload, openai-proto, official, ratio, goal);
this script prints the machine, the versions and one Markdown table of all rows.

    python benchmarks/run_all.py [--quick] [--only import,sse,...] [--output FILE]

``--quick`` passes ``--quick`` to every script (tiny sizes: proves they run, not how fast);
``--output`` also writes the Markdown to FILE. Exit status 1 if a script fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: Benchmark name -> script, in the order of the table.
BENCHMARKS: Dict[str, str] = {
    "import": "bench_import.py",
    "sse": "bench_sse.py",
    "decode": "bench_decode.py",
    "stream": "bench_stream.py",
    "requests": "bench_requests.py",
    "embeddings": "bench_embeddings.py",
}

PACKAGES = (
    "openai",
    "httpx2",
    "httpx",
    "httpcore2",
    "pydantic",
    "pydantic-core",
    "anyio",
    "msgspec",
    "h11",
    "numpy",
    "uvicorn",
    "starlette",
)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cpus() -> int:
    """What ``nproc`` prints: the CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def versions() -> Dict[str, str]:
    out: Dict[str, str] = {}
    sys.path.insert(0, str(ROOT))
    try:
        from openai_proto import __version__ as ours

        out["openai-proto"] = ours
    finally:
        sys.path.pop(0)
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def machine() -> List[str]:
    """Lines describing where the numbers come from."""
    load = ""
    if hasattr(os, "getloadavg"):
        load = "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    py = f"{platform.python_implementation()} {platform.python_version()}"
    return [
        f"- machine: {cpu_model()}; nproc {usable_cpus()}; {platform.system()} "
        f"{platform.release()} {platform.machine()}; {load}",
        f"- python: {py} ({sys.executable})",
        "- packages: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
    ]


def run(name: str, *, quick: bool) -> Dict[str, Any]:
    """Run one script with ``--json``; return its document (with timing)."""
    cmd = [sys.executable, str(HERE / BENCHMARKS[name]), "--json", *(["--quick"] if quick else [])]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(cmd)} printed no JSON:\n{proc.stdout[-2000:]}")
    doc: Dict[str, Any] = json.loads(lines[-1])
    doc["seconds"] = elapsed
    return doc


def fmt(value: Optional[float], unit: str) -> str:
    if value is None:
        return "—"
    if unit == "events/s":
        return f"{value / 1e6:.2f} M/s"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    if value >= 10:
        return f"{value:.1f} {unit}"
    return f"{value:.2f} {unit}"


def verdict(row: Dict[str, Any]) -> str:
    if not row.get("goal"):
        return "(info)"
    return "✅ met" if row.get("met") else "❌ not met"


def table(docs: Sequence[Dict[str, Any]]) -> List[str]:
    """The Markdown results table; the ratio is always "times better than official"."""
    official = next((d["versions"]["openai"] for d in docs if "versions" in d), "?")
    lines = [
        f"| workload | openai-proto | openai {official} | ratio | goal | status |",
        "|---|---:|---:|---:|---|---|",
    ]
    for doc in docs:
        for row in doc["rows"]:
            ratio = row.get("ratio")
            ratio_text = "—" if ratio is None else f"{ratio:.1f}x"
            workload = row["workload"]
            if row.get("note"):
                workload += f" <br><sub>{row['note']}</sub>"
            lines.append(
                f"| {workload} | {fmt(row.get('ours'), row['unit'])} | "
                f"{fmt(row.get('official'), row['unit'])} | {ratio_text} | "
                f"{row.get('goal') or ''} | {verdict(row)} |"
            )
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown to this file")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    header = machine()
    docs: List[Dict[str, Any]] = []
    failed: List[str] = []
    for name in names:
        print(f"running {BENCHMARKS[name]} ...", file=sys.stderr, flush=True)
        try:
            docs.append(run(name, quick=args.quick))
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            failed.append(name)
    total = sum(d["seconds"] for d in docs)
    out = [
        f"## Results{' (--quick: sizes too small to mean anything)' if args.quick else ''}",
        "",
        *header,
        f"- ran: {', '.join(names)} in {total:.0f} s; "
        "ratio = how many times better openai-proto is (less time, CPU or memory; more "
        "events/s); medians of several rounds",
        "",
        *table(docs),
    ]
    goals = [row for doc in docs for row in doc["rows"] if row.get("goal")]
    met = sum(1 for row in goals if row.get("met"))
    out += ["", f"Goals met: {met} of {len(goals)}."]
    if failed:
        out.append(f"Failed to run: {', '.join(failed)}.")
    text = "\n".join(out)
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
