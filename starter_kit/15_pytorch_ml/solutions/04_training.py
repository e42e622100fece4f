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
"""Solutions 04 - Autograd and training loops: gradients, descent, the loop, worked out.

Each function below is an exercise of exercises/04_training.py, solved, with comments that say
why. Try the exercise first, then compare. Running this file runs the very same checks on these
answers: every row passes and it exits 0.

Run it:   uv run starter_kit/15_pytorch_ml/solutions/04_training.py
Exercise: starter_kit/15_pytorch_ml/exercises/04_training.py
Guide:    learning/04_training.md
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
from torch.utils.data import DataLoader, TensorDataset

# %% Config
GUIDE = "learning/04_training.md"

# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--only", "2"].
NOTEBOOK_ARGS: list[str] = []


# %% Exercise 1 - A derivative by autograd (warm-up)
def derivative_of_sin_exp(x: torch.Tensor):
    """The derivative of f(x) = sin(x) * exp(x), at many points at once, computed by autograd.

    Let autograd find it (requires_grad, backward(), .grad) rather than working it out by hand.
    Careful: f at many points is a vector, and backward() wants a single number.
    Input:   x, a 1-D float32 tensor of points, on any device; it does not require grad and
             must not start to.
    Return:  a tensor shaped like x: df/dx at each point.
    Guide:   learning/04_training.md#1-autograd-basics
    """
    leaf = x.detach().clone().requires_grad_()  # a leaf of our own: x stays untouched
    values = leaf.sin() * leaf.exp()  # (points,)
    # backward() needs a scalar. Each value depends only on its own point, so the gradient of
    # the sum is, point by point, that point's derivative (the same as gradient=ones_like).
    values.sum().backward()
    return leaf.grad


# %% Exercise 2 - Finite differences
def central_difference(f: Callable, w: torch.Tensor, eps: float):
    """The gradient of a function, estimated without autograd, to check autograd's.

    For every element i of w: (f(w with eps added at i) - f(w with eps taken away at i))
    divided by 2 * eps, the central difference.
    Input:   f, a function from a tensor shaped like w to a 0-dim tensor; w, a float64 tensor
             on the CPU (in float32 the rounding error is as large as the nudge); eps, a float.
    Return:  a float64 tensor shaped like w, the estimated gradient. w must be unchanged.
    Guide:   learning/04_training.md#4-checking-gradients
    """
    gradient = torch.zeros_like(w)
    flat_gradient = gradient.view(-1)  # a view: writing into it fills `gradient`
    for i in range(w.numel()):
        nudge = torch.zeros_like(w).view(-1)
        nudge[i] = eps
        nudge = nudge.view_as(w)  # eps at element i, 0 elsewhere
        # New tensors w + nudge and w - nudge: w itself is never changed. The central difference
        # is accurate to about eps**2; the one-sided (f(w + nudge) - f(w)) / eps only to eps.
        flat_gradient[i] = (f(w + nudge) - f(w - nudge)) / (2 * eps)
    return gradient


# %% Exercise 3 - Gradient descent by hand
def fit_line_by_hand(x: torch.Tensor, y: torch.Tensor, lr: float, steps: int):
    """Fit the line y = w * x + b by gradient descent, with raw tensors and no torch.optim.

    Start from w = 0 and b = 0 (two 0-dim tensors that require grad). Each step: the mean
    squared error of the line on all points, backward(), then the update w -= lr * w.grad (and
    the same for b) in a way autograd does not record, then clear the gradients.
    Input:   x and y, two float32 tensors of shape (num_points, 1), same device; lr, a float;
             steps, an int.
    Return:  a tuple (w, b) of Python floats.
    Guide:   learning/04_training.md#5-gradient-descent-by-hand
    """
    w = torch.zeros((), device=x.device, requires_grad=True)
    b = torch.zeros((), device=x.device, requires_grad=True)
    for _ in range(steps):
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():  # the update itself must not become part of the graph
            w -= lr * w.grad  # in place: w stays the same leaf tensor
            b -= lr * b.grad
        w.grad, b.grad = None, None  # gradients add up across backward() calls otherwise
    return w.item(), b.item()


# %% Exercise 4 - One training step
def train_step(model: nn.Module, optimizer, loss_fn, features: torch.Tensor, targets: torch.Tensor):
    """One step of a training loop, the five lines at the heart of every one of them: the
    forward pass, the loss, clearing the old gradients, backward(), the optimizer's step.

    Input:   model, an nn.Module; optimizer, built on model.parameters(); loss_fn, such as
             nn.MSELoss(); features and targets, one batch on the model's device.
    Return:  the batch's loss (computed before the step), as a Python float.
    Guide:   learning/04_training.md#6-the-same-fit-with-nnlinear-and-sgd
    """
    loss = loss_fn(model(features), targets)  # forward and loss
    optimizer.zero_grad()  # clear the last step's gradients: backward() adds to .grad
    loss.backward()  # fill .grad of every parameter
    optimizer.step()  # p -= lr * p.grad (for SGD), under no_grad
    return loss.item()  # a float: the tensor would keep the batch's graph alive


# %% Exercise 5 - The validation loss
def evaluate(model: nn.Module, loader: DataLoader, device: torch.device):
    """The mean squared error of a model on a whole data set, as a training loop validates.

    Average over all the samples, not over the batches: the last batch may be smaller than the
    others. Put the model in evaluation mode, and record no gradients (torch.inference_mode()).
    Input:   model, an nn.Module on device (it may contain dropout); loader, a DataLoader of
             (features, targets) batches on the CPU: move each batch to device; device.
    Return:  the mean squared error per sample, a Python float.
    Guide:   learning/04_training.md#7-the-full-training-loop
    """
    model.eval()  # dropout off: the same weights always give the same loss
    total_loss = 0.0
    with torch.inference_mode():
        for features, targets in loader:
            features, targets = features.to(device), targets.to(device)
            # reduction="sum": add up every sample's squared error, divide once by their count
            loss = nn.functional.mse_loss(model(features), targets, reduction="sum")
            total_loss += loss.item()
    return total_loss / len(loader.dataset)


# %% Exercise 6 - Early stopping (stretch)
def train_with_early_stopping(
    model: nn.Module,
    train_loader: DataLoader,
    val_loader: DataLoader,
    device: torch.device,
    lr: float,
    max_epochs: int,
    patience: int,
):
    """The full training loop: train until the validation loss stops improving, then go back to
    the best weights seen.

    Each epoch: train on every batch of train_loader in training mode (nn.MSELoss(),
    torch.optim.SGD with momentum=0.9 and learning rate lr), then measure the validation loss
    with evaluate() from exercise 5. Keep a copy of the weights of the best epoch so far. Stop
    when `patience` epochs in a row brought no better validation loss, or after max_epochs.
    Then load the best weights back into the model.
    Input:   model on device; train_loader and val_loader, DataLoaders of (features, targets)
             batches on the CPU; device; lr, a float; max_epochs and patience, ints.
    Return:  a dict {"best_epoch": int (the first epoch is 1), "best_val_loss": float,
             "epochs_run": int}.
    Guide:   learning/04_training.md#7-the-full-training-loop
    """
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    best_val_loss, best_epoch, best_state = float("inf"), 0, None
    epoch = 0
    for epoch in range(1, max_epochs + 1):
        model.train()  # evaluate() left the model in evaluation mode
        for features, targets in train_loader:
            features, targets = features.to(device), targets.to(device)
            loss = loss_fn(model(features), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        val_loss = evaluate(model, val_loader, device)
        if val_loss < best_val_loss:
            # state_dict() hands out the live parameter tensors, which the next step changes in
            # place: deepcopy takes a snapshot.
            best_val_loss, best_epoch = val_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= patience:
            break  # `patience` epochs without a better validation loss
    model.load_state_dict(best_state)
    return {"best_epoch": best_epoch, "best_val_loss": best_val_loss, "epochs_run": epoch}


# %% Checks: run_exercises calls these; the solution file has the very same text
def check_1(device: torch.device) -> None:
    x = torch.linspace(-2.0, 2.0, 9, device=device)
    original = x.clone()
    what = "derivative_of_sin_exp(x of shape (9,))"
    try:
        derivative = derivative_of_sin_exp(x)
    except RuntimeError as error:
        if isinstance(error, NotImplementedError) or "only for scalar" not in str(error):
            raise  # a TODO (NotImplementedError is a RuntimeError) or another error
        raise WrongAnswerError(
            f"{what}: backward() on a vector raised {str(error)!r}: sum the values first (each "
            "depends on its own point only), or pass gradient=torch.ones_like(values)",
            section=f"{GUIDE}#2-non-scalar-outputs-and-accumulation",
        ) from None
    expect(
        derivative is not None,
        f"got None from {what}: a missing `return`, or .grad read from a tensor that is not a "
        "leaf (only a tensor you created with requires_grad=True gets a .grad)",
    )
    expect_tensor(derivative, what, shape=(9,), device=device)
    expect(
        not x.requires_grad and torch.equal(x, original),
        f"{what} changed x: work on x.detach().clone().requires_grad_()",
    )
    points = original.cpu().double().numpy()
    by_hand = (np.cos(points) + np.sin(points)) * np.exp(points)  # the product rule
    expect_close(derivative, by_hand, what, rtol=1e-5, atol=1e-5)


def check_2(device: torch.device) -> None:
    # Finite differences need float64, which not every accelerator has: this check runs on the
    # CPU whatever the device.
    functions = {
        "(w ** 3).sum()": lambda w: (w**3).sum(),
        "(w.sin() * w).sum() + w[0, 0] * w[1, 2]": lambda w: (
            (w.sin() * w).sum() + w[0, 0] * w[1, 2]
        ),
    }
    for name, f in functions.items():
        w = torch.randn(2, 3, dtype=torch.float64)
        original = w.clone()
        what = f"central_difference(f, w, 1e-6) for f(w) = {name}"
        estimate = central_difference(f, w, 1e-6)
        expect(
            torch.equal(w, original),
            f"{what} changed w: nudge a copy (w + nudge), or put every element back",
        )
        expect_tensor(estimate, what, shape=(2, 3), dtype=torch.float64)
        leaf = original.clone().requires_grad_()
        f(leaf).backward()
        error = (estimate - leaf.grad).abs().max().item()
        expect(
            not 1e-7 < error < 1e-3,
            f"{what} is off by {error:.1e}, about eps: a one-sided difference; the central "
            "difference (f(w + eps) - f(w - eps)) / (2 * eps) is accurate to about eps ** 2",
        )
        expect_close(estimate, leaf.grad, f"{what}, against autograd", rtol=1e-6, atol=1e-7)


def check_3(device: torch.device) -> None:
    x = torch.rand(100, 1, device=device) * 4 - 2
    y = 3 * x + 2 + 0.5 * torch.randn(100, 1, device=device)

    def descend(clear_gradients: bool) -> tuple[float, float]:  # the loop, for comparison
        w = torch.zeros((), device=device, requires_grad=True)
        b = torch.zeros((), device=device, requires_grad=True)
        for _ in range(150):
            ((w * x + b - y) ** 2).mean().backward()
            with torch.no_grad():
                w -= 0.1 * w.grad
                b -= 0.1 * b.grad
            if clear_gradients:
                w.grad, b.grad = None, None
        return w.item(), b.item()

    what = "fit_line_by_hand(x, y, lr=0.1, steps=150)"
    result = expect_type(fit_line_by_hand(x, y, 0.1, 150), (tuple, list), what)
    expect(len(result) == 2, f"{what} returned {len(result)} values, expected 2: (w, b)")
    w, b = result
    expect_type(w, float, f"{what}: w")
    expect_type(b, float, f"{what}: b")
    w_best, b_best = np.polyfit(x.cpu().double().numpy()[:, 0], y.cpu().double().numpy()[:, 0], 1)
    if abs(w - w_best) < 1e-3 and abs(b - b_best) < 1e-3:
        return
    w_kept, b_kept = descend(clear_gradients=False)
    same = np.allclose([w, b], [w_kept, b_kept], rtol=1e-3, equal_nan=True)
    expect(
        not same,
        f"{what} gave w = {w:.4g}, b = {b:.4g}, what a loop that never clears the gradients "
        "gives: they add up across backward() calls; set w.grad and b.grad to None every step",
        section=f"{GUIDE}#2-non-scalar-outputs-and-accumulation",
    )
    raise WrongAnswerError(
        f"{what} gave w = {w:.4g}, b = {b:.4g}; the best line is w = {w_best:.4f}, "
        f"b = {b_best:.4f}: start from 0, use the mean squared error of all points, and step "
        "against the gradient (w -= lr * w.grad)"
    )


def check_4(device: torch.device) -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).to(device)
    correct, accumulating = copy.deepcopy(model), copy.deepcopy(model)
    optimizers = {
        m: torch.optim.SGD(m.parameters(), lr=0.1) for m in (model, correct, accumulating)
    }
    loss_fn = nn.MSELoss()

    def same_weights(one: nn.Module, other: nn.Module) -> bool:
        pairs = zip(one.parameters(), other.parameters(), strict=True)
        return all(torch.allclose(p, q, atol=1e-6) for p, q in pairs)

    for step in range(3):
        features, targets = torch.randn(8, 3, device=device), torch.randn(8, 1, device=device)
        what = f"train_step(...) (step {step + 1} of 3)"
        before = copy.deepcopy(model)
        loss = expect_type(
            train_step(model, optimizers[model], loss_fn, features, targets), float, what
        )
        expected_loss = loss_fn(correct(features), targets)
        optimizers[correct].zero_grad()
        expected_loss.backward()
        optimizers[correct].step()
        loss_fn(accumulating(features), targets).backward()  # never cleared
        optimizers[accumulating].step()
        expect_close(loss, expected_loss.item(), f"{what}: the loss before the step", rtol=1e-5)
        expect(
            not same_weights(model, before),
            f"{what} did not change the model: call optimizer.step() after loss.backward(), "
            "and optimizer.zero_grad() before loss.backward(), not between it and step()",
        )
        if same_weights(model, correct):
            continue
        expect(
            not (step > 0 and same_weights(model, accumulating)),
            f"{what} changed the weights as if the gradients of earlier steps were still there: "
            "call optimizer.zero_grad() before loss.backward()",
            section=f"{GUIDE}#2-non-scalar-outputs-and-accumulation",
        )
        raise WrongAnswerError(
            f"{what}: the weights after the step differ from a correct step's: forward, loss, "
            "zero_grad, backward, step, in that order"
        )


def check_5(device: torch.device) -> None:
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 1))
    model = model.to(device).train()  # as a training loop leaves it
    reference = copy.deepcopy(model).eval()
    features, targets = torch.randn(146, 2), torch.randn(146, 1)  # 146 = 64 + 64 + 18
    loader = DataLoader(TensorDataset(features, targets), batch_size=64)
    with torch.no_grad():
        squared_errors = (reference(features.to(device)).cpu() - targets).double() ** 2
    expected = squared_errors.mean().item()
    batch_means = [chunk.mean().item() for chunk in squared_errors.split(64)]
    what = "evaluate(model, loader of 146 samples in batches of 64, device)"
    first = expect_type(evaluate(model, loader, device), float, what)
    second = evaluate(model.train(), loader, device)
    expect(
        np.isclose(first, second, rtol=1e-5),
        f"{what} gave {first:.5f}, then {second:.5f}: dropout was active; call model.eval() "
        "before evaluating",
    )
    expect(
        not np.isclose(first, np.mean(batch_means), rtol=1e-5),
        f"{what} is the mean of the batch means: the last batch has 18 samples, not 64; add up "
        "the squared errors (reduction='sum') and divide by len(loader.dataset)",
    )
    expect_close(first, expected, what, rtol=1e-5)


def check_6(device: torch.device) -> None:
    # A wind turbine's power curve, as in the guide: nothing below 3 m/s, cubic up to 12 m/s,
    # flat at 2 MW above; 300 readings with a little noise.
    speed = torch.rand(300, 1) * 25
    rise = ((speed**3 - 3.0**3) / (12.0**3 - 3.0**3)).clamp(0, 1)
    targets = 2.0 * rise + 0.05 * torch.randn(300, 1)
    features = (speed - 12.5) / 12.5
    train_set = TensorDataset(features[:210], targets[:210])
    val_features, val_targets = features[210:], targets[210:]
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    val_loader = DataLoader(TensorDataset(val_features, val_targets), batch_size=64)
    model = nn.Sequential(
        nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)
    )
    model = model.to(device)
    what = "train_with_early_stopping(model, ..., lr=0.1, max_epochs=60, patience=3)"
    result = train_with_early_stopping(model, train_loader, val_loader, device, 0.1, 60, 3)
    result = expect_type(result, dict, what)
    missing = {"best_epoch", "best_val_loss", "epochs_run"} - set(result)
    expect(not missing, f"{what}: the dict lacks {sorted(missing)}")
    best_epoch = expect_type(result["best_epoch"], int, f"{what}['best_epoch']")
    best_val_loss = expect_type(result["best_val_loss"], float, f"{what}['best_val_loss']")
    epochs_run = expect_type(result["epochs_run"], int, f"{what}['epochs_run']")
    expect(
        1 <= best_epoch <= epochs_run <= 60,
        f"{what}: best epoch {best_epoch} of {epochs_run} run (at most 60): count epochs from 1",
    )
    expect(
        epochs_run == 60 or epochs_run - best_epoch == 3,
        f"{what} stopped at epoch {epochs_run}, with the best at epoch {best_epoch}: stop once "
        "3 epochs in a row (the patience) brought no better validation loss",
    )
    model.eval()
    with torch.no_grad():
        predictions = model(val_features.to(device)).cpu()
    val_loss_now = ((predictions - val_targets).double() ** 2).mean().item()
    expect(
        np.isclose(val_loss_now, best_val_loss, rtol=1e-4),
        f"{what}: the model's validation loss is {val_loss_now:.5f}, but the best was "
        f"{best_val_loss:.5f}: load the best weights back; state_dict() returns the live "
        "tensors, so keep copy.deepcopy(model.state_dict())",
    )
    baseline = val_targets.double().var(unbiased=False).item()  # always predicting the mean
    expect(
        best_val_loss < baseline / 10,
        f"{what}: the best validation loss {best_val_loss:.4f} is not much better than "
        f"{baseline:.4f}, always predicting the mean: is every batch trained on?",
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
    Exercise("A derivative by autograd", f"{GUIDE}#1-autograd-basics", check_1),
    Exercise("Finite differences", f"{GUIDE}#4-checking-gradients", check_2),
    Exercise("Gradient descent by hand", f"{GUIDE}#5-gradient-descent-by-hand", check_3),
    Exercise("One training step", f"{GUIDE}#6-the-same-fit-with-nnlinear-and-sgd", check_4),
    Exercise("The validation loss", f"{GUIDE}#7-the-full-training-loop", check_5),
    Exercise("Early stopping", f"{GUIDE}#7-the-full-training-loop", check_6),
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
        f"Solutions 04 - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )
    run_exercises(EXERCISES, device, args.seed, args.only)


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
