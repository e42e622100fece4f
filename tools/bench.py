"""`make bench`: time every lesson as a whole process, against baselines measured in the same run.

Each lesson runs by default and with --smoke, REPEAT times each (median reported), with its peak
memory (max RSS of the process). Two baselines run the same way: a bare `import torch, numpy, rich`
and the same plus constructing one torch.optim.Adam (its first construction imports torch's
compiler stack). Ratios against them are what we compare, because absolute times on shared
machines drift. Training lessons also report the metrics they write with --metrics-json.

Writes the table to the screen and to BENCHMARKS.md, with the machine it ran on.
It also times the whole test suite once (--no-suite skips it) and records it there.
Usage: uv run python tools/bench.py [--repeat 3] [--only 00 01] [--no-suite]
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
    "08": {"smoke": ("optim", 2.0)},
    "09": {"smoke": ("optim", 3.0)},
}
# Accuracy targets for the default run: (metric, minimum, metric it must beat or None).
QUALITY = {
    "06": ("test_accuracy", 0.85, "baseline_accuracy"),
    "07": ("test_accuracy", 0.985, "linear_accuracy"),
}
# Ceilings on a metric the default run writes: (metric, maximum).
CEILINGS = {"08": ("service_median_ms", 5.0)}

# The table is wide: give it room when the output is piped (e.g. through make).
console = Console() if sys.stdout.isatty() else Console(width=160)


# A small parent for each measured run: its only child is the lesson, so its children's
# resource usage is that one process's peak memory (os.wait4 does not exist on Windows).
MEASURER = """
import json, subprocess, sys
result = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
try:
    import resource
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_mib = peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes there, KiB here
except ImportError:  # Windows
    peak_mib = None
tail = result.stderr.decode("utf-8", "replace")[-2000:]  # read whole: a chatty child never blocks
print(json.dumps({"status": result.returncode, "peak_mib": peak_mib, "stderr": tail}))
"""


def run_once(command: list[str], cwd: Path) -> tuple[float, float | None]:
    """Wall seconds and peak RSS (MiB, None where the OS cannot say) of one process."""
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8")
    start = time.perf_counter()
    measured = subprocess.run(
        [sys.executable, "-c", MEASURER, *command],
        capture_output=True,
        encoding="utf-8",
        env=env,
        cwd=cwd,
        check=True,
    )
    seconds = time.perf_counter() - start
    report = json.loads(measured.stdout)
    if report["status"] != 0:
        sys.exit(f"bench: {' '.join(command)} failed:\n{report['stderr']}")
    return seconds, report["peak_mib"]


def measure(command: list[str], repeat: int, cwd: Path) -> dict:
    runs = [run_once(command, cwd) for _ in range(repeat)]
    peaks = [m for _, m in runs if m is not None]
    return {
        "seconds": statistics.median(s for s, _ in runs),
        "peak_mib": max(peaks) if peaks else None,
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text(encoding="utf-8").splitlines()
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
    parser.add_argument("--no-suite", action="store_true", help="skip timing the test suite")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()

    python = sys.executable
    console.print(f"[bold]make bench[/] - {machine()} - median of {args.repeat}")
    # Everything a lesson writes (checkpoints, metrics, exports) goes to a scratch folder.
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        baselines = {
            "bare": measure([python, "-c", BARE], args.repeat, scratch),
            "optim": measure([python, "-c", OPTIMIZER], args.repeat, scratch),
        }
        rows = [
            ("baseline", "import torch, numpy, rich", baselines["bare"], {}, "", ""),
            ("baseline", "... + first Adam", baselines["optim"], {}, "", ""),
        ]
        lessons = [p for p in LESSONS if not args.only or p.name[:2] in args.only]
        for lesson in lessons:
            number, text = lesson.name[:2], lesson.read_text(encoding="utf-8")
            for run in ("default", "smoke"):
                console.print(f"  {lesson.name} {run} ...")
                command = [python, str(lesson), "--device", "cpu"]
                command += ["--smoke"] if run == "smoke" else []
                if '"--checkpoint"' in text:
                    command += ["--checkpoint", str(scratch / f"{number}_{run}.pt")]
                metrics_path = scratch / f"{number}_{run}.json"
                trains = '"--metrics-json"' in text or "add_training_flags(parser" in text
                command += ["--metrics-json", str(metrics_path)] if trains else []
                result = measure(command, args.repeat, scratch)
                metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if trains else {}
                target, met = judge(number, run, result, baselines, metrics)
                rows.append((lesson.stem, run, result, metrics, target, met))
        suite = None if args.no_suite else time_the_suite(scratch)

    table = render(rows, baselines)
    console.print(table)
    if suite:
        console.print(f"test suite (uv run pytest, device cpu): {suite}")
    write_markdown(args.output, rows, baselines, args.repeat, suite)
    console.print(f"wrote {args.output}")


def time_the_suite(scratch: Path) -> str:
    """Wall time of the README's test command, once, as the tests' closing line reports it."""
    console.print("  the test suite ...")
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        encoding="utf-8",
        cwd=ROOT,
        env=dict(os.environ, PYTHONPYCACHEPREFIX=str(scratch / "pycache")),
    )
    seconds = time.perf_counter() - start
    closing = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "no output"
    return f"{seconds / 60:.0f} min {seconds % 60:02.0f} s wall ({closing.strip('= ')})"


def judge(number, run, result, baselines, metrics) -> tuple[str, str]:
    """The target for this row as text, and whether it was met."""
    parts, ok = [], True
    kind, limit = TARGETS.get(number, {}).get(run, (None, None))
    if kind == "seconds":
        parts.append(f"≤ {limit} s")
        ok &= result["seconds"] <= limit
    elif kind:
        parts.append(f"≤ {limit}× {kind}")
        ratio = result["seconds"] / baselines[kind]["seconds"]
        ok &= round(ratio, 3) <= limit  # judged on the ratio as printed (3 decimals)
    if run == "default" and number in QUALITY:
        name, minimum, rival = QUALITY[number]
        parts.append(f"{name} ≥ {minimum:.1%} and > {rival}")
        beats = rival is None or metrics.get(name, 0) > metrics.get(rival, 1)
        ok &= metrics.get(name, 0) >= minimum and beats
    if run == "default" and number in CEILINGS:
        name, maximum = CEILINGS[number]
        parts.append(f"{name} ≤ {maximum:g}")
        ok &= metrics.get(name, float("inf")) <= maximum
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
        f"{result['seconds'] / baselines['bare']['seconds']:.3f}×",
        f"{result['seconds'] / baselines['optim']['seconds']:.3f}×",
        "n/a" if result["peak_mib"] is None else f"{result['peak_mib']:.0f}",
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


def write_markdown(path: Path, rows, baselines, repeat: int, suite: str | None) -> None:
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
        f"- Test suite (`uv run pytest`, device cpu): {suite or 'not timed in this run'}",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    lines += ["| " + " | ".join(cells(row, baselines)) + " |" for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
