"""Shared helpers for the tests: where things are, and how to run or import a lesson."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
LESSON_DIR = ROOT / "starter_kit" / "15_pytorch_ml"
GUIDE_DIR = ROOT / "learning"
LESSONS = sorted(LESSON_DIR.glob("[0-9][0-9]_*.py"))
GUIDES = sorted(GUIDE_DIR.glob("[0-9][0-9]_*.md"))


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
