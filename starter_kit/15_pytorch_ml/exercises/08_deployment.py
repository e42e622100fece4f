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
"""Exercises 08 - Deployment: resume, load safely, export, validate requests, save atomically.

Each function below is an exercise: its docstring says what to do, what it gets and what it
must return. Replace its `raise NotImplementedError(...)` line with your code, then run this file.
It checks every exercise and prints a table: passed; failed, with a hint that says what was wrong
and the guide section to reread; or not attempted yet. It exits with status 0 only when all pass.
The checks sit below the exercises: read them if you like, they say exactly what is tested.

Run it:   uv run starter_kit/15_pytorch_ml/exercises/08_deployment.py
One:      uv run starter_kit/15_pytorch_ml/exercises/08_deployment.py --only 2
Solution: starter_kit/15_pytorch_ml/solutions/08_deployment.py
Guide:    learning/08_deployment.md
"""

import argparse
import copy
import errno
import json
import math
import os
import pickle
import random
import sys
import tempfile
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
GUIDE = "learning/08_deployment.md"
MAX_IMAGES = 256  # exercise 4: images per request

# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--only", "2"].
NOTEBOOK_ARGS: list[str] = []


# %% Exercise 1 - Resume from a checkpoint (warm-up)
def load_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer):
    """Resume training: load a checkpoint into a freshly built model and optimizer, so that the
    next training step gives exactly the loss it would have given without the interruption.

    The file is a dict {"epoch": int, "model_state": model.state_dict(), "optimizer_state":
    optimizer.state_dict()}, written by torch.save. Load it with torch.load(path,
    weights_only=True) onto the model's device, then restore both states.
    Input:   path, a pathlib.Path; model and optimizer, new ones of the same kind as those saved.
    Return:  the epoch the checkpoint was saved at, an int (training goes on from there).
    Guide:   learning/08_deployment.md#1-saving-and-loading
    """
    raise NotImplementedError("TODO: restore the model and optimizer, return the epoch")


# %% Exercise 2 - Refuse a crafted pickle
def load_untrusted(path: Path):
    """Load a file that someone else sent you, without ever running code hidden in it.

    A pickle can hold the instruction "call this function with these arguments", and a plain
    torch.load(path, weights_only=False) obeys it. Load with weights_only=True instead. When
    the file is refused (pickle.UnpicklingError), empty or corrupt (EOFError, RuntimeError, and
    for damaged bytes others too: KeyError, struct.error, ...), raise ValueError with a message
    that says why, instead of those errors.
    Input:   path, a pathlib.Path.
    Return:  what the file holds (for a checkpoint, a dict), loaded onto the CPU.
    Guide:   learning/08_deployment.md#2-safe-loading
    """
    raise NotImplementedError("TODO: torch.load with weights_only=True, ValueError if refused")


# %% Exercise 3 - Export for any batch size
def export_for_any_batch(model: nn.Module, example: torch.Tensor):
    """Export a model with torch.export so that the program accepts any batch size from 1 to
    1024, and computes what the model computes in evaluation mode.

    The model may still be in training mode (with dropout on): export what inference needs.
    Input:   model, an nn.Module on the CPU taking (batch, features); example, a CPU tensor of
             shape (4, features) to trace it with.
    Return:  a torch.export.ExportedProgram.
    Guide:   learning/08_deployment.md#4-torchexport
    """
    raise NotImplementedError("TODO: torch.export with a dynamic batch dimension")


# %% Exercise 4 - Validate a predict request
def parse_predict_request(body: bytes):
    """Check the JSON body of a /predict request before it reaches the model, and say
    precisely what is wrong with a bad one.

    A good body is a JSON object {"images": [image, ...]} with 1 to 256 images (MAX_IMAGES);
    an image is a list of 64 numbers from 0 to 16 (8x8 pixels), ints or floats, finite: NaN
    and Infinity, which Python's json module accepts, are not pixels, and neither are true and
    false. Anything else raises ValueError, whose message names where the first problem is:
    '"images"' for the field itself, 'images[2]' for the third image, 'images[2][5]' for its
    sixth value.
    Input:   body, the request's bytes.
    Return:  the images, a list of lists of numbers.
    Guide:   learning/08_deployment.md#7-serving
    """
    raise NotImplementedError("TODO: validate the JSON body, ValueError naming where")


# %% Exercise 5 - Save a checkpoint atomically (stretch)
def save_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int):
    """Save a training checkpoint so that a crash or a full disk halfway through the write
    never leaves a cut-off file at `path`, nor destroys the checkpoint that was there.

    Write the dict {"epoch": epoch, "model_state": model.state_dict(), "optimizer_state":
    optimizer.state_dict()} with torch.save into a temporary file in the same folder as path,
    then os.replace it onto path (a rename: all at once, or not at all). When the write fails,
    delete the temporary file and let the error propagate.
    Input:   path, a pathlib.Path in an existing folder; model; optimizer; epoch, an int.
    Return:  path.
    Guide:   learning/08_deployment.md#1-saving-and-loading
    """
    raise NotImplementedError("TODO: torch.save to a temporary file, then os.replace")


# %% Checks: run_exercises calls these; the solution file has the very same text
def small_model(device: torch.device) -> nn.Module:
    """The model the checks of exercises 1 and 5 train: 4 features in, 3 classes out."""
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).to(device)


def training_losses(model, optimizer, features, labels, steps: int) -> list[float]:
    """Train `steps` full-batch steps; each step's loss (before it)."""
    losses = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(features), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def check_1(device: torch.device) -> None:
    features = torch.randn(32, 4, device=device)
    labels = torch.randint(0, 3, (32,), device=device)
    model = small_model(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05)
    training_losses(model, optimizer, features, labels, 3)
    real_load, calls = torch.load, []

    def load(*args, **kwargs):  # torch.load, recording how it was called
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "epoch3.pt"
        state = {"epoch": 3, "model_state": model.state_dict()}
        torch.save(state | {"optimizer_state": optimizer.state_dict()}, path)
        resumed = small_model(device)  # other starting weights, a fresh optimizer
        resumed_optimizer = torch.optim.AdamW(resumed.parameters(), lr=0.05)
        what = "load_checkpoint(path, new model, new AdamW)"
        torch.load = load
        try:
            epoch = load_checkpoint(path, resumed, resumed_optimizer)
        finally:
            torch.load = real_load
    expect(
        all(call.get("weights_only", True) is not False for call in calls),
        f"{what} called torch.load with weights_only=False: that runs whatever code a crafted "
        "file holds; weights_only=True loads a checkpoint of tensors and plain data",
        section=f"{GUIDE}#2-safe-loading",
    )
    epoch = expect_type(epoch, int, what)
    expect(epoch == 3, f"{what} returned {epoch}: the checkpoint says epoch 3")
    expected = training_losses(model, optimizer, features, labels, 3)
    got = training_losses(resumed, resumed_optimizer, features, labels, 3)
    expect(
        math.isclose(got[0], expected[0], rel_tol=1e-5),
        f"{what}: the next loss is {got[0]:.5f}, expected {expected[0]:.5f}: the weights were "
        "not restored; model.load_state_dict(checkpoint['model_state'])",
    )
    expect(
        np.allclose(got, expected, rtol=1e-5),
        f"{what}: the first loss matches, the next ones do not ({got[1]:.5f}, expected "
        f"{expected[1]:.5f}): the optimizer's state (AdamW's moments) was not restored; "
        "optimizer.load_state_dict(checkpoint['optimizer_state'])",
    )


class CraftedPickle:
    """Pickles as os.mkdir(marker): harmless, but loading it makes a folder, so a check sees
    whether it ran. A real attacker's payload would run any command instead."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def check_2(device: torch.device) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        marker = folder / "the_payload_ran"
        good = {"weights": torch.arange(6.0).reshape(2, 3), "epoch": 7}
        torch.save(good, folder / "good.pt")
        torch.save({"model_state": CraftedPickle(marker)}, folder / "crafted.pt")
        (folder / "empty.pt").write_bytes(b"")
        (folder / "cut_off.pt").write_bytes((folder / "good.pt").read_bytes()[:200])
        what = "load_untrusted(good.pt)"
        loaded = expect_type(load_untrusted(folder / "good.pt"), dict, what)
        expect(
            set(loaded) == set(good) and torch.equal(loaded["weights"], good["weights"]),
            f"{what} returned {sorted(loaded)}, expected the dict saved: {sorted(good)}",
        )
        for name, why in (
            ("crafted.pt", "a pickle that calls os.mkdir"),
            ("empty.pt", "an empty file"),
            ("cut_off.pt", "a file cut off after 200 bytes"),
        ):
            what = f"load_untrusted({name}), {why}"
            try:
                result = load_untrusted(folder / name)
            except ValueError as error:
                expect(str(error) != "", f"{what} raised ValueError(): say why in the message")
                result = error
            except (pickle.UnpicklingError, EOFError, RuntimeError) as error:
                if isinstance(error, NotImplementedError):
                    raise
                raise WrongAnswerError(
                    f"{what} raised {type(error).__name__}: catch it and raise ValueError with "
                    "a message that says why, so a caller has one error to handle"
                ) from None
            expect(
                not marker.exists(),
                f"{what}: the payload ran, it made the folder {marker.name}: torch.load with "
                "weights_only=False runs what a pickle says; use weights_only=True",
            )
            expect(
                isinstance(result, ValueError),
                f"{what} returned {type(result).__name__}, raised nothing: raise ValueError",
            )


def check_3(device: torch.device) -> None:
    # torch.export makes a portable program on the CPU; exporting takes a second or two, once.
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10))
    reference = copy.deepcopy(model).eval()
    model.train()  # as a training loop leaves it
    what = "export_for_any_batch(model, example of shape (4, 64))"
    program = export_for_any_batch(model, torch.randn(4, 64))
    program = expect_type(program, torch.export.ExportedProgram, what)
    for batch in (1, 7):
        pixels = torch.randn(batch, 64)
        try:
            with torch.no_grad():
                first, second = program.module()(pixels), program.module()(pixels)
        except Exception as error:  # a failed guard: AssertionError or RuntimeError
            if isinstance(error, NotImplementedError):
                raise
            raise WrongAnswerError(
                f"{what}: the program refused a batch of {batch} ({describe_error(error)}): "
                "the batch size was fixed when exported; pass dynamic_shapes=({0: "
                "torch.export.Dim('batch', min=1, max=1024)},)"
            ) from None
        expect_tensor(first, f"{what} run on a batch of {batch}", shape=(batch, 10))
        expect(
            torch.equal(first, second),
            f"{what} gives other outputs each time for one batch: dropout was exported on; "
            "call model.eval() before torch.export.export",
        )
        with torch.no_grad():
            expected = reference(pixels)
        expect_close(first, expected, f"{what}, against eager, batch {batch}", atol=1e-5)


def check_4(device: torch.device) -> None:
    def body(images) -> bytes:
        return json.dumps({"images": images}).encode()

    def image(at: int = 0, value=1.0) -> list:
        pixels = [float(k % 17) for k in range(64)]
        pixels[at] = value
        return pixels

    good = [image(), [0] * 64, [16] * 64]
    what = "parse_predict_request(3 good images)"
    images = expect_type(parse_predict_request(body(good)), list, what)
    expect(images == good, f"{what} returned other images than it was sent")
    bad = [  # (body, why it is bad, where the message must point, a hint for the mistake)
        (b"[1, 2]", "a JSON list, not an object", '"images"', "check isinstance(payload, dict)"),
        (b'{"pixels": []}', "no field images", '"images"', "check 'images' in payload first"),
        (body([]), "no images", '"images"', "1 to 256 images"),
        (body([[1] * 64] * 257), "257 images", '"images"', "1 to 256 images"),
        (body([image(), image()[:63]]), "63 values", "images[1]", "check len(image) == 64"),
        (body([image(), image(), "7"]), "an image that is a string", "images[2]", "a list"),
        (body([image(5, 17)]), "a 17", "images[0][5]", "0 to 16"),
        (body([image(10, -0.5)]), "a -0.5", "images[0][10]", "0 to 16"),
        (body([image(), image(3, True)]), "a true", "images[1][3]", "true is a bool"),
        (body([image(2, "5")]), 'a "5"', "images[0][2]", "check the type before comparing"),
        (body([image(), image(3, math.nan)]), "a NaN", "images[1][3]", "math.isfinite"),
        (body([image(9, math.inf)]), "an Infinity", "images[0][9]", "math.isfinite"),
    ]
    for request, why, where, mistake in bad:
        what = f"parse_predict_request(a body with {why})"
        hints = {
            "true is a bool": "true is a bool, and Python's bool is an int (True == 1): check "
            "isinstance(value, bool) first",
            "math.isfinite": "every comparison with NaN is False, so `value < 0 or value > 16` "
            "lets it through: check math.isfinite(value)",
        }
        try:
            result = parse_predict_request(request)
        except ValueError as error:
            expect(
                where in str(error),
                f"{what} raised ValueError({str(error)!r}): the message must name where the "
                f"problem is, {where}",
            )
            continue
        except (TypeError, KeyError, AttributeError, IndexError) as error:
            if isinstance(error, NotImplementedError):
                raise
            raise WrongAnswerError(
                f"{what} raised {type(error).__name__} ({describe_error(error)}): "
                f"{hints.get(mistake, mistake)} and raise ValueError naming {where}"
            ) from None
        raise WrongAnswerError(
            f"{what} was accepted ({type(result).__name__}): {hints.get(mistake, mistake)}; "
            f"raise ValueError naming {where}"
        )


def check_5(device: torch.device) -> None:
    features = torch.randn(16, 4, device=device)
    labels = torch.randint(0, 3, (16,), device=device)
    model = small_model(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05)
    training_losses(model, optimizer, features, labels, 2)
    real_save, targets, fail_writes = torch.save, [], [False]

    def save(obj, f, *args, **kwargs):  # torch.save, recording where it writes; or a full disk
        name = f if isinstance(f, str | os.PathLike) else getattr(f, "name", None)  # BytesIO: none
        targets.append(Path(name) if isinstance(name, str | os.PathLike) else None)
        if not fail_writes[0]:
            return real_save(obj, f, *args, **kwargs)
        if hasattr(f, "write"):
            f.write(b"PK\x03\x04 half a checkpoint")
        else:
            Path(f).write_bytes(b"PK\x03\x04 half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        path = folder / "run.pt"
        what = "save_checkpoint(path, model, optimizer, epoch=2)"
        torch.save = save
        try:
            result = save_checkpoint(path, model, optimizer, 2)
        finally:
            torch.save = real_save
        expect_type(result, (Path, str), what)
        expect(Path(result) == path, f"{what} returned {result}, expected the path it saved")
        writes = [target for target in targets if target is not None]
        expect(
            not any(target.resolve() == path.resolve() for target in writes),
            f"{what}: torch.save wrote straight into path, so a crash halfway leaves a cut-off "
            "checkpoint there; write a temporary file in the same folder, then os.replace it",
        )
        expect(
            all(target.resolve().parent == folder.resolve() for target in writes),
            f"{what} wrote its temporary file to {writes[0].parent if writes else '?'}: make it "
            "in path's own folder; os.replace cannot move a file to another file system",
        )
        left = sorted(p.name for p in folder.iterdir())
        expect(path.exists(), f"{what} left no {path.name} in its folder, only {left}")
        expect(left == ["run.pt"], f"{what} left {left} in the folder: only run.pt may remain")
        try:
            saved = torch.load(path, map_location=device, weights_only=True)
        except pickle.UnpicklingError:
            raise WrongAnswerError(
                f"{what}: torch.load(weights_only=True) refuses the file: save "
                "model.state_dict() and optimizer.state_dict(), not the objects themselves"
            ) from None
        saved = expect_type(saved, dict, f"{what}: the file's contents")
        missing = {"epoch", "model_state", "optimizer_state"} - set(saved)
        expect(not missing, f"{what}: the saved dict lacks {sorted(missing)}")
        expect(saved["epoch"] == 2, f"{what}: the file says epoch {saved['epoch']!r}, not 2")
        for name, tensor in model.state_dict().items():
            expect(
                name in saved["model_state"] and torch.equal(saved["model_state"][name], tensor),
                f"{what}: model_state[{name!r}] is not the model's",
            )
        expect(
            saved["optimizer_state"].get("state"),
            f"{what}: optimizer_state holds no moments: save optimizer.state_dict()",
        )
        # Now the disk is full halfway through the next save: the last checkpoint must survive.
        before = path.read_bytes()
        what = "save_checkpoint(path, ..., epoch=3) on a disk that fills up halfway"
        fail_writes[0], targets[:] = True, []
        torch.save = save
        try:
            save_checkpoint(path, model, optimizer, 3)
        except OSError:
            pass
        else:
            raise WrongAnswerError(f"{what} returned as if it had saved: let the OSError through")
        finally:
            torch.save = real_save
        expect(
            path.read_bytes() == before,
            f"{what} destroyed the epoch-2 checkpoint: write to a temporary file, and replace "
            "path only when the write is complete",
        )
        left = sorted(p.name for p in folder.iterdir())
        expect(
            left == ["run.pt"],
            f"{what} left {left}: delete the temporary file when the write fails (try/except, "
            "then raise)",
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
    Exercise("Resume from a checkpoint", f"{GUIDE}#1-saving-and-loading", check_1),
    Exercise("Refuse a crafted pickle", f"{GUIDE}#2-safe-loading", check_2),
    Exercise("Export for any batch size", f"{GUIDE}#4-torchexport", check_3),
    Exercise("Validate a predict request", f"{GUIDE}#7-serving", check_4),
    Exercise("Save a checkpoint atomically", f"{GUIDE}#1-saving-and-loading", check_5),
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
        f"Exercises 08 - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )
    run_exercises(EXERCISES, device, args.seed, args.only)


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
