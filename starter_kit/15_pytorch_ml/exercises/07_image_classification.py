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
"""Exercises 07 - Image classification: conv shapes, a tiny CNN, shifts, evaluation, training.

Each function below is an exercise: its docstring says what to do, what it gets and what it
must return. Replace its `raise NotImplementedError(...)` line with your code, then run this file.
It checks every exercise and prints a table: passed; failed, with a hint that says what was wrong
and the guide section to reread; or not attempted yet. It exits with status 0 only when all pass.
The checks sit below the exercises: read them if you like, they say exactly what is tested.

Run it:   uv run starter_kit/15_pytorch_ml/exercises/07_image_classification.py
One:      uv run starter_kit/15_pytorch_ml/exercises/07_image_classification.py --only 2
Solution: starter_kit/15_pytorch_ml/solutions/07_image_classification.py
Guide:    learning/07_image_classification.md
"""

import argparse
import copy
import importlib.util
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
GUIDE = "learning/07_image_classification.md"

# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--only", "2"].
NOTEBOOK_ARGS: list[str] = []


# %% Exercise 1 - A convolution's output size (warm-up)
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0):
    """The height (or width) of what nn.Conv2d makes of an image side of `size` pixels, by the
    formula, without running a convolution.

    A kernel of kernel_size pixels slides over the image plus `padding` pixels on each side,
    moving `stride` pixels at a time; a position counts only if the kernel fits whole.
    Input:   size, kernel_size, stride and padding, ints.
    Return:  an int: the output side.
    Example: conv_output_size(28, 3, stride=2, padding=1) -> 14
    Guide:   learning/07_image_classification.md#2-the-model
    """
    raise NotImplementedError("TODO: the output side by the formula, as an int")


# %% Exercise 2 - A tiny CNN
def make_tiny_cnn(num_classes: int):
    """A CNN for 8x8 grey images, smaller than the lesson's: Conv2d(1, 8, kernel_size=3,
    padding=1), ReLU, MaxPool2d(2), Conv2d(8, 16, kernel_size=3, padding=1), ReLU, MaxPool2d(2),
    Flatten, Dropout(0.25), then a Linear layer to num_classes scores. Work out that Linear
    layer's in_features from the shapes.

    Input:   num_classes, an int.
    Return:  an nn.Module (an nn.Sequential does it) that maps images (batch, 1, 8, 8) to raw
             class scores (logits) (batch, num_classes).
    Guide:   learning/07_image_classification.md#2-the-model
    """
    raise NotImplementedError(
        "TODO: an nn.Sequential of the layers above, Linear's in_features worked out"
    )


# %% Exercise 3 - Random shifts
def random_shift(images: torch.Tensor, max_shift: int):
    """Augmentation: move each image of a batch by its own random number of pixels, from
    -max_shift to max_shift in y and in x (all of them equally likely), filling the gap by
    repeating the edge pixels, as the lesson's random_shift does.

    Input:   images, a float tensor (batch, channels, height, width) on any device;
             max_shift, an int.
    Return:  a new tensor of the same shape, on the same device; images stays unchanged.
    Guide:   learning/07_image_classification.md#3-training
    """
    raise NotImplementedError("TODO: pad by repeating the edges, then one random window per image")


# %% Exercise 4 - Predictions and their confidence
def predict_with_confidence(model: nn.Module, images: torch.Tensor):
    """Classify a batch of images for a person to read: the most likely class of each image,
    and its probability, the confidence. The model may contain dropout and may come in training
    mode; no gradients are needed.

    Input:   model, an nn.Module returning logits (batch, classes); images on its device.
    Return:  a tuple (classes, confidences): classes (batch,) int64, the most likely class;
             confidences (batch,) float, its softmax probability.
    Guide:   learning/07_image_classification.md#4-evaluation
    """
    raise NotImplementedError("TODO: model.eval(), inference_mode, softmax, max over the classes")


# %% Exercise 5 - A confusion matrix by hand
def confusion_matrix(true_labels: torch.Tensor, predicted: torch.Tensor, num_classes: int):
    """Count every (true class, predicted class) pair: row i, column j is the number of images
    of class i that the model called j. Correct answers lie on the diagonal.

    Input:   true_labels and predicted, int64 tensors (num_images,) of class numbers from 0 to
             num_classes - 1, same device (some classes may never appear); num_classes, an int.
    Return:  an int64 tensor (num_classes, num_classes) on the same device.
    Example: true [0, 0, 0, 1, 1, 2, 2, 2] and predicted [0, 0, 1, 1, 1, 2, 0, 2], 3 classes
             -> [[2, 1, 0], [0, 2, 0], [1, 0, 2]]
    Guide:   learning/07_image_classification.md#4-evaluation
    """
    raise NotImplementedError(
        "TODO: count every (true, predicted) pair into a (classes, classes) grid"
    )


# %% Exercise 6 - Train on real digits (stretch)
def train_digits(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    epochs: int,
    batch_size: int,
    lr: float,
):
    """Train a CNN on digit images with mini-batches, as the lesson's training section does.
    The model may come in evaluation mode (after predict_with_confidence, say), with dropout off.

    Each epoch: training mode; the images in a new random order (torch.randperm), cut into
    batches of batch_size; for each batch the cross-entropy of the logits, then clear the old
    gradients, backward() and a step of torch.optim.AdamW(lr=lr, weight_decay=0.01).
    Input:   model on the images' device; images (N, 1, 8, 8) float, standardised; labels (N,)
             int64; epochs and batch_size, ints; lr, a float.
    Return:  a list of `epochs` Python floats: the mean training loss of each epoch.
    Guide:   learning/07_image_classification.md#3-training
    """
    raise NotImplementedError(
        "TODO: AdamW; each epoch: train(), shuffle, batches: loss, zero_grad, backward, step"
    )


# %% Checks: run_exercises calls these; the solution file has the very same text
def check_1(device: torch.device) -> None:
    formula = "learning/05_neural_networks.md#2-layers-and-their-shapes"
    cases = [(8, 3, 1, 1), (28, 3, 2, 1), (32, 5, 2, 0), (8, 3, 2, 0), (7, 3, 2, 1), (5, 5, 1, 0)]
    results, actuals = [], []
    for size, kernel_size, stride, padding in cases:
        what = f"conv_output_size({size}, {kernel_size}, stride={stride}, padding={padding})"
        result = conv_output_size(size, kernel_size, stride, padding)
        conv = nn.Conv2d(1, 1, kernel_size, stride=stride, padding=padding).to(device)
        with torch.no_grad():
            actual = conv(torch.zeros(1, 1, size, size, device=device)).shape[-1]
        expect(
            not isinstance(result, float),
            f"{what} returned {result}, a float: `/` always gives one; use `//`, which rounds "
            f"down as a convolution does (nn.Conv2d gives {actual})",
        )
        results.append(expect_type(result, int, what))
        actuals.append(actual)
    if results == actuals:
        return
    one_sided = [(size + padding - kernel) // stride + 1 for size, kernel, stride, padding in cases]
    expect(
        results != one_sided,
        f"for (size, kernel_size, stride, padding) = {cases}, nn.Conv2d gives {actuals}, you "
        f"gave {results}: the padding goes on both sides, size + 2 * padding",
        section=formula,
    )
    expect(
        results != [actual - 1 for actual in actuals],
        f"for (size, kernel_size, stride, padding) = {cases}, nn.Conv2d gives {actuals}, you "
        f"gave {results}, one less each time: add 1, for the kernel's first position",
        section=formula,
    )
    raise WrongAnswerError(
        f"for (size, kernel_size, stride, padding) = {cases}, nn.Conv2d gives {actuals}, you gave "
        f"{results}: (size + 2 * padding - kernel_size) // stride + 1",
        section=formula,
    )


def check_2(device: torch.device) -> None:
    shapes = []  # (layer, output shape), recorded by forward hooks on a real batch

    def record(layer, inputs, output):
        shapes.append((type(layer).__name__, tuple(output.shape)))

    for num_classes in (10, 3):
        what = f"make_tiny_cnn({num_classes})"
        model = expect_type(make_tiny_cnn(num_classes), nn.Module, what).to(device)
        shapes.clear()
        kinds = (nn.Conv2d, nn.MaxPool2d, nn.Flatten, nn.Linear)
        handles = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, kinds)]
        images = torch.randn(5, 1, 8, 8, device=device)
        crash = None  # the Linear layer's error, if the shapes do not fit
        try:
            with torch.no_grad():
                logits = model.eval()(images)
        except RuntimeError as error:
            if isinstance(error, NotImplementedError) or "mat1 and mat2" not in str(error):
                raise  # a TODO (NotImplementedError is a RuntimeError) or another error
            crash = str(error).splitlines()[0]
        finally:
            for handle in handles:
                handle.remove()
        expected = [
            ("Conv2d", (5, 8, 8, 8)),
            ("MaxPool2d", (5, 8, 4, 4)),
            ("Conv2d", (5, 16, 4, 4)),
            ("MaxPool2d", (5, 16, 2, 2)),
            ("Flatten", (5, 64)),
            ("Linear", (5, num_classes)),
        ]
        for index, (layer, shape) in enumerate(expected):
            if crash is not None and index >= len(shapes):  # every layer so far was right
                raise WrongAnswerError(
                    f"{what} raised RuntimeError: {crash}: put nn.Flatten() before the Linear "
                    "layer, and give it the in_features that Flatten hands it: 16 channels x 2 "
                    "x 2 = 64 after two MaxPool2d(2)"
                )
            got = shapes[index] if index < len(shapes) else ("nothing", ())
            expect(
                got == (layer, shape),
                f"{what} on images (5, 1, 8, 8): layer {index + 1} of Conv2d, MaxPool2d, "
                f"Flatten and Linear should be {layer} giving {shape}, got {got[0]} giving "
                f"{got[1]}: Conv2d(1, 8, 3, padding=1), ReLU, MaxPool2d(2), Conv2d(8, 16, 3, "
                "padding=1), ReLU, MaxPool2d(2), Flatten, Dropout(0.25), Linear",
            )
        expect(
            len(shapes) == len(expected),
            f"{what}: {len(shapes)} Conv2d, MaxPool2d, Flatten and Linear layers ran, expected "
            f"{len(expected)}",
        )
        logits = expect_tensor(logits, what, shape=(5, num_classes), device=device)
        count = 8 * (1 * 9 + 1) + 16 * (8 * 9 + 1) + num_classes * (64 + 1)
        num_params = sum(p.numel() for p in model.parameters())
        expect(
            num_params == count,
            f"{what} has {num_params} parameters, expected 8 * (1 * 3 * 3 + 1) + 16 * "
            f"(8 * 3 * 3 + 1) + {num_classes} * (64 + 1) = {count}",
        )
        sums = logits.sum(dim=1)
        expect(
            not (bool((logits >= 0).all()) and torch.allclose(sums, torch.ones_like(sums))),
            f"{what} returns probabilities (softmax): return the raw logits; cross_entropy "
            "applies log_softmax itself",
        )
        relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
        expect(len(relus) >= 2, f"{what} has {len(relus)} nn.ReLU, expected one after each Conv2d")
        dropouts = [m.p for m in model.modules() if isinstance(m, nn.Dropout)]
        expect(
            dropouts == [0.25],
            f"{what}: expected one nn.Dropout(0.25) after Flatten, found dropout p {dropouts}",
        )


def check_3(device: torch.device) -> None:
    def windows(padded: np.ndarray, s: int, offsets: list) -> np.ndarray:  # (shifts, n, 1, 6, 7)
        return np.stack(
            [padded[:, :, s + dy : s + dy + 6, s + dx : s + dx + 7] for dy, dx in offsets]
        )

    def matches(candidates: np.ndarray, result: np.ndarray) -> np.ndarray:  # (shifts, n): fits
        return (candidates == result).all(axis=(2, 3, 4))

    for max_shift, count in ((1, 300), (2, 400)):
        images = torch.rand(count, 1, 6, 7, device=device)  # every pixel different
        original = images.clone()
        what = f"random_shift(images ({count}, 1, 6, 7), max_shift={max_shift})"
        shifted = expect_tensor(
            random_shift(images, max_shift),
            what,
            shape=(count, 1, 6, 7),
            dtype=torch.float32,
            device=device,
        )
        expect(
            torch.equal(images, original),
            f"{what} changed images itself: build a new tensor",
        )
        # Every allowed result, by NumPy: the windows of the edge-padded images, one per shift.
        s, pixels = max_shift, original.cpu().numpy()
        offsets = [(dy, dx) for dy in range(-s, s + 1) for dx in range(-s, s + 1)]
        result = shifted.cpu().numpy()[None]
        edge = ((0, 0), (0, 0), (s, s), (s, s))
        fits = matches(windows(np.pad(pixels, edge, mode="edge"), s, offsets), result)
        if not fits.any(axis=0).all():
            rolled = np.stack([np.roll(pixels, offset, axis=(2, 3)) for offset in offsets])
            expect(
                not matches(rolled, result).any(axis=0).all(),
                f"{what}: torch.roll wraps the far edge around to the other side: pad by "
                "repeating the edge pixels (mode='replicate') and cut a window instead",
            )
            expect(
                not matches(windows(np.pad(pixels, edge), s, offsets), result).any(axis=0).all(),
                f"{what}: the gap is filled with 0s: repeat the edge pixels "
                "(nn.functional.pad(..., mode='replicate'))",
            )
            first = int(np.argmin(fits.any(axis=0)))
            raise WrongAnswerError(
                f"{what}: image {first} is not the input moved by at most {s} pixels in y and x "
                "with the edge pixels repeated"
            )
        used = fits.argmax(axis=0)  # (count,) the shift each image got
        expect(
            bool((used != len(offsets) // 2).any()),
            f"{what}: no image moved: draw a shift for each image",
        )
        kinds = len(set(used.tolist()))
        expect(
            kinds > 1,
            f"{what}: every image moved the same way: draw a shift for each image, not one for "
            "the whole batch",
        )
        expect(
            kinds == len(offsets),
            f"{what}: over {count} images only {kinds} of the {len(offsets)} shifts (from -{s} "
            f"to {s} in y and in x) appeared: draw each of dy and dx from all {2 * s + 1} values",
        )


def check_4(device: torch.device) -> None:
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10)
    )
    model = model.to(device).train()  # as a training loop leaves it
    reference = copy.deepcopy(model).eval()
    images = torch.randn(20, 1, 8, 8, device=device)
    what = "predict_with_confidence(model with dropout, images (20, 1, 8, 8))"
    result = expect_type(predict_with_confidence(model, images), (tuple, list), what)
    expect(len(result) == 2, f"{what} returned {len(result)} values, expected 2")
    classes, confidences = result
    expect(
        not (isinstance(classes, torch.Tensor) and tuple(classes.shape) == (10,)),
        f"{what}: classes: expected shape (20,), got (10,): take the max over dim=1, the "
        "classes, to get one answer per image",
    )
    expect_tensor(classes, f"{what}: classes", shape=(20,), dtype=torch.int64, device=device)
    expect_tensor(confidences, f"{what}: confidences", shape=(20,), device=device)
    expect(
        not confidences.requires_grad,
        f"{what} still records gradients: run the model under torch.inference_mode()",
    )
    with torch.no_grad():
        logits = reference(images)
        expected, expected_classes = logits.softmax(dim=1).max(dim=1)
    expect(
        not torch.allclose(confidences, logits.max(dim=1).values, atol=1e-6),
        f"{what}: the confidences are the largest logits: apply softmax first, so that they "
        "are probabilities",
    )
    again = predict_with_confidence(model.train(), images)[1]
    expect(
        torch.allclose(confidences, again) and torch.allclose(confidences, expected, atol=1e-6),
        f"{what}: dropout was on, so the answers change from call to call: call model.eval() "
        "before predicting",
    )
    expect_close(confidences, expected, f"{what}: confidences", rtol=1e-5, atol=1e-6)
    expect(
        torch.equal(classes, expected_classes),
        f"{what}: classes: expected {expected_classes.tolist()}, got {classes.tolist()}",
    )


def check_5(device: torch.device) -> None:
    example_true = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2], device=device)
    example_said = torch.tensor([0, 0, 1, 1, 1, 2, 0, 2], device=device)
    true_labels = torch.randint(0, 9, (200,), device=device)  # class 9 never appears
    guesses = torch.randint(0, 9, (200,), device=device)
    predicted = torch.where(torch.rand(200, device=device) < 0.7, true_labels, guesses)
    cases = [
        ("the guide's 8 images, 3 classes", example_true, example_said, 3),
        ("200 images, 10 classes, class 9 absent", true_labels, predicted, 10),
    ]
    for description, truth, said, num_classes in cases:
        what = f"confusion_matrix({description})"
        try:
            matrix = confusion_matrix(truth, said, num_classes)
        except RuntimeError as error:
            if isinstance(error, NotImplementedError) or "invalid for input" not in str(error):
                raise  # a TODO (NotImplementedError is a RuntimeError) or another error
            raise WrongAnswerError(
                f"{what} raised RuntimeError: {error}: bincount counts only up to the largest "
                "number present, and class 9 never appears; pass minlength=num_classes ** 2"
            ) from None
        shape = (num_classes, num_classes)
        expect_tensor(matrix, what, shape=shape, dtype=torch.int64, device=device)
        expected = [[0] * num_classes for _ in range(num_classes)]  # counted by a loop
        for true_class, predicted_class in zip(truth.tolist(), said.tolist(), strict=True):
            expected[true_class][predicted_class] += 1
        if matrix.tolist() == expected:
            continue
        expect(
            matrix.T.tolist() != expected,
            f"{what} is transposed: row i is the true class i, column j the prediction j",
        )
        raise WrongAnswerError(f"{what}: expected {expected}, got {matrix.tolist()}")


def check_6(device: torch.device) -> None:
    # The digits, read as the lesson reads them: scikit-learn's CSV, without importing sklearn.
    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        raise WrongAnswerError(
            "cannot check: scikit-learn, which ships the digits, is not installed; run this "
            "file with uv run, which installs it"
        )
    csv_path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    if csv_path.exists():
        table = np.loadtxt(csv_path, delimiter=",", dtype=np.uint8)  # (1797, 64 pixels + label)
        pixels, digits = table[:, :-1], table[:, -1]
    else:  # moved by a future scikit-learn: the slow, official way
        from sklearn.datasets import load_digits

        pixels, digits = load_digits(return_X_y=True)
    images = torch.from_numpy(pixels.astype(np.float32)).reshape(-1, 1, 8, 8) / 16
    labels = torch.from_numpy(digits.astype(np.int64))
    order = torch.randperm(len(labels))
    train, val = order[:1200], order[1200:1500]
    mean, std = images[train].mean(), images[train].std()  # from train only
    images = ((images - mean) / std).to(device)
    labels = labels.to(device)
    model = nn.Sequential(  # exercise 2's CNN
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(64, 10),
    )  # fmt: skip
    model = model.to(device).eval()  # as predict_with_confidence leaves it
    # Hooks: the mode of every forward pass, and whether .grad held only the fresh gradient.
    passes, fresh, added_up = [], {}, []

    def record_mode(module, inputs):
        passes.append((module.training, torch.is_grad_enabled()))

    handles = [model.register_forward_pre_hook(record_mode)]
    for parameter in model.parameters():

        def remember(gradient, parameter=parameter):
            fresh[parameter] = gradient.detach().clone()

        def compare(parameter):
            added_up.append(not torch.allclose(parameter.grad, fresh[parameter]))

        handles.append(parameter.register_hook(remember))
        handles.append(parameter.register_post_accumulate_grad_hook(compare))
    what = "train_digits(model, 1,200 digits, labels, epochs=2, batch_size=64, lr=0.02)"
    train_images, train_labels = images[train.to(device)], labels[train.to(device)]
    try:
        losses = train_digits(model, train_images, train_labels, 2, 64, 0.02)
    finally:
        for handle in handles:
            handle.remove()
    losses = expect_type(losses, list, what)
    expect(len(losses) == 2, f"{what} returned {len(losses)} losses, expected one per epoch")
    expect(
        all(isinstance(loss, float) for loss in losses),
        f"{what}: expected Python floats, got a {type(losses[0]).__name__}: use loss.item()",
    )
    expect(
        all(math.isfinite(loss) for loss in losses),
        f"{what}: the losses are {losses}: training diverged",
    )
    expect(
        all(loss < 5 for loss in losses),
        f"{what}: the losses are {losses}, but an untrained model's mean loss is about 2.3: "
        "return each epoch's mean loss per image, not a sum",
    )
    expect(
        not any(added_up),
        f"{what}: the gradients added up from step to step: call optimizer.zero_grad() before "
        "loss.backward() in every step",
        section="learning/04_training.md#2-non-scalar-outputs-and-accumulation",
    )
    expect(
        not any(not training and grad for training, grad in passes),
        f"{what}: the model trained in evaluation mode, so dropout was off: call model.train() "
        "at the start of every epoch (the model came in eval mode)",
    )
    model.eval()
    with torch.no_grad():
        predicted = model(images[val.to(device)]).argmax(dim=1)
    accuracy = (predicted == labels[val.to(device)]).float().mean().item()
    floor = math.log(1 + 9 / math.e)  # the least cross-entropy of 10 probabilities: 1.46
    expect(
        accuracy < 0.5 or min(losses) < floor,
        f"{what}: the training loss never went below {min(losses):.3f}, though the model is "
        f"{accuracy:.0%} right: cross_entropy was given probabilities, which can never take it "
        f"below {floor:.2f}; give it the raw logits (it applies log_softmax itself)",
    )
    expect(
        accuracy >= 0.75,
        f"{what}: validation accuracy {accuracy:.1%} after 2 epochs, expected at least 75%: "
        "every batch of every epoch, cross_entropy of the raw logits (no softmax first), and "
        "AdamW on model.parameters() with lr",
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
    Exercise("A convolution's output size", f"{GUIDE}#2-the-model", check_1),
    Exercise("A tiny CNN", f"{GUIDE}#2-the-model", check_2),
    Exercise("Random shifts", f"{GUIDE}#3-training", check_3),
    Exercise("Predictions and their confidence", f"{GUIDE}#4-evaluation", check_4),
    Exercise("A confusion matrix by hand", f"{GUIDE}#4-evaluation", check_5),
    Exercise("Train on real digits", f"{GUIDE}#3-training", check_6),
]


def main(argv: list[str]) -> None:
    parser = contract_parser(
        __doc__.split("\n")[0], smoke_help="accepted like every lesson's; the checks are small"
    )
    add_exercise_flags(parser, len(EXERCISES))
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    torch.set_num_threads(1)  # tiny tensors: a pool of CPU threads costs more than it saves
    console.print(
        f"Exercises 07 - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )
    run_exercises(EXERCISES, device, args.seed, args.only)


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
