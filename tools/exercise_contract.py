"""The master copy of the helpers that every exercise and solution file repeats to stay standalone.

Each lesson NN_topic has an exercise file and a solution file:

    starter_kit/15_pytorch_ml/exercises/NN_topic.py   functions with a TODO body, and their checks
    starter_kit/15_pytorch_ml/solutions/NN_topic.py   the same functions worked out, same checks

Running either file checks every exercise and prints one table row per exercise: passed; failed,
with a hint that says what was wrong ("expected shape (4, 3), got (3, 4)") and the guide section
to reread; or not attempted yet. The exit status is 0 only when every exercise checked passed.
A solution file therefore passes its own checks and exits 0.

This file holds the checker (`run_exercises`), the assertion helpers the checks raise their hints
with (`expect`, `expect_type`, `expect_tensor`, `expect_close`) and the `--only N` flag. Like
tools/contract.py, it is the one text their copies are made from: fix a helper here, then run
`uv run python tools/sync_contract.py`, which rewrites every top-level def or class of the same
name in the lessons, exercises and solutions. No name here may also be defined in contract.py.

The format of an exercise file, top to bottom (tests/test_exercises.py enforces what it can):

1. The PEP 723 block, exactly as in the lessons (same exclude-newer date; torch, numpy, rich,
   plus whatever else the file imports).
2. The module docstring. First line: `Exercises NN - Title: what you practise.` (a solution
   file: `Solutions NN - Title: ...`). Then how it works, and these lines:
       Run it:   uv run starter_kit/15_pytorch_ml/exercises/NN_topic.py
       One:      uv run starter_kit/15_pytorch_ml/exercises/NN_topic.py --only 2
       Solution: starter_kit/15_pytorch_ml/solutions/NN_topic.py
       Guide:    learning/NN_topic.md
3. Imports, then `# %% Config`: GUIDE = "learning/NN_topic.md" and NOTEBOOK_ARGS.
4. The exercises, first thing the learner reads: 3 to 6, from a warm-up to a stretch, each after
   a `# %% Exercise N - Title` cell marker. An exercise is a top-level function (or class) with a
   descriptive name. Its docstring states the task, then `Input:`, `Return:` (every exercise
   returns something, so a check can tell a forgotten `return`), maybe `Example:`, and `Guide:`
   with the section's relative path and anchor. Its body in the exercise file is only
           raise NotImplementedError("TODO: <the task in a few words>")
   which the checker reports as "not attempted" (a NotImplementedError whose message does not
   start with "TODO" is an ordinary error: torch raises some of its own). The solution file has
   the same names, signatures and docstrings, with bodies worked out and comments saying why.
5. `# %% Checks`: one `check_N(device)` per exercise, textually identical in both files. A check
   builds inputs on `device` (float64 only on explicit CPU tensors), calls the exercise, and tests
   behaviour against an independent computation (NumPy, float64 on the CPU, a loop, autograd or
   finite differences, a reference training loop); for each common mistake the lesson warns
   about, it recognises the mistake's result and names it in the hint. It fails by raising
   WrongAnswerError, through the expect helpers, never with a bare assert. A check that catches
   an error to explain it (view() on a non-contiguous tensor, backward() on a vector) re-raises
   NotImplementedError untouched: it is a RuntimeError too, and means "not attempted". A check
   takes well under a second on a CPU.
6. `# %% The checker`: the helpers, copied verbatim from the masters (never edit them by hand):
   from tools/contract.py make_console, fail, resolve_device, seed_everything,
   LessonArgumentParser, seed_value, contract_parser, script_arguments, run_lesson (in
   contract.py's order); then every helper of this file, in this file's order.
7. `# %% main`: console = make_console() (only the checker prints; it is made here, below the
   helpers, so that a notebook runs the cells in order); EXERCISES = [Exercise(title,
   f"{GUIDE}#anchor", check_1), ...] in order; main(argv): contract_parser(__doc__ first line,
   smoke_help=...) + add_exercise_flags, resolve_device, torch.set_num_threads(1), the banner
   `Exercises NN - PyTorch <version> - device <device> - seed <seed>` (`Solutions NN - ...` in a
   solution), then run_exercises(EXERCISES, device, args.seed, args.only).
8. `if __name__ == "__main__": run_lesson(main, NOTEBOOK_ARGS)`.

Numbering: exercise N is the N-th TODO function, after `# %% Exercise N - <its table title>`
(plus " (warm-up)" on the first and " (stretch)" on the last); check_N calls it; its docstring's
`Guide:` line is the section its Exercise(...) names. A later exercise may call an earlier one
(in 04, exercise 6 calls exercise 5's evaluate()); it shows "not attempted" until both are done.

Hints say what was wrong, with the numbers, then the fix: "mean_squared_error(predictions (6, 1),
targets (6,)) is the mean over a (6, 6) table: (6, 1) - (6,) broadcasts ...; squeeze(1) the
predictions first". The checker adds "reread <section>" (the Exercise's, or the one given to
WrongAnswerError/expect), and turns a crash into "your code raised RuntimeError: <first line>
(line 57, in stable_softmax)". Every check starts by checking the type of what came back
(expect_type / expect_tensor), so a forgotten `return` gets its hint too. run_exercises seeds
everything with --seed before each check, so `--only N` sees the numbers the full run sees.

tests/test_exercises.py covers every file its glob finds. For a new lesson, add to its
WRONG_ANSWERS at least one deliberately wrong implementation per common mistake, with a piece of
the hint it must get (and to MISTAKES_ONLY_THE_CPU_SHOWS if an accelerator hides the mistake).
Build the solution first, then copy it and cut each exercise body down to its TODO line.

This module is importable (the tests do), but no exercise imports it.
"""

import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch
from rich.console import Console
from rich.table import Table
from rich.text import Text

sys.path.insert(0, str(Path(__file__).resolve().parent))  # contract.py lies beside this file
from contract import seed_everything  # noqa: E402  (each exercise file has its own copy)

console = Console()  # each exercise file has its own; run_exercises prints through it


class WrongAnswerError(Exception):
    """A check found a wrong answer. `hint` says what is wrong, with the numbers ("expected shape
    (4, 3), got (3, 4)"); `section` names the guide section to reread when it is not the
    exercise's own, e.g. "learning/02_tensor_manipulation.md#1-view-vs-reshape"."""

    def __init__(self, hint: str, section: str | None = None):
        super().__init__(hint)
        self.hint = hint
        self.section = section


def expect(condition: bool, hint: str, section: str | None = None) -> None:
    """The general check: when `condition` is false, fail with `hint`."""
    if not condition:
        raise WrongAnswerError(hint, section)


def expect_type(value, kind, what: str, section: str | None = None):
    """`value` is an instance of `kind` (a type or a tuple of types: torch.Tensor, nn.Module,
    float, ...); returns it. None gets its own hint: a function without `return` returns None."""
    if value is None:
        raise WrongAnswerError(f"got None from {what}: did you forget the `return`?", section)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kind):
        hint = f"{what}: expected a {' or '.join(k.__name__ for k in kinds)}, got a "
        hint += type(value).__name__
        if float in kinds and isinstance(value, torch.Tensor):
            hint += ": .item() turns a one-element tensor into a Python number"
        raise WrongAnswerError(hint, section)
    return value


def expect_tensor(
    value, what: str, shape=None, dtype=None, device=None, section: str | None = None
) -> torch.Tensor:
    """`value` is a tensor, with this shape, dtype and device type where they are given."""
    expect_type(value, torch.Tensor, what, section)
    if shape is not None and tuple(value.shape) != tuple(shape):
        hint = f"{what}: expected shape {tuple(shape)}, got {tuple(value.shape)}"
        raise WrongAnswerError(hint, section)
    if dtype is not None and value.dtype != dtype:
        raise WrongAnswerError(f"{what}: expected dtype {dtype}, got {value.dtype}", section)
    if device is not None and value.device.type != torch.device(device).type:
        wanted = torch.device(device).type
        hint = f"{what}: expected a tensor on {wanted}, got one on {value.device.type}: "
        raise WrongAnswerError(hint + "create it with device=... or move it with .to(...)", section)
    return value


def expect_close(
    actual, expected, what: str, rtol=1e-5, atol=1e-6, section: str | None = None
) -> None:
    """`actual` equals `expected` within rtol and atol (tensors or numbers, compared as float64 on
    the CPU; inf equals inf, nan equals nothing). The hint names the first element that differs."""

    def as_float64(value) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().double()
        return torch.as_tensor(value, dtype=torch.float64)

    actual, expected = as_float64(actual), as_float64(expected)
    if actual.shape != expected.shape:
        hint = f"{what}: expected shape {tuple(expected.shape)}, got {tuple(actual.shape)}"
        raise WrongAnswerError(hint, section)
    close = torch.isclose(actual, expected, rtol=rtol, atol=atol)
    if not bool(close.all()):
        index = tuple(int(i) for i in (~close).nonzero()[0])  # () for a single number
        where = f" at {list(index)}" if index else ""
        wrong = f"expected {expected[index].item():.6g}{where}, got {actual[index].item():.6g}"
        count = f" ({int((~close).sum())} of {close.numel()} values differ)" if index else ""
        raise WrongAnswerError(f"{what}: {wrong}{count}", section)


class Exercise(NamedTuple):
    """One exercise, one row of the table: a short title, the guide section that teaches it
    (a relative path with its anchor), and the check, which takes the device and raises
    WrongAnswerError on a wrong answer."""

    title: str
    section: str
    check: Callable[[torch.device], object]


def add_exercise_flags(parser, num_exercises: int) -> None:
    """--only N: check exercise N alone; argparse rejects any N outside 1 to num_exercises."""
    parser.add_argument(
        "--only",
        type=int,
        choices=range(1, num_exercises + 1),
        metavar="N",
        help=f"check only exercise N (1 to {num_exercises})",
    )


def describe_error(error: BaseException) -> str:
    """An unexpected exception in one line instead of a traceback: its type, the first line of
    its message, and the line of your code it came from (the deepest frame outside Python's own
    files and the installed packages: this file when run as a script, a cell in a notebook)."""
    lines = str(error).strip().splitlines()
    message = lines[0] if lines else ""
    if len(message) > 200:
        message = message[:197] + "..."
    installed = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith("<")  # <frozen ...>, <string>
        and not any(Path(frame.filename).resolve().is_relative_to(p) for p in installed)
    ]
    where = f" (line {frames[-1].lineno}, in {frames[-1].name})" if frames else ""
    return f"{type(error).__name__}: {message}{where}" if message else type(error).__name__ + where


def run_exercises(
    exercises: list[Exercise], device: torch.device, seed: int, only: int | None = None
) -> None:
    """Check every exercise (or only number `only`) and print a table, one row per exercise:
    passed; failed, with the check's hint or a one-line description of the error; or not
    attempted yet (its function still raises NotImplementedError("TODO: ...")). Each hint names
    the guide section to reread. A script exits with status 1 unless every exercise checked
    passed; in a notebook the table is the answer."""
    styles = {"passed": "green", "failed": "bold red", "not attempted": "yellow"}
    table = Table("#", "exercise", "status", "hint")
    table.columns[3].overflow = "fold"  # a long guide path wraps instead of ending in "..."
    statuses = []
    for number, exercise in enumerate(exercises, start=1):
        if only is not None and number != only:
            continue
        seed_everything(seed, device)  # a check sees the same numbers, alone (--only) or not
        status, hint = "passed", ""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # a warning your code causes is shown in the hint
            try:
                exercise.check(device)
            except Exception as error:
                if isinstance(error, WrongAnswerError):
                    status = "failed"
                    hint = f"{error.hint}\nreread {error.section or exercise.section}"
                elif isinstance(error, NotImplementedError) and str(error).startswith("TODO"):
                    status, hint = "not attempted", f"{error}\nread {exercise.section}"
                else:  # the learner's code crashed: one line, not a traceback
                    status = "failed"
                    hint = f"your code raised {describe_error(error)}"
                    hint += f"\nreread {exercise.section}"
        if caught and status != "not attempted":
            warning = (str(caught[0].message).strip().splitlines() or [""])[0][:200]
            hint += ("\n" if hint else "") + f"{caught[0].category.__name__}: {warning}"
        statuses.append(status)
        table.add_row(str(number), exercise.title, Text(status, style=styles[status]), Text(hint))
    console.print(table)
    passed = statuses.count("passed")
    if passed == len(statuses):
        console.print(f"All {passed} checked exercises passed.")
        return
    failed, todo = statuses.count("failed"), statuses.count("not attempted")
    console.print(
        f"{passed} of {len(statuses)} passed, {failed} failed, {todo} not attempted yet. "
        "Replace a TODO line with your code (or fix the first row that failed) and run again."
    )
    if "__file__" in globals():  # a script's exit status; a notebook (no __file__) has none
        raise SystemExit(1)
