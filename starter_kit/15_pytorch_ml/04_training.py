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
"""Lesson 04 - Autograd and training loops: where gradients come from, and how to use them.

Watch autograd compute dy/dx and draw its graph, see why gradients add up (so every loop calls
zero_grad), switch autograd off three ways, check a gradient by hand and by finite differences,
fit a line by hand (with a learning rate too small, about right and too big) and with
torch.optim.SGD, then run the full training loop: Dataset, DataLoader, train/validation/test
split, early stopping, best weights, a progress bar and a loss curve.

Run it:   uv run starter_kit/15_pytorch_ml/04_training.py
Try:      uv run starter_kit/15_pytorch_ml/04_training.py --lr 0.01 --epochs 300
Guide:    learning/04_training.md
"""

import argparse
import copy
import json
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np
import torch
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split

# %% Config
LINE_SAMPLES = 100  # points for the line fit (sections 4-6)
LINE_STEPS = 100  # gradient-descent steps for the line fit (sections 5 and 6)
LINE_LR = 0.1  # a learning rate that suits the line fit
LR_DEMO = (0.01, LINE_LR, 1.0)  # too small, about right, too big (above about 0.72 it diverges)
NUM_SAMPLES = 1000  # wind-turbine readings for the full training loop (section 7)
SMOKE_SAMPLES = 200
SPLIT = (0.7, 0.15, 0.15)  # train / validation / test
HIDDEN_SIZE = 32
EPOCHS = 100
SMOKE_EPOCHS = 2
BATCH_SIZE = 64
LEARNING_RATE = 0.1  # SGD with momentum 0.9
PATIENCE = 10  # stop after this many epochs without a better validation loss
CURVE_WIDTH = 60  # characters in the terminal loss curve
# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--lr", "0.01"].
NOTEBOOK_ARGS: list[str] = []


def make_console() -> Console:
    """rich's console. Where the output cannot encode ▁▂▃ or █ (Windows' cp1252 when piped, say),
    they print as '?' rather than stop the lesson with a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    return Console()


console = make_console()


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


def positive_int(text: str) -> int:
    """--epochs, --batch-size: a whole number from 1 to 2**31 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"must be between 1 and {2**31 - 1}, got {text}")
    return value


def seed_value(text: str) -> int:
    """--seed: a whole number from 0 to 2**32 - 1 (what NumPy's generator accepts)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= 2**32 - 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and {2**32 - 1}, got {text}")
    return value


def learning_rate(text: str) -> float:
    """--lr: a finite number above 0 that a float32 can hold (at most about 3.4e38)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= torch.finfo(torch.float32).max):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def output_file(text: str) -> Path:
    """A file the lesson will write (--metrics-json, --checkpoint): checked before any work, so a
    long run never fails at its very end. Missing folders are made when the file is written."""
    if not text.strip():
        raise argparse.ArgumentTypeError("needs a file name, got an empty string")
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; name a file inside it")
    folder = path.parent
    while not folder.exists():  # the nearest folder that exists is where writing starts
        folder = folder.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{folder} is a file, so {text} cannot be created")
    try:  # the only sure test of "can I write here" is to write
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise argparse.ArgumentTypeError(f"cannot write in {folder} ({error.strerror})") from None
    return path


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


def add_training_flags(parser, epochs: int, batch_size: int, lr: float | None, lr_help: str):
    """--epochs, --batch-size, --lr and --metrics-json: the flags of every training lesson."""
    parser.add_argument(
        "--epochs", type=positive_int, default=epochs, help="passes over the data (--smoke caps it)"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=batch_size, help="samples per step"
    )
    parser.add_argument("--lr", type=learning_rate, default=lr, help=lr_help)
    parser.add_argument(
        "--metrics-json", type=output_file, metavar="PATH", help="write the final metrics as JSON"
    )


def sparkline(values: list[float], low: float, high: float, width: int) -> str:
    """Losses as block characters on a log scale (they fall by orders of magnitude), sampled down
    to `width` characters; an x marks a value that is not a finite number (the run diverged)."""
    blocks = "▁▂▃▄▅▆▇█"
    num_chars = min(width, len(values))  # the first and the last value are always drawn
    picks = [values[round(i * (len(values) - 1) / max(num_chars - 1, 1))] for i in range(num_chars)]
    low, high = max(low, 1e-12), max(high, low * (1 + 1e-9))  # a flat or zero curve still draws
    span = math.log(high / low)
    chars = []
    for value in picks:
        if not math.isfinite(value):
            chars.append("x")
            continue
        level = math.log(min(max(value, low), high) / low) / span  # 0 at `low`, 1 at `high`
        chars.append(blocks[round(level * (len(blocks) - 1))])
    return "".join(chars)


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


# %% 1. Autograd basics
def autograd_basics(device: torch.device) -> None:
    console.rule("1. Autograd basics")
    x = torch.tensor(
        [2.0], requires_grad=True, device=device
    )  # a leaf tensor: autograd fills in x.grad
    y = x**2  # autograd records how y was made, so it can run the chain rule backwards
    y.backward()  # computes dy/dx = 2x and stores it in x.grad
    console.print(f"y = x ** 2 = {y}")  # grad_fn: the recorded step
    console.print(f"x.grad = {x.grad}  (dy/dx = 2x = 4)")

    # The graph: every result points at the function that made it, which points at its inputs.
    a = torch.tensor(3.0, requires_grad=True, device=device)
    b = torch.tensor(4.0, requires_grad=True, device=device)
    loss = (a * b + a) ** 2
    tree = Tree(f"loss = (a * b + a) ** 2 = {loss.item():.0f}, made by {loss.grad_fn.name()}")
    add_graph_nodes(tree, loss.grad_fn, names={id(a): "a", id(b): "b"})
    console.print(tree)
    loss.backward()  # d/da = 2(ab + a)(b + 1) = 150, d/db = 2(ab + a)a = 90
    console.print(f"a.grad = {a.grad.item():.0f}, b.grad = {b.grad.item():.0f}")


def add_graph_nodes(tree: Tree, grad_fn, names: dict[int, str]) -> None:
    """Walk backwards from a result to the leaves; AccumulateGrad is where .grad gets written."""
    for next_fn, _ in grad_fn.next_functions:
        if next_fn is None:  # an input that needs no gradient (a constant)
            continue
        if type(next_fn).__name__ == "AccumulateGrad":  # its .variable is the leaf tensor
            tree.add(f"AccumulateGrad -> {names[id(next_fn.variable)]}.grad")
        else:
            add_graph_nodes(tree.add(type(next_fn).__name__), next_fn, names)


# %% 2. Non-scalar outputs and accumulation
def nonscalar_and_accumulation(device: torch.device) -> None:
    console.rule("2. Non-scalar outputs and accumulation")
    v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    squares = v**2  # (3,) - a vector, not a single number
    try:
        squares.backward()
    except RuntimeError as error:
        console.print(f"squares.backward() -> RuntimeError:\n  {error}")
    squares.sum().backward()  # one number: d(1 + 4 + 9)/dv = 2v
    console.print(f"squares.sum().backward()  -> v.grad = {v.grad} = 2v")
    # A second backward ADDS to v.grad. Handy for summing several losses, a trap in a loop.
    (v**2).sum().backward()
    console.print(f"a second backward()       -> v.grad = {v.grad} (added up)")
    v.grad = None  # what optimizer.zero_grad() does for every parameter
    console.print(f"after v.grad = None       -> v.grad = {v.grad}")
    # Going further: backward(gradient=g) differentiates (g * squares).sum(), a weighted sum of
    # the outputs (a vector-Jacobian product). g = [1, 0, 0] keeps squares[0] alone.
    (v**2).backward(gradient=torch.tensor([1.0, 0.0, 0.0], device=device))
    console.print(f"backward(gradient=[1, 0, 0]) -> v.grad = {v.grad} = d(squares[0])/dv")


# %% 3. Switching autograd off
def switching_autograd_off(device: torch.device) -> None:
    console.rule("3. Switching autograd off")
    weight = torch.tensor([1.0, 2.0], requires_grad=True, device=device)
    tracked = weight * 2
    with torch.no_grad():  # no graph is recorded: cheaper, and safe for in-place updates
        untracked = weight * 2
    with torch.inference_mode():  # like no_grad, faster still; the result is an
        inference = weight * 2  # "inference tensor" that autograd may never save
    detached = tracked.detach()  # same memory as 'tracked', cut out of the graph
    table = Table("expression", "requires_grad", "grad_fn", "use it for")
    for label, tensor, use in [
        ("weight * 2", tracked, "training"),
        ("no_grad()", untracked, "weight updates by hand"),
        ("inference_mode()", inference, "evaluation, serving"),
        ("tracked.detach()", detached, "logging, .numpy()"),
    ]:
        grad_fn_name = type(tensor.grad_fn).__name__ if tensor.grad_fn else "None"
        table.add_row(label, str(tensor.requires_grad), grad_fn_name, use)
    console.print(table)
    (inference + weight).sum().backward()  # fine: an add saves no tensor for backward
    console.print("inference + weight -> backward() works (an add saves nothing)")
    try:
        (inference * weight).sum().backward()  # a product must save its factors: refused
    except RuntimeError as error:
        console.print(f"inference * weight -> {str(error).split('.')[0]}")


# %% 4. Checking gradients
def make_line_data(num_samples: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy points around y = 3x + 2, the line sections 4-6 try to recover. Drawn on the CPU,
    then moved, so every device starts from the same points."""
    x = torch.rand(num_samples, 1) * 4 - 2  # (num_samples, 1), uniform in [-2, 2]
    y = 3 * x + 2 + 0.5 * torch.randn(num_samples, 1)  # (num_samples, 1)
    return x.to(device), y.to(device)


def line_gradients_by_hand(x, y, w, b) -> tuple[torch.Tensor, torch.Tensor]:
    """Pencil and paper: loss = mean((w*x + b - y)^2), so
    dloss/dw = mean(2 * error * x) and dloss/db = mean(2 * error)."""
    error = w * x + b - y  # (num_samples, 1)
    return (2 * error * x).mean(), (2 * error).mean()


def checking_gradients(x: torch.Tensor, y: torch.Tensor) -> None:
    console.rule("4. Checking gradients")
    w = torch.tensor(0.5, requires_grad=True, device=x.device)
    b = torch.tensor(-1.0, requires_grad=True, device=x.device)
    ((w * x + b - y) ** 2).mean().backward()
    dw, db = line_gradients_by_hand(x, y, w.detach(), b.detach())
    table = Table("gradient", "by hand", "autograd")
    table.add_row("dloss/dw", f"{dw:.5f}", f"{w.grad:.5f}")
    table.add_row("dloss/db", f"{db:.5f}", f"{b.grad:.5f}")
    console.print(table)
    agree = torch.allclose(dw, w.grad) and torch.allclose(db, b.grad)
    console.print(f"torch.allclose(by hand, autograd): {agree}")
    # gradcheck nudges each input with requires_grad=True (here only w) by a tiny eps and compares
    # (f(w+eps) - f(w-eps)) / 2eps with autograd. It needs float64: float32 rounding swamps eps.
    # float64 runs on the CPU: Apple GPUs (MPS) have no float64 at all.
    x, y = x.cpu().double(), y.cpu().double()
    inputs = (torch.tensor(0.5, dtype=torch.float64, requires_grad=True), x, y)
    passed = torch.autograd.gradcheck(lambda w, x, y: ((w * x - y) ** 2).mean(), inputs)
    console.print(f"torch.autograd.gradcheck (finite differences): {passed}")


# %% 5. Gradient descent by hand
def fit_line_by_hand(x, y, lr: float, steps: int) -> tuple[float, float, list[float]]:
    w = torch.zeros((), requires_grad=True, device=x.device)  # start from w = 0, b = 0
    b = torch.zeros((), requires_grad=True, device=x.device)
    losses = []
    for _ in range(steps):
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():  # the update itself must not become part of the graph
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad, b.grad = None, None  # or the next backward adds onto these
        losses.append(loss.item())
    return w.item(), b.item(), losses


def lr_verdict(losses: list[float]) -> str:
    """What a loss history says about its learning rate."""
    if not math.isfinite(losses[-1]) or losses[-1] > losses[0]:
        return "too big"  # the loss grew
    if losses[-2] - losses[-1] > 1e-3 * losses[-1]:  # still 0.1 % lower at every step
        return "too small"
    return "about right"  # settled


def gradient_descent_by_hand(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    console.rule("5. Gradient descent by hand")
    w, b, losses = fit_line_by_hand(x, y, lr=LINE_LR, steps=LINE_STEPS)
    table = Table("step", "loss")
    for step in [0, 1, 2, 5, 10, 20, 50, 99]:
        table.add_row(str(step), f"{losses[step]:.4f}")
    console.print(table)
    console.print(f"learned y = {w:.4f} x + {b:.4f}   (the data came from y = 3x + 2 + noise)")

    # The learning rate is the step size: too small crawls, too big overshoots the bottom of
    # the loss valley further at every step. Each run starts from w = b = 0 again.
    title = f"The same {LINE_STEPS} steps with three learning rates"
    headers = ["lr", "loss, step 10", "loss, step 99", "learned w", "learned b", "verdict"]
    table = Table(*headers, title=title)
    for lr in LR_DEMO:
        w_lr, b_lr, lr_losses = fit_line_by_hand(x, y, lr=lr, steps=LINE_STEPS)
        cells = [f"{value:.3g}" for value in (lr_losses[10], lr_losses[99], w_lr, b_lr)]
        table.add_row(f"{lr:g}", *cells, lr_verdict(lr_losses))
    console.print(table)
    return w, b


# %% 6. The same fit with nn.Linear and SGD
def fit_line_with_optim(x, y, lr: float, steps: int) -> nn.Linear:
    model = nn.Linear(1, 1).to(x.device)  # holds w (weight, shape (1, 1)), b (bias, shape (1,))
    nn.init.zeros_(model.weight)  # the same start as section 5
    nn.init.zeros_(model.bias)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = loss_fn(model(x), y)  # forward: (num_samples, 1) predictions -> one number
        optimizer.zero_grad()  # clear last step's gradients
        loss.backward()  # fill .grad of every parameter
        optimizer.step()  # p -= lr * p.grad, under no_grad, for every parameter
    return model


def same_fit_with_optim(x: torch.Tensor, y: torch.Tensor, w_by_hand: float, b_by_hand: float):
    console.rule("6. The same fit with nn.Linear and SGD")
    model = fit_line_with_optim(x, y, lr=LINE_LR, steps=LINE_STEPS)  # as in section 5
    table = Table("", "w", "b")
    table.add_row("by hand", f"{w_by_hand:.4f}", f"{b_by_hand:.4f}")
    table.add_row("nn.Linear + SGD", f"{model.weight.item():.4f}", f"{model.bias.item():.4f}")
    console.print(table)


# %% 7. The full training loop
class PowerCurveDataset(Dataset):
    """Made-up readings from a 2 MW wind turbine: wind speed (m/s) -> power (MW).

    No power below 3 m/s, a cubic rise up to 12 m/s, then flat at 2 MW: a curve a straight line
    cannot fit, so the model needs hidden units. A Dataset only answers len() and [index].
    """

    def __init__(self, num_samples: int, generator: torch.Generator):
        speed = torch.rand(num_samples, 1, generator=generator) * 25  # (num_samples, 1)
        rise = (speed**3 - 3.0**3) / (12.0**3 - 3.0**3)
        power = 2.0 * rise.clamp(0, 1) + 0.05 * torch.randn(num_samples, 1, generator=generator)
        self.features = (speed - 12.5) / 12.5  # scaled to [-1, 1]: SGD likes small inputs
        self.targets = power  # (num_samples, 1)

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.features[index], self.targets[index]  # (1,), (1,)


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Linear(1, HIDDEN_SIZE), nn.Tanh(), nn.Linear(HIDDEN_SIZE, HIDDEN_SIZE), nn.Tanh(),
        nn.Linear(HIDDEN_SIZE, 1),
    )  # fmt: skip


def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> float:
    """Mean squared error over a whole loader, without building any graph."""
    model.eval()  # dropout / batch-norm layers switch to their inference behaviour
    total_loss = torch.zeros((), device=device)
    with torch.inference_mode():
        for features, targets in loader:
            predictions = model(features.to(device))  # (batch, 1)
            total_loss += nn.functional.mse_loss(predictions, targets.to(device), reduction="sum")
    return total_loss.item() / len(loader.dataset)


def train(model, train_loader, val_loader, device, epochs: int, lr: float, patience: int) -> dict:
    """Train with SGD, validate every epoch, stop early, and restore the best weights."""
    loss_fn = nn.MSELoss()
    # momentum 0.9: step along a decaying sum of past gradients (buffer = 0.9 * buffer + grad),
    # up to about 10x one gradient on a steady slope
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    # val_loss[0] is the untrained model, "epoch 0": if no epoch beats it (say the loss blew up
    # to nan because the learning rate was too large), we hand back the starting weights.
    history = {"train_loss": [], "val_loss": [evaluate(model, val_loader, device)]}
    best_epoch, best_state = 0, copy.deepcopy(model.state_dict())
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:  # piped: drawn once
        task = progress.add_task("training", total=epochs)
        for epoch in range(1, epochs + 1):
            model.train()
            total_loss = torch.zeros((), device=device)
            for features, targets in train_loader:  # (batch, 1), (batch, 1)
                features, targets = features.to(device), targets.to(device)
                loss = loss_fn(model(features), targets)  # forward + loss
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                # detach: keep the number, not the graph; no .item() so a GPU never waits here
                total_loss += loss.detach() * len(features)
            history["train_loss"].append(total_loss.item() / len(train_loader.dataset))
            history["val_loss"].append(evaluate(model, val_loader, device))
            if history["val_loss"][-1] < history["val_loss"][best_epoch]:
                best_epoch = epoch
                # a copy: state_dict() holds the live tensors, which the next step would change
                best_state = copy.deepcopy(model.state_dict())
            progress.update(task, advance=1, description=f"val loss {history['val_loss'][-1]:.4f}")
            if epoch - best_epoch >= patience:
                break
    model.load_state_dict(best_state)
    return {**history, "best_epoch": best_epoch, "best_val_loss": history["val_loss"][best_epoch]}


def full_training_loop(device, num_samples, epochs, batch_size, lr, seed) -> dict:
    console.rule("7. The full training loop")
    generator = torch.Generator().manual_seed(seed)  # one generator: data, split, shuffling
    dataset = PowerCurveDataset(num_samples, generator)
    train_set, val_set, test_set = random_split(dataset, SPLIT, generator=generator)
    # shuffle the training set every epoch (seeded, so reruns match); keep evaluation in order
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=generator)
    val_loader = DataLoader(val_set, batch_size=256)
    test_loader = DataLoader(test_set, batch_size=256)
    train_eval_loader = DataLoader(train_set, batch_size=256)  # in order: for measuring only
    console.print(
        f"train {len(train_set)} / val {len(val_set)} / test {len(test_set)} readings; "
        f"{len(train_loader)} batches (up to {batch_size} each) per epoch"
    )
    model = make_model().to(device)
    start = time.perf_counter()
    result = train(model, train_loader, val_loader, device, epochs, lr, PATIENCE)
    mean_power = dataset.targets[train_set.indices].mean()  # the best constant guess
    metrics = {
        "train_seconds": time.perf_counter() - start,
        "epochs": len(result["train_loss"]),
        "best_epoch": result["best_epoch"],
        # the kept weights on the data they learned from: far below val/test means memorising
        "train_loss": evaluate(model, train_eval_loader, device),
        "val_loss": result["best_val_loss"],
        "test_loss": evaluate(model, test_loader, device),  # the best weights, on unseen data
        "baseline_test_loss": ((dataset.targets[test_set.indices] - mean_power) ** 2).mean().item(),
    }
    losses = result["train_loss"] + result["val_loss"]
    finite = [v for v in losses if math.isfinite(v)]  # never empty: val_loss[0] is untrained
    low, high = min(finite), max(finite)
    console.print(f"loss curve, log scale from {high:.3g} (top) to {low:.3g} (bottom):")
    # val starts at epoch 0 (the untrained model), train at epoch 1: one space lines them up
    console.print(f"  train  {sparkline(result['train_loss'], low, high, CURVE_WIDTH)}")
    console.print(f"  val   {sparkline(result['val_loss'], low, high, CURVE_WIDTH + 1)}")
    if len(finite) < len(losses):
        console.print("The loss blew up (x = nan/inf): best weights kept; try a smaller --lr.")
    stop = "stopped early" if metrics["epochs"] < epochs else "ran every epoch"
    table = Table("metric", "value")
    table.add_row("epochs run", f"{metrics['epochs']} of {epochs} ({stop})")
    table.add_row("best epoch (weights kept)", str(metrics["best_epoch"]))
    table.add_row("training MSE (kept weights)", f"{metrics['train_loss']:.4f}")
    table.add_row("best validation MSE", f"{metrics['val_loss']:.4f}")
    table.add_row("test MSE", f"{metrics['test_loss']:.4f}")
    table.add_row("test MSE of always guessing the mean", f"{metrics['baseline_test_loss']:.4f}")
    table.add_row("training time", f"{metrics['train_seconds']:.2f} s")
    console.print(table)
    return metrics


# %% main
def main(argv: list[str]) -> None:
    parser = contract_parser(
        "Lesson 04: autograd, gradient descent by hand, and the full training loop.",
        smoke_help=f"a tiny run for tests: {SMOKE_SAMPLES} samples, at most {SMOKE_EPOCHS} epochs",
    )
    add_training_flags(
        parser,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        lr=LEARNING_RATE,
        lr_help="SGD's learning rate",
    )
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    seed_everything(args.seed, device)
    # Tiny tensors: a pool of CPU threads per op costs more than the maths (a lot, when busy).
    torch.set_num_threads(1)
    epochs = min(args.epochs, SMOKE_EPOCHS) if args.smoke else args.epochs
    num_samples = SMOKE_SAMPLES if args.smoke else NUM_SAMPLES
    console.print(
        f"[bold]Lesson 04[/] - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )

    autograd_basics(device)
    nonscalar_and_accumulation(device)
    switching_autograd_off(device)
    line_x, line_y = make_line_data(LINE_SAMPLES, device)
    checking_gradients(line_x, line_y)
    w, b = gradient_descent_by_hand(line_x, line_y)
    same_fit_with_optim(line_x, line_y, w, b)
    metrics = full_training_loop(device, num_samples, epochs, args.batch_size, args.lr, args.seed)

    learned = (
        "backward() fills .grad with d(loss)/d(parameter); gradients add up, so clear them "
        "every step. Training is forward -> loss -> zero_grad -> backward -> step, with "
        "validation each epoch deciding when to stop and which weights to keep."
    )
    console.print(Panel(learned, title="What you just learned"))
    if args.metrics_json:
        args.metrics_json.write_text(json.dumps(metrics, indent=2), encoding="utf-8")


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
