# /// script
# requires-python = ">=3.11"
# dependencies = [
#     "torch>=2.15",
#     "numpy>=2.0",
#     "rich>=14",
# ]
#
# [tool.uv]
# exclude-newer = "2026-11-01T00:00:00Z"
# ///
"""Exercises 03 - Tensor math: reductions, einsum, broadcasting, softmax and the loss.

Each function below is an exercise: its docstring says what to do, what it gets and what it
must return. Replace its `raise NotImplementedError(...)` line with your code, then run this file.
It checks every exercise and prints a table: passed; failed, with a hint that says what was wrong
and the guide section to reread; or not attempted yet. It exits with status 0 only when all pass.
The checks sit below the exercises: read them if you like, they say exactly what is tested.

Run it:   uv run starter_kit/15_pytorch_ml/exercises/03_tensor_math.py
One:      uv run starter_kit/15_pytorch_ml/exercises/03_tensor_math.py --only 2
Solution: starter_kit/15_pytorch_ml/solutions/03_tensor_math.py
Guide:    learning/03_tensor_math.md
"""

import argparse
import os
import random
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, NoReturn

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from rich.text import Text

# %% Config
GUIDE = "learning/03_tensor_math.md"

# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--only", "2"].
NOTEBOOK_ARGS: list[str] = []


# %% Exercise 1 - Centre the columns (warm-up)
def center_columns(scores: torch.Tensor):
    """Subtract from each column its own mean, so that every column has mean 0.

    Input:   scores, a float tensor of shape (students, quizzes), on any device.
    Return:  a new tensor of the same shape; scores itself stays unchanged.
    Example: [[1., 2.], [3., 6.]] -> [[-1., -2.], [1., 2.]]
    Guide:   learning/03_tensor_math.md#2-reductions-along-a-dimension
    """
    raise NotImplementedError("TODO: subtract each column's mean")


# %% Exercise 2 - Attention scores with einsum
def attention_scores(queries: torch.Tensor, keys: torch.Tensor):
    """A transformer's attention scores: the dot product of every query with every key, for
    every sample of the batch, written with torch.einsum.

    Input:   queries (batch, num_queries, dim) and keys (batch, num_keys, dim), same device.
    Return:  scores (batch, num_queries, num_keys): scores[b, q, k] = queries[b, q] . keys[b, k]
    Guide:   learning/03_tensor_math.md#3-matrix-multiplication
    """
    raise NotImplementedError("TODO: torch.einsum over the shared dimension d")


# %% Exercise 3 - Every distance at once
def pairwise_squared_distances(points: torch.Tensor, centers: torch.Tensor):
    """The squared distance from every point to every center, by broadcasting (no loop).

    Input:   points (num_points, dim) and centers (num_centers, dim), same device.
    Return:  distances (num_points, num_centers): distances[i, j] = sum over d of
             (points[i, d] - centers[j, d]) ** 2.
    Guide:   learning/03_tensor_math.md#4-broadcasting
    """
    raise NotImplementedError("TODO: broadcast (N, 1, D) - (1, M, D), square, sum")


# %% Exercise 4 - Probabilities and the loss
def probabilities_and_loss(logits: torch.Tensor, labels: torch.Tensor):
    """A classifier's output, twice: probabilities to show a person, and the training loss.

    Use torch.softmax for the probabilities and torch.nn.functional.cross_entropy for the loss.
    Input:   logits (batch, classes), float, may require grad; labels (batch,), int64 class
             numbers; same device.
    Return:  a tuple (probabilities, loss): probabilities (batch, classes), each row summing to
             1; loss, a 0-dim tensor, the mean cross-entropy, connected to autograd.
    Guide:   learning/03_tensor_math.md#5-stable-softmax-and-logsumexp
    """
    raise NotImplementedError("TODO: return (softmax of the logits, cross_entropy loss)")


# %% Exercise 5 - A stable softmax (stretch)
def stable_softmax(logits: torch.Tensor, dim: int):
    """softmax along dimension `dim`, without torch.softmax, that works for any logits: also
    for logits near +1000 or -1000, and for rows far apart from each other.

    Input:   logits, a float tensor of any shape, on any device; dim, the dimension to
             normalise (negative numbers count from the end).
    Return:  a tensor of the same shape: exp(logits) / exp(logits).sum(dim), computed so that
             nothing overflows or divides 0 by 0; the values along `dim` sum to 1.
    Guide:   learning/03_tensor_math.md#5-stable-softmax-and-logsumexp
    """
    raise NotImplementedError("TODO: subtract the max along dim, exp, divide by the sum")


# %% Checks: run_exercises calls these; the solution file has the very same text
def check_1(device: torch.device) -> None:
    for shape in [(5, 3), (4, 4)]:
        scores = torch.randn(*shape, device=device)
        original = scores.clone()
        what = f"center_columns(scores of shape {shape})"
        result = center_columns(scores)
        expect(
            torch.equal(scores, original),
            f"{what} changed scores itself: `scores -= ...` works in place; write "
            "scores - ... to make a new tensor",
        )
        expect_tensor(result, what, shape=shape, dtype=torch.float32, device=device)
        rows_centred = result.mean(dim=1).abs().max().item() < 1e-5
        columns_centred = result.mean(dim=0).abs().max().item() < 1e-5
        expect(
            columns_centred or not rows_centred,
            f"{what}: every row has mean 0, but the columns must: dim=0 averages over the "
            "students (the rows), giving one mean per column",
        )
        array = original.cpu().double().numpy()
        expect_close(result, array - array.mean(axis=0), what, rtol=1e-5, atol=1e-5)


def check_2(device: torch.device) -> None:
    queries = torch.randn(3, 5, 8, device=device)
    keys = torch.randn(3, 7, 8, device=device)
    what = "attention_scores(queries (3, 5, 8), keys (3, 7, 8))"
    scores = expect_type(attention_scores(queries, keys), torch.Tensor, what)
    expect(
        tuple(scores.shape) != (3, 7, 5),
        f"{what}: expected shape (3, 5, 7), got (3, 7, 5): one row per query and one column per "
        "key, so the output letters are b, q, k in that order",
    )
    expect_tensor(scores, what, shape=(3, 5, 7), dtype=torch.float32, device=device)
    q, k = queries.cpu().double().numpy(), keys.cpu().double().numpy()
    expected = np.stack([q[b] @ k[b].T for b in range(3)])  # one matrix product per sample
    expect_close(scores, expected, what, rtol=1e-4, atol=1e-4)


def check_3(device: torch.device) -> None:
    points = torch.randn(6, 3, device=device)
    centers = torch.randn(4, 3, device=device)
    what = "pairwise_squared_distances(points (6, 3), centers (4, 3))"
    distances = expect_type(pairwise_squared_distances(points, centers), torch.Tensor, what)
    expect(
        tuple(distances.shape) != (6, 3),
        f"{what}: expected shape (6, 4), got (6, 3): sum the squares over the coordinates "
        "(the last dimension), not over the centers",
    )
    expect_tensor(distances, what, shape=(6, 4), dtype=torch.float32, device=device)
    p, c = points.cpu().double().numpy(), centers.cpu().double().numpy()
    expected = [[((p[i] - c[j]) ** 2).sum() for j in range(4)] for i in range(6)]
    expect_close(distances, expected, what, rtol=1e-4, atol=1e-5)


def check_4(device: torch.device) -> None:
    logits = (3 * torch.randn(6, 3, device=device)).requires_grad_()
    labels = torch.randint(0, 3, (6,), device=device)
    what = "probabilities_and_loss(logits (6, 3), labels (6,))"
    result = expect_type(probabilities_and_loss(logits, labels), (tuple, list), what)
    expect(len(result) == 2, f"{what} returned {len(result)} values, expected 2")
    probabilities, loss = result
    scores, classes = logits.detach().cpu().double().numpy(), labels.cpu().numpy()

    def softmax(rows: np.ndarray) -> np.ndarray:
        exponentials = np.exp(rows - rows.max(axis=1, keepdims=True))
        return exponentials / exponentials.sum(axis=1, keepdims=True)

    def cross_entropy(rows: np.ndarray) -> float:  # the mean of -log(softmax) of the true class
        return -np.log(softmax(rows)[np.arange(len(classes)), classes]).mean()

    shape = (6, 3)
    expect_tensor(probabilities, f"{what}: probabilities", shape=shape, device=device)
    expect_close(probabilities, softmax(scores), f"{what}: probabilities", rtol=1e-5, atol=1e-6)
    loss = expect_tensor(loss, f"{what}: loss", shape=(), device=device)
    expect(
        not np.isclose(loss.item(), cross_entropy(softmax(scores)), rtol=1e-5),
        f"{what}: the loss was computed from the probabilities: cross_entropy applies "
        "log_softmax itself, so give it the raw logits (given probabilities, it softmaxes twice)",
    )
    true_class = softmax(scores)[np.arange(6), classes]
    expect(
        not np.isclose(loss.item(), -true_class.mean(), rtol=1e-5),
        f"{what}: the loss is -mean(probability of the true class): nll_loss expects "
        "log-probabilities; cross_entropy(logits, labels) does it all",
    )
    expect_close(loss, cross_entropy(scores), f"{what}: loss", rtol=1e-5)
    expect(loss.requires_grad, f"{what}: the loss does not require grad: no .item() or .detach()")
    loss.backward()
    by_hand = (softmax(scores) - np.eye(3)[classes]) / 6  # d(loss)/d(logits)
    expect_close(logits.grad, by_hand, f"the gradient of {what}'s loss", rtol=1e-4, atol=1e-6)


def check_5(device: torch.device) -> None:
    def softmax(array: np.ndarray, dim: int) -> np.ndarray:
        exponentials = np.exp(array - array.max(axis=dim, keepdims=True))
        return exponentials / exponentials.sum(axis=dim, keepdims=True)

    base = torch.tensor([1.0, 2.0, 3.0], device=device)
    large = torch.stack([base, base + 1000, base - 1000])  # (3, 3): rows near 0, 1000, -1000
    apart = torch.stack([base, base + 1000])  # rows far apart from each other
    cases = [
        ("rows 1000 apart", apart, -1),
        ("logits near 0, +1000 and -1000", large, 1),
        ("the same logits, by column", large.T.contiguous(), 0),
        ("random logits (2, 3, 4)", 5 * torch.randn(2, 3, 4, device=device), 1),
    ]
    for description, logits, dim in cases:
        what = f"stable_softmax({description}, dim={dim})"
        result = expect_type(stable_softmax(logits.clone(), dim), torch.Tensor, what)
        expect_tensor(result, what, shape=logits.shape, dtype=torch.float32, device=device)
        if not bool(torch.isfinite(result).all()):
            if logits is apart and bool(torch.isfinite(result[1]).all()):  # the high row is fine
                raise WrongAnswerError(
                    f"{what} has nan in the row far below the other: subtract each row's own "
                    "max (amax(dim=dim, keepdim=True)), not the max of the whole tensor"
                )
            raise WrongAnswerError(
                f"{what} has nan or inf: exp() overflows past about 88.7 (float32); subtract "
                "the max along dim before exp()"
            )
        sums = result.sum(dim=dim)
        expect(
            torch.allclose(sums, torch.ones_like(sums), atol=1e-5),
            f"{what}: the values along dim={dim} do not sum to 1: reduce along `dim` (amax and "
            "sum) with keepdim=True, so the result lines up with the logits",
        )
        expected = softmax(logits.cpu().double().numpy(), dim)
        expect_close(result, expected, what, rtol=1e-5, atol=1e-6)


# %% The checker: helpers copied verbatim from tools/contract.py and tools/exercise_contract.py
def make_console() -> Console:
    """rich's console. Where the output cannot encode ▁▂▃ or █ (Windows' cp1252 when piped, say),
    they print as '?' rather than stop the lesson with a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    return Console()


def fail(message: str, status: int = 1) -> NoReturn:
    """Something the learner can fix: one line on stderr, no traceback. Exit 1 failure, 2 usage."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(status)


def resolve_device(requested: str) -> torch.device:
    """'auto' -> the available accelerator (cuda, mps, xpu, ...) else the CPU; exit 2 if absent."""
    accelerator = torch.accelerator.current_accelerator(check_available=True)  # None on CPU-only
    available = ["cpu"] + ([accelerator.type] if accelerator is not None else [])
    if requested == "auto":
        return torch.device(available[-1])
    if requested not in available:
        fail(f"device '{requested}' is not available; available: {', '.join(available)}", 2)
    return torch.device(requested)


def seed_everything(seed: int, device: torch.device) -> None:
    """Same seed, same machine and device -> same numbers. Seeds every generator; on a GPU, also
    asks for deterministic kernels (cuDNN and cuBLAS otherwise pick the fastest, which can vary)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds the CPU and every accelerator
    if device.type != "cpu":  # (on the CPU it would only cost seconds of imports)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # read when cuBLAS starts
        torch.backends.cudnn.benchmark = False  # benchmarking picks kernels by timing
        # An operation with no deterministic GPU kernel warns instead of stopping the lesson.
        torch.use_deterministic_algorithms(True, warn_only=True)


class LessonArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (`error: argument --lr: ...`) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see --help)", 2)


def seed_value(text: str) -> int:
    """--seed: a whole number from 0 to 2**32 - 1 (what NumPy's generator accepts)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= 2**32 - 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and {2**32 - 1}, got {text}")
    return value


def contract_parser(description: str, smoke_help: str) -> LessonArgumentParser:
    """The three flags every lesson takes: --device, --seed and --smoke."""
    parser = LessonArgumentParser(
        description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps", "xpu"],
        default="auto",
        help="where tensors live; auto = the available accelerator, else cpu",
    )
    parser.add_argument(
        "--seed", type=seed_value, default=0, help="seed for torch, numpy and random (0 to 2**32-1)"
    )
    parser.add_argument("--smoke", action="store_true", help=smoke_help)
    return parser


def script_arguments(notebook_args: list[str]) -> list[str]:
    """The flags to run with: the command line when this file runs as a script, `notebook_args`
    in a notebook (Jupyter and VS Code start their kernel with flags of their own)."""
    script = globals().get("__file__")  # a notebook kernel has no __file__
    if script and Path(sys.argv[0]).resolve() == Path(script).resolve():
        return sys.argv[1:]
    return list(notebook_args)


def run_lesson(main: Callable[[list[str]], object], notebook_args: list[str]) -> None:
    """Run main() with the script's or the notebook's flags; Ctrl-C stops it with one line."""
    try:
        main(script_arguments(notebook_args))
    except KeyboardInterrupt:
        fail("interrupted (Ctrl-C): the lesson stopped; no half-written file was left", 130)


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


# %% main
console = make_console()  # the checker prints its table through it

EXERCISES = [
    Exercise("Centre the columns", f"{GUIDE}#2-reductions-along-a-dimension", check_1),
    Exercise("Attention scores with einsum", f"{GUIDE}#3-matrix-multiplication", check_2),
    Exercise("Every distance at once", f"{GUIDE}#4-broadcasting", check_3),
    Exercise("Probabilities and the loss", f"{GUIDE}#5-stable-softmax-and-logsumexp", check_4),
    Exercise("A stable softmax", f"{GUIDE}#5-stable-softmax-and-logsumexp", check_5),
]


def main(argv: list[str]) -> None:
    parser = contract_parser(
        __doc__.split("\n")[0], smoke_help="accepted like every lesson's; the checks are tiny"
    )
    add_exercise_flags(parser, len(EXERCISES))
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    torch.set_num_threads(1)  # tiny tensors: a pool of CPU threads costs more than it saves
    console.print(
        f"Exercises 03 - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )
    run_exercises(EXERCISES, device, args.seed, args.only)


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
