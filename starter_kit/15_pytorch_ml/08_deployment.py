# /// script
# requires-python = ">=3.11"
# dependencies = [
#     "torch>=2.15",
#     "numpy>=2.0",
#     "rich>=14",
#     "scikit-learn>=1.5",
#     "onnx>=1.23",
#     "onnxscript>=0.7",
#     "onnxruntime>=1.31",
#     "fastapi>=0.162",
#     "uvicorn>=0.54",
# ]
#
# [tool.uv]
# exclude-newer = "2026-11-01T00:00:00Z"
# ///
"""Lesson 08 - Deployment: save, load, export and serve a model, the way PyTorch does it today.

A small digit classifier trains in seconds; then it is checkpointed and resumed, loaded safely (a
crafted pickle is refused), exported with torch.export, compiled, converted to ONNX and served over
HTTP with FastAPI. TorchScript gets an honest word, and every route is timed.

Run it:   uv run starter_kit/15_pytorch_ml/08_deployment.py
Serve:    uv run starter_kit/15_pytorch_ml/08_deployment.py --serve
Guide:    learning/08_deployment.md
"""

import argparse
import contextlib
import copy
import http.client
import importlib.util
import io
import json
import logging
import math
import os
import pickle
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NoReturn

import numpy as np
import torch
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from torch import nn

# %% Config
EPOCHS, SMOKE_EPOCHS, BATCH_SIZE, LEARNING_RATE = 30, 4, 64, 3e-3
HIDDEN = 64  # 64 pixels -> 64 hidden units -> 10 digits: about 4,800 weights
TEST_IMAGES = 360  # of the 1,797 digits; the other 1,437 train the model
MAX_EXPORT_BATCH = 1024  # the exported program takes any batch size from 1 to this
MAX_BATCH, MAX_BODY = 256, 2**20  # the service: images per request, bytes per body (1 MiB)
# A checkpoint says what it is and holds all of these, so a file from elsewhere fails early.
FORMAT = "lesson-08-checkpoint"
REQUIRED = set("format epoch model_state optimizer_state shuffler_state losses config".split())
# Flags for a notebook run (VS Code / Jupyter run every cell; the kernel's own command line is
# never read): e.g. ["--device", "cpu", "--smoke"].
NOTEBOOK_ARGS: list[str] = []
# A notebook kernel has no __file__; it starts in the lesson's own folder.
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
CHECKPOINT = HERE / "checkpoints" / "08_digits.pt"  # its .pt2 and .onnx go beside it


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


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through `write(file)` into a unique temporary file beside `path`, flush and fsync it,
    then rename it over `path`. A failure (a full disk, Ctrl-C) leaves any earlier file whole and
    no temporary file behind; the OSError goes to the caller, who can explain it in one line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())  # on disk, not just in a buffer, before it takes the name
        umask = os.umask(0o022)  # read the umask (it can only be read by setting it) ...
        os.umask(umask)  # ... and put it back
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; a saved file follows the umask
        os.replace(temporary, path)  # atomic: the name points at the old file or the whole new one
    finally:
        Path(temporary).unlink(missing_ok=True)


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


console = make_console()


def save(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """write_atomically; a failure (a full disk, no permission) is one line and exit 1."""
    try:
        write_atomically(path, write)
    except OSError as error:
        fail(f"could not save {path}: {error.strerror or error}", 1)


# %% 1. Saving and loading
def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(1797, 8, 8) uint8 pixels in 0..16 and (1797,) labels, from the CSV that load_digits()
    reads: finding it without `import sklearn` (seconds: it imports SciPy) takes milliseconds."""
    sklearn_dir = importlib.util.find_spec("sklearn").submodule_search_locations[0]
    csv_path = Path(sklearn_dir) / "datasets" / "data" / "digits.csv.gz"
    if not csv_path.exists():  # moved by a future scikit-learn? Then the slow, official way.
        from sklearn.datasets import load_digits

        pixels, labels = load_digits(return_X_y=True)  # (1797, 64) floats, (1797,)
        return pixels.reshape(-1, 8, 8).astype(np.uint8), labels.astype(np.uint8)
    table = np.loadtxt(csv_path, delimiter=",", dtype=np.uint8)  # (1797, 65): 64 pixels, label
    return table[:, :-1].reshape(-1, 8, 8), table[:, -1]


def load_data(seed: int, device: torch.device) -> dict:
    """{'train'|'test': (pixels (N, 64) float32 on the 0-16 scale, labels (N,))}."""
    pixels, labels = load_digits_arrays()
    images = torch.from_numpy(pixels).reshape(-1, 64).float()  # (1797, 64): 8x8, row by row
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    split = {"train": order[TEST_IMAGES:], "test": order[:TEST_IMAGES]}
    targets = torch.from_numpy(labels).long()
    return {name: (images[i].to(device), targets[i].to(device)) for name, i in split.items()}


class DigitClassifier(nn.Module):
    """Pixels (batch, 64) on the 0-16 scale in, a score per digit (batch, 10) out. The train mean
    and std are buffers: saved in the state_dict, so the model standardises its own input."""

    def __init__(self, hidden: int = HIDDEN):
        super().__init__()
        self.register_buffer("mean", torch.tensor(0.0))
        self.register_buffer("std", torch.tensor(1.0))
        self.layers = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.layers((pixels - self.mean) / self.std)  # (batch, 10) logits


def new_run(config: dict, data: dict, device: torch.device):
    """A fresh model, optimizer and batch shuffler: the same ones every time for one config."""
    torch.manual_seed(config["seed"])  # the initial weights
    model = DigitClassifier(config["hidden"]).to(device)
    model.mean.fill_(data["train"][0].mean())
    model.std.fill_(data["train"][0].std())
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["lr"])
    return model, optimizer, torch.Generator().manual_seed(config["seed"])


def train(model, optimizer, shuffler, data: dict, epochs: range, batch_size: int) -> list[float]:
    """Each epoch's mean training loss; the shuffler decides the order of the batches."""
    images, labels = data["train"]
    losses = []
    for epoch in epochs:
        model.train()
        total = torch.zeros((), device=images.device)
        for batch in torch.randperm(len(labels), generator=shuffler).split(batch_size):
            batch = batch.to(images.device)
            loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(batch)
        losses.append(total.item() / len(labels))
        stop_if_diverged(losses[-1], epoch + 1)
    return losses


@torch.inference_mode()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    return (model.eval()(images).argmax(dim=1) == labels).float().mean().item()


def checkpoint_of(model, optimizer, shuffler, losses: list[float], config: dict, data) -> dict:
    """What the next epoch needs (weights, the optimizer's moments, where the batch order stands)
    and what the run was (epoch, losses, metrics, config): tensors and plain data only."""
    return {
        "format": FORMAT,
        "epoch": len(losses),
        "model_state": model.state_dict(),
        "optimizer_state": optimizer.state_dict(),
        "shuffler_state": shuffler.get_state(),  # (5056,) uint8: the generator's whole state
        "losses": losses,
        "metrics": {"test_accuracy": accuracy(model, *data["test"])},
        "config": config,
    }


class CheckpointError(Exception):
    """Why a file cannot be resumed from: the end of a sentence that starts with its name."""


def read_checkpoint(path: Path, device: torch.device) -> dict:
    """torch.load with weights_only=True: tensors, numbers, strings, lists, dicts; never code."""
    if path.is_dir():
        raise CheckpointError("is a folder, not a checkpoint file")
    if not path.exists():
        raise CheckpointError("does not exist")
    if path.stat().st_size == 0:
        raise CheckpointError("is empty (0 bytes): a save that never finished?")
    try:
        with warnings.catch_warnings(action="ignore"):  # e.g. torch's note on a legacy format
            checkpoint = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as error:
        refused = re.search(r"GLOBAL ([\w.]+)", str(error))  # what the pickle asked to import
        if refused:
            raise CheckpointError(f"was refused: it asks to call {refused[1]}") from None
        raise CheckpointError("is corrupt: not a file torch.save wrote") from None
    except Exception as error:  # damaged bytes fail in many ways (KeyError, struct.error, ...)
        raise CheckpointError(f"is corrupt or cut off ({type(error).__name__})") from None
    missing = REQUIRED - set(checkpoint) if isinstance(checkpoint, dict) else REQUIRED
    if missing:
        raise CheckpointError(f"is not a lesson 08 checkpoint (no {', '.join(sorted(missing))})")
    if checkpoint["format"] != FORMAT:
        raise CheckpointError(f"is not a lesson 08 checkpoint (format {checkpoint['format']!r})")
    return checkpoint


def restore(checkpoint: dict, data: dict, device: torch.device):
    """The model, optimizer and shuffler exactly as they were when the checkpoint was saved."""
    try:
        model, optimizer, shuffler = new_run(checkpoint["config"], data, device)
        model.load_state_dict(checkpoint["model_state"])
        optimizer.load_state_dict(checkpoint["optimizer_state"])
        shuffler.set_state(checkpoint["shuffler_state"].cpu())
    except (RuntimeError, LookupError, TypeError, ValueError, AttributeError) as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()] or ["?"]
        detail = lines[1] if len(lines) > 1 else lines[0]  # the first mismatch, if it lists them
        raise CheckpointError(f"does not fit this lesson's model ({detail})") from None
    return model, optimizer, shuffler


def show_saving(data, config: dict, epochs: int, resume: dict | None, path: Path, device):
    console.rule("1. Saving and loading")
    console.print("model.state_dict(): every weight and buffer by name (the mean and std too)")
    table = Table("key", "shape")
    for key, value in DigitClassifier(config["hidden"]).state_dict().items():
        table.add_row(key, str(tuple(value.shape)))
    console.print(table)
    start = time.perf_counter()
    uninterrupted = train(*new_run(config, data, device), data, range(epochs), config["batch_size"])
    if resume is None:  # stop halfway, save, load into brand-new objects, go on
        model, optimizer, shuffler = new_run(config, data, device)
        losses = train(model, optimizer, shuffler, data, range(epochs // 2), config["batch_size"])
        with tempfile.TemporaryDirectory() as scratch:
            halfway = Path(scratch) / "halfway.pt"
            state = checkpoint_of(model, optimizer, shuffler, losses, config, data)
            save(halfway, lambda file: torch.save(state, file))
            resume = read_checkpoint(halfway, device)
        console.print(f"trained {epochs // 2} epochs, saved halfway.pt, loaded it into new objects")
    model, optimizer, shuffler = restore(resume, data, device)
    more = range(resume["epoch"], epochs)
    losses = resume["losses"] + train(model, optimizer, shuffler, data, more, config["batch_size"])
    seconds = time.perf_counter() - start
    curves = Table("run", "loss per epoch", "last loss")
    low, high = min(uninterrupted + losses), max(uninterrupted + losses)
    runs = {"uninterrupted": uninterrupted, f"resumed at {resume['epoch']}": losses}
    for name, curve in runs.items():
        curves.add_row(name, sparkline(curve, low, high, 40), f"{curve[-1]:.4f}")
    console.print(curves)
    gap = max(abs(a - b) for a, b in zip(uninterrupted, losses, strict=False))
    console.print(f"largest difference between the two curves: {gap:.1e}")
    checkpoint = checkpoint_of(model, optimizer, shuffler, losses, config, data)
    save(path, lambda file: torch.save(checkpoint, file))
    console.print(f"saved {path.name} ({path.stat().st_size / 1000:.0f} kB), a checkpoint holding:")
    console.print(f"  {', '.join(checkpoint)}")
    test_accuracy = checkpoint["metrics"]["test_accuracy"]
    console.print(
        f"test accuracy {test_accuracy:.1%} after {len(losses)} epochs (both runs {seconds:.2f} s)"
    )
    with tempfile.TemporaryDirectory() as scratch:  # the other way: pickle the whole object
        torch.save(model, Path(scratch) / "whole_model.pt")
        try:
            torch.load(Path(scratch) / "whole_model.pt", weights_only=True)
        except pickle.UnpicklingError as error:
            needs = re.search(r"GLOBAL ([\w.]+)", str(error))[1].split(".")[-1]  # the class
            console.print(f"torch.save(model) pickles the object: loading needs the class {needs}")
    return model.eval(), seconds


# %% 2. Safe loading
class CraftedPickle:
    """A pickle holds instructions, and one of them is 'call this function with these arguments'.
    This object pickles as open(marker, 'w'): harmless, but it makes a file, so we see if it ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (io.open, (str(self.marker), "w"))  # io.open is open (Jupyter wraps the plain name)


def show_safe_loading(device: torch.device) -> None:
    console.rule("2. Safe loading")
    with tempfile.TemporaryDirectory() as scratch:
        folder, marker = Path(scratch), Path(scratch) / "payload_ran.txt"
        torch.save(CraftedPickle(marker), folder / "crafted.pt")
        (folder / "corrupt.pt").write_bytes((folder / "crafted.pt").read_bytes()[:300])
        (folder / "empty.pt").write_bytes(b"")
        other = {"model_state": nn.Conv2d(1, 16, 3).state_dict(), "config": {"model": "cnn"}}
        torch.save(other, folder / "lesson07_cnn.pt")
        (folder / "a_folder.pt").mkdir()
        table = Table("--resume FILE", "what the lesson says (one line, exit 1)")
        for name in ("crafted.pt", "corrupt.pt", "empty.pt", "lesson07_cnn.pt", "a_folder.pt"):
            try:
                read_checkpoint(folder / name, device)
                table.add_row(name, "loaded")
            except CheckpointError as error:
                table.add_row(name, escape(f"{name} {error}"))
        console.print(table)
        console.print(f"did the crafted pickle's payload run? {marker.exists()} (no {marker.name})")


# %% 3. TorchScript, honestly
def show_torchscript(model: nn.Module, data: dict) -> None:
    console.rule("3. TorchScript, honestly")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # record every warning here instead of printing it
        scripted = torch.jit.script(model)
    for category, message in sorted({(w.category.__name__, str(w.message)) for w in caught}):
        console.print(f"torch.jit.script(model) works, and warns: caught a {category}:")
        console.print(f"  {escape(message)}")
    with torch.inference_mode():
        same = torch.equal(scripted(data["test"][0]), model(data["test"][0]))
    console.print(f"the scripted model gives the same outputs as eager: {same}. What replaces it:")
    table = Table("you wanted", "TorchScript gave you", "today use")
    table.add_row("a file that runs without your class", "torch.jit.save", "torch.export: .pt2")
    table.add_row("faster inference", "the TorchScript JIT", "torch.compile")
    table.add_row("C++ or another runtime", "libtorch loading a .pt", "ONNX, AOTInductor")
    console.print(table)


# %% 4. torch.export
FRESH_PROCESS = """import sys, torch
program = torch.export.load(sys.argv[1])  # this process has never seen DigitClassifier
pixels = torch.load(sys.argv[2], weights_only=True)
torch.save(program.module()(pixels), sys.argv[3])"""


def export_predictor(model: nn.Module, example: torch.Tensor) -> torch.export.ExportedProgram:
    """Pixels (batch, 64) in, probabilities (batch, 10) out, on the CPU: the portable file."""
    predictor = nn.Sequential(copy.deepcopy(model).cpu(), nn.Softmax(dim=1)).eval()
    batch = torch.export.Dim("batch", min=1, max=MAX_EXPORT_BATCH)  # any size in that range
    return torch.export.export(predictor, (example.cpu(),), dynamic_shapes=({0: batch},))


def run_in_fresh_process(path: Path, pixels: torch.Tensor) -> torch.Tensor:
    """The .pt2 loaded and run by a new Python process that imports only torch."""
    with tempfile.TemporaryDirectory() as scratch:
        inputs, outputs = Path(scratch) / "pixels.pt", Path(scratch) / "probabilities.pt"
        torch.save(pixels.cpu(), inputs)
        command = [sys.executable, "-c", FRESH_PROCESS, str(path), str(inputs), str(outputs)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            fail(f"a fresh process could not run {path.name}: {result.stderr.strip()[-300:]}", 1)
        return torch.load(outputs, weights_only=True)


def probabilities(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return nn.functional.softmax(model.eval()(images), dim=1).cpu()  # (N, 10)


def show_export(model, data, path: Path, fresh: bool):
    console.rule("4. torch.export")
    images = data["test"][0]  # (360, 64)
    start = time.perf_counter()
    program = export_predictor(model, images[:8])
    seconds = time.perf_counter() - start
    ops = [str(n.target).split(".")[1] for n in program.graph.nodes if n.op == "call_function"]
    console.print(f"exported in {seconds:.2f} s: a graph of {len(ops)} operations and no Python")
    console.print(f"  pixels (batch, 64) -> {' -> '.join(ops)} -> (batch, 10)")
    console.print(f"  batch is dynamic: any size from 1 to {MAX_EXPORT_BATCH}")
    save(path, lambda file: torch.export.save(program, file))
    # Not its size in kB: the graph records source lines by file path, so the size moves with
    # where the lesson lives on your disk.
    with zipfile.ZipFile(path) as archive:
        tensors = sum("/data/weights/weight_" in name for name in archive.namelist())
    console.print(f"saved {path.name}: a zip of the graph (as JSON) and {tensors} tensors")
    where = "a fresh process that imports only torch" if fresh else "this process (--smoke)"
    if fresh:
        outputs = run_in_fresh_process(path, images)
    else:  # --smoke: a second Python start costs seconds
        outputs = torch.export.load(path).module()(images.cpu())
    gap = (outputs - probabilities(model, images)).abs().max().item()
    console.print(f"loaded and run in {where}: largest difference from eager {gap:.1e}")
    return program, seconds


# %% 5. torch.compile
def per_call(function: Callable, inputs, smoke: bool) -> float:
    """Median seconds per call: torch.utils.benchmark warms up, repeats, and syncs a GPU."""
    from torch.utils import benchmark  # imported here, after main() has quietened its notes

    timer = benchmark.Timer("function(inputs)", globals=locals(), num_threads=1)
    measurement = timer.timeit(20) if smoke else timer.blocked_autorange(min_run_time=0.2)
    return measurement.median


def show_compile(model, data, smoke: bool):
    console.rule("5. torch.compile")
    if smoke:
        console.print("--smoke: backend='eager' (Dynamo captures the graph; no C++ is generated)")
    backend = "eager" if smoke else "inductor"  # inductor writes and compiles C++ (GPU: Triton)
    compiled = torch.inference_mode()(torch.compile(model, backend=backend, dynamic=False))
    images = data["test"][0][:64]
    try:
        start = time.perf_counter()
        compiled(images)  # the first call compiles, for this shape
        first = time.perf_counter() - start
        compiled(images[:1])  # dynamic=False: a new batch size compiles once more
        second = time.perf_counter() - start - first
    except Exception as error:  # noqa: BLE001 - inductor fails in many types; each ends in eager
        if re.search(
            r"InvalidCxxCompiler|compiler not found|No such file|not recognized", str(error)
        ):
            reason = "no working C++ compiler (the guide says how to install one)"
        else:  # e.g. a CppCompileError: the compiler ran, the generated code did not build
            reason = f"it failed here ({type(error).__name__}: {str(error).splitlines()[0][:80]})"
        console.print(
            f"torch.compile is unavailable: {reason}; going on with eager", soft_wrap=True
        )
        return None, 0.0
    eager = torch.inference_mode()(model)
    same = torch.allclose(compiled(images), eager(images), atol=1e-5)
    console.print(f"first call {first:.2f} s (compiles), first call at batch 1 {second:.2f} s")
    eager_time, compiled_time = (per_call(run, images, smoke) for run in (eager, compiled))
    console.print(
        f"then per batch of 64: eager {eager_time * 1e6:.1f} µs, compiled "
        f"{compiled_time * 1e6:.1f} µs; same outputs within 1e-5: {same}"
    )
    return compiled, first + second


# %% 6. ONNX
def show_onnx(program, model, data, path: Path, smoke: bool):
    console.rule("6. ONNX")
    if smoke:  # the exporter first reads ~500 translation functions: seconds, every process
        console.print("--smoke: no conversion (it takes seconds); the default run converts")
        return None, 0.0
    try:  # the exporter translates each operation with onnxscript's library of ONNX functions
        import onnx
        import onnxruntime
        import onnxscript
    except ImportError as error:
        fail(f"section 6 needs {error.name}; `uv run` installs it from this file's header", 1)
    start = time.perf_counter()
    onnx_program = torch.onnx.export(
        program, dynamo=True, verbose=False, input_names=["pixels"], output_names=["probabilities"]
    )
    seconds = time.perf_counter() - start
    onnx.checker.check_model(onnx_program.model_proto)  # a valid ONNX graph, opset and all
    ops = [node.op_type for node in onnx_program.model_proto.graph.node]
    console.print(f"converted in {seconds:.2f} s (onnxscript {onnxscript.__version__})")
    console.print(f"  pixels -> {' -> '.join(ops)} -> probabilities")
    save(path, lambda file: file.write(onnx_program.model_proto.SerializeToString()))
    console.print(f"saved {path.name} ({path.stat().st_size / 1000:.0f} kB)")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # tiny inputs: one thread, like the rest of this lesson
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    images = data["test"][0]
    answers = torch.from_numpy(session.run(None, {"pixels": images.cpu().numpy()})[0])
    expected = probabilities(model, images)
    gap = (answers - expected).abs().max().item()
    same = (answers.argmax(dim=1) == expected.argmax(dim=1)).sum().item()
    console.print(
        f"onnxruntime (CPU): largest difference {gap:.1e}, same digit {same}/{len(images)}"
    )
    return session, seconds


# %% 7. Serving
def validate_images(payload) -> list[list[float]]:
    """The images of a /predict body, or a ValueError that names the first problem."""
    if not isinstance(payload, dict):
        raise ValueError('the body must be a JSON object: {"images": [[64 numbers], ...]}')
    if "images" not in payload:
        raise ValueError('missing field "images"')
    images = payload["images"]
    if not isinstance(images, list) or not 1 <= len(images) <= MAX_BATCH:
        size = f"{len(images)} images" if isinstance(images, list) else "not a list"
        raise ValueError(f'"images" is {size}: send a list of 1 to {MAX_BATCH} images')
    for i, image in enumerate(images):
        if not isinstance(image, list) or len(image) != 64:
            size = f"{len(image)} values" if isinstance(image, list) else "not a list"
            raise ValueError(f"images[{i}] is {size}: an image is 64 numbers (8x8 pixels)")
        for j, value in enumerate(image):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"images[{i}][{j}] is {json.dumps(value)}, not a number")
            if not math.isfinite(value):
                raise ValueError(f"images[{i}][{j}] is {value}, not a finite number")
            if not 0 <= value <= 16:
                raise ValueError(f"images[{i}][{j}] is {value}, outside the pixel range 0-16")
    return images


def make_app(predict: Callable[[torch.Tensor], torch.Tensor]):
    """A FastAPI app around `predict`: pixels (batch, 64) -> probabilities (batch, 10)."""
    from fastapi import FastAPI, HTTPException, Request  # here: --help need not wait for it

    app = FastAPI(title="Lesson 08: handwritten digits")
    too_big = HTTPException(413, f"the body is over {MAX_BODY} bytes (1 MiB)")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/predict")
    async def predict_digits(request: Request) -> dict:
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY:  # refused before it is read
            raise too_big
        body = bytearray()
        async for chunk in request.stream():  # a body sent in chunks has no declared length
            body += chunk
            if len(body) > MAX_BODY:
                raise too_big
        try:
            images = validate_images(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else type(error).__name__
            raise HTTPException(400, f"the body is not valid JSON ({reason})") from None
        except ValueError as error:
            raise HTTPException(422, str(error)) from None
        with torch.inference_mode():  # a tiny model: faster here than in a thread pool
            confidences, digits = predict(torch.tensor(images, dtype=torch.float32)).max(dim=1)
        pairs = zip(digits.tolist(), confidences.tolist(), strict=True)
        return {"predictions": [{"digit": d, "confidence": round(c, 4)} for d, c in pairs]}

    return app


def listening_socket(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return socket.create_server((host, port), family=family)
    except OSError as error:
        fail(f"cannot listen on {host} port {port}: {error.strerror or error}", 1)


@contextlib.contextmanager
def running_server(app, host: str = "127.0.0.1"):
    """Serve `app` from a background thread on a free port; yield its URL; then stop it."""
    import uvicorn

    sock = listening_socket(host, 0)  # port 0: the system picks a free one
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        fail("the service did not start within 30 s", 1)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True  # uvicorn finishes the open requests, then returns
        thread.join(timeout=10)
        sock.close()


def call(url: str, body: bytes | None = None) -> tuple[int, str]:
    """GET (no body) or POST a JSON body with the standard library: (status, answer text)."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:  # 4xx and 5xx arrive as exceptions
        return error.code, error.read().decode()


def bad_requests() -> dict[str, bytes]:
    """One body for each kind of mistake that the service must answer with a 4xx."""
    image = [0] * 64
    bodies = {"malformed JSON": b'{"images": [[0, 1,', "no images field": b'{"pixels": []}'}
    cases = {"empty batch": [], f"{MAX_BATCH + 1} images": [image] * (MAX_BATCH + 1)}
    cases["63 numbers"] = [image[:63]]
    for name, value in (("a string", "7"), ("NaN", math.nan), ("Infinity", math.inf), ("17", 17)):
        cases[name] = [[value] + image[1:]]  # json.dumps writes NaN and Infinity as such
    bodies |= {name: json.dumps({"images": images}).encode() for name, images in cases.items()}
    return bodies


def announce_big_body(url: str) -> tuple[int, str]:
    """POST headers that announce a body of 1 MiB + 1 byte, and send none of it: the service
    must answer from the headers alone. (A client still sending a big body when the 413
    arrives may see only a closed connection: urllib does; curl shows the 413.)"""
    address = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.putrequest("POST", address.path)
    connection.putheader("Content-Length", str(MAX_BODY + 1))
    connection.endheaders()
    with contextlib.closing(connection):
        response = connection.getresponse()
        return response.status, response.read().decode()


def show_serving(program, data, smoke: bool) -> list[float]:
    console.rule("7. Serving")
    digit = json.dumps({"images": load_digits_arrays()[0][:1].reshape(1, 64).tolist()}).encode()
    with running_server(make_app(program.module())) as url:
        console.print("GET /health -> {} {}".format(*call(url + "/health")))
        console.print("POST /predict image 0 -> {} {}".format(*call(url + "/predict", digit)))
        table = Table("bad request", "status", "detail")
        answers = {name: call(url + "/predict", body) for name, body in bad_requests().items()}
        answers["over 1 MiB"] = announce_big_body(url + "/predict")
        for name, (status, answer) in answers.items():
            table.add_row(name, str(status), escape(json.loads(answer)["detail"]))
        console.print(table)
        console.print(f"and afterwards: GET /health -> {call(url + '/health')[0]}")
        one = json.dumps({"images": data["test"][0][:1].int().tolist()}).encode()
        latencies = []
        for _ in range(20 if smoke else 200):  # bounded: a fixed number of requests
            start = time.perf_counter()
            call(url + "/predict", one)
            latencies.append(time.perf_counter() - start)
    return latencies


def serve(args, config: dict, data: dict, epochs: int, device: torch.device) -> None:
    """--serve: the exported program behind HTTP until Ctrl-C or SIGTERM, then exit 0."""
    import uvicorn

    with tempfile.TemporaryDirectory() as scratch:  # --smoke builds here, never in the kit
        checkpoint = Path(scratch) / args.checkpoint.name if args.smoke else args.checkpoint
        path = checkpoint.with_suffix(".pt2")
        if not path.exists():
            console.print(f"no {path.name} yet: building it first (train, save, export)")
            if checkpoint.exists():
                try:
                    model = restore(read_checkpoint(checkpoint, device), data, device)[0]
                except CheckpointError as error:
                    fail(f"{checkpoint} {error}", 1)
            else:
                model, optimizer, shuffler = new_run(config, data, device)
                losses = train(
                    model, optimizer, shuffler, data, range(epochs), config["batch_size"]
                )
                state = checkpoint_of(model, optimizer, shuffler, losses, config, data)
                save(checkpoint, lambda file: torch.save(state, file))
            program = export_predictor(model, data["test"][0][:8])
            save(path, lambda file: torch.export.save(program, file))
        try:
            program = torch.export.load(path)
        except Exception as error:  # noqa: BLE001 - a broken .pt2 fails in many ways
            fail(f"cannot load {path} ({type(error).__name__}); delete it to build a new one", 1)
        sock = listening_socket(args.host, args.port)
        url = f"http://{args.host}:{sock.getsockname()[1]}"
        console.print(f"serving {path.name} at {url}: GET /health, POST /predict")
        console.print("Ctrl-C (or SIGTERM) stops it")
        server = uvicorn.Server(uvicorn.Config(make_app(program.module()), log_level="warning"))
        # uvicorn catches SIGINT and SIGTERM, stops gracefully, then raises the signal again:
        # these handlers take it there, so the lesson ends normally, with exit status 0.
        stopped_by = []
        numbers = (signal.SIGINT, signal.SIGTERM)
        before = {n: signal.signal(n, lambda n, frame: stopped_by.append(n)) for n in numbers}
        try:
            server.run(sockets=[sock])
        finally:
            for number, handler in before.items():  # a notebook's kernel gets its own back
                signal.signal(number, handler)
    name = signal.Signals(stopped_by[0]).name if stopped_by else "done"
    console.print(f"stopped ({name}): shut down cleanly")


# %% 8. Latency
def duration(seconds: float) -> str:
    """'85.90 µs', '2.583 ms': four significant digits in the largest unit that keeps them >= 1,
    so every cell is equally wide and the table keeps its layout from run to run."""
    units = (("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
    unit, scale = next(((unit, scale) for unit, scale in units if seconds >= scale), units[-1])
    return f"{seconds / scale:#.4g} {unit}"


def show_latency(model, compiled, program, session, service, data, device, smoke) -> dict:
    console.rule("8. Latency")
    cpu = torch.device("cpu")
    routes = {"eager PyTorch": (device, torch.inference_mode()(model))}
    if compiled is not None:
        routes["torch.compile" + (" (eager backend)" if smoke else "")] = (device, compiled)
    routes["torch.export (.pt2)"] = (cpu, torch.inference_mode()(program.module()))
    if session is not None:
        routes["onnxruntime"] = (cpu, lambda x: session.run(None, {"pixels": x.numpy()}))
    table = Table("route", "runs on", "batch 1", "batch 64", "per image at 64")
    for name, (where, run) in routes.items():
        images = data["test"][0][:64].to(where)
        one, many = (per_call(run, pixels, smoke) for pixels in (images[:1], images))
        table.add_row(name, where.type, duration(one), duration(many), duration(many / 64))
    median, slow = statistics.median(service), sorted(service)[int(0.9 * len(service))]
    table.add_row("the HTTP service", "cpu", duration(median), "", "")
    console.print(table)
    console.print(
        f"the service, {len(service)} batch-1 requests over loopback: median {duration(median)},"
        f" 90th percentile {duration(slow)}"
    )
    return {"service_median_ms": median * 1e3, "service_p90_ms": slow * 1e3}


# %% main
def port_number(text: str) -> int:
    """--port: 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {text}")
    return value


def only_errors(record: logging.LogRecord) -> bool:
    """torch's notes such as "No CUDA runtime is found" or "torchvision is not installed" are
    about setups this lesson does not use; errors still get through."""
    return record.levelno >= logging.ERROR


def main(argv: list[str]) -> None:
    parser = contract_parser(
        __doc__.split("\n")[0],
        smoke_help=f"a tiny run for tests: {SMOKE_EPOCHS} epochs, torch.compile with its eager "
        "backend (no C++ build), the .pt2 checked in this process, no ONNX conversion, and "
        "every file in a temporary folder",
    )
    add_training_flags(parser, EPOCHS, BATCH_SIZE, LEARNING_RATE, lr_help="AdamW's learning rate")
    parser.add_argument(
        "--checkpoint",
        type=output_file,
        default=str(CHECKPOINT),
        metavar="PATH",
        help="where to save; the .pt2 and .onnx files go beside it",
    )
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="PATH",
        help="continue training a checkpoint (its seed, batch size, rate)",
    )
    parser.add_argument("--serve", action="store_true", help="run the HTTP service, not the tour")
    parser.add_argument("--host", default="127.0.0.1", help="--serve: the address to listen on")
    parser.add_argument("--port", type=port_number, default=8000, help="--serve: 0 = any free one")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    seed_everything(args.seed, device)
    torch.set_num_threads(1)  # tiny tensors: a pool of CPU threads costs more than it saves
    for name in ("torch.utils.cpp_extension", "torch.onnx._internal.exporter._registration"):
        logging.getLogger(name).addFilter(only_errors)
    epochs = min(args.epochs, SMOKE_EPOCHS) if args.smoke else args.epochs
    console.print(f"Lesson 08 - PyTorch {torch.__version__} - device {device} - seed {args.seed}")
    resume = None
    config = {"seed": args.seed, "hidden": HIDDEN, "lr": args.lr, "batch_size": args.batch_size}
    if args.resume:
        try:  # checked in full before any work: a resumed run keeps its own settings
            resume = read_checkpoint(args.resume, device)
            config, epochs = resume["config"], max(epochs, resume["epoch"])
            restore(resume, load_data(config["seed"], device), device)
        except CheckpointError as error:
            fail(f"--resume {args.resume} {error}", 1)
    data = load_data(config["seed"], device)
    if args.serve:
        return serve(args, config, data, epochs, device)
    with tempfile.TemporaryDirectory() as scratch:  # --smoke never replaces a saved file
        path = Path(scratch) / args.checkpoint.name if args.smoke else args.checkpoint
        model, train_seconds = show_saving(data, config, epochs, resume, path, device)
        show_safe_loading(device)
        show_torchscript(model, data)
        program, export_seconds = show_export(model, data, path.with_suffix(".pt2"), not args.smoke)
        compiled, compile_seconds = show_compile(model, data, args.smoke)
        onnx_path = path.with_suffix(".onnx")
        session, onnx_seconds = show_onnx(program, model, data, onnx_path, args.smoke)
        service = show_serving(program, data, args.smoke)
        timings = show_latency(model, compiled, program, session, service, data, device, args.smoke)
    learned = (
        "Save state_dicts, load with weights_only=True, and resume from a full checkpoint.\n"
        "Export a graph (.pt2, ONNX) to ship; compile for speed; check every request you serve."
    )
    console.print(Panel(learned, title="What you just learned"))
    if args.metrics_json:
        metrics = {"test_accuracy": accuracy(model, *data["test"]), "epochs": epochs}
        metrics |= {"train_seconds": train_seconds, "export_seconds": export_seconds}
        metrics |= {"compile_seconds": compile_seconds, "onnx_seconds": onnx_seconds} | timings
        save(args.metrics_json, lambda file: file.write(json.dumps(metrics, indent=2).encode()))


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
