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
"""Exercises 01 - Tensor basics: create, index, convert, share with NumPy and move tensors.

Each function below is an exercise: its docstring says what to do, what it gets and what it
must return. Replace its `raise NotImplementedError(...)` line with your code, then run this file.
It checks every exercise and prints a table: passed; failed, with a hint that says what was wrong
and the guide section to reread; or not attempted yet. It exits with status 0 only when all pass.
The checks sit below the exercises: read them if you like, they say exactly what is tested.

Run it:   uv run starter_kit/15_pytorch_ml/exercises/01_tensor_basics.py
One:      uv run starter_kit/15_pytorch_ml/exercises/01_tensor_basics.py --only 2
Solution: starter_kit/15_pytorch_ml/solutions/01_tensor_basics.py
Guide:    learning/01_tensor_basics.md
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
GUIDE = "learning/01_tensor_basics.md"

# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--only", "2"].
NOTEBOOK_ARGS: list[str] = []


# %% Exercise 1 - linspace, made with arange (warm-up)
def linspace_by_arange(start: float, end: float, count: int, device: torch.device):
    """What torch.linspace(start, end, count) gives, made with torch.arange instead.

    Input:   start < end, two floats; count >= 2, an int; device, a torch.device.
    Return:  `count` evenly spaced float32 values from start to end, both included, on device.
    Example: (0.0, 1.0, 5) -> tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    Guide:   learning/01_tensor_basics.md#1-creating-tensors
    """
    raise NotImplementedError("TODO: arange(count) as float32, scaled and shifted")


# %% Exercise 2 - Rows, columns and a mask
def pick_parts(grid: torch.Tensor):
    """Three kinds of index on a (rows, columns) tensor.

    Input:   grid, an int64 tensor of shape (rows, columns), rows >= 3, on any device.
    Return:  a tuple (last_column, middle_rows, odd_values):
             last_column  the last column, shape (rows,);
             middle_rows  every row but the first and the last, shape (rows - 2, columns);
             odd_values   the odd numbers of grid, row by row, as a 1-D tensor.
    Example: torch.arange(12).reshape(3, 4) -> (tensor([3, 7, 11]), tensor([[4, 5, 6, 7]]),
             tensor([1, 3, 5, 7, 9, 11]))
    Guide:   learning/01_tensor_basics.md#6-basic-indexing
    """
    raise NotImplementedError("TODO: return (last_column, middle_rows, odd_values)")


# %% Exercise 3 - Change a copy, not the original
def with_first_row_zeroed(grid: torch.Tensor):
    """A copy of grid whose first row is all zeros; grid itself stays as it was.

    Input:   grid, a tensor of shape (rows, columns), on any device.
    Return:  a new tensor with grid's shape, dtype and device: grid's values, except row 0 = 0.
             It must not share memory with grid.
    Guide:   learning/01_tensor_basics.md#6-basic-indexing
    """
    raise NotImplementedError("TODO: a copy of grid with row 0 set to 0")


# %% Exercise 4 - From NumPy, ready for a model
def from_numpy_for_model(array: np.ndarray, device: torch.device):
    """A NumPy array as a model's input: float32, on the device, and a copy of its own.

    Input:   array, a NumPy array of numbers (float64, float32 or int64); device.
    Return:  a float32 tensor with array's values and shape, on device, that does not share
             memory with array: changing array afterwards must not change the tensor.
    Guide:   learning/01_tensor_basics.md#4-numpy-interop
    """
    raise NotImplementedError("TODO: a float32 copy of array on device")


# %% Exercise 5 - To NumPy, from anywhere
def to_numpy(tensor: torch.Tensor):
    """Any tensor as a NumPy array: one that autograd tracks, or one on an accelerator.

    Input:   tensor, on any device, possibly with requires_grad=True.
    Return:  a NumPy array with the tensor's values, shape and dtype (float32 stays float32).
    Guide:   learning/01_tensor_basics.md#4-numpy-interop
    """
    raise NotImplementedError("TODO: detach, move to the CPU, then .numpy()")


# %% Exercise 6 - Pixels from brightness (stretch)
def to_pixels(brightness: torch.Tensor):
    """Image brightness between 0 and 1 as 8-bit pixels, 0 to 255.

    Scale by 255 and round to the nearest whole number. A value below 0 or above 1 becomes 0 or
    255 (clamp it), rather than wrapping around as uint8 arithmetic would.
    Input:   brightness, a float32 tensor of any shape, on any device.
    Return:  a torch.uint8 tensor of the same shape, on the same device.
    Example: tensor([0.0, 0.5, 0.999, 1.2, -0.1]) -> tensor([0, 128, 255, 255, 0], dtype=uint8)
    Guide:   learning/01_tensor_basics.md#3-dtypes-and-conversion
    """
    raise NotImplementedError("TODO: clamp to [0, 1], scale by 255, round, convert to uint8")


# %% Checks: run_exercises calls these; the solution file has the very same text
def check_1(device: torch.device) -> None:
    for start, end, count in [(0.0, 1.0, 5), (-2.0, 3.0, 11), (1.0, 2.0, 7)]:
        what = f"linspace_by_arange({start}, {end}, {count}, device)"
        values = expect_type(linspace_by_arange(start, end, count, device), torch.Tensor, what)
        expect(
            values.numel() != count - 1,
            f"{what} has {count - 1} values, expected {count}: arange stops before `end`; "
            "count the steps with arange(count), then scale them",
        )
        expect(
            values.dtype != torch.int64,
            f"{what} has dtype torch.int64: arange of whole numbers makes integers; "
            "ask for dtype=torch.float32",
        )
        expect_tensor(values, what, shape=(count,), dtype=torch.float32, device=device)
        expect_close(values, np.linspace(start, end, count), what, rtol=1e-6, atol=1e-6)


def check_2(device: torch.device) -> None:
    grids = [
        torch.arange(20, device=device).view(4, 5),
        torch.randint(-9, 10, (5, 3), device=device),
    ]
    for grid in grids:
        what = f"pick_parts(grid of shape {tuple(grid.shape)})"
        parts = expect_type(pick_parts(grid), (tuple, list), what)
        expect(len(parts) == 3, f"{what} returned {len(parts)} values, expected 3")
        last_column, middle_rows, odd_values = parts
        array = grid.cpu().numpy()  # NumPy indexing: an independent answer
        rows, columns = array.shape
        expect(
            not (isinstance(last_column, torch.Tensor) and last_column.shape == (rows, 1)),
            f"{what}: last_column has shape ({rows}, 1), expected ({rows},): grid[:, -1] "
            "drops the column dimension, grid[:, -1:] keeps it",
        )
        expect_tensor(last_column, f"{what}: last_column", shape=(rows,), device=device)
        expect_close(last_column, array[:, -1], f"{what}: last_column")
        shape = (rows - 2, columns)
        expect_tensor(middle_rows, f"{what}: middle_rows", shape=shape, device=device)
        expect_close(middle_rows, array[1:-1], f"{what}: middle_rows")
        odd = array[array % 2 == 1]
        expect_tensor(odd_values, f"{what}: odd_values", shape=odd.shape, device=device)
        expect_close(odd_values, odd, f"{what}: odd_values")


def check_3(device: torch.device) -> None:
    grid = torch.randint(1, 10, (3, 4), device=device)
    original = grid.clone()
    what = "with_first_row_zeroed(grid)"
    result = with_first_row_zeroed(grid)
    expect(
        torch.equal(grid, original),
        f"{what} changed grid itself: grid[0] is a view of grid's memory, so writing through it "
        "writes into grid; clone() first",
    )
    expect_tensor(result, what, shape=(3, 4), dtype=grid.dtype, device=device)
    expected = original.cpu().numpy().copy()
    expected[0] = 0
    expect_close(result, expected, what)
    expect(
        result.untyped_storage().data_ptr() != grid.untyped_storage().data_ptr(),
        f"{what} shares memory with grid: return a clone()",
    )


def check_4(device: torch.device) -> None:
    arrays = [
        np.random.randn(3, 4),
        np.random.randn(5).astype(np.float32),
        np.arange(6).reshape(2, 3),
    ]
    for array in arrays:
        what = f"from_numpy_for_model({array.dtype} array, device)"
        original = array.copy()
        tensor = expect_type(from_numpy_for_model(array, device), torch.Tensor, what)
        expect(
            tensor.dtype != torch.float64,
            f"{what} has dtype torch.float64, NumPy's default float: models want float32",
        )
        expect_tensor(tensor, what, shape=array.shape, dtype=torch.float32, device=device)
        expect_close(tensor, original, what, rtol=1e-6, atol=1e-6)
        array += 100  # the learner's tensor must not see this change
        expect(
            torch.allclose(tensor.cpu().double(), torch.from_numpy(original).double(), atol=1e-5),
            f"changing the array afterwards changed {what}: torch.from_numpy shares the array's "
            "memory, and .float() of a float32 array is no copy; torch.tensor(array) copies",
        )


def check_5(device: torch.device) -> None:
    weights = torch.randn(2, 3, device=device, requires_grad=True)
    cases = {
        "a tensor that requires grad": weights,
        "the result of an operation on it": weights * 2,
        "an int64 tensor": torch.arange(6, device=device).view(2, 3),
    }
    numpy_dtypes = {torch.float32: np.dtype(np.float32), torch.int64: np.dtype(np.int64)}
    for description, tensor in cases.items():
        what = f"to_numpy({description})"
        try:
            array = to_numpy(tensor)
        except (RuntimeError, TypeError) as error:
            if isinstance(error, NotImplementedError) or "numpy" not in str(error).lower():
                raise  # a TODO (NotImplementedError is a RuntimeError) or another error
            raise WrongAnswerError(
                f"{what} raised {str(error).splitlines()[0]!r}: call .detach() (out of autograd) "
                "and .cpu() (NumPy reads only the CPU's memory) before .numpy()"
            ) from None
        expect_type(array, np.ndarray, what)
        expect(
            array.dtype == numpy_dtypes[tensor.dtype],
            f"{what}: expected dtype {numpy_dtypes[tensor.dtype]}, got {array.dtype}",
        )
        expect_close(array, np.array(tensor.tolist()), what)


def check_6(device: torch.device) -> None:
    examples = torch.tensor([0.0, 0.5, 0.999, 1.0, 1.2, -0.1, 0.2], device=device)
    for brightness in (examples, torch.rand(3, 4, device=device) * 1.4 - 0.2):
        what = f"to_pixels(brightness of shape {tuple(brightness.shape)})"
        pixels = to_pixels(brightness.clone())
        expect_tensor(pixels, what, shape=brightness.shape, dtype=torch.uint8, device=device)
        values = brightness.cpu().numpy().ravel()
        expected = np.rint(np.clip(values, 0, 1) * np.float32(255)).astype(np.uint8)
        got = pixels.cpu().numpy().ravel()
        for value, want, have in zip(values, expected, got, strict=True):
            if want == have:
                continue
            if 0 <= value <= 1 and have == int(value * np.float32(255)):
                hint = f"{value:.3f} became {have}, expected {want}: .to(torch.uint8) truncates "
                raise WrongAnswerError(hint + "toward zero; round() before converting")
            if not 0 <= value <= 1:
                hint = f"{value:.3f} became {have}, expected {want}: clamp values outside [0, 1] "
                raise WrongAnswerError(hint + "before converting (uint8 wraps around past 255)")
            expect_close(got, expected, what)


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
    Exercise("linspace, made with arange", f"{GUIDE}#1-creating-tensors", check_1),
    Exercise("Rows, columns and a mask", f"{GUIDE}#6-basic-indexing", check_2),
    Exercise("Change a copy, not the original", f"{GUIDE}#6-basic-indexing", check_3),
    Exercise("From NumPy, ready for a model", f"{GUIDE}#4-numpy-interop", check_4),
    Exercise("To NumPy, from anywhere", f"{GUIDE}#4-numpy-interop", check_5),
    Exercise("Pixels from brightness", f"{GUIDE}#3-dtypes-and-conversion", check_6),
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
        f"Exercises 01 - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )
    run_exercises(EXERCISES, device, args.seed, args.only)


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
