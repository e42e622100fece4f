"""`make bench`: time every lesson as a whole process, against baselines measured in the same run.

Each lesson runs by default and with --smoke, REPEAT times each (median reported), with its peak
memory (max RSS of the process). Two baselines run the same way: a bare `import torch, numpy, rich`
and the same plus constructing one torch.optim.Adam (its first construction imports torch's
compiler stack). Ratios against them are what we compare, because absolute times on shared
machines drift. Training lessons also report the metrics they write with --metrics-json.

Writes the table to the screen and to BENCHMARKS.md, with the machine it ran on.
Usage: uv run python tools/bench.py [--repeat 3] [--only 00 01]
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "starter_kit" / "15_pytorch_ml").glob("[0-9][0-9]_*.py"))
BARE = "import torch, numpy, rich"
OPTIMIZER = BARE + "; torch.optim.Adam(torch.nn.Linear(1, 1).parameters())"

# Targets from the issues: (baseline, max ratio) or ("seconds", max seconds); per lesson and run.
TARGETS = {
    "00": {"default": ("optim", 1.3)},
    "01": {"default": ("bare", 1.3), "smoke": ("bare", 1.2)},
    "02": {"default": ("bare", 1.3), "smoke": ("bare", 1.2)},
    "03": {"default": ("bare", 1.3), "smoke": ("bare", 1.2)},
    "04": {"default": ("seconds", 20), "smoke": ("optim", 1.3)},
    "05": {"default": ("seconds", 20), "smoke": ("optim", 1.3)},
    "06": {"default": ("seconds", 30), "smoke": ("optim", 1.5)},
    "07": {"default": ("seconds", 20), "smoke": ("optim", 1.5)},
}
# Accuracy targets for the default run: (metric, minimum, metric it must beat or None).
QUALITY = {
    "06": ("test_accuracy", 0.85, "baseline_accuracy"),
    "07": ("test_accuracy", 0.985, "linear_accuracy"),
}

# The table is wide: give it room when the output is piped (e.g. through make).
console = Console() if sys.stdout.isatty() else Console(width=160)


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one process."""
    env = dict(os.environ, NO_COLOR="1")
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed:\n{process.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def measure(command: list[str], repeat: int) -> dict:
    runs = [run_once(command) for _ in range(repeat)]
    return {
        "seconds": statistics.median(s for s, _ in runs),
        "peak_mib": max(m for _, m in runs),
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, torch {torch.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--only", nargs="*", help="lesson numbers to run, e.g. 00 01")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()

    python = sys.executable
    console.print(f"[bold]make bench[/] - {machine()} - median of {args.repeat}")
    baselines = {
        "bare": measure([python, "-c", BARE], args.repeat),
        "optim": measure([python, "-c", OPTIMIZER], args.repeat),
    }
    rows = [
        ("baseline", "import torch, numpy, rich", baselines["bare"], {}, "", ""),
        ("baseline", "... + first Adam", baselines["optim"], {}, "", ""),
    ]

    lessons = [p for p in LESSONS if not args.only or p.name[:2] in args.only]
    with tempfile.TemporaryDirectory() as scratch:
        for lesson in lessons:
            number = lesson.name[:2]
            trains = "--metrics-json" in lesson.read_text(encoding="utf-8")
            for run in ("default", "smoke"):
                console.print(f"  {lesson.name} {run} ...")
                command = [python, str(lesson), "--device", "cpu"]
                command += ["--smoke"] if run == "smoke" else []
                metrics_path = Path(scratch) / f"{number}_{run}.json"
                command += ["--metrics-json", str(metrics_path)] if trains else []
                result = measure(command, args.repeat)
                metrics = json.loads(metrics_path.read_text()) if trains else {}
                target, met = judge(number, run, result, baselines, metrics)
                rows.append((lesson.stem, run, result, metrics, target, met))

    table = render(rows, baselines)
    console.print(table)
    write_markdown(args.output, rows, baselines, args.repeat)
    console.print(f"wrote {args.output}")


def judge(number, run, result, baselines, metrics) -> tuple[str, str]:
    """The target for this row as text, and whether it was met."""
    parts, ok = [], True
    kind, limit = TARGETS.get(number, {}).get(run, (None, None))
    if kind == "seconds":
        parts.append(f"≤ {limit} s")
        ok &= result["seconds"] <= limit
    elif kind:
        parts.append(f"≤ {limit}× {kind}")
        ok &= result["seconds"] <= limit * baselines[kind]["seconds"]
    if run == "default" and number in QUALITY:
        name, minimum, rival = QUALITY[number]
        parts.append(f"{name} ≥ {minimum:.1%} and > {rival}")
        ok &= metrics.get(name, 0) >= minimum and metrics.get(name, 0) > metrics.get(rival, 1)
    if not parts:
        return "", ""
    return ", ".join(parts), "yes" if ok else "NO"


def metric_text(metrics: dict) -> str:
    shown = {
        k: v
        for k, v in metrics.items()
        if isinstance(v, (int, float))
        and not isinstance(v, bool)
        and k not in {"epochs", "train_seconds"}
    }
    text = []
    for key, value in list(shown.items())[:4]:
        is_fraction = "accuracy" in key or key in {"f1", "precision", "recall"}
        text.append(f"{key} {value:.1%}" if is_fraction else f"{key} {value:.4g}")
    if "train_seconds" in metrics:
        text.append(f"train {metrics['train_seconds']:.2f} s")
    return ", ".join(text)


def cells(row, baselines) -> list[str]:
    name, run, result, metrics, target, met = row
    return [
        name,
        run,
        f"{result['seconds']:.2f} s",
        f"{result['seconds'] / baselines['bare']['seconds']:.2f}×",
        f"{result['seconds'] / baselines['optim']['seconds']:.2f}×",
        f"{result['peak_mib']:.0f}",
        metric_text(metrics),
        target,
        met,
    ]


HEADERS = ["lesson", "run", "median", "× bare", "× optim", "peak MiB", "metrics", "target", "met"]


def render(rows, baselines) -> Table:
    table = Table(*HEADERS, title="make bench (device cpu)")
    for row in rows:
        table.add_row(*cells(row, baselines))
    return table


def write_markdown(path: Path, rows, baselines, repeat: int) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`tools/bench.py`); do not edit by hand. Every lesson runs as a",
        f"whole process on the CPU, median of {repeat} runs; peak memory is the process's max RSS.",
        "`× bare` compares with `import torch, numpy, rich` and `× optim` with that plus building",
        "one `torch.optim.Adam`, both measured in the same run. Targets come from the issues.",
        "",
        f"- Machine: {machine()}",
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    lines += ["| " + " | ".join(cells(row, baselines)) + " |" for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
