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
"""Lesson 02 - Tensor manipulation: reshape, reorder, join, split, index and copy tensors.

A tensor is a flat block of memory plus a shape and strides: see why `view` fails after a
transpose, meet the size-1 broadcasting bug, and learn which operations copy and which share.

Run it:   uv run starter_kit/15_pytorch_ml/02_tensor_manipulation.py
Try:      uv run starter_kit/15_pytorch_ml/02_tensor_manipulation.py --seed 1
Guide:    learning/02_tensor_manipulation.md
"""

import argparse
import math
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np
import torch
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table

# %% Config
BATCH_SIZE = 4  # predictions and targets in the broadcasting example
IMAGE_SHAPE = (2, 4, 5, 3)  # (batch, height, width, channels): height != width, so swaps show
NUM_CLASSES = 3

# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu"].
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


def as_python(tensor: torch.Tensor) -> list:
    """Plain Python numbers for printing: the same text on every device, floats to 2 places."""
    if tensor.is_floating_point():
        tensor = tensor.detach().cpu().double().round(decimals=2)  # Apple MPS has no float64
    return tensor.tolist()


def shares_memory(tensor: torch.Tensor, other: torch.Tensor) -> bool:
    """True when both are windows onto the same memory, so writing one changes the other."""
    # Not tensor.data_ptr(): that is the first element's address, which differs for base[1:].
    return tensor.untyped_storage().data_ptr() == other.untyped_storage().data_ptr()


def show(expression: str, result: object) -> None:
    """Print `expression -> result`, the result indented on its own line if the two overflow 80."""
    if isinstance(result, Exception):  # its first sentence, in full: the hints after it are long
        result = f"{type(result).__name__}: {str(result).split('. ')[0]}"
    line = f"{expression:<30} -> {result}"
    if len(line) <= 80:
        console.print(escape(line))  # escape(): rich would read "[zeros, ones]" as a style tag
    else:
        console.print(escape(expression))
        console.print(Padding(escape(f"-> {result}"), (0, 0, 0, 4)))


def layout_table(rows: dict[str, torch.Tensor], base_name: str) -> Table:
    """Shape, strides and memory sharing (with rows[base_name]) of each tensor, one row each."""
    table = Table("expression", "shape", "stride", "contiguous", f"same memory as {base_name}")
    for column in table.columns[:4]:
        column.no_wrap = True  # only the last header may wrap, so the rest fit 80 columns
    for expression, tensor in rows.items():
        is_view = shares_memory(tensor, rows[base_name])
        cells = (tuple(tensor.shape), tensor.stride(), tensor.is_contiguous(), is_view)
        table.add_row(expression, *map(str, cells))
    return table


# %% 1. view vs reshape
def view_vs_reshape(device: torch.device) -> None:
    console.rule("1. view vs reshape")
    # stride[d] = how many elements to skip in memory to take one step along dimension d.
    numbers = torch.arange(12, device=device)  # (12,)
    grid = numbers.view(3, 4)  # (3, 4): the same memory read in rows of 4, nothing copied
    flipped = grid.t()  # (4, 3): a transpose only swaps the strides; no element moves
    rows = {
        "numbers": numbers,
        "grid = numbers.view(3, 4)": grid,
        "grid.view(2, -1)": grid.view(2, -1),
        "grid.t()": flipped,
    }
    console.print(layout_table(rows, "numbers"))

    # view never copies, so it can only regroup elements that already sit in order in memory.
    # Reading grid.t() row by row jumps around memory (0, 4, 8, 1, ...), so view has to refuse.
    try:
        flipped.view(2, -1)
    except RuntimeError as error:
        show("grid.t().view(2, -1)", error)
    fixed = flipped.reshape(2, -1)  # a view when it can be, a copy when it must (here: a copy)
    explicit = flipped.contiguous().view(2, -1)  # the same copy, spelled out
    show("grid.t().reshape(2, -1)", as_python(fixed))
    show("grid.t().contiguous().view(2, -1)", as_python(explicit))
    show("the reshaped copy shares grid's memory", shares_memory(fixed, grid))


# %% 2. squeeze and unsqueeze
def squeeze_and_unsqueeze(device: torch.device) -> None:
    console.rule("2. squeeze and unsqueeze")
    scores = torch.tensor([0.1, 0.7, 0.2], device=device)  # (3,): one sample's class scores
    show("scores.unsqueeze(0).shape", tuple(scores.unsqueeze(0).shape))  # a batch of one
    show("scores.unsqueeze(1).shape", tuple(scores.unsqueeze(1).shape))  # a column
    show("scores[None].shape", tuple(scores[None].shape))  # None = unsqueeze there
    show("scores.view(1, 3, 1).squeeze().shape", tuple(scores.view(1, 3, 1).squeeze().shape))
    show("scores.view(1, 3, 1).squeeze(0).shape", tuple(scores.view(1, 3, 1).squeeze(0).shape))

    # The classic silent bug: a model outputs (batch, 1) but the targets are (batch,).
    predictions = torch.randn(BATCH_SIZE, 1).to(device)  # (4, 1), drawn on the CPU on any device
    targets = torch.randn(BATCH_SIZE).to(device)  # (4,)
    wrong = predictions - targets  # broadcasts to (4, 4): every prediction minus every target
    right = predictions.squeeze(1) - targets  # (4,): prediction i minus target i
    show("(predictions - targets).shape", f"{tuple(wrong.shape)}, MSE {wrong.pow(2).mean():.4f}")
    squeezed = f"{tuple(right.shape)}, MSE {right.pow(2).mean():.4f}"
    show("(predictions.squeeze(1) - targets).shape", squeezed)


# %% 3. permute, transpose and flatten
def permute_transpose_flatten(device: torch.device) -> None:
    console.rule("3. permute, transpose and flatten")
    # Image libraries (PIL, NumPy) give (height, width, channels); conv layers want channels first.
    images = torch.arange(math.prod(IMAGE_SHAPE), device=device).view(IMAGE_SHAPE)  # (2, 4, 5, 3)
    channels_first = images.permute(0, 3, 1, 2)  # (batch, channels, height, width)
    show("channels_first = images.permute(0, 3, 1, 2)", tuple(channels_first.shape))
    rows = {
        "images": images,
        "channels_first": channels_first,
        "images.transpose(1, 2)": images.transpose(1, 2),  # swaps height and width only
        "images.flatten(1)": images.flatten(1),  # (batch, height*width*channels)
    }
    console.print(layout_table(rows, "images"))
    flat_copy = channels_first.flatten(1)  # channels_first is not contiguous: flatten must copy
    show("channels_first.flatten(1) shares memory", shares_memory(flat_copy, images))
    # The same pixel (image 0, row 1, column 2, channel 0) under both layouts:
    show("images[0, 1, 2, 0]", images[0, 1, 2, 0].item())
    show("channels_first[0, 0, 1, 2]", channels_first[0, 0, 1, 2].item())


# %% 4. cat, stack, split and chunk
def join_and_split(device: torch.device) -> None:
    console.rule("4. cat, stack, split and chunk")
    zeros = torch.zeros(2, 3, dtype=torch.long, device=device)  # (2, 3)
    ones = torch.ones(2, 3, dtype=torch.long, device=device)  # (2, 3)
    # cat grows a dimension that exists; stack adds a new one, so its inputs need equal shapes.
    show("torch.cat([zeros, ones], dim=0).shape", tuple(torch.cat([zeros, ones], dim=0).shape))
    show("torch.cat([zeros, ones], dim=1).shape", tuple(torch.cat([zeros, ones], dim=1).shape))
    show("torch.stack([zeros, ones], dim=0).shape", tuple(torch.stack([zeros, ones], dim=0).shape))
    show("torch.stack([zeros, ones], dim=2).shape", tuple(torch.stack([zeros, ones], dim=2).shape))

    sequence = torch.arange(10, device=device)  # (10,)
    show("sequence.split(3)", [as_python(part) for part in sequence.split(3)])  # pieces of 3
    show("sequence.chunk(3)", [as_python(part) for part in sequence.chunk(3)])  # 3 pieces
    show("sequence.split([7, 3])", [as_python(part) for part in sequence.split([7, 3])])


# %% 5. Slicing, masks and fancy indexing
def indexing(device: torch.device) -> None:
    console.rule("5. Slicing, masks and fancy indexing")
    grid = torch.arange(12, device=device).view(3, 4)  # (3, 4)
    mask = grid % 3 == 0  # (3, 4) of True/False
    selections = {
        "grid[1]": grid[1],  # (4,): row 1
        "grid[:, 1]": grid[:, 1],  # (3,): column 1
        "grid[1:, ::2]": grid[1:, ::2],  # (2, 2): rows 1.., every second column
        "grid[grid % 3 == 0]": grid[mask],  # (4,): a mask may pick a different count per row
        "grid[[2, 0]]": grid[[2, 0]],  # (2, 4): rows 2 and 0, in that order
        "grid[[0, 1, 2], [3, 2, 1]]": grid[[0, 1, 2], [3, 2, 1]],  # (3,): (0,3) (1,2) (2,1)
    }
    table = Table("expression", "result", "same memory as grid")
    for expression, selected in selections.items():
        sharing = shares_memory(selected, grid)
        table.add_row(escape(expression), str(as_python(selected)), str(sharing))
    console.print(table)  # slices are views; masks and index lists build new tensors
    # To replace the masked elements instead of picking them out, keep the shape:
    show("grid.masked_fill(grid % 3 == 0, 0)", as_python(grid.masked_fill(mask, 0)))  # (3, 4)


# %% 6. gather and scatter
def gather_and_scatter(device: torch.device) -> None:
    console.rule("6. gather and scatter")
    scores = [[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 2.5, 0.0], [0.3, -0.4, 1.5]]
    logits = torch.tensor(scores, device=device)  # (batch=4, classes=3): raw, unnormalised scores
    labels = torch.tensor([0, 2, 1, 2], device=device)  # (4,): the true class of each row
    index = labels.unsqueeze(1)  # (4, 1): gather and scatter want as many dims as logits
    # gather: out[i][0] = logits[i][index[i][0]], each row's score for its own true class.
    show("logits.gather(1, index).squeeze(1)", as_python(logits.gather(1, index).squeeze(1)))
    show("logits[arange(4), labels]", as_python(logits[torch.arange(4, device=device), labels]))
    # scatter is the reverse, out[i][index[i][0]] = value: here it builds one-hot targets.
    one_hot = torch.zeros(4, NUM_CLASSES, dtype=torch.long, device=device).scatter_(1, index, 1)
    show("zeros(4, 3).scatter_(1, index, 1)", as_python(one_hot))
    # scatter_add_ adds into the slots instead of overwriting: how many examples per class.
    counts = torch.zeros(NUM_CLASSES, dtype=torch.long, device=device)
    counts.scatter_add_(0, labels, torch.ones_like(labels))
    show("zeros(3).scatter_add_(0, labels, ones)", as_python(counts))


# %% 7. In-place operations
def in_place(device: torch.device) -> None:
    console.rule("7. In-place operations")
    counter = torch.zeros(3, device=device)
    returned = counter.add_(1)  # the trailing _ means "change this tensor"; it returns it too
    counter += 1  # += is in place as well; counter = counter + 1 would make a new tensor
    show("counter after add_(1) and += 1", as_python(counter))
    show("counter.add_(1) is counter", returned is counter)

    # Autograd refuses to let a leaf that needs gradients change behind its back ...
    weights = torch.ones(3, device=device, requires_grad=True)
    try:
        weights.mul_(2)
    except RuntimeError as error:
        show("weights.mul_(2)", error)
    with torch.no_grad():  # ... unless you say so: this is how optimizer.step() updates weights
        weights.mul_(2)
    show("weights.mul_(2) inside torch.no_grad()", as_python(weights))
    # ... and notices when you overwrite a value that backward() still needs.
    exponentials = weights.exp()  # exp saves its output: the derivative of exp(w) is exp(w)
    exponentials.add_(1)
    try:
        exponentials.sum().backward()
    except RuntimeError as error:
        show("w.exp().add_(1), then backward()", error)


# %% 8. clone, detach and shared memory
def clone_and_detach(device: torch.device) -> None:
    console.rule("8. clone, detach and shared memory")
    base = torch.arange(5, device=device)
    window = base[1:4]  # a view: another shape over the same memory
    copy = base.clone()  # new memory holding the same numbers
    window[0] = 100
    copy[0] = -1
    show("base, after writing window and copy", as_python(base))

    weights = torch.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    table = Table("expression", "shares memory", "requires_grad", "use it for")
    table.columns[0].no_wrap = True
    rows = {
        "weights[1:]": (weights[1:], "a part; gradients flow back"),
        "weights.clone()": (weights.clone(), "a copy gradients flow through"),
        "weights.detach()": (weights.detach(), "the values, no autograd"),
        "weights.detach().clone()": (weights.detach().clone(), "a snapshot, e.g. to log"),
    }
    for expression, (tensor, use) in rows.items():
        sharing, tracked = shares_memory(tensor, weights), tensor.requires_grad
        table.add_row(expression, str(sharing), str(tracked), use)
    console.print(table)


# %% main
def main(argv: list[str]) -> None:
    parser = contract_parser(
        "Lesson 02: reshape, reorder, join, split, index and copy tensors.",
        smoke_help="a tiny run (this one already is)",
    )
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    seed_everything(args.seed, device)
    banner = f"PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    console.print(f"[bold]Lesson 02[/] - {banner}")

    view_vs_reshape(device)
    squeeze_and_unsqueeze(device)
    permute_transpose_flatten(device)
    join_and_split(device)
    indexing(device)
    gather_and_scatter(device)
    in_place(device)
    clone_and_detach(device)

    console.print(
        Panel(
            "A tensor is memory plus shape and strides. view, slicing, transpose, permute, "
            "squeeze and detach reuse that memory; reshape and flatten copy only when they must; "
            "masks, index lists, cat, stack and clone always make new tensors. A trailing _ "
            "changes a tensor in place.",
            title="What you just learned",
        )
    )


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
