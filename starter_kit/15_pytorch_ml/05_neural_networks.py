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
"""Lesson 05 - Neural-network building blocks: modules, layers, activations, losses, optimizers.

You will write a model as an nn.Module and look inside it (parameters, state_dict, submodules),
push real tensors through the common layers and read their shapes, compare activation functions
and loss functions on the same numbers, see why weight initialisation matters, and race SGD,
Adam and AdamW (plus a learning-rate schedule) from the same starting weights.

Run it:   uv run starter_kit/15_pytorch_ml/05_neural_networks.py
Try:      uv run starter_kit/15_pytorch_ml/05_neural_networks.py --lr 0.005 --epochs 300
Guide:    learning/05_neural_networks.md
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
from functools import partial
from pathlib import Path
from typing import NoReturn

import numpy as np
import torch
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR

# %% Config
DEMO_BATCH = 4  # samples in every layer demo
SEQ_LEN = 7  # tokens per sequence for nn.Embedding and nn.LSTM
VOCAB_SIZE, EMBED_DIM, LSTM_HIDDEN = 100, 16, 32  # nn.Embedding(100, 16), nn.LSTM(16, 32)
IMAGE_SIZE = 28  # a 28x28 RGB image for nn.Conv2d
INIT_DEPTH = 10  # layers in the weight-initialisation experiment
INIT_WIDTH = 64
NUM_POINTS = 256  # (x, sin(3x)) pairs for the optimizer race
MLP_HIDDEN = 32
EPOCHS = 100
SMOKE_EPOCHS = 10
BATCH_SIZE = 64
LOSS_THRESHOLD = 0.01  # "steps to threshold" = first step whose full-data MSE is below this
# The optimizer race: run -> (optimizer maker, learning rate, cosine schedule?). --lr replaces
# every run's learning rate. AdamW is Adam whose weight decay shrinks the weights directly.
RUNS = {
    "SGD + momentum": (partial(torch.optim.SGD, momentum=0.9), 0.1, False),
    "Adam": (torch.optim.Adam, 0.02, False),
    "AdamW": (partial(torch.optim.AdamW, weight_decay=0.01), 0.02, False),
    "AdamW + cosine": (partial(torch.optim.AdamW, weight_decay=0.01), 0.02, True),
}
SPARK_WIDTH = 40  # characters in each loss curve of the optimizer race
# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--lr", "0.05"].
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


# %% 1. Building a model with nn.Module
class SimpleNet(nn.Module):
    """10 features -> 5 hidden units -> 1 output. Layers assigned in __init__ become submodules."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Call model(x), never model.forward(x): __call__ also runs any hooks around forward.
        return self.fc2(self.relu(self.fc1(x)))  # (batch, 10) -> (batch, 5) -> (batch, 1)


def build_a_model(device: torch.device) -> None:
    console.rule("1. Building a model with nn.Module")
    model = SimpleNet().to(device)
    console.print(model)
    output = model(torch.randn(DEMO_BATCH, 10, device=device))  # (4, 10) -> (4, 1)
    console.print(f"input (4, 10) -> output {tuple(output.shape)}")

    table = Table("named_parameters()", "shape", "count")
    for name, param in model.named_parameters():
        table.add_row(name, str(tuple(param.shape)), str(param.numel()))
    table.add_row("[bold]total", "", f"[bold]{sum(p.numel() for p in model.parameters())}")
    console.print(table)

    # state_dict: the name -> tensor mapping you save; a fresh model loads it and becomes a copy.
    state = model.state_dict()
    twin = SimpleNet().to(device)
    twin.load_state_dict(state)
    probe = torch.randn(2, 10, device=device)
    same = torch.equal(model(probe), twin(probe))
    console.print(f"state_dict keys: {list(state.keys())}")
    console.print(f"fresh model after load_state_dict gives the same outputs: {same}")

    # nn.Sequential: the same network when forward is just 'one layer after another'.
    sequential = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 1))
    console.print(
        f"nn.Sequential version: {sum(p.numel() for p in sequential.parameters())} parameters, "
        f"keys {list(sequential.state_dict().keys())[:2]} ..."
    )
    children = [f"{name}: {type(module).__name__}" for name, module in model.named_children()]
    console.print(f"SimpleNet's submodules: {children}")


# %% 2. Layers and their shapes
def layer_shapes(device: torch.device) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """Run each layer once on a real tensor; return rows of (layer, input shape, output shape)."""
    features = torch.randn(DEMO_BATCH, 10, device=device)  # (batch, features)
    images = torch.randn(DEMO_BATCH, 3, IMAGE_SIZE, IMAGE_SIZE, device=device)  # (batch, C, H, W)
    tokens = torch.randint(0, VOCAB_SIZE, (DEMO_BATCH, SEQ_LEN), device=device)  # (batch, seq)

    embedding = nn.Embedding(VOCAB_SIZE, EMBED_DIM).to(device)
    embedded = embedding(tokens)  # (4, 7, 16)
    lstm = nn.LSTM(EMBED_DIM, LSTM_HIDDEN, batch_first=True).to(device)
    # batch_first applies to the sequence output only: h_n and c_n stay (layers, batch, hidden).
    lstm_output, (hidden_state, cell_state) = lstm(embedded)
    same_conv = nn.Conv2d(3, 8, kernel_size=3, padding=1).to(device)
    strided_conv = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1).to(device)
    linear, dropout = nn.Linear(10, 5).to(device), nn.Dropout(0.5)
    batch_norm, layer_norm = nn.BatchNorm1d(10).to(device), nn.LayerNorm(10).to(device)
    rows = [
        ("nn.Linear(10, 5)", features, linear(features)),
        ("nn.Conv2d(3, 8, 3, padding=1)", images, same_conv(images)),
        ("nn.Conv2d(3, 8, 3, stride=2, padding=1)", images, strided_conv(images)),
        ("nn.Embedding(100, 16)", tokens, embedded),
        ("nn.LSTM(16, 32, batch_first=True) output", embedded, lstm_output),
        ("nn.LSTM(16, 32, batch_first=True) h_n", embedded, hidden_state),
        ("nn.LSTM(16, 32, batch_first=True) c_n", embedded, cell_state),
        ("nn.Dropout(0.5)", features, dropout(features)),
        ("nn.BatchNorm1d(10)", features, batch_norm(features)),
        ("nn.LayerNorm(10)", features, layer_norm(features)),
    ]
    return [(name, tuple(x.shape), tuple(y.shape)) for name, x, y in rows]


def layers_and_shapes(device: torch.device) -> None:
    console.rule("2. Layers and their shapes")
    table = Table("layer", "input shape", "output shape")
    for name, input_shape, output_shape in layer_shapes(device):
        table.add_row(name, str(input_shape), str(output_shape))
    console.print(table)
    # A convolution slides a small grid of weights (the kernel) over the image; each output pixel
    # is the sum of the pixels under it, times the weights. A 3x3 kernel of ones on a 4x4 image
    # fits in 2 x 2 places, so the output is 2x2: that is where the shape formula comes from.
    # (nn.functional.conv2d takes the kernel as an argument: no layer, no random weights drawn.)
    image = torch.arange(16.0, device=device).reshape(1, 1, 4, 4)  # (batch, channels, H, W)
    kernel = torch.ones(1, 1, 3, 3, device=device)  # (out_channels, in_channels, 3, 3)
    window_sums = nn.functional.conv2d(image, kernel)[0, 0].int().tolist()  # (2, 2)
    console.print(f"3x3 kernel of ones on a 4x4 image of 0..15 -> 2x2 sums {window_sums}")
    console.print("Conv2d output side = (size + 2 * padding - kernel) // stride + 1")
    console.print("  size 4, kernel 3: (4 - 3) // 1 + 1 = 2")
    console.print("  size 28, kernel 3, padding 1: stride 1 keeps 28, stride 2 gives 14")

    # Dropout zeroes half the values at random while training and doubles the rest, so the
    # expected sum stays the same; in eval mode it does nothing, so predictions are repeatable.
    ones, dropout = torch.ones(8, device=device), nn.Dropout(0.5)
    for mode, training in [("train", True), ("eval", False)]:
        dropout.train(training)
        for run in (1, 2):  # a new random mask on every call in train mode
            console.print(f"dropout {mode:5} pass {run}: {dropout(ones).tolist()}")

    # BatchNorm1d normalises each feature over the batch; LayerNorm each sample over its features.
    features = torch.randn(DEMO_BATCH, 10, device=device) * 5 + 3  # (4, 10), not mean 0, std 1
    batch_norm, layer_norm = nn.BatchNorm1d(10).to(device), nn.LayerNorm(10).to(device)
    console.print(
        f"BatchNorm1d: mean of each column ~ {batch_norm(features).mean(0).abs().max():.4f} | "
        f"LayerNorm: mean of each row ~ {layer_norm(features).mean(1).abs().max():.4f}"
    )


# %% 3. Activation functions
ACTIVATIONS = {
    "nn.ReLU()": nn.ReLU(),
    "nn.GELU()": nn.GELU(),
    "nn.Sigmoid()": nn.Sigmoid(),
    "nn.Tanh()": nn.Tanh(),
    "nn.Softmax(dim=1)": nn.Softmax(dim=1),
}


def activation_functions(device: torch.device) -> None:
    console.rule("3. Activation functions")
    inputs = torch.tensor(
        [[-3.0, -1.0, 0.0, 1.0, 3.0]], device=device
    )  # (1, 5): Softmax sees all 5
    table = Table("activation", *[f"x = {x:g}" for x in inputs[0].tolist()])
    for name, activation in ACTIVATIONS.items():
        table.add_row(name, *[f"{v:.3f}" for v in activation(inputs)[0].tolist()])
    console.print(table)


# %% 4. Loss functions
def loss_functions(device: torch.device) -> None:
    console.rule("4. Loss functions")
    predictions = torch.tensor([2.5, 0.0, 2.0], device=device)
    targets = torch.tensor([3.0, -0.5, 2.0], device=device)
    mse = nn.MSELoss()(predictions, targets)
    console.print(f"MSELoss: mean of (0.5^2, 0.5^2, 0^2) = {mse:.4f}")

    # CrossEntropyLoss wants raw logits (batch, classes) and class indices (batch,) as int64.
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], device=device)  # (2, 3 classes)
    labels = torch.tensor([0, 2], device=device)
    right = nn.CrossEntropyLoss()(logits, labels)
    # The usual mistake: softmax first. It still runs, but the loss applies softmax again,
    # squashing the probabilities together - a wrong loss and weak gradients.
    wrong = nn.CrossEntropyLoss()(logits.softmax(dim=1), labels)
    console.print(
        f"CrossEntropyLoss(logits, labels) = {right:.4f}   "
        f"[red]softmax first (wrong)[/] = {wrong:.4f}"
    )

    # A confidently wrong binary prediction: logit 30, label 0. sigmoid(30) rounds to exactly 1.0
    # in float32: BCELoss clamps log(0) to -100, and sigmoid's backward, p * (1 - p), is exactly 0.
    label = torch.tensor([0.0], device=device)
    binary_losses = {
        "BCELoss(sigmoid(logit))": lambda logit: nn.BCELoss()(torch.sigmoid(logit), label),
        "BCEWithLogitsLoss(logit)": lambda logit: nn.BCEWithLogitsLoss()(logit, label),
    }
    table = Table("loss", "value", "d loss / d logit")
    for name, loss_of in binary_losses.items():
        logit = torch.tensor([30.0], requires_grad=True, device=device)
        loss = loss_of(logit)
        loss.backward()
        table.add_row(name, f"{loss.item():.4f}", f"{logit.grad.item():.4f}")
    console.print(table)


# %% 5. Weight initialisation
INITS = {  # name -> what it does to a layer's weight, in place
    "normal(std=0.01)": lambda weight: nn.init.normal_(weight, std=0.01),
    "normal(std=1)": lambda weight: nn.init.normal_(weight, std=1.0),
    "PyTorch default": lambda weight: None,  # keep nn.Linear's U(+-1/sqrt(fan_in))
    # 5/3 is nn.init.calculate_gain("tanh"): it makes up for what tanh shrinks
    "xavier(gain=5/3)": lambda weight: nn.init.xavier_normal_(weight, gain=5 / 3),
}


def deep_tanh_stats(init, inputs: torch.Tensor) -> tuple[list[float], float, float]:
    """Push inputs through INIT_DEPTH Linear+Tanh layers, each weight set by init(weight).

    Returns the std of the activations after every layer, the share of last-layer units stuck
    near +-1 (saturated), and the norm of the gradient of the loss w.r.t. layer 1's weights."""
    layers = [nn.Linear(INIT_WIDTH, INIT_WIDTH).to(inputs.device) for _ in range(INIT_DEPTH)]
    for layer in layers:
        nn.init.zeros_(layer.bias)  # so that only the weights decide what happens
        init(layer.weight)
    stds = []
    activations = inputs  # (batch, width)
    for layer in layers:
        activations = torch.tanh(layer(activations))
        stds.append(activations.std().item())
    saturated = (activations.abs() > 0.99).float().mean().item()
    activations.pow(2).mean().backward()
    return stds, saturated, layers[0].weight.grad.norm().item()


def weight_initialisation(device: torch.device) -> None:
    console.rule("5. Weight initialisation")
    inputs = torch.randn(256, INIT_WIDTH).to(device)  # (batch, width), std 1; drawn on the CPU
    headers = ["init", "std\nlayer 1", "std\nlayer 10", "saturated", "grad norm\nlayer 1"]
    table = Table(*headers, title="10 x (Linear(64, 64) + Tanh), biases 0, inputs with std 1")
    for name, init in INITS.items():
        stds, saturated, grad_norm = deep_tanh_stats(init, inputs)
        table.add_row(
            name, f"{stds[0]:.3f}", f"{stds[-1]:.3f}", f"{saturated:.0%}", f"{grad_norm:.1e}"
        )
    console.print(table)


# %% 6. Optimizers and a learning-rate schedule
def make_mlp() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(1, MLP_HIDDEN),
        nn.Tanh(),
        nn.Linear(MLP_HIDDEN, MLP_HIDDEN),
        nn.Tanh(),
        nn.Linear(MLP_HIDDEN, 1),
    )


def train_curve(model, optimizer, scheduler, x, y, epochs: int, batch_size: int, seed: int):
    """Mini-batch training; return the full-data MSE after every step."""
    shuffle = torch.Generator().manual_seed(seed)  # the same batch order for every run
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=shuffle).to(x.device)
        for first in range(0, len(x), batch_size):
            batch = order[first : first + batch_size]  # (batch,) row numbers
            loss = loss_fn(model(x[batch]), y[batch])  # (batch, 1) vs (batch, 1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()  # after optimizer.step(): sets the lr of the next step
            with torch.inference_mode():
                losses.append(loss_fn(model(x), y).item())
    return losses


def steps_to_threshold(losses: list[float], threshold: float = LOSS_THRESHOLD) -> int | None:
    return next((step for step, loss in enumerate(losses, start=1) if loss < threshold), None)


def optimizer_race(device: torch.device, epochs: int, batch_size: int, lr: float | None, seed):
    console.rule("6. Optimizers and a learning-rate schedule")
    x = torch.linspace(-1, 1, NUM_POINTS, device=device).unsqueeze(1)  # (256, 1)
    y = torch.sin(3 * x)  # (256, 1): a curve that no straight line fits
    initial_state = copy.deepcopy(make_mlp().state_dict())
    total_steps = epochs * math.ceil(NUM_POINTS / batch_size)
    curves, run_lrs, notes, train_seconds = {}, {}, [], 0.0
    for run, (make_optimizer, default_lr, use_cosine) in RUNS.items():
        run_lrs[run] = lr if lr is not None else default_lr
        model = make_mlp().to(device)
        model.load_state_dict(initial_state)  # every run starts from the very same weights
        optimizer = make_optimizer(model.parameters(), lr=run_lrs[run])
        # A scheduler rewrites the optimizer's lr as training goes: a cosine from lr down to 0.
        scheduler = CosineAnnealingLR(optimizer, T_max=total_steps) if use_cosine else None
        start = time.perf_counter()
        curves[run] = train_curve(model, optimizer, scheduler, x, y, epochs, batch_size, seed)
        train_seconds += time.perf_counter() - start
        if scheduler is not None:  # get_last_lr(): the lr the next step would use
            notes.append(
                f"cosine schedule: lr {run_lrs[run]:g} at step 1, "
                f"{scheduler.get_last_lr()[0]:.2g} after step {total_steps}"
            )

    # One log scale for all sparklines, from the finite losses (a diverged run has NaN or inf).
    finite = [loss for losses in curves.values() for loss in losses if math.isfinite(loss)]
    low, high = max(min(finite, default=1.0), 1e-12), max(finite, default=1.0)
    title = f"MSE on all {NUM_POINTS} points; steps = until below {LOSS_THRESHOLD}"
    table = Table("run", "lr", "final", "best", "steps", title=title)
    for run, losses in curves.items():
        best = min((loss for loss in losses if math.isfinite(loss)), default=math.nan)
        steps = str(steps_to_threshold(losses) or "not reached")
        table.add_row(run, f"{run_lrs[run]:g}", f"{losses[-1]:.1e}", f"{best:.1e}", steps)
    console.print(table, *notes)
    console.print(f"loss curves, log scale from {high:.2g} (top) to {low:.2g} (bottom):")
    for run, losses in curves.items():  # x: a step where the loss was nan or inf
        console.print(f"  {run:15} {sparkline(losses, low, high, SPARK_WIDTH)}")
    console.print(f"{len(curves)} runs x {total_steps} steps, in {train_seconds:.2f} s")
    return {
        "epochs": epochs,
        "batch_size": batch_size,
        "loss_threshold": LOSS_THRESHOLD,
        "final_loss": {run: losses[-1] for run, losses in curves.items()},
        "steps_to_threshold": {run: steps_to_threshold(losses) for run, losses in curves.items()},
        "train_seconds": train_seconds,
    }


# %% main
def main(argv: list[str]) -> None:
    parser = contract_parser(
        "Lesson 05: nn.Module, layers and shapes, activations, losses, weight initialisation, "
        "and SGD vs Adam vs AdamW from the same starting weights.",
        smoke_help=f"a tiny run for tests: at most {SMOKE_EPOCHS} epochs per optimizer",
    )
    own_lrs = ", ".join(f"{run} {lr:g}" for run, (_, lr, _) in RUNS.items())
    add_training_flags(
        parser, epochs=EPOCHS, batch_size=BATCH_SIZE, lr=None, lr_help=f"one lr for all: {own_lrs}"
    )
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    seed_everything(args.seed, device)
    # Every tensor here is tiny: splitting each op across CPU threads costs more than it saves.
    torch.set_num_threads(1)
    epochs = min(args.epochs, SMOKE_EPOCHS) if args.smoke else args.epochs
    console.print(
        f"[bold]Lesson 05[/] - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )

    build_a_model(device)
    layers_and_shapes(device)
    activation_functions(device)
    loss_functions(device)
    weight_initialisation(device)
    metrics = optimizer_race(device, epochs, args.batch_size, args.lr, args.seed)

    summary = (
        "A model is an nn.Module that owns layers and parameters; every layer has a shape "
        "contract you can check on a real tensor. Losses take raw logits, initialisation "
        "decides whether signals survive depth, and the optimizer and its learning rate "
        "decide how fast the same model learns."
    )
    console.print(Panel(summary, title="What you just learned"))
    if args.metrics_json:
        args.metrics_json.write_text(json.dumps(metrics, indent=2), encoding="utf-8")


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
