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
"""Exercises 02 - Tensor manipulation: shapes, views and copies, masks, gather.

Each function below is an exercise: its docstring says what to do, what it gets and what it
must return. Replace its `raise NotImplementedError(...)` line with your code, then run this file.
It checks every exercise and prints a table: passed; failed, with a hint that says what was wrong
and the guide section to reread; or not attempted yet. It exits with status 0 only when all pass.
The checks sit below the exercises: read them if you like, they say exactly what is tested.

Run it:   uv run starter_kit/15_pytorch_ml/exercises/02_tensor_manipulation.py
One:      uv run starter_kit/15_pytorch_ml/exercises/02_tensor_manipulation.py --only 2
Solution: starter_kit/15_pytorch_ml/solutions/02_tensor_manipulation.py
Guide:    learning/02_tensor_manipulation.md
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
GUIDE = "learning/02_tensor_manipulation.md"

# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--only", "2"].
NOTEBOOK_ARGS: list[str] = []


# %% Exercise 1 - Channels first (warm-up)
def to_channels_first(images: torch.Tensor):
    """A batch of images from (batch, height, width, channels), as image libraries give them,
    to (batch, channels, height, width), as convolution layers want them.

    Input:   images, a tensor of shape (batch, height, width, channels), on any device.
    Return:  the same pixels, shape (batch, channels, height, width): the value at
             images[b, y, x, c] must be at result[b, c, y, x].
    Guide:   learning/02_tensor_manipulation.md#3-permute-transpose-and-flatten
    """
    raise NotImplementedError("TODO: move the channels dimension to position 1")


# %% Exercise 2 - Flatten for a Linear layer
def flatten_for_linear(images: torch.Tensor):
    """One row per image, ready for an nn.Linear layer: (batch, channels * height * width).

    It must work for any batch, also a batch of one image, and also for a tensor that is not
    contiguous in memory (such as the output of permute).
    Input:   images, a tensor of shape (batch, channels, height, width), on any device.
    Return:  a tensor of shape (batch, channels * height * width): row i is image i's values,
             read channel by channel, row by row.
    Guide:   learning/02_tensor_manipulation.md#1-view-vs-reshape
    """
    raise NotImplementedError("TODO: one row per image, for any batch and any memory layout")


# %% Exercise 3 - A loss with the right shapes
def mean_squared_error(predictions: torch.Tensor, targets: torch.Tensor):
    """The mean squared error between a model's predictions and the targets, written by hand.

    A model with one output unit returns (batch, 1); the targets are (batch,).
    Input:   predictions (batch, 1), which may require grad; targets (batch,); same device.
    Return:  a 0-dim tensor, the mean over the batch of (prediction - target) ** 2, still
             connected to autograd (so that loss.backward() works).
    Guide:   learning/02_tensor_manipulation.md#2-squeeze-and-unsqueeze
    """
    raise NotImplementedError(
        "TODO: squeeze the predictions to (batch,), then the mean squared error"
    )


# %% Exercise 4 - Zero the outliers
def zero_outliers(values: torch.Tensor, limit: float):
    """Replace every value further than `limit` from 0 by 0, keeping the tensor's shape.

    Input:   values, a float tensor of any shape, on any device; limit, a float > 0.
    Return:  a new tensor of values' shape: 0 where abs(value) > limit, the value elsewhere.
             values itself must stay unchanged.
    Example: tensor([[1.0, -3.0], [2.5, 0.5]]), 2.0 -> tensor([[1.0, 0.0], [0.0, 0.5]])
    Guide:   learning/02_tensor_manipulation.md#5-slicing-masks-and-fancy-indexing
    """
    raise NotImplementedError("TODO: a new tensor: 0 where abs(values) > limit")


# %% Exercise 5 - A snapshot of the weights
def snapshot(weights: torch.Tensor):
    """A copy of weights to keep, e.g. the best weights seen during training.

    Input:   weights, a tensor that requires grad, on any device.
    Return:  a tensor with the same values, shape and device that does not require grad and
             does not share memory with weights: later in-place updates of weights (as an
             optimizer makes them) must not change it.
    Guide:   learning/02_tensor_manipulation.md#8-clone-detach-and-shared-memory
    """
    raise NotImplementedError("TODO: a copy outside autograd, with memory of its own")


# %% Exercise 6 - Cross-entropy by hand (stretch)
def cross_entropy_by_hand(logits: torch.Tensor, labels: torch.Tensor):
    """The cross-entropy loss of a classifier, without F.cross_entropy or nn.CrossEntropyLoss.

    For each sample, take -log(probability of its true class), where the probabilities are the
    softmax of that sample's logits; return the mean over the batch. Use log_softmax (stable
    for any logits) and gather.
    Input:   logits (batch, classes), float, may require grad; labels (batch,), int64 class
             numbers; same device.
    Return:  a 0-dim tensor connected to autograd, equal to F.cross_entropy(logits, labels).
    Guide:   learning/02_tensor_manipulation.md#6-gather-and-scatter
    """
    raise NotImplementedError("TODO: -log_softmax, gather the true class, mean")


# %% Checks: run_exercises calls these; the solution file has the very same text
def check_1(device: torch.device) -> None:
    images = torch.randn(2, 4, 5, 3, device=device)  # (batch, height 4, width 5, channels 3)
    what = "to_channels_first(images of shape (2, 4, 5, 3))"
    result = expect_type(to_channels_first(images.clone()), torch.Tensor, what)
    expect(
        tuple(result.shape) != (2, 3, 5, 4),
        f"{what}: expected shape (2, 3, 4, 5), got (2, 3, 5, 4): height and width swapped places; "
        "permute(0, 3, 1, 2) lists where each dimension goes",
    )
    expect_tensor(result, what, shape=(2, 3, 4, 5), device=device)
    expected = np.transpose(images.cpu().numpy(), (0, 3, 1, 2))
    same_pixels = np.allclose(result.cpu().numpy(), expected)
    expect(
        same_pixels,
        f"{what} has the right shape but the wrong pixels: view and reshape regroup the numbers "
        "in memory order, they do not move a dimension; use permute",
    )


def check_2(device: torch.device) -> None:
    cases = {
        "a batch": torch.randn(2, 3, 4, 5, device=device),
        "a permuted batch": torch.randn(2, 4, 5, 3, device=device).permute(0, 3, 1, 2),
        "a batch of one": torch.randn(1, 3, 4, 5, device=device),
    }
    for description, images in cases.items():
        what = f"flatten_for_linear({description} of shape {tuple(images.shape)})"
        try:
            flat = flatten_for_linear(images)
        except RuntimeError as error:
            if isinstance(error, NotImplementedError) or "view size is not" not in str(error):
                raise  # a TODO (NotImplementedError is a RuntimeError) or another error
            raise WrongAnswerError(
                f"{what}: view() cannot regroup a tensor that is not contiguous (a permute's "
                "output); use flatten(1) or reshape(), which copy when they must",
                section=f"{GUIDE}#1-view-vs-reshape",
            ) from None
        flat = expect_type(flat, torch.Tensor, what)
        expect(
            flat.ndim != 1,
            f"{what}: expected shape ({len(images)}, 60), got {tuple(flat.shape)}: the batch "
            "dimension was flattened too; flatten(1) starts after it",
        )
        expect_tensor(flat, what, shape=(len(images), 60), device=device)
        expected = images.cpu().numpy().reshape(len(images), -1)  # NumPy: read in logical order
        expect_close(flat, expected, what)


def check_3(device: torch.device) -> None:
    predictions = torch.randn(6, 1, device=device, requires_grad=True)
    targets = torch.randn(6, device=device)
    what = "mean_squared_error(predictions (6, 1), targets (6,))"
    loss = expect_tensor(mean_squared_error(predictions, targets), what, device=device)
    column = predictions.detach().cpu().double().numpy()  # (6, 1)
    row = targets.cpu().double().numpy()  # (6,)
    expect(
        loss.numel() != 1 or not np.isclose(loss.item(), np.mean((column - row) ** 2)),
        f"{what} is the mean over a (6, 6) table: (6, 1) - (6,) broadcasts to every prediction "
        "minus every target; squeeze(1) the predictions first",
    )
    expect_tensor(loss, what, shape=())
    expected = np.mean((column[:, 0] - row) ** 2)
    expect_close(loss, expected, what, rtol=1e-5)
    expect(
        loss.requires_grad,
        f"{what} does not require grad: keep it a tensor (no .item(), no .detach()) so that "
        "backward() can reach the predictions",
    )
    loss.backward()
    by_hand = 2 * (column[:, 0] - row)[:, None] / len(row)  # d(loss)/d(prediction)
    expect_close(predictions.grad, by_hand, f"the gradient of {what}", rtol=1e-5)


def check_4(device: torch.device) -> None:
    values = torch.randn(4, 5, device=device) * 2
    values[0, 0], values[0, 1] = 2.0, -2.5  # exactly at the limit stays; beyond it goes
    original = values.clone()
    what = "zero_outliers(values of shape (4, 5), 2.0)"
    result = expect_type(zero_outliers(values, 2.0), torch.Tensor, what)
    expect(
        result.ndim != 1,
        f"{what}: expected shape (4, 5), got {tuple(result.shape)}: values[mask] picks elements "
        "into a 1-D tensor; to keep the shape, replace with masked_fill or torch.where",
    )
    expect(
        torch.equal(values, original),
        f"{what} changed values itself: values[mask] = 0 and masked_fill_ write into the "
        "original; use masked_fill (no underscore) or torch.where, which make a new tensor",
    )
    expect_tensor(result, what, shape=(4, 5), dtype=values.dtype, device=device)
    array = original.cpu().numpy()
    expect_close(result, np.where(np.abs(array) > 2.0, 0.0, array), what)


def check_5(device: torch.device) -> None:
    weights = torch.randn(3, device=device, requires_grad=True)
    original = weights.detach().cpu().numpy().copy()
    what = "snapshot(weights)"
    kept = expect_tensor(snapshot(weights), what, shape=(3,), dtype=torch.float32, device=device)
    expect(
        not kept.requires_grad,
        f"{what} still requires grad: clone() stays in the autograd graph; detach() it as well",
    )
    with torch.no_grad():
        weights.add_(1.0)  # what optimizer.step() does
    expect(
        np.allclose(kept.detach().cpu().numpy(), original),
        f"{what} changed when weights were updated in place: detach() shares memory with "
        "weights; clone() it as well",
    )


def check_6(device: torch.device) -> None:
    logits = torch.randn(5, 4, device=device, requires_grad=True)
    labels = torch.randint(0, 4, (5,), device=device)
    what = "cross_entropy_by_hand(logits (5, 4), labels (5,))"
    loss = expect_tensor(cross_entropy_by_hand(logits, labels), what, device=device)
    expect_tensor(loss, what, shape=())

    def cross_entropy(scores: np.ndarray, classes: np.ndarray) -> np.ndarray:  # per sample
        peak = scores.max(axis=1, keepdims=True)
        log_sum_exp = np.log(np.exp(scores - peak).sum(axis=1)) + peak[:, 0]
        return log_sum_exp - scores[np.arange(len(classes)), classes]

    scores, classes = logits.detach().cpu().double().numpy(), labels.cpu().numpy()
    expected = cross_entropy(scores, classes).mean()
    exponentials = np.exp(scores - scores.max(axis=1, keepdims=True))
    probabilities = exponentials / exponentials.sum(axis=1, keepdims=True)  # softmax
    mistakes = [
        (
            cross_entropy(probabilities, classes).mean(),
            "the cross-entropy of softmax(logits): log_softmax normalises by itself; apply it "
            "to the raw logits, not to probabilities",
        ),
        (expected * len(classes), "the sum over the batch: cross-entropy is the mean"),
        (
            -np.log(probabilities).mean(),
            "the mean of every -log-probability: pick each sample's true class with "
            "gather(1, labels.unsqueeze(1))",
        ),
    ]
    for value, mistake in mistakes:
        expect(not np.isclose(loss.item(), value, rtol=1e-5), f"{what} is {mistake}")
    expect_close(loss, expected, what, rtol=1e-5)
    expect(loss.requires_grad, f"{what} does not require grad: no .item() or .detach() inside")
    loss.backward()
    one_hot = np.eye(4)[classes]
    by_hand = (probabilities - one_hot) / len(classes)  # d(loss)/d(logits)
    expect_close(logits.grad, by_hand, f"the gradient of {what}", rtol=1e-4, atol=1e-6)

    extreme = torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 500.0, 1000.0]], device=device)
    what = "cross_entropy_by_hand(logits near +-1000, labels [2, 0])"
    loss = expect_tensor(cross_entropy_by_hand(extreme, torch.tensor([2, 0], device=device)), what)
    expect(
        bool(torch.isfinite(loss)),
        f"{what} is {loss.item()}: exp() overflows and log(softmax) of a tiny probability is "
        "-inf; log_softmax computes the same thing stably",
    )
    expect_close(loss, 1500.0, what, rtol=1e-5)


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
    Exercise("Channels first", f"{GUIDE}#3-permute-transpose-and-flatten", check_1),
    Exercise("Flatten for a Linear layer", f"{GUIDE}#1-view-vs-reshape", check_2),
    Exercise("A loss with the right shapes", f"{GUIDE}#2-squeeze-and-unsqueeze", check_3),
    Exercise("Zero the outliers", f"{GUIDE}#5-slicing-masks-and-fancy-indexing", check_4),
    Exercise("A snapshot of the weights", f"{GUIDE}#8-clone-detach-and-shared-memory", check_5),
    Exercise("Cross-entropy by hand", f"{GUIDE}#6-gather-and-scatter", check_6),
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
        f"Exercises 02 - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )
    run_exercises(EXERCISES, device, args.seed, args.only)


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
