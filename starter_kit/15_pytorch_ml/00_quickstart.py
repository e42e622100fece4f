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

You will see why PyTorch feels like plain Python (eager execution), how its parts fit
together (tensors -> autograd -> nn.Module -> CPU/GPU), where it stands next to TensorFlow
today, and then the six-step workflow that every later lesson follows: prepare data,
define a model, pick a loss and an optimizer, train, evaluate, predict.

Run it:   uv run starter_kit/15_pytorch_ml/00_quickstart.py
Try:      uv run starter_kit/15_pytorch_ml/00_quickstart.py --epochs 300 --lr 0.05
Guide:    learning/00_introduction.md
"""

import argparse
import json
import random
import sys
import time

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

console = Console()


def resolve_device(requested: str) -> torch.device:
    """'auto' -> the available accelerator (cuda, mps, xpu, ...) else the CPU.

    Asking for a device that is not there is a usage error: one line on stderr, exit status 2.
    """
    accelerator = torch.accelerator.current_accelerator(check_available=True)  # None on CPU-only
    available = ["cpu"] + ([accelerator.type] if accelerator is not None else [])
    if requested == "auto":
        return torch.device(available[-1])
    if requested not in available:
        print(
            f"error: device '{requested}' is not available; available: {', '.join(available)}",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return torch.device(requested)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds the CPU and every accelerator


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
    tree = Tree("[bold]your Python code[/]")
    tree.add(f"tensors: {tuple(weight.shape)} {weight.dtype} - n-dimensional arrays")
    tree.add(f"autograd: loss.grad_fn = {type(loss.grad_fn).__name__} - records ops for backward()")
    tree.add("nn.Module: nn.Linear(3, 1) - layers that own their parameters")
    tree.add(f"device: {device} - the same code runs on CPU, CUDA, MPS or XPU")
    console.print(tree)


# %% 3. PyTorch and TensorFlow today
def pytorch_vs_tensorflow() -> None:
    console.rule("3. PyTorch and TensorFlow today")
    table = Table("", "PyTorch", "TensorFlow / Keras")
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
def main() -> None:
    parser = argparse.ArgumentParser(
        description="Lesson 00: why PyTorch, how it fits together, a first model in six steps.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps", "xpu"],
        default="auto",
        help="where tensors live; auto = the available accelerator, else cpu",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for torch, numpy and random")
    parser.add_argument("--smoke", action="store_true", help="a tiny run for tests")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over the data")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=NUM_SAMPLES,
        help="samples per step (default: all 100, one step per epoch)",
    )
    parser.add_argument("--lr", type=float, default=LEARNING_RATE, help="Adam's learning rate")
    parser.add_argument(
        "--metrics-json", metavar="PATH", help="write the final metrics here as JSON"
    )
    args = parser.parse_args()

    device = resolve_device(args.device)
    seed_everything(args.seed)
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
        with open(args.metrics_json, "w", encoding="utf-8") as file:
            json.dump(metrics, file, indent=2)


if __name__ == "__main__":
    main()
