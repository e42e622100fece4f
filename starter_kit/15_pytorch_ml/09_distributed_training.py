# /// script
# requires-python = ">=3.11"
# dependencies = [
#     "torch>=2.15",
#     "numpy>=2.0",
#     "rich>=14",
#     "scikit-learn>=1.5",
# ]
#
# [tool.uv]
# exclude-newer = "2026-11-01T00:00:00Z"
# ///
"""Lesson 09 - Distributed data-parallel training: several processes train one model together.

The script starts itself N times through torchrun (`--nproc`, 2 on the CPU). The processes talk
with collectives (all_reduce, broadcast, all_gather), train an MLP on real handwritten digits with
DistributedDataParallel and a DistributedSampler, prove that they end with the weights one process
would have reached on the same batches, time 1 against N processes, and show that one crashing
process (`--crash-rank 1`) ends the whole job at once, never a hang.

Run it:   uv run starter_kit/15_pytorch_ml/09_distributed_training.py
Crash it: uv run starter_kit/15_pytorch_ml/09_distributed_training.py --crash-rank 1
Guide:    learning/09_distributed_training.md
"""

import argparse
import copy
import datetime
import importlib.util
import json
import math
import os
import random
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NoReturn

import numpy as np
import torch
import torch.distributed as dist
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

# %% Config
EPOCHS, SMOKE_EPOCHS = 10, 2
BATCH_SIZE = 128  # the GLOBAL batch: each of N processes takes BATCH_SIZE / N samples per step
LEARNING_RATE = 0.05  # SGD with momentum 0.9
HIDDEN = 512  # two hidden layers of 512: enough arithmetic per step to be worth splitting
TEST_FRACTION = 0.2
TOLERANCE = 1e-4  # float32 sums taken in another order differ in the last digits, not more
TIMEOUT = datetime.timedelta(seconds=60)  # a collective that waits longer fails instead of hanging
BACKENDS = {"cpu": "gloo", "cuda": "nccl", "xpu": "xccl"}  # the communication library per device
# Flags for a notebook run (VS Code / Jupyter run every cell; the kernel's own command line is
# never read): e.g. ["--device", "cpu", "--smoke"]. The processes it starts get these as flags.
NOTEBOOK_ARGS: list[str] = []
# A notebook kernel has no __file__; it starts in the lesson's own folder.
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
SCRIPT = HERE / "09_distributed_training.py"  # what torchrun starts N times
CHECKPOINT = HERE / "checkpoints" / "09_ddp_mlp.pt"
RANK0_OUTPUT = "LESSON_09_RANK0_OUTPUT"  # set by launch(): the file rank 0 prints into


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


def load_data(seed: int) -> tuple[TensorDataset, TensorDataset]:
    """Train and test sets of (64 standardised pixels, label); every process builds the same."""
    pixels, labels = (torch.from_numpy(array) for array in load_digits_arrays())
    images, labels = pixels.reshape(-1, 64).float(), labels.long()  # (1797, 64), (1797,)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    num_test = round(TEST_FRACTION * len(labels))
    test, train = order[:num_test], order[num_test:]
    images = (images - images[train].mean()) / images[train].std()  # train statistics only
    return TensorDataset(images[train], labels[train]), TensorDataset(images[test], labels[test])


def make_model() -> nn.Sequential:  # no dropout: nothing random happens inside a step
    return nn.Sequential(
        nn.Linear(64, HIDDEN), nn.ReLU(),  # (batch, HIDDEN)
        nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),  # (batch, HIDDEN)
        nn.Linear(HIDDEN, 10),  # (batch, 10): a score per digit
    )  # fmt: skip


# %% 1. Processes, ranks and world size
def show_collectives(rank: int, world_size: int, device: torch.device) -> None:
    console.rule("1. Processes, ranks and world size")
    console.print(f"{world_size} processes run this file, each with a rank: 0 to {world_size - 1}")
    total = torch.tensor([rank + 1.0], device=device)  # rank r holds r + 1
    dist.all_reduce(total, op=dist.ReduceOp.SUM)  # in place: every rank ends with the sum
    console.print(f"all_reduce(SUM) of rank + 1: every rank now holds {total.item():g}")
    shared = torch.tensor([7.0, 8.0, 9.0], device=device) * (rank == 0)  # zeros off rank 0
    dist.broadcast(shared, src=0)  # rank 0's values overwrite everyone else's
    console.print(f"broadcast from rank 0: every rank now holds {shared.tolist()}")
    pieces = [torch.zeros(2, device=device) for _ in range(world_size)]
    dist.all_gather(pieces, torch.tensor([10.0 * rank, 10.0 * rank + 1], device=device))
    console.print(f"all_gather of [10 * rank, 10 * rank + 1]: {[p.tolist() for p in pieces]}")
    gradient = torch.tensor([float(rank)], device=device)  # as if each rank saw other data
    dist.all_reduce(gradient)
    gradient /= world_size  # DDP's rule: sum, then divide by the world size = the average
    console.print(f"DDP's rule, all_reduce(rank) / {world_size}: {gradient.item():g} on every rank")


# %% 2. Launching
def show_launching(args, world_size: int, backend: str) -> None:
    console.rule("2. Launching")
    names = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR"]
    everyone: list[dict] = [{}] * world_size  # all_gather_object: any picklable object
    dist.all_gather_object(everyone, {name: os.environ.get(name, "") for name in names})
    table = Table("variable", *[f"rank {r}" for r in range(world_size)], title="set by torchrun")
    for name in names:
        table.add_row(name, *[env[name] for env in everyone])
    console.print(table)
    console.print(f"backend {backend}; a collective that waits over {TIMEOUT.seconds} s fails")
    flags = f"--device {args.device}" + " --smoke" * args.smoke
    console.print("the same job, started by hand in the kit's root folder:")
    console.print(f"  uv run torchrun --nproc-per-node {world_size} \\", highlight=False)
    console.print(f"    starter_kit/15_pytorch_ml/{SCRIPT.name} {flags}", highlight=False)


# %% 3. Training with DDP
def run_epoch(model, optimizer, loader, device, crash: str | None = None) -> tuple[float, float]:
    """One pass over `loader`: (the mean loss of this process, seconds)."""
    loss_sum, count, start = torch.zeros((), device=device), 0, time.perf_counter()
    for step, (images, labels) in enumerate(loader):  # (batch, 64), (batch,)
        if crash and step == len(loader) // 2:
            fail(crash)  # --crash-rank: this process stops halfway through the epoch
        images, labels = images.to(device), labels.to(device)
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()  # with DDP, the gradients are all-reduced here, bucket by bucket
        optimizer.step()  # the same averaged gradient on every rank: the replicas stay equal
        loss_sum, count = loss_sum + loss.detach() * len(labels), count + len(labels)
    if device.type != "cpu":
        torch.accelerator.synchronize()  # an accelerator runs ahead of Python: wait for it
    return loss_sum / count, time.perf_counter() - start


def accuracy(model: nn.Module, test_set, rank: int, world_size: int, device) -> float:
    """Each rank scores every world_size-th test image; all_reduce adds up the counts."""
    images, labels = (tensor[rank::world_size].to(device) for tensor in test_set.tensors)
    with torch.inference_mode():
        correct = (model(images).argmax(dim=1) == labels).sum().float()
    counts = torch.stack([correct, torch.tensor(float(len(labels)), device=device)])
    dist.all_reduce(counts)  # (2,): right answers and test images, over all ranks
    return (counts[0] / counts[1]).item()


def train_ddp(model, data, args, epochs, rank, world_size, device) -> tuple[list[float], float]:
    """Train with DDP; return each epoch's seconds and the final test accuracy."""
    console.rule("3. Training with DDP")
    (train_set, test_set), per_process = data, args.batch_size // world_size
    sampler = DistributedSampler(train_set, world_size, rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train_set, batch_size=per_process, sampler=sampler)
    console.print(f"global batch {args.batch_size} = {world_size} processes x {per_process}")
    console.print(f"each rank trains on {len(sampler)} of the {len(train_set)} images per epoch")
    device_ids = None if device.type == "cpu" else [device]  # the one device this rank uses
    ddp_model = DistributedDataParallel(model, device_ids=device_ids)
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=args.lr, momentum=0.9)
    seconds, test_accuracy = [], 0.0
    for epoch in range(1, epochs + 1):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same one on every rank
        crash = f"rank {rank} crashed on purpose (--crash-rank {rank}) in epoch 1"
        crash = crash if epoch == 1 and rank == args.crash_rank else None
        loss, epoch_seconds = run_epoch(ddp_model, optimizer, loader, device, crash)
        seconds.append(epoch_seconds)
        dist.all_reduce(loss)  # the sum of the ranks' means ...
        loss = loss.item() / world_size  # ... over their number: the same on every rank
        stop_if_diverged(loss, epoch)  # every rank sees the same loss, so every rank stops
        test_accuracy = accuracy(model, test_set, rank, world_size, device)
        console.print(
            f"epoch {epoch:2d}/{epochs}: train loss {loss:.4f}, "
            f"test accuracy {test_accuracy:.1%}, {epoch_seconds:.3f} s"
        )
    return seconds, test_accuracy


def save_checkpoint(model: nn.Module, args, rank: int) -> None:
    """Rank 0 writes, atomically; the others wait at a barrier until the file exists."""
    if rank == 0:
        with tempfile.TemporaryDirectory() as scratch:  # --smoke never replaces a checkpoint
            path = Path(scratch) / args.checkpoint.name if args.smoke else args.checkpoint
            state = {"model_state": model.state_dict(), "hidden": HIDDEN, "seed": args.seed}
            try:
                write_atomically(path, lambda file: torch.save(state, file))
            except OSError as error:
                fail(f"could not save {path}: {error.strerror}")
            where = "a temporary folder (--smoke)" if args.smoke else path
            console.print(f"rank 0 saved the model ({path.stat().st_size // 1000} kB) to {where}")
    dist.barrier()  # no rank goes on (say, to load the file) before rank 0 has written it


# %% 4. Proof: one process, the same weights
def global_batches(train_set, world_size: int, per_process: int, seed: int, epoch: int):
    """One epoch's global batches: step k of every rank's DistributedSampler, side by side."""
    shards = []
    for rank in range(world_size):
        sampler = DistributedSampler(train_set, world_size, rank, shuffle=True, seed=seed)
        sampler.set_epoch(epoch)
        indices = list(sampler)
        shards.append([indices[i : i + per_process] for i in range(0, len(indices), per_process)])
    return [sum(step, []) for step in zip(*shards, strict=True)]  # lists of indices


def largest_difference(first: nn.Module, second: nn.Module) -> float:
    pairs = zip(first.parameters(), second.parameters(), strict=True)
    return max((a.detach() - b.detach()).abs().max().item() for a, b in pairs)


def show_proof(model, start_model, data, args, epochs, rank, world_size, device):
    """Rank 0 trains alone while the others wait: (its seconds per epoch, the difference)."""
    console.rule("4. Proof: one process, the same weights")
    flat = torch.cat([parameter.detach().flatten() for parameter in model.parameters()])
    rank0 = flat.clone()
    dist.broadcast(rank0, src=0)
    spread = (flat - rank0).abs().max()
    dist.all_reduce(spread, op=dist.ReduceOp.MAX)  # the largest gap between any rank and rank 0
    console.print(f"largest difference between any rank's weights and rank 0's: {spread.item():g}")
    seconds, difference = [], 0.0
    if rank == 0:  # the same batches through the same DataLoader, one process, no DDP
        console.print("rank 0 alone trains the starting weights on the same global batches:")
        optimizer = torch.optim.SGD(start_model.parameters(), lr=args.lr, momentum=0.9)
        per_process = args.batch_size // world_size
        for epoch in range(1, epochs + 1):
            batches = global_batches(data[0], world_size, per_process, args.seed, epoch)
            loader = DataLoader(data[0], batch_sampler=batches)  # (batch_size, 64) batches
            seconds.append(run_epoch(start_model, optimizer, loader, device)[1])
        difference = largest_difference(model, start_model)
        same = difference <= TOLERANCE
        verdict = "within" if same else "NOT within"
        meaning = "the same training, split up" if same else "a different training!"
        console.print(f"largest difference, DDP vs one process: {difference:.1e}")
        console.print(f"{verdict} the tolerance {TOLERANCE:.0e}: {meaning}")
    dist.barrier()
    return seconds, difference


# %% 5. Honest scaling
def show_scaling(single_seconds, ddp_seconds, samples: int, world_size: int) -> dict:
    console.rule("5. Honest scaling")
    single, ddp = statistics.median(single_seconds), statistics.median(ddp_seconds)
    threads = torch.get_num_threads()
    console.print(f"the median epoch ({samples} samples), {threads} thread(s) each:")
    console.print(f"  1 process:   {single:.3f} s per epoch, {samples / single:.0f} samples/s")
    console.print(f"  {world_size} processes: {ddp:.3f} s per epoch, {samples / ddp:.0f} samples/s")
    console.print(f"speed-up {single / ddp:.2f}× (ideal: {world_size}×): each step waits for the")
    console.print("gradient all-reduce and for the slowest rank")
    console.print(f"this machine has {os.cpu_count()} CPU cores for them and everything else")
    return {"seconds_per_epoch_1": single, "seconds_per_epoch_n": ddp, "speedup": single / ddp}


# %% 6. When one process fails
def show_failure() -> None:
    console.rule("6. When one process fails")
    console.print("no rank failed this time. With --crash-rank 1, rank 1 stops in epoch 1,")
    console.print("rank 0 loses its partner in the all-reduce, torchrun ends every rank, and")
    console.print(f"the job exits with status 1 in seconds (at worst after {TIMEOUT.seconds} s).")


# %% main
def run_sections(args, rank: int, world_size: int, device: torch.device, backend: str) -> None:
    # the same seed on every rank: the same data split and the same first model
    seed_everything(args.seed, device)
    epochs = min(args.epochs, SMOKE_EPOCHS) if args.smoke else args.epochs
    console.print(
        f"Lesson 09 - PyTorch {torch.__version__} - device {device.type} - seed {args.seed} - "
        f"{world_size} processes ({backend})"
    )
    show_collectives(rank, world_size, device)
    show_launching(args, world_size, backend)
    data = load_data(args.seed)
    model = make_model().to(device)
    start_model = copy.deepcopy(model)  # for the proof in section 4
    ddp_seconds, test_accuracy = train_ddp(model, data, args, epochs, rank, world_size, device)
    save_checkpoint(model, args, rank)
    proof = show_proof(model, start_model, data, args, epochs, rank, world_size, device)
    if rank != 0:
        return  # only rank 0 has the single-process timings, and only rank 0 talks
    samples = math.ceil(len(data[0]) / world_size) * world_size  # the sampler pads to a multiple
    scaling = show_scaling(proof[0], ddp_seconds, samples, world_size)
    show_failure()
    learned = (
        "Each process trains on its own slice of every batch; DDP averages the gradients with\n"
        "all_reduce, so every replica takes the same step: one model, trained N ways at once."
    )
    console.print(Panel(learned, title="What you just learned"))
    if args.metrics_json:
        metrics = {"test_accuracy": test_accuracy, "epochs": epochs, "processes": world_size}
        metrics |= {"train_seconds": sum(ddp_seconds), "weight_difference": proof[1]} | scaling
        try:
            write_atomically(
                args.metrics_json, lambda file: file.write(json.dumps(metrics).encode())
            )
        except OSError as error:
            fail(f"could not save {args.metrics_json}: {error.strerror}")


def worker(args, device: torch.device) -> None:
    """One of the processes torchrun started: its device and backend, then the lesson."""
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    console.quiet = rank != 0  # only rank 0 prints: N copies of every line would be noise
    check_world(args, world_size)
    if device.type != "cpu":  # one accelerator per process, picked by its rank on this machine
        device = torch.device(device.type, int(os.environ["LOCAL_RANK"]))
        torch.accelerator.set_device_index(device.index)
    backend, device_id = BACKENDS[device.type], None if device.type == "cpu" else device
    output = None
    if rank == 0 and RANK0_OUTPUT in os.environ:  # started by launch(), which relays this file
        output = console.file = open(os.environ[RANK0_OUTPUT], "w", encoding="utf-8", buffering=1)
    try:  # init waits (at most TIMEOUT) for all WORLD_SIZE processes at MASTER_ADDR:MASTER_PORT
        dist.init_process_group(backend, timeout=TIMEOUT, device_id=device_id)
        run_sections(args, rank, world_size, device, backend)
    except RuntimeError as error:  # e.g. a partner crashed: "Connection closed by peer"
        fail(f"rank {rank}: {str(error).splitlines()[0]}")
    finally:  # on every way out: success, failure, Ctrl-C
        if dist.is_initialized():
            dist.destroy_process_group()
        if output is not None:
            output.close()


def leave_after_success() -> NoReturn:
    """End a finished worker now, skipping Python's shutdown. Gloo's threads may still be letting
    go of the last collective's tensors, which takes the GIL; if Python has begun to shut down by
    then, the process aborts: "terminate called without an active exception" (a torch race,
    pytorch/pytorch#190489; about 1 job in 40 on our busy 2-core machine). A failing worker exits
    the usual way: that takes a moment, so torchrun sees it gone before the partners it stopped."""
    sys.stdout.flush()  # os._exit skips the shutdown, which would flush these
    sys.stderr.flush()
    os._exit(0)


def launch(args, argv: list[str], device: torch.device) -> None:
    """Start this file N times through torchrun's own entry point, then wait for all of them."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.elastic.multiprocessing.tail_log import tail_logfile
    from torch.distributed.run import parse_args, run

    count = 2 if device.type == "cpu" else torch.accelerator.device_count()
    nproc = count if args.nproc == "auto" else int(args.nproc)
    if device.type != "cpu" and nproc > count:
        fail(f"--nproc {nproc} needs {nproc} {device.type} devices; this machine has {count}", 2)
    check_world(args, nproc)
    with socket.socket() as probe:  # a free port for the rendezvous, free on every address:
        probe.bind(("", 0))  # torchrun's store listens on all of them, not only 127.0.0.1
        port = probe.getsockname()[1]
    flags = [f"--nproc-per-node={nproc}", "--master-addr=127.0.0.1", f"--master-port={port}"]
    saved_environment = dict(os.environ)  # the workers inherit it; put it back afterwards
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "rank0.txt"  # rank 0 prints here; we copy it to our stdout,
        os.environ.setdefault("OMP_NUM_THREADS", "1")  # which a notebook cell also shows
        loopback = {"linux": "lo", "darwin": "lo0"}.get(sys.platform)  # gloo: this machine only
        if loopback:
            os.environ.setdefault("GLOO_SOCKET_IFNAME", loopback)
        os.environ |= {RANK0_OUTPUT: str(output), "COLUMNS": str(console.width)}
        if console.is_terminal:
            os.environ["FORCE_COLOR"] = "1"  # colours, as if rank 0 printed to this terminal
        finished = threading.Event()
        relay_args = ("", str(output), sys.stdout, finished, 0.05, lambda line: True)
        relay = threading.Thread(target=tail_logfile, args=relay_args)
        relay.start()
        try:
            run(parse_args([*flags, str(SCRIPT), *argv]))  # workers get argv, not NOTEBOOK_ARGS
        except SignalException as error:  # torchrun passed the signal on to every worker
            if error.sigval == signal.SIGINT:
                raise KeyboardInterrupt from None  # Ctrl-C: run_lesson says so, exit 130
            fail(f"stopped by {error.sigval.name}", 128 + error.sigval)
        except ChildFailedError as error:
            rank, failure = error.get_first_failure()
            fail(f"rank {rank} failed first (exit status {failure.exitcode}); the rest were ended")
        finally:
            finished.set()
            relay.join()
            os.environ.clear()
            os.environ.update(saved_environment)


def check_world(args, world_size: int) -> None:
    """Flags that depend on the number of processes: checked by the launcher and every worker."""
    if args.batch_size % world_size:
        fail(f"--batch-size {args.batch_size} does not split evenly over {world_size} processes", 2)
    if args.crash_rank is not None and args.crash_rank >= world_size:
        fail(f"--crash-rank {args.crash_rank}: the ranks are 0 to {world_size - 1}", 2)


def process_count(text: str) -> str:
    """--nproc: 'auto' or a whole number from 1 to 64."""
    if text != "auto" and not (text.isdigit() and 1 <= int(text) <= 64):
        raise argparse.ArgumentTypeError(f"expected auto or a number from 1 to 64, got {text!r}")
    return text


def rank_number(text: str) -> int:
    """--crash-rank: 0, 1, ..."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a rank (0, 1, ...), got {text!r}")
    return int(text)


def main(argv: list[str]) -> None:
    smoke_help = f"a tiny run for tests: {SMOKE_EPOCHS} epochs"
    parser = contract_parser(__doc__.split("\n")[0], smoke_help=smoke_help)
    add_training_flags(parser, EPOCHS, BATCH_SIZE, LEARNING_RATE, "SGD's learning rate")
    nproc_help = "processes to start: auto = 2 on the CPU, 1 per GPU (torchrun's workers ignore it)"
    parser.add_argument("--nproc", type=process_count, default="auto", help=nproc_help)
    crash_help = "a teaching flag: rank R raises partway through epoch 1"
    parser.add_argument("--crash-rank", type=rank_number, metavar="R", help=crash_help)
    save_help = "where rank 0 saves the model (--smoke saves into a temporary folder)"
    parser.add_argument("--checkpoint", type=output_file, default=CHECKPOINT, help=save_help)
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    if device.type == "mps":  # torch.distributed has no backend for Apple GPUs
        if args.device == "mps":
            fail("torch.distributed has no backend for Apple's MPS; use --device cpu (gloo)", 2)
        device = torch.device("cpu")
    if not dist.is_backend_available(BACKENDS[device.type]):
        fail(f"this torch build has no {BACKENDS[device.type]}; try --device cpu", 2)
    if {"RANK", "WORLD_SIZE", "LOCAL_RANK"} <= os.environ.keys():  # torchrun started this process
        worker(args, device)
        leave_after_success()
    else:
        launch(args, argv, device)


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
