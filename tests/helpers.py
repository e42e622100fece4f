"""Shared helpers for the tests: where things are, and how to run or import a lesson.

Lesson subprocesses are the slow part of the suite (each pays for `import torch`), so each one runs
once per session (`smoke_run`, `default_run`) on a small pool that starts them all at collection
time: lessons use one CPU thread each, so two at once keep a 2-core machine busy while the
in-process tests run. Everything that can be checked in-process is (`call_main`).
"""

import concurrent.futures
import contextlib
import functools
import getpass
import importlib.util
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
LESSON_DIR = ROOT / "starter_kit" / "15_pytorch_ml"
GUIDE_DIR = ROOT / "learning"
LESSONS = sorted(LESSON_DIR.glob("[0-9][0-9]_*.py"))
GUIDES = sorted(GUIDE_DIR.glob("[0-9][0-9]_*.md"))
WIDTH = 100  # the console width of every lesson run in the tests
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


def source(stem: str) -> str:
    return lesson_path(stem).read_text(encoding="utf-8")


def writes_checkpoints(stem: str) -> bool:
    return '"--checkpoint"' in source(stem)


def is_training_lesson(stem: str) -> bool:
    return "add_training_flags(parser" in source(stem)


def load_lesson(stem: str) -> ModuleType:
    """Import a lesson script by path, so tests use its own functions (main() does not run).
    '08' and '08_deployment' give the same module object (pickling looks classes up by name)."""
    return _load_lesson(lesson_path(stem).stem)


@functools.cache
def _load_lesson(full_stem: str) -> ModuleType:
    return load_file(lesson_path(full_stem), f"lesson_{full_stem}")


def load_file(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    return module


def call_main(module: ModuleType, *args: str) -> tuple[int, str, str]:
    """Run a lesson's main(args) in this process, as the command line would: its exit status,
    and what it printed to stdout (a plain 100-column console, like the subprocesses') and
    stderr. Torch's thread count and determinism flags are restored afterwards."""
    import torch

    stdout, stderr = io.StringIO(), io.StringIO()
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    plain = Console(file=stdout, width=WIDTH, color_system=None, force_terminal=False)
    saved_console = module.console
    module.console = plain
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            module.main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        module.console = saved_console
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    return code, stdout.getvalue(), stderr.getvalue()


# The environment as pytest started, read once: in-process tests change os.environ for a moment
# (monkeypatch, lesson 09's launcher), and a subprocess that the background pool starts in that
# moment must not inherit it (a stray RANK made the notebook kernel think torchrun started it).
ENVIRONMENT_AT_START = dict(os.environ)


def lesson_env() -> dict[str, str]:
    """A plain, colourless, fixed-width, UTF-8 environment, so output is comparable across runs
    and the same on Windows; built from the environment pytest started with, never from what a
    test running in parallel set for itself."""
    env = dict(ENVIRONMENT_AT_START)
    env.update(
        {
            "NO_COLOR": "1",
            "COLUMNS": str(WIDTH),
            "PYTHONWARNINGS": "default",
            "PYTHONIOENCODING": "utf-8",
        }
    )
    env.pop("FORCE_COLOR", None)
    if "ATEN_CPU_CAPABILITY" in env:  # simulating another CPU: torch.compile's C++ cache keeps
        # headers built for the real one, which the other kernels' code cannot compile against
        name = f"torchinductor-{getpass.getuser()}-{env['ATEN_CPU_CAPABILITY']}"
        env.setdefault("TORCHINDUCTOR_CACHE_DIR", str(Path(tempfile.gettempdir()) / name))
    return env


def run_lesson(stem: str, *args: str, timeout: float = 300, cwd: Path | None = None):
    """Run a lesson as a subprocess with this environment's Python; return the CompletedProcess."""
    return subprocess.run(
        [sys.executable, str(lesson_path(stem)), *args],
        capture_output=True,
        encoding="utf-8",
        timeout=timeout,
        env=lesson_env(),
        cwd=cwd or ROOT,
    )


# Subprocess runs shared by the whole session, started early on two workers.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2)
_SCRATCH = tempfile.TemporaryDirectory(prefix="starter-kit-tests-")


@functools.cache
def _future(kind: str, stem: str, device: str) -> concurrent.futures.Future:
    """The one run of this kind, started on the pool the first time anyone asks for it."""
    scratch = Path(_SCRATCH.name) / f"{kind}-{stem}-{device}"
    scratch.mkdir(parents=True, exist_ok=True)
    args = ["--device", device] + (["--smoke"] if kind == "smoke" else [])
    if writes_checkpoints(stem):  # never the learner's checkpoints folder
        args += ["--checkpoint", str(scratch / "model.pt")]
    if kind == "default" and is_training_lesson(stem):
        args += ["--metrics-json", str(scratch / "metrics.json")]
    return _POOL.submit(run_lesson, stem, *args, cwd=scratch)


def prefetch(device: str, stems: list[str], smoke: set, default: set, notebook: set) -> None:
    """Start the smoke runs (on `device`) of the lessons numbered in `smoke`, the default runs
    (on the CPU) of those in `default`, and the notebook runs of those in `notebook`, in the
    background, in that order."""
    for stem in stems:
        if stem[:2] in smoke:
            _future("smoke", stem, device)
    for stem in stems:
        if stem[:2] in default:
            _future("default", stem, "cpu")
    for stem in stems:
        if stem[:2] in notebook:
            _notebook_future(stem, device)


def smoke_run(stem: str, device: str):
    """`--smoke` on a device, run once per test session and shared by every test that needs it."""
    return _future("smoke", lesson_path(stem).stem, device).result()


def default_run(stem: str):
    """The default run on the CPU, once per session: (CompletedProcess, metrics dict or None).
    Training lessons also write --metrics-json, so their tests can check the final metrics."""
    stem = lesson_path(stem).stem
    result = _future("default", stem, "cpu").result()
    metrics_path = Path(_SCRATCH.name) / f"default-{stem}-cpu" / "metrics.json"
    metrics = (
        json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.exists() else None
    )
    return result, metrics


def _execute_notebook(stem: str, args: list[str]) -> dict:
    """Open the lesson as a notebook (jupytext reads its # %% cells), set NOTEBOOK_ARGS in its
    config cell (the documented way), run every cell in a fresh kernel started in the lesson's
    folder (as Jupyter and VS Code do), then one more cell that asks which flags the lesson would
    read. Returns {'error': text or None, 'text': every text output, in order}."""
    import jupytext
    import nbclient
    import nbformat

    notebook = jupytext.read(lesson_path(stem))
    default = "NOTEBOOK_ARGS: list[str] = []"
    assert any(default in cell.source for cell in notebook.cells), f"{stem}: no {default!r}"
    for cell in notebook.cells:
        cell.source = cell.source.replace(default, f"NOTEBOOK_ARGS: list[str] = {args!r}")
    probe = 'print("flags read:", script_arguments(["--from-the-notebook"]))'
    notebook.cells.append(nbformat.v4.new_code_cell(probe))
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(LESSON_DIR)}},
    )
    error = None
    try:
        client.execute(env=lesson_env())
    except nbclient.exceptions.CellExecutionError as failure:
        error = str(failure)[-3000:]
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                texts.append(output["text"])
            texts.append(output.get("data", {}).get("text/plain", ""))
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(texts))  # rich colours a notebook's text
    return {"error": error, "text": text}


@functools.cache
def _notebook_future(stem: str, device: str) -> concurrent.futures.Future:
    scratch = Path(_SCRATCH.name) / f"notebook-{stem}-{device}"
    scratch.mkdir(parents=True, exist_ok=True)
    args = ["--device", device, "--smoke"]
    if writes_checkpoints(stem):  # never the learner's checkpoints folder
        args += ["--checkpoint", str(scratch / "model.pt")]
    return _POOL.submit(_execute_notebook, stem, args)


def notebook_run(stem: str, device: str) -> dict:
    """The lesson run as a notebook, once per session (started early by conftest)."""
    return _notebook_future(lesson_path(stem).stem, device).result()


def damaged_files(count: int = 240) -> list[bytes]:
    """Bytes that are not a usable checkpoint, the same every run: random bytes, random bytes
    after a pickle header, and a real torch.save file with bytes overwritten and its end cut off.
    Unpickling such bytes fails in many ways (UnpicklingError, KeyError, IndexError, struct.error,
    UnicodeDecodeError, ...); found by fuzzing torch.load, where one fixed sample was not enough."""
    import torch  # here, so that importing the helpers stays cheap

    buffer = io.BytesIO()
    torch.save({"weights": torch.arange(6.0), "names": ["a", "b"]}, buffer)  # not a checkpoint
    real = buffer.getvalue()
    files = []
    for seed in range(count):
        rng = random.Random(seed)
        kind = seed % 3
        if kind == 0:
            files.append(rng.randbytes(rng.choice([1, 2, 10, 100, 2000])))
        elif kind == 1:
            files.append(b"\x80\x02" + rng.randbytes(rng.choice([1, 10, 100, 2000])))
        else:
            damaged = bytearray(real)
            for _ in range(rng.randint(1, 20)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            files.append(bytes(damaged[: rng.randint(1, len(damaged))]))
    return files


def every_damaged_file_stops_with_one_line(load_checkpoint, folder: Path, device, capsys) -> None:
    """load_checkpoint(path, device) of lessons 06 and 07 must stop each of `damaged_files()`
    with one "not a readable checkpoint" line and exit status 1, never a traceback."""
    path = folder / "damaged.pt"
    for number, content in enumerate(damaged_files()):
        path.write_bytes(content)
        with pytest.raises(SystemExit) as exit_:
            load_checkpoint(path, device)
        error = capsys.readouterr().err
        assert exit_.value.code == 1 and error.count("\n") == 1, (number, error)
        assert "not a readable checkpoint" in error, (number, error)
