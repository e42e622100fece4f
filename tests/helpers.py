"""Shared helpers for the tests: where things are, and how to run or import a lesson."""

import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
LESSON_DIR = ROOT / "starter_kit" / "15_pytorch_ml"
GUIDE_DIR = ROOT / "learning"
LESSONS = sorted(LESSON_DIR.glob("[0-9][0-9]_*.py"))
GUIDES = sorted(GUIDE_DIR.glob("[0-9][0-9]_*.md"))
# Timings and rates differ from run to run; everything else a lesson prints must not.
TIMING = re.compile(
    r"\d+(?:[.,]\d+)*\s?(?:ns|µs|us|ms|s|sec|min)\b"  # 12.3 ms, 1.52 s
    r"|\d+:\d\d:\d\d"  # rich progress elapsed/remaining time 0:00:01
    r"|[\d.,]+\s?\S*/s\b"  # 1234 samples/s, 5.6 it/s
    r"|[\d.]+×"  # speed-up ratios derived from timings
)


def lesson_path(stem: str) -> Path:
    """'04' or '04_training' -> the lesson script's path."""
    matches = [p for p in LESSONS if p.stem == stem or p.stem.split("_")[0] == stem]
    assert len(matches) == 1, f"no single lesson matches {stem!r}: {matches}"
    return matches[0]


def load_lesson(stem: str) -> ModuleType:
    """Import a lesson script by path, so tests use its own functions (main() does not run)."""
    path = lesson_path(stem)
    spec = importlib.util.spec_from_file_location(f"lesson_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    return module


def lesson_env() -> dict[str, str]:
    """A plain, colourless, fixed-width environment, so output is comparable across runs."""
    env = dict(os.environ)
    env.update({"NO_COLOR": "1", "COLUMNS": "100", "PYTHONWARNINGS": "default"})
    env.pop("FORCE_COLOR", None)
    return env


def run_lesson(stem: str, *args: str, timeout: float = 300, cwd: Path | None = None):
    """Run a lesson as a subprocess with this environment's Python; return the CompletedProcess."""
    return subprocess.run(
        [sys.executable, str(lesson_path(stem)), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=lesson_env(),
        cwd=cwd or ROOT,
    )


@functools.cache
def smoke_run(stem: str, device: str):
    """`--smoke` on a device, run once per test session and shared by every test that needs it."""
    return run_lesson(stem, "--device", device, "--smoke")


@functools.cache
def default_run(stem: str):
    """The default run on the CPU, once per session: (CompletedProcess, metrics dict or None).

    Training lessons also write --metrics-json, so their tests can check the final metrics."""
    if "--metrics-json" not in lesson_path(stem).read_text(encoding="utf-8"):
        return run_lesson(stem, "--device", "cpu"), None
    with tempfile.TemporaryDirectory() as scratch:
        metrics_path = Path(scratch) / "metrics.json"
        result = run_lesson(stem, "--device", "cpu", "--metrics-json", str(metrics_path))
        metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else None
    return result, metrics
