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
"""Lesson 01 - Tensor basics: create, inspect, convert, move and index tensors.

A tensor is PyTorch's n-dimensional array: the data, weights and gradients of every model are
tensors. You will see the ways to create one, the five attributes to check first (shape, dtype,
device, ndim, numel), how dtypes convert, how tensors share memory with NumPy, how to move them
to an accelerator, how to index them. Each step prints code and result, like a Python prompt.

Run it:   uv run starter_kit/15_pytorch_ml/01_tensor_basics.py
Try:      uv run starter_kit/15_pytorch_ml/01_tensor_basics.py --seed 1
Guide:    learning/01_tensor_basics.md
"""

import argparse
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np
import torch
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

# %% Config
NUM_ELEMENTS = 1_000_000  # section 3 shows how much memory this many elements take per dtype

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


def show(code: str, value: object = None) -> None:
    """Print a line of code and what it returns (if not None), the way a Python prompt would."""
    console.print(f">>> {code}", style="bold cyan", markup=False, highlight=False)
    if value is not None:
        # markup=False: a tensor's repr is full of [brackets] that rich would read as style tags.
        console.print(repr(value), markup=False)


# %% 1. Creating tensors
def creating_tensors() -> None:
    console.rule("1. Creating tensors")
    # From Python data: the dtype is inferred (ints -> int64, floats -> float32).
    show("torch.tensor([1, 2, 3])", torch.tensor([1, 2, 3]))
    show("torch.tensor([[1.0, 2.0], [3.0, 4.0]])", torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    # From a shape: constant fillers, then random ones (those follow --seed).
    show("torch.zeros(3, 4)", torch.zeros(3, 4))
    show("torch.ones(2, 3)", torch.ones(2, 3))
    show("torch.full((2, 3), 7.0)", torch.full((2, 3), 7.0))
    show("torch.eye(3)", torch.eye(3))  # the identity matrix
    show("torch.rand(2, 3)  # uniform in [0, 1)", torch.rand(2, 3))
    show("torch.randn(3, 4)  # normal, mean 0, std 1", torch.randn(3, 4))
    # Ranges: arange steps by a size and excludes the end; linspace takes a count, includes it.
    show("torch.arange(0, 10, 2)", torch.arange(0, 10, 2))
    show("torch.linspace(0, 1, 5)", torch.linspace(0, 1, 5))
    # *_like copies shape, dtype and device from another tensor, so the result fits next to it.
    template = torch.tensor([[1, 2, 3], [4, 5, 6]])  # (2, 3) int64
    show("torch.zeros_like(template)", torch.zeros_like(template))
    show("torch.full_like(template, 9)", torch.full_like(template, 9))
    # rand_like needs a float dtype: int64 cannot hold numbers in [0, 1), so ask for one.
    show(
        "torch.rand_like(template, dtype=torch.float32)",
        torch.rand_like(template, dtype=torch.float32),
    )


# %% 2. Tensor attributes
def tensor_attributes() -> None:
    console.rule("2. Tensor attributes")
    images = torch.zeros(8, 3, 28, 28)  # (batch, channels, height, width): a batch of images
    table = Table("attribute", "value", "what it tells you")
    table.add_row("images.shape", str(images.shape), "size of each dimension")
    table.add_row("images.dtype", str(images.dtype), "type of every element")
    table.add_row("images.device", str(images.device), "where the memory lives")
    table.add_row("images.ndim", str(images.ndim), "number of dimensions")
    table.add_row("images.numel()", str(images.numel()), "number of elements: 8*3*28*28")
    table.add_row("images.shape[0]", str(images.shape[0]), "shape indexes like a tuple")
    console.print(table)
    # Most bugs in deep learning code are shape bugs: print .shape first when something breaks.


# %% 3. Dtypes and conversion
def dtypes_and_conversion() -> None:
    console.rule("3. Dtypes and conversion")
    measurements = torch.tensor([1.5, -2.7, 3.9])
    show("measurements.dtype", measurements.dtype)  # float32: PyTorch's default float
    # Converting makes a new tensor; float -> int truncates toward zero, it does not round.
    show("measurements.to(torch.int64)", measurements.to(torch.int64))
    show("measurements.long()  # same thing, shorter", measurements.long())
    show("measurements.to(torch.float16)", measurements.to(torch.float16))
    # Promotion goes by kind (int < float): a Python float gives float32. / always gives a float.
    counts = torch.tensor([1, 2, 3])
    show("(counts + 0.5).dtype", (counts + 0.5).dtype)
    show("counts / 2", counts / 2)
    show("counts // 2", counts // 2)
    show("counts > 1", counts > 1)  # comparisons give torch.bool

    # Fewer bytes = less memory, faster maths, less precision or range. Mixed precision does most
    # maths in 16 bits: bf16 keeps float32's range with fewer digits; fp16 overflows above 65504.
    table = Table("dtype", "bytes", f"{NUM_ELEMENTS:,} elements", "typical use")
    uses = {
        torch.float64: "NumPy's default; science",
        torch.float32: "PyTorch's default",
        torch.bfloat16: "mixed precision, wide range",
        torch.float16: "mixed precision, max 65504",
        torch.int64: "indices, class labels",
        torch.uint8: "image pixels 0-255",
        torch.bool: "masks",
    }
    for dtype, use in uses.items():
        bytes_per_element = torch.empty(0, dtype=dtype).element_size()  # no memory allocated
        megabytes = bytes_per_element * NUM_ELEMENTS / 1e6
        table.add_row(str(dtype), str(bytes_per_element), f"{megabytes:.0f} MB", use)
    console.print(table)


# %% 4. NumPy interop
def numpy_interop() -> None:
    console.rule("4. NumPy interop")
    array = np.arange(4.0)  # float64, because that is NumPy's default
    shared = torch.from_numpy(array)
    copied = torch.tensor(array)
    array[0] = 100.0  # change the NumPy array after the fact...
    show("array = np.arange(4.0)            # float64: NumPy's default")
    show("shared = torch.from_numpy(array)  # same memory, no copy")
    show("copied = torch.tensor(array)      # its own memory")
    show("array[0] = 100.0")
    show("shared  # sees the 100", shared)
    show("copied  # does not", copied)
    # The other way round: .numpy() on a CPU tensor is a view of the same memory too.
    weights = torch.zeros(3)
    weights_view = weights.numpy()
    weights += 1  # in-place, so the memory both of them point at changes
    show("weights_view  # taken before weights += 1", weights_view)
    show("np.shares_memory(weights_view, weights)", np.shares_memory(weights_view, weights))
    # NumPy gives float64; models want float32. From float64, .float() converts: that is a copy.
    show("torch.from_numpy(array).float().dtype", torch.from_numpy(array).float().dtype)


# %% 5. Moving between devices
def moving_between_devices(device: torch.device) -> None:
    console.rule("5. Moving between devices")
    features = torch.arange(6.0).reshape(2, 3)  # (2, 3), created on the CPU
    on_device = features.to(device)  # a copy on the device, or features itself if already there
    show("on_device = features.to(device)")
    show("on_device.device", on_device.device)
    show("on_device is features", on_device is features)
    show("on_device.cpu().device", on_device.cpu().device)  # back to the CPU, e.g. for NumPy
    # Creating on the device directly skips the CPU copy altogether.
    show("torch.zeros(2, 3, device=device).device", torch.zeros(2, 3, device=device).device)
    if device.type == "cpu":
        console.print("On a GPU, features + on_device would raise: tensors must share a device.")
    else:
        try:
            features + on_device  # one tensor in RAM, one on the accelerator
        except RuntimeError as error:
            console.print(f"features + on_device -> RuntimeError: {str(error).splitlines()[0]}")

    table = Table("call", "what it does", "use it?")
    table.add_row(".to(device)", "moves to the device you chose once", "yes: runs anywhere")
    table.add_row(".cpu()", "moves to the CPU (returns itself if there)", "yes: before .numpy()")
    # .cuda() names a device type, not a vendor: ROCm builds run it on AMD GPUs too.
    table.add_row(".cuda()", "moves to a cuda GPU: NVIDIA, or AMD (ROCm)", "no: fails without cuda")
    table.add_row("device=device", "creates it on the device", "yes: no extra copy")
    console.print(table)


# %% 6. Basic indexing
def basic_indexing() -> None:
    console.rule("6. Basic indexing")
    grid = torch.arange(12).reshape(3, 4)  # (3, 4): rows 0-2, columns 0-3 (reshape: lesson 02)
    show("grid", grid)
    show("grid[0]         # first row", grid[0])
    show("grid[:, 1]      # second column", grid[:, 1])
    show("grid[1, 2]      # one element, still a tensor", grid[1, 2])
    show("grid[1, 2].item()  # as a Python number", grid[1, 2].item())
    show("grid[-1]        # last row", grid[-1])
    show("grid[:2, 1:3]   # rows 0-1, columns 1-2", grid[:2, 1:3])
    show("grid[grid > 8]  # boolean mask -> 1-D", grid[grid > 8])
    show("grid[[0, 2]]    # rows 0 and 2", grid[[0, 2]])
    # Slices are views: writing through one writes into grid. Masks and lists copy instead.
    first_row = grid[0]
    first_row[0] = 100
    show("grid[0, 0]  # after first_row[0] = 100", grid[0, 0])


# %% main
def main(argv: list[str]) -> None:
    parser = contract_parser(
        "Lesson 01: create, inspect, convert, move and index tensors.",
        smoke_help="a tiny run (this one already is)",
    )
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    seed_everything(args.seed, device)
    console.print(
        f"[bold]Lesson 01[/] - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )

    creating_tensors()
    tensor_attributes()
    dtypes_and_conversion()
    numpy_interop()
    moving_between_devices(device)
    basic_indexing()

    console.print(
        Panel(
            "A tensor is an n-dimensional array with a shape, a dtype and a device. Create it from "
            "data or from a shape, check .shape first when things break, convert with .to(dtype), "
            "share memory with NumPy on the CPU, move it with .to(device), and remember that "
            "slices are views of the same memory.",
            title="What you just learned",
        )
    )


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
