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
"""Lesson 00 - Introduction and quick start: your first PyTorch model, end to end.

You will see why PyTorch feels like plain Python (eager execution), how its parts build on
each other (devices, then tensors, then autograd, then nn.Module), where it stands next to
TensorFlow today, and then the six-step workflow that every later lesson follows: prepare data,
define a model, pick a loss and an optimizer, train, evaluate, predict.

Run it:   uv run starter_kit/15_pytorch_ml/00_quickstart.py
Try:      uv run starter_kit/15_pytorch_ml/00_quickstart.py --epochs 300 --lr 0.05
Guide:    learning/00_introduction.md
"""

import argparse
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
from rich.table import Table
from rich.tree import Tree
from torch import nn

# %% Config
NUM_SAMPLES = 100  # rows of the random regression dataset
NUM_FEATURES = 10  # columns: the model sees 10 numbers and predicts 1
HIDDEN_SIZE = 5
EPOCHS = 100
SMOKE_EPOCHS = 20
LEARNING_RATE = 0.01
LOG_EVERY = 10  # print the loss every 10 epochs
# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--epochs", "300"].
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


def stop_if_diverged(loss: float, epoch: int) -> None:
    """A loss of NaN or infinity means the steps overshot and every weight is now garbage: stop
    with one line (exit 1) rather than train on, draw or save it."""
    if not math.isfinite(loss):
        fail(f"training diverged at epoch {epoch} (loss {loss}); try a smaller --lr", 1)


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


# %% 1. Why PyTorch
def why_pytorch() -> None:
    console.rule("1. Why PyTorch")
    # Eager execution: each line runs the moment Python reaches it, so print() and a debugger work.
    x = torch.tensor([1.0, 2.0, 3.0])
    y = x * 2 + 1
    console.print(f"x * 2 + 1 = {y.tolist()}  <- computed immediately, no graph to build first")
    # Control flow is plain Python: the 'graph' is whatever your code happened to do this time.
    total = y.sum()
    branch = "sum > 10" if total > 10 else "sum <= 10"
    console.print(f"y.sum() = {total.item():.1f}, so Python took the branch '{branch}'")


# %% 2. The architecture
def architecture(device: torch.device) -> None:
    console.rule("2. The architecture")
    weight = torch.randn(3, requires_grad=True)  # a tensor that autograd tracks
    loss = (weight**2).sum()
    # Each level is built on the one below it, so the tree nests downwards: a module's parameters
    # are tensors, autograd records what happens to tensors, and every tensor lives on a device.
    tree = Tree("[bold]your Python code[/] uses")
    module = tree.add("nn.Module: e.g. nn.Linear(3, 1) - layers that own their parameters")
    grad_fn = type(loss.grad_fn).__name__
    autograd = module.add(f"autograd: loss.grad_fn = {grad_fn} - records ops, computes gradients")
    tensors = autograd.add(f"tensors: {tuple(weight.shape)} {weight.dtype} - n-dimensional arrays")
    tensors.add(f"device: {device} - where the memory and the maths are: cpu, cuda, mps or xpu")
    console.print(tree)
    console.print("Each level is built on the one below it; --device picks the bottom one.")


# %% 3. PyTorch and TensorFlow today
def pytorch_vs_tensorflow() -> None:
    console.rule("3. PyTorch and TensorFlow today")
    table = Table("", "PyTorch", "TensorFlow / Keras")
    table.add_row("Made by", "PyTorch Foundation", "Google")
    table.add_row("Licence", "BSD-3-Clause", "Apache 2.0")
    table.add_row("Style", "eager Python, torch.compile", "Keras 3, tf.function")
    table.add_row("Export", "torch.export", "SavedModel")
    table.add_row("Older export", "TorchScript: deprecated", "-")
    table.add_row("Research, new models", "the large majority", "a shrinking share")
    table.add_row("Mobile and edge", "ExecuTorch", "LiteRT (was TFLite)")
    table.add_row("Still strong at", "LLMs, most new code", "TFX, TPUs, the web")
    console.print(table)


# %% 4. The six-step workflow
def six_step_workflow(device: torch.device, epochs: int, batch_size: int, lr: float) -> dict:
    console.rule("4. The six-step workflow")

    # Step 1: prepare data - random inputs and a target that really depends on them.
    features = torch.randn(NUM_SAMPLES, NUM_FEATURES)  # (100, 10)
    true_weights = torch.randn(NUM_FEATURES, 1)  # (10, 1)
    targets = features @ true_weights + 0.1 * torch.randn(NUM_SAMPLES, 1)  # (100, 1)
    features, targets = features.to(device), targets.to(device)
    console.print(
        f"Step 1 - data: features {tuple(features.shape)}, targets {tuple(targets.shape)}"
    )

    # Step 2: define the model - 10 inputs -> 5 hidden units -> 1 output.
    model = nn.Sequential(
        nn.Linear(NUM_FEATURES, HIDDEN_SIZE), nn.ReLU(), nn.Linear(HIDDEN_SIZE, 1)
    ).to(device)
    num_params = sum(p.numel() for p in model.parameters())
    console.print(f"Step 2 - model: {num_params} parameters")

    # Step 3: loss and optimizer - mean squared error, Adam.
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    console.print(f"Step 3 - loss {loss_fn.__class__.__name__}, optimizer Adam(lr={lr})")

    # Step 4: the training loop - forward, loss, zero_grad, backward, step.
    console.print("Step 4 - training:")
    start = time.perf_counter()
    model.train()
    for epoch in range(1, epochs + 1):
        epoch_loss = 0.0
        for first in range(0, NUM_SAMPLES, batch_size):
            batch_x = features[first : first + batch_size]  # (batch, 10)
            batch_y = targets[first : first + batch_size]  # (batch, 1)
            predictions = model(batch_x)  # (batch, 1)
            loss = loss_fn(predictions, batch_y)
            optimizer.zero_grad()  # gradients add up unless cleared
            loss.backward()  # d(loss)/d(parameter) for every parameter
            optimizer.step()  # parameter -= lr * (Adam's scaled gradient)
            epoch_loss += loss.item() * len(batch_x)
        stop_if_diverged(epoch_loss, epoch)
        if epoch % LOG_EVERY == 0:  # the mean over the epoch, whatever the batch size
            console.print(f"  epoch {epoch:3d}  loss {epoch_loss / NUM_SAMPLES:.4f}")
    train_seconds = time.perf_counter() - start

    # Step 5: evaluation - no gradients needed, so turn them off. This is the data the model
    # trained on; lesson 04 holds data back to check that a model generalises.
    model.eval()
    with torch.inference_mode():
        final_loss = loss_fn(model(features), targets).item()
        baseline_loss = loss_fn(targets.mean().expand_as(targets), targets).item()
    console.print(
        f"Step 5 - evaluation: training MSE {final_loss:.4f} "
        f"(predicting the mean: {baseline_loss:.4f})"
    )

    # Step 6: inference - one new sample in, one number out.
    new_sample = torch.randn(1, NUM_FEATURES, device=device)  # (1, 10)
    with torch.inference_mode():
        prediction = model(new_sample).item()
    expected = (new_sample.cpu() @ true_weights).item()
    console.print(
        f"Step 6 - inference: predicted {prediction:.3f}, true function gives {expected:.3f}"
    )
    return {
        "final_loss": final_loss,
        "baseline_loss": baseline_loss,
        "epochs": epochs,
        "train_seconds": train_seconds,
    }


# %% main
def main(argv: list[str]) -> None:
    parser = contract_parser(
        "Lesson 00: why PyTorch, how it fits together, a first model in six steps.",
        smoke_help=f"a tiny run for tests: at most {SMOKE_EPOCHS} epochs",
    )
    add_training_flags(
        parser,
        epochs=EPOCHS,
        batch_size=NUM_SAMPLES,
        lr=LEARNING_RATE,
        lr_help="Adam's learning rate",
    )
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    seed_everything(args.seed, device)
    epochs = min(args.epochs, SMOKE_EPOCHS) if args.smoke else args.epochs
    console.print(
        f"[bold]Lesson 00[/] - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )

    why_pytorch()
    architecture(device)
    pytorch_vs_tensorflow()
    metrics = six_step_workflow(device, epochs, args.batch_size, args.lr)

    console.print(
        Panel(
            "Tensors hold the data, autograd computes gradients, nn.Module holds the weights, "
            "and every project repeats six steps: data, model, loss and optimizer, train, "
            "evaluate, predict.",
            title="What you just learned",
        )
    )
    if args.metrics_json:
        args.metrics_json.write_text(json.dumps(metrics, indent=2), encoding="utf-8")


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
