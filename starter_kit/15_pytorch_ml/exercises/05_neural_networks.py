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
"""Exercises 05 - Neural-network building blocks: modules, shapes, losses, init, optimizers.

Each function and class below is an exercise: its docstring says what to do, what it gets
and what it must return. Replace each `raise NotImplementedError(...)` line with your code (a class
has one in each method), then run this file. It checks every exercise and prints a table: passed;
failed, with a hint that says what was wrong and the guide section to reread; or not attempted
yet. It exits with status 0 only when all pass. The checks sit below the exercises: read them if
you like, they say exactly what is tested.

Run it:   uv run starter_kit/15_pytorch_ml/exercises/05_neural_networks.py
One:      uv run starter_kit/15_pytorch_ml/exercises/05_neural_networks.py --only 2
Solution: starter_kit/15_pytorch_ml/solutions/05_neural_networks.py
Guide:    learning/05_neural_networks.md
"""

import argparse
import math
import os
import random
import sys
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
GUIDE = "learning/05_neural_networks.md"

# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--only", "2"].
NOTEBOOK_ARGS: list[str] = []


# %% Exercise 1 - A model of your own (warm-up)
class MLPClassifier(nn.Module):
    """A classifier with as many layers as you ask for: an nn.Linear for every two neighbouring
    sizes, with an nn.ReLU between every two Linear layers (none after the last one).

    sizes [10, 32, 16, 3] means Linear(10, 32), ReLU, Linear(32, 16), ReLU, Linear(16, 3). The
    number of layers is known only when the model is made, so keep them in an nn.ModuleList:
    layers in a plain Python list are not registered, so parameters(), .to(device) and every
    optimizer would miss them.
    Input:   sizes, a list of at least two ints: the input features, any hidden sizes, the
             number of classes.
    Return:  the model; model(x) for x of shape (batch, sizes[0]) returns the raw class scores
             (logits), shape (batch, sizes[-1]): no softmax, CrossEntropyLoss applies it itself.
    Guide:   learning/05_neural_networks.md#1-building-a-model-with-nnmodule
    """

    def __init__(self, sizes: list[int]):
        """Create the layers and register them as submodules."""
        raise NotImplementedError(
            "TODO: super().__init__(), then an nn.Linear per pair of sizes, in an nn.ModuleList"
        )

    def forward(self, x: torch.Tensor):
        """(batch, sizes[0]) -> logits (batch, sizes[-1])."""
        raise NotImplementedError(
            "TODO: each layer in turn, a ReLU between two layers, raw logits out"
        )


# %% Exercise 2 - The LSTM's last hidden state
def last_hidden_state(lstm: nn.LSTM, embedded: torch.Tensor):
    """Run an LSTM over a batch of sequences and return what a classifier reads: the hidden
    state of its top layer after the last step, one vector per sequence.

    Careful: batch_first=True changes the layout of the output, (batch, seq_len, hidden), but
    not that of h_n, which stays (num_layers, batch, hidden).
    Input:   lstm, an nn.LSTM made with batch_first=True (one layer or more); embedded, a float
             tensor (batch, seq_len, input_size) on the LSTM's device.
    Return:  a tensor (batch, hidden_size).
    Guide:   learning/05_neural_networks.md#2-layers-and-their-shapes
    """
    raise NotImplementedError(
        "TODO: run the LSTM, return the top layer's state after the last step"
    )


# %% Exercise 3 - A loss for yes/no answers
def binary_cross_entropy(logits: torch.Tensor, labels: torch.Tensor):
    """The mean binary cross-entropy of yes/no predictions, correct even for a model that is
    confidently wrong (a logit of 30 for a label 0).

    Input:   logits (batch, 1), float, raw scores (any real number; they may require grad);
             labels (batch,), int64, 0 or 1, as a data set hands them out; same device.
    Return:  a 0-dim tensor, the mean loss over the batch, connected to autograd.
    Guide:   learning/05_neural_networks.md#4-loss-functions
    """
    raise NotImplementedError(
        "TODO: BCEWithLogitsLoss of the raw logits, shapes and dtypes matched"
    )


# %% Exercise 4 - Keep a deep tanh network alive
def init_for_tanh(weight: torch.Tensor):
    """Initialise the weight of one nn.Linear layer, in place, so that a deep stack of
    Linear + Tanh layers keeps its signal: after 10 layers of any width the activations still
    spread out (std at least 0.4, for inputs of std 1), and few units are stuck near +-1.

    Input:   weight, an nn.Linear's weight (out_features, in_features) that requires grad.
    Return:  the same weight, filled in place.
    Guide:   learning/05_neural_networks.md#5-weight-initialisation
    """
    raise NotImplementedError(
        "TODO: fill the weight in place, scaled to its fan-in and fan-out; return it"
    )


# %% Exercise 5 - Reach the threshold in time (stretch)
def fit_sine(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int):
    """Train `model` to fit y = sin(3x), full batch, for exactly `steps` steps: each step is the
    mean squared error on all points, clearing the old gradients, backward() and an optimizer
    step. The optimizer and its learning rate are yours to choose (section 6 compares them):
    the check wants the MSE below 0.01 after 150 steps, which plain SGD does not reach.

    Input:   model, an nn.Module from 1 input to 1 output, on x's device; x and y, float
             tensors (num_points, 1); steps, an int.
    Return:  a list of `steps` Python floats: each step's loss, computed before its update.
    Guide:   learning/05_neural_networks.md#6-optimizers-and-a-learning-rate-schedule
    """
    raise NotImplementedError(
        "TODO: an optimizer, then each step: forward, loss, zero_grad, backward, step"
    )


# %% Checks: run_exercises calls these; the solution file has the very same text
def check_1(device: torch.device) -> None:
    for sizes in ([10, 32, 16, 3], [4, 2], [6, 8, 8, 8, 5]):
        what = f"MLPClassifier({sizes})"
        try:
            model = MLPClassifier(sizes)
        except AttributeError as error:
            if "before Module.__init__() call" not in str(error):
                raise
            raise WrongAnswerError(
                f"{what} raised AttributeError: {error}: call super().__init__() first in "
                "__init__, before you assign any layer"
            ) from None
        model = expect_type(model, nn.Module, what)
        pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
        expected_count = sum((n_in + 1) * n_out for n_in, n_out in pairs)  # weights + biases
        num_params = sum(p.numel() for p in model.parameters())
        expect(
            num_params > 0,
            f"{what} has no parameters at all: layers kept in a plain Python list are not "
            "registered; keep them in an nn.ModuleList",
        )
        formula = " + ".join(f"({n_in} + 1) * {n_out}" for n_in, n_out in pairs)
        expect(
            num_params == expected_count,
            f"{what} has {num_params} parameters, expected {formula} = {expected_count}: one "
            "nn.Linear for every two neighbouring sizes, each with its weights and biases",
        )
        linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
        shapes = [(layer.in_features, layer.out_features) for layer in linears]
        expect(
            shapes == pairs,
            f"{what}: its Linear layers are {shapes}, expected {pairs}, in that order",
        )
        model = model.to(device)
        inputs = torch.randn(16, sizes[0], device=device)
        with torch.no_grad():
            logits = model(inputs)
        shape = (16, sizes[-1])
        expect_tensor(logits, f"{what}(inputs {(16, sizes[0])})", shape=shape, device=device)
        # The same network in float64 NumPy, from the model's own weights.
        values = inputs.cpu().double().numpy()
        without_relu = values
        for index, layer in enumerate(linears):
            weight = layer.weight.detach().cpu().double().numpy()
            bias = layer.bias.detach().cpu().double().numpy()
            values = values @ weight.T + bias
            without_relu = without_relu @ weight.T + bias
            if index < len(linears) - 1:
                values = np.maximum(values, 0)
        result = logits.cpu().double().numpy()
        close = dict(rtol=1e-4, atol=1e-5)
        if not np.allclose(result, values, **close):
            expect(
                not np.allclose(result, np.maximum(values, 0), **close),
                f"{what}: there is a ReLU after the last layer, so no logit is ever below 0: "
                "ReLU goes only between Linear layers; the scores stay raw",
            )
            probabilities = np.exp(values - values.max(axis=1, keepdims=True))
            probabilities /= probabilities.sum(axis=1, keepdims=True)
            expect(
                not np.allclose(result, probabilities, **close),
                f"{what} returns probabilities (softmax): return the raw logits; "
                "CrossEntropyLoss applies log_softmax itself, softmax first would apply it twice",
                section=f"{GUIDE}#4-loss-functions",
            )
            expect(
                len(linears) < 2 or not np.allclose(result, without_relu, **close),
                f"{what} has no ReLU between its Linear layers: without it, they collapse into "
                "one linear map",
            )
        expect_close(logits, values, f"{what}(inputs {(16, sizes[0])})", rtol=1e-4, atol=1e-5)


def check_2(device: torch.device) -> None:
    lstm = nn.LSTM(input_size=4, hidden_size=8, num_layers=2, batch_first=True).to(device)
    embedded = torch.randn(3, 5, 4, device=device)  # (batch 3, seq_len 5, input_size 4)
    what = "last_hidden_state(lstm (2 layers, hidden 8, batch_first), embedded (3, 5, 4))"
    with torch.no_grad():
        state = last_hidden_state(lstm, embedded)
        output, (h_n, c_n) = lstm(embedded)
    state = expect_type(state, torch.Tensor, what)
    shape = tuple(state.shape)
    expect(
        shape != (2, 3, 8),
        f"{what}: expected shape (3, 8), got (2, 3, 8), all of h_n: it is (num_layers, batch, "
        "hidden) even with batch_first=True; the top layer's state is h_n[-1]",
    )
    expect(
        shape != (5, 8),
        f"{what}: expected shape (3, 8), got (5, 8), every step of the last sequence: with "
        "batch_first=True, output is (batch, seq_len, hidden), so the last step is output[:, -1]",
    )
    expect(
        shape != (3, 5, 8),
        f"{what}: expected shape (3, 8), got (3, 5, 8), the output at every step: keep only the "
        "last step, or use h_n",
    )
    expect_tensor(state, what, shape=(3, 8), dtype=torch.float32, device=device)
    expected = output[:, -1]  # the top layer after the last step: the same numbers as h_n[-1]

    def same(tensor: torch.Tensor) -> bool:
        return torch.allclose(state, tensor, rtol=1e-4, atol=1e-5)

    if not same(expected):
        expect(
            not same(h_n[0]),
            f"{what} is h_n[0], the first (bottom) layer's state: the top layer's is h_n[-1]",
        )
        expect(
            not same(c_n[-1]) and not same(c_n[0]),
            f"{what} is the cell state c_n, the LSTM's inner memory: the hidden state is h_n",
        )
        expect(
            not same(output[:, 0]),
            f"{what} is the output after the first step: the last step is output[:, -1]",
        )
    expect_close(state, expected, what, rtol=1e-4, atol=1e-5)


def check_3(device: torch.device) -> None:
    values = [[30.0], [-30.0], [100.0], [0.5], [-1.5], [2.0]]  # confidently wrong, twice
    logits = torch.tensor(values, device=device).requires_grad_()
    labels = torch.tensor([0, 1, 1, 0, 0, 1], device=device)
    what = "binary_cross_entropy(logits (6, 1), labels (6,) of 0s and 1s)"
    try:
        loss = binary_cross_entropy(logits, labels)
    except ValueError as error:
        if "must be the same as input size" not in str(error):
            raise
        raise WrongAnswerError(
            f"{what} raised ValueError: {error}: the logits are (6, 1) and the labels (6,); "
            "squeeze(1) the logits (or unsqueeze(1) the labels) so the shapes match"
        ) from None
    except RuntimeError as error:
        if isinstance(error, NotImplementedError) or "can't be cast" not in str(error):
            raise  # a TODO (NotImplementedError is a RuntimeError) or another error
        raise WrongAnswerError(
            f"{what} raised RuntimeError: {error}: the labels are int64 class numbers, and the "
            "loss wants float targets between 0 and 1: use labels.float()"
        ) from None
    loss = expect_tensor(loss, what, shape=(), device=device)
    z = np.array(values, dtype=np.float64)[:, 0]
    y = labels.cpu().double().numpy()
    # log(1 + exp(-|z|)) + max(z, 0) - z * y: the same loss, computed without overflow
    expected = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean()
    expect(
        bool(torch.isfinite(loss)),
        f"{what} is {loss.item()}: log(sigmoid(z)) overflows for large logits; "
        "BCEWithLogitsLoss (binary_cross_entropy_with_logits) computes it safely",
    )
    probabilities = 1 / (1 + np.exp(-z.astype(np.float32)))  # rounds to exactly 1 at z = 30
    with np.errstate(divide="ignore"):
        clamped = -np.maximum(np.log(np.where(y == 1, probabilities, 1 - probabilities)), -100)
    expect(
        not np.isclose(loss.item(), clamped.mean(), rtol=1e-4),
        f"{what} is {loss.item():.4f}, BCELoss of sigmoid(logits): sigmoid(30) rounds to 1.0 "
        "in float32, so log(0) is clamped to -100 and the gradient is 0; give the raw logits "
        "to BCEWithLogitsLoss",
    )
    table = np.maximum(z[:, None], 0) - z[:, None] * y[None, :]  # (6, 1) with (6,): (6, 6)
    table += np.log1p(np.exp(-np.abs(z[:, None])))
    expect(
        not np.isclose(loss.item(), table.mean(), rtol=1e-4),
        f"{what} is the mean over a (6, 6) table: logits (6, 1) and labels (6,) broadcast; "
        "squeeze(1) the logits first",
    )
    expect_close(loss, expected, what, rtol=1e-4, atol=1e-5)
    expect(loss.requires_grad, f"{what}: the loss does not require grad: no .item() or .detach()")
    loss.backward()
    by_hand = (1 / (1 + np.exp(-z)) - y) / len(z)  # d(loss)/d(logit): (sigmoid(z) - y) / batch
    expect_close(logits.grad[:, 0], by_hand, f"the gradient of {what}", rtol=1e-4, atol=1e-6)


def check_4(device: torch.device) -> None:
    for width in (32, 256):
        what = f"init_for_tanh(the weight of nn.Linear({width}, {width}))"
        layers = [nn.Linear(width, width).to(device) for _ in range(10)]
        for layer in layers:
            nn.init.zeros_(layer.bias)  # so that only the weights decide what happens
            before = layer.weight.detach().clone()
            try:
                returned = init_for_tanh(layer.weight)
            except RuntimeError as error:
                if isinstance(error, NotImplementedError) or "leaf Variable" not in str(error):
                    raise  # a TODO (NotImplementedError is a RuntimeError) or another error
                raise WrongAnswerError(
                    f"{what} raised RuntimeError: {error} The weight requires grad: change it "
                    "under torch.no_grad(), or with an nn.init function, which does that for you"
                ) from None
            expect_tensor(returned, what, shape=(width, width), device=device)
            expect(
                not torch.equal(layer.weight, before),
                f"{what} left the layer's weight as it was: fill it in place (an nn.init "
                "function ending in _, or weight.copy_(...) under torch.no_grad()); a new "
                "tensor does not replace the layer's own weight",
            )
            expect(
                torch.equal(returned, layer.weight),
                f"{what} returned another tensor than the weight it filled: return the weight",
            )
            first = layer.weight.flatten()[0]
            expect(
                not bool((layer.weight == first).all()),
                f"{what} gave every weight the same value: every unit of the layer would compute "
                "the same thing and get the same gradient, forever; draw them at random",
            )
        activations = torch.randn(256, width, device=device)  # (batch, width), std 1
        with torch.no_grad():
            for layer in layers:
                activations = torch.tanh(layer(activations))
        spread = activations.std().item()
        saturated = (activations.abs() > 0.99).float().mean().item()
        expect(
            saturated <= 0.05,
            f"{what}: after 10 layers {saturated:.0%} of the units are stuck near +-1 "
            "(saturated), where tanh passes almost no gradient: the weights are too large for "
            f"{width} inputs. Scale them by the layer's fan-in and fan-out: xavier with "
            "gain 5/3 (nn.init.calculate_gain('tanh'))",
        )
        expect(
            spread >= 0.4,
            f"{what}: the signal fades, std {spread:.4f} after 10 layers (the inputs had std "
            f"1): the weights are too small for {width} inputs. PyTorch's default and xavier "
            "without a gain both shrink it; use xavier with gain 5/3 "
            "(nn.init.calculate_gain('tanh'))",
        )


def check_5(device: torch.device) -> None:
    x = torch.linspace(-1, 1, 256, device=device).unsqueeze(1)  # (256, 1)
    y = torch.sin(3 * x)  # a curve no straight line fits
    model = nn.Sequential(
        nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1)
    ).to(device)
    with torch.no_grad():
        first_loss = ((model(x) - y) ** 2).mean().item()
    # Hooks see each backward(): the gradient it computed, then .grad once it has been added in.
    # A .grad that holds more than the fresh gradient means the old ones were never cleared.
    fresh, added_up, handles = {}, [], []
    for parameter in model.parameters():

        def remember(gradient, parameter=parameter):
            fresh[parameter] = gradient.detach().clone()

        def compare(parameter):
            added_up.append(not torch.allclose(parameter.grad, fresh[parameter]))

        handles.append(parameter.register_hook(remember))
        handles.append(parameter.register_post_accumulate_grad_hook(compare))
    what = "fit_sine(model, x (256, 1), y = sin(3x), steps=150)"
    try:
        losses = fit_sine(model, x, y, 150)
    finally:
        for handle in handles:
            handle.remove()
    losses = expect_type(losses, list, what)
    expect(len(losses) == 150, f"{what} returned {len(losses)} losses, expected one per step")
    expect(
        all(isinstance(loss, float) for loss in losses),
        f"{what}: expected Python floats, got a {type(losses[0]).__name__}: append loss.item()",
    )
    expect(
        not any(added_up),
        f"{what}: the gradients added up from step to step: call optimizer.zero_grad() before "
        "loss.backward() in every step",
        section="learning/04_training.md#2-non-scalar-outputs-and-accumulation",
    )
    expect(
        math.isclose(losses[0], first_loss, rel_tol=1e-4),
        f"{what}: the first loss is {losses[0]:.5f}, but the untouched model's MSE on all 256 "
        f"points is {first_loss:.5f}: compute each step's loss on all points, before its update",
    )
    with torch.no_grad():
        final = ((model(x) - y) ** 2).mean().item()
    expect(
        math.isfinite(final),
        f"{what}: training diverged (the MSE is {final}): try a smaller learning rate",
    )
    expect(
        final < 0.01,
        f"{what}: after 150 steps the MSE on all points is {final:.4f}, not below 0.01. Plain "
        "SGD is too slow on this curve, and so is a small learning rate or one that a schedule "
        "lowers early: SGD with momentum=0.9 at lr 0.1, or Adam at lr 0.01 to 0.02, get there; "
        "and train `model` itself",
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
    Exercise("A model of your own", f"{GUIDE}#1-building-a-model-with-nnmodule", check_1),
    Exercise("The LSTM's last hidden state", f"{GUIDE}#2-layers-and-their-shapes", check_2),
    Exercise("A loss for yes/no answers", f"{GUIDE}#4-loss-functions", check_3),
    Exercise("Keep a deep tanh network alive", f"{GUIDE}#5-weight-initialisation", check_4),
    Exercise(
        "Reach the threshold in time",
        f"{GUIDE}#6-optimizers-and-a-learning-rate-schedule",
        check_5,
    ),
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
        f"Exercises 05 - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )
    run_exercises(EXERCISES, device, args.seed, args.only)


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
