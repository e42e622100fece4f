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
"""Exercises 09 - Distributed training: batch sizes, devices, shards and averaged gradients.

Each function below is an exercise: its docstring says what to do, what it gets and what it
must return. Replace its `raise NotImplementedError(...)` line with your code, then run this file.
It checks every exercise and prints a table: passed; failed, with a hint that says what was wrong
and the guide section to reread; or not attempted yet. It exits with status 0 only when all pass.
The checks sit below the exercises: read them if you like, they say exactly what is tested.

The checks need no launcher: each starts a process group of one process (gloo, a FileStore in a
temporary folder) and destroys it again, and stands in for the ranks that are not there.

Run it:   uv run starter_kit/15_pytorch_ml/exercises/09_distributed_training.py
One:      uv run starter_kit/15_pytorch_ml/exercises/09_distributed_training.py --only 2
Solution: starter_kit/15_pytorch_ml/solutions/09_distributed_training.py
Guide:    learning/09_distributed_training.md
"""

import argparse
import datetime
import math
import os
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
import torch.distributed as dist
from rich.console import Console
from rich.table import Table
from rich.text import Text
from torch import nn
from torch.utils.data import DistributedSampler

# %% Config
GUIDE = "learning/09_distributed_training.md"

# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--only", "2"].
NOTEBOOK_ARGS: list[str] = []


# %% Exercise 1 - Global batch and learning rate (warm-up)
def global_batch_and_lr(per_process: int, world_size: int, base_lr: float, base_batch: int):
    """The global batch of a job and the learning rate to train it with.

    Each of world_size processes takes per_process samples per step. A learning rate of base_lr
    worked for batches of base_batch samples; the linear scaling rule keeps lr / batch fixed:
    lr = base_lr * global_batch / base_batch.
    Input:   per_process, world_size and base_batch, positive ints; base_lr, a float.
    Return:  a tuple (global_batch, lr): an int and a float.
    Example: global_batch_and_lr(64, 4, 0.1, 128) == (256, 0.2)
    Guide:   learning/09_distributed_training.md#3-training-with-ddp
    """
    raise NotImplementedError("TODO: the global batch and its learning rate")


# %% Exercise 2 - Device and backend by local rank
def device_and_backend(use_accelerator: bool):
    """The device and the communication backend of one process that torchrun started.

    Use torch.accelerator to find this machine's accelerator (never "cuda" literally). With
    use_accelerator and an accelerator present, take the one with this process's LOCAL_RANK
    (an environment variable torchrun sets; 0 when it is missing), make it the current device
    with torch.accelerator.set_device_index, and pick its backend: "nccl" for cuda, "xccl" for
    xpu. Otherwise: the CPU and "gloo". An accelerator with no backend (mps): ValueError.
    Input:   use_accelerator, a bool (False: the CPU even on a machine with a GPU).
    Return:  a tuple (torch.device, backend name).
    Example: with LOCAL_RANK=1 on a machine with 2 CUDA GPUs: (device("cuda:1"), "nccl")
    Guide:   learning/09_distributed_training.md#2-launching
    """
    raise NotImplementedError("TODO: the device by LOCAL_RANK and its backend")


# %% Exercise 3 - Shard a data set like DistributedSampler
def shard_indices(num_samples: int, rank: int, world_size: int):
    """The indices of the samples that one rank trains on, as DistributedSampler(dataset,
    world_size, rank, shuffle=False) hands them out, written without it.

    Every world_size-th index, starting at rank: rank r gets r, r + W, r + 2W, ... When
    num_samples does not divide evenly, first pad the list 0, 1, ..., num_samples - 1 by
    repeating its first indices until its length is a multiple of world_size, so that every
    rank gets the same number of samples.
    Input:   num_samples, rank and world_size, ints with 0 <= rank < world_size.
    Return:  a list of ints.
    Example: shard_indices(9, 1, 2) == [1, 3, 5, 7, 0]
    Guide:   learning/09_distributed_training.md#3-training-with-ddp
    """
    raise NotImplementedError("TODO: every world_size-th index from rank, padded")


# %% Exercise 4 - Average the gradients (stretch)
def average_gradients(model: nn.Module):
    """DDP's rule, by hand: after backward(), replace every parameter's gradient with its
    average over all the ranks of the process group.

    Sum each gradient over the ranks with dist.all_reduce (in place), then divide it by the
    world size (dist.get_world_size()). Leave the weights themselves alone.
    Input:   model, an nn.Module whose parameters all have a .grad, inside an initialised
             process group.
    Return:  the list of the averaged gradients, in the order of model.parameters().
    Guide:   learning/09_distributed_training.md#1-processes-ranks-and-world-size
    """
    raise NotImplementedError("TODO: all_reduce every gradient, then divide")


# %% Checks: run_exercises calls these; the solution file has the very same text
def check_1(device: torch.device) -> None:
    cases = [
        (64, 4, 0.1, 128, 256, 0.2),
        (32, 2, 0.05, 64, 64, 0.05),
        (16, 8, 0.01, 32, 128, 0.04),
    ]
    for per_process, world_size, base_lr, base_batch, global_batch, lr in cases:
        what = f"global_batch_and_lr({per_process}, {world_size}, {base_lr}, {base_batch})"
        result = expect_type(
            global_batch_and_lr(per_process, world_size, base_lr, base_batch), (tuple, list), what
        )
        expect(len(result) == 2, f"{what} returned {len(result)} values, expected 2: (batch, lr)")
        got_batch, got_lr = result
        expect(
            isinstance(got_batch, int) and not isinstance(got_batch, bool),
            f"{what}: the global batch must be an int, got {got_batch!r}: samples come whole",
        )
        expect(
            got_batch != per_process,
            f"{what}: the global batch is {got_batch}, one process's share: one step learns "
            f"from all {world_size} processes' samples, {per_process} x {world_size}",
        )
        expect(
            got_batch == global_batch,
            f"{what}: the global batch is {got_batch}, expected {per_process} x {world_size} = "
            f"{global_batch}",
        )
        got_lr = expect_type(got_lr, (float, int), f"{what}: lr")
        expect(
            not math.isclose(got_lr, base_lr * world_size)
            or math.isclose(lr, base_lr * world_size),
            f"{what}: lr {got_lr:g} is base_lr x world_size; scale by global_batch / base_batch "
            f"= {global_batch} / {base_batch}, which differs when a process takes {per_process} "
            f"samples, not {base_batch}",
        )
        expect(
            not math.isclose(got_lr, base_lr / world_size),
            f"{what}: lr {got_lr:g} is base_lr / world_size: a bigger batch has a less noisy "
            "gradient, so the linear scaling rule takes a bigger step, not a smaller one",
        )
        expect_close(got_lr, lr, f"{what}: lr = base_lr * global_batch / base_batch", rtol=1e-9)


def check_2(device: torch.device) -> None:
    # The check plays torchrun (it sets RANK and LOCAL_RANK) and the machine: it replaces
    # torch.accelerator's answers with those of a machine with 4 CUDA GPUs, then of one with
    # Intel GPUs, Apple's MPS and none, and records set_device_index. All is put back after.
    names = ("current_accelerator", "is_available", "device_count", "set_device_index")
    saved_functions = {name: getattr(torch.accelerator, name) for name in names}
    saved_environment = {name: os.environ.get(name) for name in ("RANK", "LOCAL_RANK")}
    chosen: list[int] = []

    def pretend(kind: str | None) -> None:
        torch.accelerator.current_accelerator = lambda check_available=False: (
            None if kind is None else torch.device(kind)
        )
        torch.accelerator.is_available = lambda: kind is not None
        torch.accelerator.device_count = lambda: 0 if kind is None else 4
        torch.accelerator.set_device_index = chosen.append

    cases = [  # (accelerator, use_accelerator, RANK, LOCAL_RANK, expected device, backend)
        ("cuda", True, "6", "2", "cuda:2", "nccl"),
        ("xpu", True, "1", "1", "xpu:1", "xccl"),
        (None, True, "3", "3", "cpu", "gloo"),
        ("cuda", False, "0", "0", "cpu", "gloo"),
        ("cuda", True, None, None, "cuda:0", "nccl"),
    ]
    try:
        for kind, use_accelerator, rank, local_rank, expected, backend in cases:
            pretend(kind)
            for name, value in (("RANK", rank), ("LOCAL_RANK", local_rank)):
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            chosen.clear()
            machine = f"a machine with 4 {kind} devices" if kind else "a machine without GPUs"
            ranks = f"RANK={rank}, LOCAL_RANK={local_rank}" if rank else "no LOCAL_RANK set"
            what = f"device_and_backend({use_accelerator}) on {machine}, {ranks}"
            result = expect_type(device_and_backend(use_accelerator), (tuple, list), what)
            expect(len(result) == 2, f"{what} returned {len(result)} values: (device, backend)")
            got_device, got_backend = result
            got_device = expect_type(got_device, (torch.device, str), f"{what}: the device")
            got_device = torch.device(got_device)
            if kind is not None and use_accelerator and got_device.type == "cpu":
                raise WrongAnswerError(
                    f"{what} gave the CPU: find the accelerator with "
                    "torch.accelerator.current_accelerator(), not torch.cuda"
                )
            expect(
                not (rank == "6" and str(got_device) == "cuda:6"),
                f"{what} gave cuda:6: RANK counts the processes of the whole job; the device "
                "of a process is its rank on this machine, LOCAL_RANK",
            )
            expect(
                not (kind == "xpu" and got_device.type == "cuda"),
                f"{what} gave {got_device}: take the type from the accelerator found, never "
                "'cuda' literally",
            )
            expect(
                str(got_device) == expected,
                f"{what}: expected the device {expected}, got {got_device}",
            )
            expect(
                got_backend == backend,
                f"{what}: expected the backend {backend!r} for {expected}, got {got_backend!r} "
                "(gloo for the CPU, nccl for cuda, xccl for xpu)",
            )
            if expected == "cpu":
                expect(not chosen, f"{what} called set_device_index: the CPU has no device index")
            else:
                expect(
                    chosen == [got_device.index],
                    f"{what} did not make {expected} the current device: call "
                    f"torch.accelerator.set_device_index({got_device.index}), so that every "
                    "later allocation and NCCL's communicator use it",
                )
        pretend("mps")
        what = "device_and_backend(True) on a Mac (mps)"
        try:
            result = device_and_backend(True)
        except ValueError:
            return
        raise WrongAnswerError(
            f"{what} returned {result!r}: MPS has no distributed backend; raise ValueError"
        )
    finally:
        for name, function in saved_functions.items():
            setattr(torch.accelerator, name, function)
        for name, value in saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def check_3(device: torch.device) -> None:
    cases = [(10, 0, 2), (10, 1, 2), (9, 1, 2), (10, 2, 3), (7, 3, 4), (3, 4, 5), (1, 0, 1)]
    for num_samples, rank, world_size in cases:
        what = f"shard_indices({num_samples}, rank={rank}, world_size={world_size})"
        shard = expect_type(shard_indices(num_samples, rank, world_size), list, what)
        expected = list(DistributedSampler(range(num_samples), world_size, rank, shuffle=False))
        expect(
            all(isinstance(i, int) and not isinstance(i, bool) for i in shard),
            f"{what} = {shard}: expected a list of ints",
        )
        block = math.ceil(num_samples / world_size)
        expect(
            shard != list(range(num_samples))[rank * block : (rank + 1) * block]
            or shard == expected,
            f"{what} = {shard}, a contiguous block: DistributedSampler interleaves, rank r "
            f"takes r, r + {world_size}, r + {2 * world_size}, ... (expected {expected})",
        )
        expect(
            len(shard) == len(expected),
            f"{what} has {len(shard)} indices, expected {len(expected)}: pad the indices to a "
            f"multiple of {world_size} ({len(expected) * world_size}) by repeating the first "
            "ones, so that every rank takes as many steps as the others",
        )
        expect(
            shard == expected,
            f"{what} = {shard}, expected {expected}: pad with the FIRST indices (0, 1, ...), "
            "then take every world_size-th one from position rank",
        )


def check_4(device: torch.device) -> None:
    # gloo moves CPU tensors: this check runs on the CPU whatever the device. A real world of 2
    # needs a second process (seconds to start), so the check starts a group of one and stands
    # in for rank 1: dist.get_world_size() says 2, and dist.all_reduce adds the gradients that
    # rank 1 would hold, from the other half of the batch. All is put back afterwards.
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    features, labels = torch.randn(16, 6), torch.randint(0, 3, (16,))

    def gradients_of(rows: slice) -> list[torch.Tensor]:
        model.zero_grad()
        nn.functional.cross_entropy(model(features[rows]), labels[rows]).backward()
        return [parameter.grad.clone() for parameter in model.parameters()]

    rank1, whole = gradients_of(slice(8, 16)), gradients_of(slice(0, 16))
    own = gradients_of(slice(0, 8))  # rank 0's half: the .grad average_gradients starts with
    weights = [parameter.detach().clone() for parameter in model.parameters()]
    parameters = list(model.parameters())
    flat_rank1 = torch.cat([gradient.flatten() for gradient in rank1])
    real_all_reduce, real_world_size = dist.all_reduce, dist.get_world_size
    calls: list[str] = []

    def all_reduce(tensor, op=dist.ReduceOp.SUM, group=None, async_op=False):
        work = real_all_reduce(tensor, op=op, group=group, async_op=async_op)
        if async_op:
            work.wait()
        matches = [
            i
            for i, p in enumerate(parameters)
            if tensor.data_ptr() == p.grad.data_ptr() and tensor.shape == p.grad.shape
        ]
        if matches:  # one parameter's gradient
            other = rank1[matches[0]]
        elif tensor.numel() == flat_rank1.numel():  # all gradients in one flat buffer
            other = flat_rank1.view_as(tensor)
        else:
            raise WrongAnswerError(
                f"all_reduce got a tensor of shape {tuple(tensor.shape)} that is no gradient: "
                "all-reduce each parameter's .grad in place"
            )
        if op == dist.ReduceOp.AVG:
            tensor.add_(other).div_(2)
        elif op == dist.ReduceOp.SUM:
            tensor.add_(other)
        else:
            raise WrongAnswerError(f"all_reduce with {op}: sum with ReduceOp.SUM, then divide")
        calls.append("avg" if op == dist.ReduceOp.AVG else "sum")
        return work if async_op else None

    what = "average_gradients(model) in a world of 2"
    with tempfile.TemporaryDirectory() as scratch:
        store = dist.FileStore(str(Path(scratch) / "store"), 1)
        dist.init_process_group(
            "gloo", store=store, rank=0, world_size=1, timeout=datetime.timedelta(seconds=30)
        )
        try:
            dist.all_reduce, dist.get_world_size = all_reduce, lambda group=None: 2
            result = average_gradients(model)
        finally:
            dist.all_reduce, dist.get_world_size = real_all_reduce, real_world_size
            dist.destroy_process_group()
    result = expect_type(result, (list, tuple), what)
    expect(
        len(result) == len(parameters),
        f"{what} returned {len(result)} gradients; the model has {len(parameters)} parameters",
    )
    for parameter, weight in zip(parameters, weights, strict=True):
        expect(
            torch.equal(parameter.detach(), weight),
            f"{what} changed the weights: all-reduce the gradients (parameter.grad), not the "
            "parameters",
        )
    expect(calls, f"{what} never called dist.all_reduce: each rank still has its own gradient")
    for i, (gradient, mine, total) in enumerate(zip(result, own, whole, strict=True)):
        gradient = expect_tensor(gradient, f"{what}[{i}]", shape=mine.shape)
        expect(
            gradient is parameters[i].grad or torch.equal(gradient, parameters[i].grad),
            f"{what}[{i}] is not the parameter's .grad: average the .grad tensors in place",
        )
        expect(
            not torch.allclose(gradient, mine + rank1[i], atol=1e-7),
            f"{what}: gradient {i} is the SUM over the 2 ranks: divide it by the world size "
            "(dist.get_world_size()) after all_reduce",
        )
        expect(
            not torch.allclose(gradient, total / 2, atol=1e-7),
            f"{what}: gradient {i} is half the average: divided twice? ReduceOp.AVG already "
            "divides",
        )
        expect_close(gradient, total, f"{what}: gradient {i}, against the whole batch's", 1e-5)


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
    Exercise("Global batch and learning rate", f"{GUIDE}#3-training-with-ddp", check_1),
    Exercise("Device and backend by local rank", f"{GUIDE}#2-launching", check_2),
    Exercise("Shard a data set like DistributedSampler", f"{GUIDE}#3-training-with-ddp", check_3),
    Exercise("Average the gradients", f"{GUIDE}#1-processes-ranks-and-world-size", check_4),
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
        f"Exercises 09 - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )
    run_exercises(EXERCISES, device, args.seed, args.only)


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
