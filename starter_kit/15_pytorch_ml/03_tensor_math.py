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
"""Lesson 03 - Tensor math: the operations every model is made of, and why vectorised is fast.

Element-wise ops, reductions (and why keepdim=True matters), matmul four ways (@, mm, bmm,
einsum), broadcast shapes worked out by hand (one fails, and you see why), a softmax and a
logsumexp that survive huge inputs, and a Python loop timed against one vectorised call.

Run it: uv run starter_kit/15_pytorch_ml/03_tensor_math.py   (try --seed 1 --device cpu)
Guide:  learning/03_tensor_math.md
"""

import argparse
import logging
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
from rich.panel import Panel
from rich.table import Table

# %% Config
NUM_CLASSES = 10  # the speed test takes the softmax of rows of 10 logits, like a classifier
BENCH_ROWS = 1000  # rows in the speed test
SMOKE_BENCH_ROWS = 100
LOOP_CALLS = 5  # timeit runs the slow Python loop only a few times ...
VECTOR_CALLS = 200  # ... and the fast vectorised call many times, for a steady average
MATMUL_SIZE = 1024  # CPU vs accelerator: a (1024, 1024) @ (1024, 1024) product
SMOKE_MATMUL_SIZE = 256
MATMUL_CALLS = 10

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


def as_text(tensor: torch.Tensor) -> str:
    """'[0.090, 0.245, 0.665]': three decimals; escaped, as rich reads '[nan, ...]' as markup."""

    def text(item: torch.Tensor) -> str:
        if item.dim() > 0:
            return "[" + ", ".join(text(row) for row in item) + "]"
        if item.is_floating_point():
            return f"{round(item.item(), 3) + 0.0:.3f}"  # + 0.0 turns -0.000 into 0.000
        return str(item.item())

    return escape(text(tensor.cpu()))


TIME_UNITS = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
FLOPS_UNITS = (("TFLOP/s", 1e12), ("GFLOP/s", 1e9))


def with_unit(value: float, units: tuple[tuple[str, float], ...]) -> str:
    """'4.640 ms', '79.99 µs': four significant digits, in the first unit that keeps them >= 1.
    Figures in 'ms', 'µs', ... are then equally wide: a table keeps its layout from run to run."""
    unit, scale = next(((unit, scale) for unit, scale in units if value >= scale), units[-1])
    return f"{value / scale:#.4g} {unit}"


# %% 1. Element-wise operations
def elementwise(device: torch.device) -> None:
    console.rule("1. Element-wise operations")
    # Same shape in, same shape out: output[i] depends only on a[i] and b[i].
    a = torch.tensor([1.0, 2.0, 3.0, 4.0], device=device)  # (4,)
    b = torch.tensor([10.0, 20.0, 30.0, 40.0], device=device)  # (4,)
    table = Table("expression", "result")
    table.add_row("a + b", as_text(a + b))
    table.add_row("a * b", as_text(a * b))  # element by element - not a matrix product
    table.add_row("a.exp()", as_text(a.exp()))
    table.add_row("a > 2", as_text(a > 2))
    table.add_row("torch.where(a > 2, a, 0.0)", as_text(torch.where(a > 2, a, 0.0)))
    table.add_row("torch.relu(a - 2.5)", as_text(torch.relu(a - 2.5)))  # negatives become 0
    console.print(table)
    a.mul_(10)  # a trailing underscore means in place: a's old values are gone
    console.print(f"after a.mul_(10), a = {as_text(a)}")


# %% 2. Reductions along a dimension
def reductions(device: torch.device) -> torch.Tensor:
    console.rule("2. Reductions along a dimension")
    scores = torch.randn(3, 4).to(device)  # (students=3, quizzes=4)
    console.print(f"scores, 3 students x 4 quizzes:\n{escape(str(scores.cpu()))}")
    # dim=N names the dimension that disappears: dim=0 sums over students, dim=1 over quizzes.
    table = Table("expression", "shape", "values")
    for expression, result in [
        ("scores.sum()", scores.sum()),
        ("scores.sum(dim=0)", scores.sum(dim=0)),
        ("scores.sum(dim=1)", scores.sum(dim=1)),
        ("scores.sum(dim=1, keepdim=True)", scores.sum(dim=1, keepdim=True)),
        ("scores.max(dim=1).values", scores.max(dim=1).values),
        ("scores.argmax(dim=1)", scores.argmax(dim=1)),
    ]:
        table.add_row(expression, str(tuple(result.shape)), as_text(result))
    console.print(table)
    # keepdim=True leaves a size-1 dimension behind, so the result lines up with scores again.
    centred = scores - scores.mean(dim=1, keepdim=True)  # (3, 4) - (3, 1): each row - its mean
    console.print(f"each row's mean after subtracting it: {as_text(centred.mean(dim=1))}")
    return scores  # section 4 reuses it, as the guide does


# %% 3. Matrix multiplication
def matrix_multiplication(device: torch.device) -> None:
    console.rule("3. Matrix multiplication")
    a = torch.randn(2, 3).to(device)  # (2, 3)
    b = torch.randn(3, 4).to(device)  # (3, 4)
    product = a @ b  # (2, 3) @ (3, 4) -> (2, 4): the inner 3s meet and disappear
    # Each output element is a dot product: here row 0 of a with column 0 of b.
    by_hand = (a[0] * b[:, 0]).sum().item()
    console.print(f"(a @ b)[0, 0] = {product[0, 0].item():.4f}; row 0 . column 0 = {by_hand:.4f}")

    batch_a = torch.randn(5, 2, 3).to(device)  # (batch=5, 2, 3)
    batch_b = torch.randn(5, 3, 4).to(device)  # (batch=5, 3, 4)
    batched = batch_a @ batch_b  # (5, 2, 4): five independent (2, 3) @ (3, 4) products
    # @ broadcasts one matrix over the batch; bmm takes only two 3-D tensors, so b must be
    # expanded first: expand makes a (5, 3, 4) view whose batch stride is 0, it copies nothing.
    b_expanded = torch.bmm(batch_a, b.expand(5, 3, 4))
    table = Table("expression", "shape", "equals", "allclose")
    for expression, result, name, reference in [
        ("torch.mm(a, b)", torch.mm(a, b), "a @ b", product),
        ("einsum('ij,jk->ik', a, b)", torch.einsum("ij,jk->ik", a, b), "a @ b", product),
        ("torch.bmm(batch_a, batch_b)", torch.bmm(batch_a, batch_b), "batch_a @ batch_b", batched),
        ("einsum('bij,bjk->bik', ...)", torch.einsum("bij,bjk->bik", batch_a, batch_b),
         "batch_a @ batch_b", batched),
        ("batch_a @ b", batch_a @ b, "bmm, b.expand(5, 3, 4)", b_expanded),
        # einsum can say what no matmul says: one dot product per row.
        ("einsum('ij,ij->i', a, a)", torch.einsum("ij,ij->i", a, a), "(a * a).sum(dim=1)",
         (a * a).sum(dim=1)),
    ]:  # fmt: skip
        same = torch.allclose(result, reference)
        table.add_row(expression, str(tuple(result.shape)), name, str(same))
    console.print(table)


# %% 4. Broadcasting
def pad_left(shape: tuple[int, ...], ndim: int) -> tuple[int, ...]:
    return (1,) * (ndim - len(shape)) + tuple(shape)


def broadcast_shape(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> tuple[int, ...]:
    """The rules by hand, as torch.broadcast_shapes applies them: 1. pad the shorter shape with
    1s on the left; 2. per dimension, equal sizes stay, a 1 stretches, anything else fails."""
    ndim = max(len(shape_a), len(shape_b))
    padded = zip(pad_left(shape_a, ndim), pad_left(shape_b, ndim), strict=True)
    result = []
    for dim, (size_a, size_b) in enumerate(padded):
        if size_a != size_b and 1 not in (size_a, size_b):
            raise ValueError(f"dimension {dim}: sizes {size_a} and {size_b}, and neither is 1")
        result.append(size_b if size_a == 1 else size_a)  # not max(): a 1 stretches to 0 too
    return tuple(result)


def broadcasting(scores: torch.Tensor) -> None:
    console.rule("4. Broadcasting")
    device = scores.device
    table = Table("a", "b", "a padded", "b padded", "result", "torch agrees")
    shape_pairs = [((3, 4), (4,)), ((3, 4), (3, 1)), ((3, 1), (1, 4)), ((2, 1, 4), (3, 1))]
    for shape_a, shape_b in shape_pairs:
        ndim = max(len(shape_a), len(shape_b))
        result = broadcast_shape(shape_a, shape_b)
        # The proof: adding real tensors of these shapes gives a tensor of the worked-out shape.
        actual = torch.zeros(shape_a, device=device) + torch.zeros(shape_b, device=device)
        steps = (shape_a, shape_b, pad_left(shape_a, ndim), pad_left(shape_b, ndim), result)
        table.add_row(*map(str, steps), str(actual.shape == result))
    console.print(table)

    # The classic mistake: subtract each row's mean from section 2's scores, but forget keepdim.
    row_means = scores.mean(dim=1)  # (3,) -> padded to (1, 3): it lines up with the 4 columns
    try:
        scores - row_means
    except RuntimeError as error:
        console.print(f"scores (3, 4) - row_means (3,) raises RuntimeError:\n  {error}")
    try:
        broadcast_shape((3, 4), (3,))
    except ValueError as error:
        console.print(f"why, by hand: (3, 4) vs (1, 3) -> {error}")
    fixed = scores - row_means[:, None]  # (3, 4) - (3, 1): what keepdim=True would have given
    console.print(f"fix: row_means[:, None] is (3, 1), and the difference is {tuple(fixed.shape)}")


# %% 5. Stable softmax and logsumexp
def naive_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    exps = logits.exp()  # exp(1000) is inf in float32 (it overflows past about 88.7)
    return exps / exps.sum(dim=dim, keepdim=True)


def stable_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    # softmax(x) == softmax(x - c) for any constant c. With c = max(x) the largest exponent is
    # exp(0) = 1: nothing overflows, and the sum is at least 1, so we never divide by 0.
    shifted = logits - logits.amax(dim=dim, keepdim=True)
    exps = shifted.exp()
    return exps / exps.sum(dim=dim, keepdim=True)


def stable_logsumexp(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    # log(sum(exp(x))) == m + log(sum(exp(x - m))), with m = max(x) for the same reason.
    peak = logits.amax(dim=dim, keepdim=True)
    return (peak + (logits - peak).exp().sum(dim=dim, keepdim=True).log()).squeeze(dim)


def stable_softmax_demo(device: torch.device) -> None:
    console.rule("5. Stable softmax and logsumexp")
    x = torch.tensor([1.0, 2.0, 3.0], device=device)  # (3,): three logits
    softmax_table = Table("logits", "naive softmax", "stable softmax", "torch agrees")
    logsumexp_table = Table("logits", "naive logsumexp", "stable logsumexp", "torch agrees")
    # Shifting every logit by the same amount changes nothing mathematically - and everything
    # numerically for the naive versions.
    for label, logits in [("x = [1, 2, 3]", x), ("x + 1000", x + 1000), ("x - 1000", x - 1000)]:
        stable = stable_softmax(logits)
        agrees = torch.allclose(stable, torch.softmax(logits, dim=-1))
        softmax_table.add_row(label, as_text(naive_softmax(logits)), as_text(stable), str(agrees))
        log_total = stable_logsumexp(logits)
        agrees = torch.allclose(log_total, torch.logsumexp(logits, dim=-1))
        naive = logits.exp().sum().log()  # log(inf) = inf; log(0) = -inf
        logsumexp_table.add_row(label, as_text(naive), as_text(log_total), str(agrees))
    console.print(softmax_table, logsumexp_table)


# %% 6. Measuring speed
def measure_speed(device: torch.device, smoke: bool) -> None:
    console.rule("6. Measuring speed")
    # torch.utils.benchmark logs a note about CUDA_HOME on machines with a CUDA toolkit but no
    # GPU: not about this lesson, so keep it quiet. (Imported here: only this section needs it.)
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    from torch.utils import benchmark

    # Loop vs vectorised is about Python's per-call overhead, so it runs on the CPU everywhere.
    rows = SMOKE_BENCH_ROWS if smoke else BENCH_ROWS
    logits = torch.randn(rows, NUM_CLASSES)  # (rows, 10)
    names = {"logits": logits, "stable_softmax": stable_softmax}
    loop_code = "torch.stack([stable_softmax(row) for row in logits])"  # one row at a time
    vector_code = "stable_softmax(logits, dim=-1)"
    # Timer.timeit(n) warms up first, then runs the statement n times and reports the average.
    loop = benchmark.Timer(loop_code, globals=names).timeit(LOOP_CALLS).mean
    vector = benchmark.Timer(vector_code, globals=names).timeit(VECTOR_CALLS).mean
    stacked = torch.stack([stable_softmax(row) for row in logits])  # (rows, 10)
    same = torch.allclose(stacked, stable_softmax(logits))
    table = Table("statement", "per call", "speed-up", title=f"softmax of {rows} rows")
    table.add_row(escape(loop_code), with_unit(loop, TIME_UNITS), "baseline")
    table.add_row(vector_code, with_unit(vector, TIME_UNITS), f"{loop / vector:#.4g}×")
    console.print(table)
    console.print(f"both give the same probabilities: {same}")

    if device.type == "cpu":
        console.print("CPU vs accelerator: skipped on the CPU (run with --device auto on a GPU)")
        return
    size = SMOKE_MATMUL_SIZE if smoke else MATMUL_SIZE
    matrix = torch.randn(size, size)  # (size, size)
    flops = 2 * size**3  # one multiply and one add per (row, column, inner) triple
    threads = torch.get_num_threads()  # let the CPU use all its cores, as the GPU uses all of its
    table = Table("device", "per call", "speed", title=f"({size}, {size}) @ itself")
    for where in (torch.device("cpu"), device):
        # The Timer synchronises the accelerator before reading the clock: its kernels run
        # asynchronously, so without that we would time the launch, not the work.
        on_device = {"matrix": matrix.to(where)}
        timer = benchmark.Timer("matrix @ matrix", globals=on_device, num_threads=threads)
        seconds = timer.timeit(MATMUL_CALLS).mean
        speed = with_unit(flops / seconds, FLOPS_UNITS)  # floating-point operations per second
        table.add_row(str(where), with_unit(seconds, TIME_UNITS), speed)
    console.print(table)


# %% main
def main(argv: list[str]) -> None:
    parser = contract_parser(
        "Lesson 03: element-wise ops, reductions, matmul, broadcasting, a stable softmax, and a "
        "measured loop-vs-vectorised comparison.",
        smoke_help="a tiny run for tests: a smaller speed comparison",
    )
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    seed_everything(args.seed, device)
    console.print(
        f"[bold]Lesson 03[/] - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )

    elementwise(device)
    scores = reductions(device)
    matrix_multiplication(device)
    broadcasting(scores)
    stable_softmax_demo(device)
    measure_speed(device, args.smoke)

    console.print(
        Panel(
            "Element-wise ops keep the shape, reductions remove the dim you name (keepdim keeps "
            "it as 1), @ multiplies matrices and batches of them, broadcasting pads shapes on "
            "the left and stretches 1s, softmax is stable once you subtract the max, and one "
            "vectorised call beats a Python loop many times over.",
            title="What you just learned",
        )
    )


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
