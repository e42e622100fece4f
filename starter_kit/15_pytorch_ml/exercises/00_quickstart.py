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
"""Exercises 00 - Introduction and quick start: the six-step workflow, in your own code.

Each function below is an exercise: its docstring says what to do, what it gets and what it
must return. Replace its `raise NotImplementedError(...)` line with your code, then run this file.
It checks every exercise and prints a table: passed; failed, with a hint that says what was wrong
and the guide section to reread; or not attempted yet. It exits with status 0 only when all pass.
The checks sit below the exercises: read them if you like, they say exactly what is tested.

Run it:   uv run starter_kit/15_pytorch_ml/exercises/00_quickstart.py
One:      uv run starter_kit/15_pytorch_ml/exercises/00_quickstart.py --only 2
Solution: starter_kit/15_pytorch_ml/solutions/00_quickstart.py
Guide:    learning/00_introduction.md
"""

import argparse
import copy
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
from torch import nn

# %% Config
GUIDE = "learning/00_introduction.md"

# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--only", "2"].
NOTEBOOK_ARGS: list[str] = []


# %% Exercise 1 - Targets from a hidden rule (warm-up)
def make_targets(features: torch.Tensor, true_weights: torch.Tensor, noise_std: float):
    """Step 1, prepare data: the targets a model should learn, made by a hidden linear rule.

    Multiply the features by the true weights (a matrix product) and add noise: noise_std times
    numbers drawn from the standard normal distribution, a different one for every sample.
    Input:   features (num_samples, num_features) and true_weights (num_features, 1), float32,
             on the same device; noise_std, a float (0.0 means no noise).
    Return:  the targets, float32, shape (num_samples, 1), on the features' device.
    Example: features [[1., 2.]], true_weights [[3.], [4.]], noise_std 0.0 -> [[11.]]
    Guide:   learning/00_introduction.md#4-the-six-step-workflow (step 1)
    """
    raise NotImplementedError(
        "TODO: features @ true_weights, plus noise_std * standard normal noise"
    )


# %% Exercise 2 - A gradient from autograd
def gradient_of_cube_sum(weight: torch.Tensor):
    """Autograd in one function: the gradient of (weight ** 3).sum() with respect to weight.

    Let autograd do the calculus: make a copy of weight that requires grad, compute the loss
    from it, call backward(), and read the copy's .grad. Leave weight itself unchanged (it does
    not require grad, and must not start to).
    Input:   weight, a float32 tensor of any shape, on any device.
    Return:  the gradient, a tensor shaped like weight (by hand it is 3 * weight ** 2).
    Guide:   learning/00_introduction.md#2-the-architecture
    """
    raise NotImplementedError("TODO: a copy that requires grad, (copy ** 3).sum(), backward()")


# %% Exercise 3 - The model
def make_model(num_features: int, hidden_size: int):
    """Step 2, define the model: the quick start's network, for any sizes.

    Linear(num_features, hidden_size), then ReLU, then Linear(hidden_size, 1).
    Input:   num_features and hidden_size, two ints.
    Return:  an nn.Module (nn.Sequential is fine) that maps (batch, num_features) to (batch, 1).
             It has num_features * hidden_size + hidden_size weights and biases in its first
             layer and hidden_size + 1 in its second.
    Guide:   learning/00_introduction.md#4-the-six-step-workflow (step 2)
    """
    raise NotImplementedError(
        "TODO: Linear(num_features, hidden_size), ReLU, Linear(hidden_size, 1)"
    )


# %% Exercise 4 - The training loop
def train(model: nn.Module, features: torch.Tensor, targets: torch.Tensor, epochs: int, lr: float):
    """Steps 3 and 4, loss, optimizer and the training loop: train model on all samples at once.

    Use nn.MSELoss() and torch.optim.Adam(model.parameters(), lr=lr). Every epoch takes one step
    on all the samples: forward, loss, zero_grad, backward, step. Train `model` itself.
    Input:   model, an nn.Module on the data's device; features (num_samples, num_features) and
             targets (num_samples, 1); epochs, an int; lr, a float.
    Return:  the loss of every epoch as a list of Python floats (loss.item()), first epoch first.
    Guide:   learning/00_introduction.md#4-the-six-step-workflow (step 4)
    """
    raise NotImplementedError(
        "TODO: Adam + MSELoss; each epoch forward, loss, zero_grad, backward, step"
    )


# %% Exercise 5 - Evaluate and predict (stretch)
def predict(model: nn.Module, samples: torch.Tensor):
    """Steps 5 and 6, evaluate and predict: the model's predictions for new samples.

    Switch the model to evaluation mode first (layers such as dropout behave differently while
    training), and run it under torch.inference_mode(), because nothing will call backward().
    Input:   model, an nn.Module (it may contain dropout, and may be in training mode);
             samples (num_samples, num_features) on the model's device.
    Return:  the predictions, shape (num_samples, 1), a tensor that does not require grad.
             Two calls with the same samples give the same predictions.
    Guide:   learning/00_introduction.md#4-the-six-step-workflow (step 5)
    """
    raise NotImplementedError("TODO: model.eval(), then the model under torch.inference_mode()")


# %% Checks: run_exercises calls these; the solution file has the very same text
def check_1(device: torch.device) -> None:
    features = torch.randn(500, 4, device=device)
    true_weights = torch.randn(4, 1, device=device)
    what = "make_targets(features, true_weights, 0.0)"
    clean = expect_type(make_targets(features, true_weights, 0.0), torch.Tensor, what)
    expect(
        tuple(clean.shape) != (500, 4),
        f"{what}: expected shape (500, 1), got (500, 4): `*` multiplies element by element; "
        "`@` is the matrix product",
    )
    expect_tensor(clean, what, shape=(500, 1), dtype=torch.float32, device=device)
    by_numpy = features.cpu().double().numpy() @ true_weights.cpu().double().numpy()
    expect_close(clean, by_numpy, what, rtol=1e-4, atol=1e-4)

    what = "make_targets(features, true_weights, 0.5)"
    noisy = make_targets(features, true_weights, 0.5)
    expect_tensor(noisy, what, shape=(500, 1), dtype=torch.float32, device=device)
    noise = (noisy.cpu().double() - torch.from_numpy(by_numpy)).squeeze(1)
    expect(
        abs(noise.mean().item()) < 0.15,
        f"{what}: the noise has mean {noise.mean().item():.2f}, not 0: draw it with torch.randn "
        "(standard normal), not torch.rand (uniform between 0 and 1)",
    )
    expect(
        0.4 < noise.std().item() < 0.6,
        f"{what}: the noise has standard deviation {noise.std().item():.3f}, expected about 0.5: "
        "multiply standard normal noise (one number per sample) by noise_std",
    )


def check_2(device: torch.device) -> None:
    weight = torch.randn(2, 3, device=device)
    original = weight.clone()
    what = "gradient_of_cube_sum(weight)"
    gradient = gradient_of_cube_sum(weight)
    expect(
        gradient is not None,
        f"got None from {what}: a missing `return`, or .grad read from a tensor that is not a "
        "leaf (only a tensor you created with requires_grad=True gets a .grad)",
    )
    expect_tensor(gradient, what, shape=(2, 3), device=device)
    expect(
        not weight.requires_grad and torch.equal(weight, original),
        "weight changed: compute on weight.detach().clone().requires_grad_(), not on weight",
    )
    by_hand = 3 * original.cpu().double() ** 2  # d/dw of w ** 3
    expect_close(gradient, by_hand, what, rtol=1e-5, atol=1e-6)


def check_3(device: torch.device) -> None:
    what = "make_model(7, 5)"
    model = expect_type(make_model(7, 5), nn.Module, what)
    num_params = sum(p.numel() for p in model.parameters())
    expect(
        num_params == 7 * 5 + 5 + 5 * 1 + 1,
        f"{what} has {num_params} parameters, expected {7 * 5 + 5 + 5 * 1 + 1}: "
        "Linear(7, 5) has 7*5 weights + 5 biases, Linear(5, 1) has 5 weights + 1 bias",
    )
    model = model.to(device)
    inputs = torch.randn(16, 7, device=device)
    with torch.no_grad():
        outputs = model(inputs)
        expect_tensor(outputs, f"{what}(inputs of shape (16, 7))", shape=(16, 1), device=device)
        # A linear function f has f(a + b) - f(0) == (f(a) - f(0)) + (f(b) - f(0)) everywhere.
        other, zero = torch.randn(16, 7, device=device), torch.zeros(16, 7, device=device)
        gap = (model(inputs + other) - model(zero)) - (outputs - model(zero))
        gap -= model(other) - model(zero)
    expect(
        gap.abs().max().item() > 1e-4,
        f"{what} is a linear function of its input: put nn.ReLU() between the two Linear layers",
    )


def check_4(device: torch.device) -> None:
    features = torch.randn(100, 10, device=device)
    true_weights = torch.randn(10, 1, device=device)
    targets = features @ true_weights + 0.1 * torch.randn(100, 1, device=device)
    model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 1)).to(device)
    correct, accumulating = copy.deepcopy(model), copy.deepcopy(model)

    def reference_losses(reference: nn.Module, zero_grad: bool) -> list[float]:
        optimizer = torch.optim.Adam(reference.parameters(), lr=0.01)
        losses = []
        for _ in range(60):
            loss = nn.functional.mse_loss(reference(features), targets)
            if zero_grad:
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    what = "train(model, features, targets, 60, 0.01)"
    losses = expect_type(train(model, features, targets, 60, 0.01), list, what)
    expect(len(losses) == 60, f"{what} returned {len(losses)} losses, expected one per epoch: 60")
    expect(
        all(isinstance(loss, float) for loss in losses),
        f"{what}: expected Python floats, got a {type(losses[0]).__name__}: append loss.item()",
    )
    expected = reference_losses(correct, zero_grad=True)
    expect_close(losses[0], expected[0], f"{what}[0], the first epoch's loss", rtol=1e-4)
    expect(
        len(set(losses)) > 1,
        f"{what}: the loss never changed: call optimizer.step() after loss.backward(), and "
        "optimizer.zero_grad() before loss.backward()",
    )
    without_zero_grad = reference_losses(accumulating, zero_grad=False)
    forgot = torch.allclose(torch.tensor(losses), torch.tensor(without_zero_grad), rtol=1e-3)
    expect(
        not forgot,
        f"{what}: your losses are those of a loop without optimizer.zero_grad(): gradients "
        "add up over the epochs unless you clear them every step",
        section="learning/04_training.md#2-non-scalar-outputs-and-accumulation",
    )
    expect_close(losses, expected, f"{what}, the losses", rtol=1e-3, atol=1e-5)
    trained = all(
        torch.allclose(p, q) for p, q in zip(model.parameters(), correct.parameters(), strict=True)
    )
    expect(trained, f"{what} did not train `model` itself: use the model it was given")


def check_5(device: torch.device) -> None:
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 1))
    model = model.to(device).train()  # as a training loop leaves it
    reference = copy.deepcopy(model).eval()
    samples = torch.randn(8, 6, device=device)
    what = "predict(model, samples)"
    first = expect_tensor(predict(model, samples), what, shape=(8, 1), device=device)
    expect(
        not first.requires_grad,
        f"{what} still records gradients: run the model under torch.inference_mode()",
    )
    second = predict(model.train(), samples)
    with torch.no_grad():
        expected = reference(samples)
    expect(
        torch.allclose(first, second) and torch.allclose(first, expected, atol=1e-6),
        f"{what}: dropout was active, so predictions change from call to call: call "
        "model.eval() before predicting",
    )


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
    Exercise("Targets from a hidden rule", f"{GUIDE}#4-the-six-step-workflow", check_1),
    Exercise("A gradient from autograd", f"{GUIDE}#2-the-architecture", check_2),
    Exercise("The model", f"{GUIDE}#4-the-six-step-workflow", check_3),
    Exercise("The training loop", f"{GUIDE}#4-the-six-step-workflow", check_4),
    Exercise("Evaluate and predict", f"{GUIDE}#4-the-six-step-workflow", check_5),
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
        f"Exercises 00 - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )
    run_exercises(EXERCISES, device, args.seed, args.only)


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
