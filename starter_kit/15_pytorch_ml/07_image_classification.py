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
"""Lesson 07 - Project: image classification, from 8x8 pixels to "7 (0.99 confidence)".

A CNN (Conv2d -> ReLU -> MaxPool2d -> ... -> Linear) learns 1,797 real handwritten digits, next
to a linear model and an MLP; then per-class accuracy, a confusion matrix, digits and filters
drawn in the terminal, a checkpoint, and one test image classified from it.

Run it:   uv run starter_kit/15_pytorch_ml/07_image_classification.py
Predict:  uv run starter_kit/15_pytorch_ml/07_image_classification.py --predict-index 5
MNIST:    uv run starter_kit/15_pytorch_ml/07_image_classification.py --dataset mnist
Guide:    learning/07_image_classification.md
"""

import argparse
import gzip
import hashlib
import importlib.util
import json
import math
import os
import random
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NoReturn

import numpy as np
import torch
from rich.columns import Columns
from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress, TextColumn
from rich.table import Table
from rich.text import Text
from torch import nn

# %% Config
# A notebook kernel has no __file__; Jupyter and VS Code start it in the lesson's own folder.
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
DEFAULT_CHECKPOINT = HERE / "checkpoints" / "07_cnn.pt"
CACHE_DIR = Path(os.environ.get("STARTER_KIT_CACHE", "~/.cache/pytorch-starter-kit")).expanduser()
# MNIST and Fashion-MNIST: the first mirror and the MD5 sums that torchvision's dataset code lists.
IDX_URLS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
IDX_MD5 = {  # train images, train labels, test images, test labels
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
FASHION = "T-shirt,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Boot".split(",")
CLASSES = {"digits": list("0123456789"), "mnist": list("0123456789"), "fashion-mnist": FASHION}
SPLIT = (0.7, 0.15, 0.15)  # digits: train / validation / test, cut per class
MNIST_VALIDATION = 0.1  # MNIST has its own test set; 10% of its train set validates
SMOKE_IDX_IMAGES = 2000  # --smoke --dataset mnist: the first 2,000 train and test images
EPOCHS, SMOKE_EPOCHS, BATCH_SIZE = 20, 4, 64
LEARNING_RATE = 1e-2  # the peak of the one-cycle schedule
WEIGHT_DECAY = 0.01
MAX_SHIFT = 1  # augmentation: move each training image up to 1 pixel in x and y
SHADES = " ░▒▓█"  # terminal pictures: each picture's lowest value to its highest
ART_SIZE = 14  # pictures larger than 14x14 (MNIST's 28x28) are averaged down to it
# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--epochs", "5"].
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


# %% 1. The data
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


def read_idx(path: Path) -> np.ndarray:
    """A gzipped IDX file: 0, 0, a type code (MNIST's are all 0x08, unsigned bytes), the number of
    dimensions, each dimension as a big-endian uint32, then the bytes in row-major order."""
    raw = gzip.decompress(path.read_bytes())  # not gzip, or cut off: OSError, EOFError
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08" or len(raw) < 4 + 4 * raw[3]:
        raise ValueError(f"{path.name} is not an IDX file of bytes (bad or cut-off header)")
    header_size = 4 + 4 * raw[3]  # magic number + one uint32 per dimension
    shape = tuple(int(size) for size in np.frombuffer(raw[4:header_size], dtype=">u4"))
    if len(raw) - header_size != math.prod(shape):
        raise ValueError(f"{path.name}: the header says {shape}, the data has another size")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def fetch_idx_dataset(name: str, cache_dir: Path = CACHE_DIR) -> list[Path]:
    """Train images, train labels, test images, test labels: each downloaded once, to a .part
    file, checked against its published MD5, and only then given its real name."""
    folder = Path(cache_dir).expanduser() / name
    for filename, md5 in IDX_MD5[name].items():
        path = folder / filename
        if path.is_file() and md5_of(path.read_bytes()) == md5:
            continue  # checked on every run: a damaged cached copy is downloaded again

        def download(file, filename=filename, md5=md5) -> None:
            with console.status(f"downloading {filename}"):
                with urllib.request.urlopen(IDX_URLS[name] + filename, timeout=30) as response:
                    data = response.read()
            if md5_of(data) != md5:
                raise ValueError(f"the download of {filename} does not match its published MD5")
            file.write(data)

        write_atomically(path, download)  # renamed into place only when whole and checked
    return [folder / filename for filename in IDX_MD5[name]]


def md5_of(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def stratified_split(labels: torch.Tensor, fractions, generator) -> list[torch.Tensor]:
    """Index tensors, one per split, with every class cut in the same proportions."""
    splits = [[] for _ in fractions]
    for label in labels.unique():
        indices = (labels == label).nonzero().squeeze(1)
        indices = indices[torch.randperm(len(indices), generator=generator)]
        bounds = [round(sum(fractions[:i]) * len(indices)) for i in range(len(fractions) + 1)]
        for i, split in enumerate(splits):
            split.append(indices[bounds[i] : bounds[i + 1]])
    return [torch.cat(split).sort().values for split in splits]


def load_dataset(name: str, seed: int, smoke: bool) -> dict:
    """{'train'|'validation'|'test': (images (N, 1, H, W), labels (N,)), 'mean', 'std'}."""
    generator = torch.Generator().manual_seed(seed)
    if name == "digits":
        images, labels = (torch.from_numpy(array) for array in load_digits_arrays())
        indices, scale = stratified_split(labels, SPLIT, generator), 16  # pixels are 0..16
    else:
        count = SMOKE_IDX_IMAGES if smoke else None  # [:None] keeps everything
        try:
            arrays = [torch.from_numpy(read_idx(p)[:count].copy()) for p in fetch_idx_dataset(name)]
        except (ValueError, EOFError) as error:  # a download that is not what was published
            fail(f"{error}; try again later, or use --dataset digits (it needs no network)")
        except OSError as error:  # no network: URLError and timeouts are OSErrors too
            fail(f"could not download {name} ({error}); --dataset digits needs no network")
        images, labels = torch.cat(arrays[0::2]), torch.cat(arrays[1::2])  # train, then test
        fractions = (1 - MNIST_VALIDATION, MNIST_VALIDATION)  # the official test set stays as is
        test = torch.arange(len(arrays[1]), len(labels))
        indices, scale = [*stratified_split(arrays[1], fractions, generator), test], 255
    splits = [(images[index] / scale, labels[index].long()) for index in indices]  # 0..1
    mean, std = splits[0][0].mean().item(), splits[0][0].std().item()  # train only: no leaks
    data = {"mean": mean, "std": std}
    for key, (images, labels) in zip(("train", "validation", "test"), splits, strict=True):
        data[key] = ((images.unsqueeze(1) - mean) / std, labels)  # (N, 1, H, W), (N,)
    return data


def draw(image: torch.Tensor) -> list[str]:
    """A (H, W) image as lines of block characters, two per pixel so it looks square."""
    image = image.detach().float().cpu().nan_to_num()  # a diverged weight must still draw
    if image.shape[-1] > ART_SIZE:  # MNIST's 28x28 -> 14x14, by averaging 2x2 blocks
        image = nn.functional.avg_pool2d(image[None, None], image.shape[-1] // ART_SIZE)[0, 0]
    low, high = image.min(), image.max()
    levels = ((image - low) / (high - low + 1e-8) * (len(SHADES) - 1)).round().clamp(0, 4).long()
    return ["".join(SHADES[level] * 2 for level in row) for row in levels.tolist()]


def show_pictures(pictures: list[list[str]], captions: list[list[str]]) -> None:
    """Pictures side by side with captions underneath, as many per row as the terminal fits."""
    blocks = [Text("\n".join(lines + more)) for lines, more in zip(pictures, captions, strict=True)]
    console.print(Columns(blocks, padding=(0, 2)))


def show_data(name: str, seed: int, smoke: bool) -> dict:
    console.rule("1. The data")
    data, classes = load_dataset(name, seed, smoke), CLASSES[name]
    table = Table("split", "images (N, channels, height, width)", "images per class")
    for split in ("train", "validation", "test"):
        images, labels = data[split]
        counts = torch.bincount(labels, minlength=len(classes))
        table.add_row(split, str(tuple(images.shape)), f"{counts.min()} to {counts.max()}")
    console.print(table)
    console.print(f"standardised with the train mean {data['mean']:.3f} and std {data['std']:.3f}")
    return data


# %% 2. The model
def make_model(kind: str, image_size: int = 8, num_classes: int = 10) -> nn.Sequential:
    if kind == "linear":  # logistic regression: one weight per pixel per class
        return nn.Sequential(nn.Flatten(), nn.Linear(image_size**2, num_classes))
    if kind == "mlp":  # sees the pixels as a list of numbers: where they sit is lost
        hidden = nn.Linear(image_size**2, 128)
        return nn.Sequential(nn.Flatten(), hidden, nn.ReLU(), nn.Linear(128, num_classes))
    return nn.Sequential(  # shapes for 8x8 digits; 28x28 MNIST goes 28 -> 14 -> 7
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(),  # (batch, 16, 8, 8): strokes
        nn.Conv2d(16, 16, kernel_size=3, padding=1), nn.ReLU(),  # (batch, 16, 8, 8): corners
        nn.MaxPool2d(2),  # (batch, 16, 4, 4): the strongest response in each 2x2 patch
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(),  # (batch, 32, 4, 4): parts
        nn.MaxPool2d(2),  # (batch, 32, 2, 2)
        nn.Flatten(),  # (batch, 128): feature extraction ends, classification starts
        nn.Dropout(0.25),  # while training, zero a quarter of the features: less memorising
        nn.Linear(32 * (image_size // 4) ** 2, num_classes),  # (batch, 10): a score per class
    )  # fmt: skip


def count_parameters(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def layer_table(model: nn.Sequential, images: torch.Tensor) -> list[tuple[str, tuple, int]]:
    """(layer, output shape, parameters) per layer, recorded by forward hooks on a real batch."""
    rows = []

    def record(layer, inputs, output):  # PyTorch calls this right after layer.forward
        rows.append((type(layer).__name__, tuple(output.shape), count_parameters(layer)))

    hooks = [layer.register_forward_hook(record) for layer in model]
    with torch.inference_mode():
        model.eval()(images)
    for hook in hooks:
        hook.remove()  # hooks stay until removed: leave the model as we found it
    return rows


def show_models(data: dict, num_classes: int, device: torch.device) -> dict[str, nn.Module]:
    console.rule("2. The model")
    size = data["train"][0].shape[-1]
    names = ["linear", "mlp", "cnn", "cnn + shifts"]  # name.split()[0]: the kind of model
    models = {name: make_model(name.split()[0], size, num_classes).to(device) for name in names}
    batch = data["train"][0][:64].to(device)  # (64, 1, H, W)
    table = Table("#", "layer", "output shape", "parameters", title="the CNN, on a real batch")
    table.add_row("", "input", str(tuple(batch.shape)), "")
    for index, (layer, shape, params) in enumerate(layer_table(models["cnn"], batch)):
        table.add_row(str(index), layer, str(shape), f"{params:,}" if params else "")
    console.print(table)
    # A Linear layer making the same 16 x H x W outputs: a weight from every pixel to each, + a bias
    dense = (size**2 + 1) * 16 * size**2
    console.print(f"first Conv2d: 160 parameters make 16 maps of {size}x{size}; Linear: {dense:,}")
    return models


# %% 3. Training
def random_shift(images: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Move each image up to max_shift pixels in x and y, repeating the edge pixels."""
    batch, _, height, width = images.shape
    padded = nn.functional.pad(images, (max_shift,) * 4, mode="replicate")  # (b, 1, H+2s, W+2s)
    windows = padded.unfold(2, height, 1).unfold(3, width, 1)  # (b, 1, 2s+1, 2s+1, H, W)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, batch), device=images.device)
    return windows[torch.arange(batch, device=images.device), :, dy, dx]  # (b, 1, H, W)


@torch.inference_mode()
def predict_probabilities(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    model.eval()  # dropout off
    return torch.cat([model(chunk).softmax(dim=1) for chunk in images.split(512)])  # (N, classes)


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    return (predict_probabilities(model, images).argmax(dim=1) == labels).float().mean().item()


def show_training(models, data, epochs, batch_size, lr, seed, device) -> dict[str, dict]:
    """AdamW with a one-cycle schedule; each model keeps its best validation epoch's weights."""
    console.rule("3. Training")
    images, labels = (tensor.to(device) for tensor in data["train"])
    val_images, val_labels = (tensor.to(device) for tensor in data["validation"])
    # The first optimizer imports torch's compiler stack (seconds, once): keep it off the clocks.
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
    results, status = {}, TextColumn("{task.fields[status]}")
    with Progress(*Progress.get_default_columns(), status, console=console) as progress:
        for name, model in models.items():
            task, start = progress.add_task(name, total=epochs, status=""), time.perf_counter()
            shuffler = torch.Generator().manual_seed(seed)  # every model gets the same batches
            optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=WEIGHT_DECAY)
            steps = epochs * math.ceil(len(labels) / batch_size)  # one cycle: up to lr, down to ~0
            schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, steps)
            best = {"val_accuracy": -1.0}
            for epoch in range(1, epochs + 1):
                model.train()  # dropout on
                for batch in torch.randperm(len(labels), generator=shuffler).split(batch_size):
                    batch_images, batch_labels = images[batch.to(device)], labels[batch.to(device)]
                    if name.endswith("shifts"):
                        batch_images = random_shift(batch_images, MAX_SHIFT)  # (batch, 1, H, W)
                    loss = nn.functional.cross_entropy(model(batch_images), batch_labels)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    schedule.step()
                stop_if_diverged(loss.item(), epoch)  # once a weight is nan, every loss is
                val_accuracy = accuracy(model, val_images, val_labels)
                if val_accuracy > best["val_accuracy"]:  # the test split has no say in this
                    state = {key: value.clone() for key, value in model.state_dict().items()}
                    best = {"val_accuracy": val_accuracy, "epoch": epoch, "state": state}
                progress.update(task, advance=1, status=f"validation {val_accuracy:.1%}")
            model.load_state_dict(best.pop("state"))
            results[name] = best | {"seconds": time.perf_counter() - start}
    return results


# %% 4. Evaluation
def show_evaluation(models, results, data, classes, device) -> str:
    console.rule("4. Evaluation")
    images, labels = (tensor.to(device) for tensor in data["test"])
    table = Table("model", "parameters", "best epoch", "val. acc.", "test acc.", "train time")
    for name, model in models.items():
        result = results[name]
        val = result["val_accuracy"]
        test = result["test_accuracy"] = accuracy(model, images, labels)
        row = [f"{count_parameters(model):,}", str(result["epoch"]), f"{val:.1%}", f"{test:.1%}"]
        table.add_row(name, *row, f"{result['seconds']:.2f} s")
    console.print(table)
    kept = max(["cnn", "cnn + shifts"], key=lambda name: results[name]["val_accuracy"])
    console.print(f"kept: {kept} (the better validation accuracy; a tie keeps the plain cnn)")
    confidences, predicted = predict_probabilities(models[kept], images).cpu().max(dim=1)
    labels, num_classes = labels.cpu(), len(classes)
    pairs = labels * num_classes + predicted  # one bin per (true, predicted) pair
    matrix = torch.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)
    grid = Table("true", *classes, "accuracy", title=f"{kept}: test confusion matrix")
    for row, counts in enumerate(matrix.tolist()):  # row = the true class, column = the guess
        cells = [
            f"[green]{n}[/]" if col == row else f"[bold red]{n}[/]" if n else "[dim]·[/]"
            for col, n in enumerate(counts)
        ]
        class_accuracy = counts[row] / max(sum(counts), 1)  # per-class accuracy: the diagonal
        grid.add_row(classes[row], *cells, f"{class_accuracy:.1%}")
    console.print(grid)
    for verdict, hits in (("right", predicted == labels), ("wrong", predicted != labels)):
        chosen = hits.nonzero().squeeze(1)[:4].tolist()  # 4 fit side by side in 80 columns
        console.print(f"the first {len(chosen)} test images the {kept} got {verdict}:")
        captions = [
            [f"#{i}: {classes[predicted[i]]} ({confidences[i]:.2f})", f"true {classes[labels[i]]}"]
            for i in chosen
        ]
        show_pictures([draw(data["test"][0][i, 0]) for i in chosen], captions)
    return kept


# %% 5. What the network learned
def show_learned(model: nn.Sequential, data: dict, device: torch.device) -> None:
    console.rule("5. What the network learned")
    filters = model[0].weight.detach().cpu()  # (16, 1, 3, 3): each filter is a tiny picture
    console.print("the 16 first-layer 3x3 filters (blank = lowest weight, █ = highest):")
    show_pictures([draw(kernel[0]) for kernel in filters], [[f"f{i}"] for i in range(16)])
    image = data["test"][0][:1].to(device)  # (1, 1, H, W)
    with torch.inference_mode():
        feature_maps = model[1](model[0](image))[0].cpu()  # (16, H, W): Conv2d, then ReLU
    strongest = feature_maps.flatten(1).amax(dim=1).argsort(descending=True)[:3].tolist()
    console.print("test image 0 and the three feature maps that respond to it most strongly:")
    pictures = [draw(image[0, 0])] + [draw(feature_maps[i]) for i in strongest]
    show_pictures(pictures, [["input"]] + [[f"f{i} map"] for i in strongest])


# %% 6. Saving and predicting
def load_checkpoint(path: Path, device: torch.device) -> tuple[nn.Module, dict]:
    """weights_only=True: tensors, numbers, strings, lists and dicts only; arbitrary code is refused
    by design (it has had bypasses, e.g. CVE-2025-32434, fixed in torch 2.6: keep torch updated)."""
    if not path.is_file():
        fail(f"no checkpoint file at {path}; train one first: uv run {sys.argv[0]}")
    try:
        with warnings.catch_warnings(action="ignore"):  # e.g. torch's note on a legacy format
            checkpoint = torch.load(path, weights_only=True, map_location=device)
        if not isinstance(checkpoint, dict):  # e.g. a bare tensor, saved by other code
            raise TypeError(f"a {type(checkpoint).__name__}, not a dict")
        config = checkpoint["config"]
        model = make_model("cnn", config["image_size"], len(CLASSES[config["dataset"]]))
        model.load_state_dict(checkpoint["model_state"])
    except Exception as e:  # damaged bytes fail in many ways (KeyError, struct.error, ...)
        fail(f"{path} is not a readable checkpoint ({type(e).__name__}); train a new one")
    return model.to(device).eval(), config


def predict_index(model: nn.Module, config: dict, index: int, device: torch.device) -> None:
    """Classify test image `index` of the very split the checkpoint's model was tested on."""
    images, labels = load_dataset(config["dataset"], config["seed"], config["smoke"])["test"]
    if not 0 <= index < len(labels):
        fail(f"--predict-index {index} is out of range: the test images are 0-{len(labels) - 1}", 2)
    confidence, predicted = predict_probabilities(model, images[[index]].to(device))[0].max(dim=0)
    predicted, truth = (CLASSES[config["dataset"]][i] for i in (predicted, labels[index]))
    show_pictures([draw(images[index, 0])], [[f"test image {index}"]])
    console.print(f"{predicted} ({confidence:.2f} confidence), true label {truth}")


def show_checkpoint(path: Path, model: nn.Module, config: dict, data: dict, device) -> None:
    console.rule("6. Saving and predicting")
    checkpoint = {"model_state": model.state_dict(), "config": config}  # weights + how to rebuild
    try:  # atomic: a crash mid-save never leaves a half-written checkpoint
        write_atomically(path, lambda file: torch.save(checkpoint, file))
    except OSError as error:
        fail(f"could not save the checkpoint to {path} ({error.strerror or error})")
    console.print(f"saved the {config['model']} to {path.name} ({path.stat().st_size // 1000} kB)")
    loaded, _ = load_checkpoint(path, device)
    images = data["test"][0].to(device)
    same = torch.equal(predict_probabilities(model, images), predict_probabilities(loaded, images))
    console.print(f"reloaded with weights_only=True; same test predictions as before: {same}")
    predict_index(loaded, config, 7, device)  # --predict-index N does this for any test image


# %% main
def main(argv: list[str]) -> None:
    parser = contract_parser(
        __doc__.split("\n\n")[1], smoke_help=f"a tiny run for tests: at most {SMOKE_EPOCHS} epochs"
    )
    add_training_flags(parser, EPOCHS, BATCH_SIZE, LEARNING_RATE, lr_help="AdamW's peak rate")
    online = f"digits: offline; mnist, fashion-mnist: downloaded once (11 / 30 MB) to {CACHE_DIR}"
    parser.add_argument("--dataset", choices=list(CLASSES), default="digits", help=online)
    parser.add_argument("--predict-index", type=int, metavar="N", help="classify test image N")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="save/load")
    args = parser.parse_args(argv)
    if args.predict_index is None:  # training writes the checkpoint: check the path first
        try:
            output_file(str(args.checkpoint))
        except argparse.ArgumentTypeError as error:
            parser.error(f"argument --checkpoint: {error}")
    device = resolve_device(args.device)
    torch.set_num_threads(1)  # tiny images: a pool of CPU threads costs more than it saves
    if args.predict_index is not None:  # from the checkpoint that a default run saved
        predict_index(*load_checkpoint(args.checkpoint, device), args.predict_index, device)
        return

    seed_everything(args.seed, device)
    epochs = min(args.epochs, SMOKE_EPOCHS) if args.smoke else args.epochs
    console.print(f"Lesson 07 - PyTorch {torch.__version__} - device {device} - seed {args.seed}")
    data = show_data(args.dataset, args.seed, args.smoke)
    models = show_models(data, len(CLASSES[args.dataset]), device)
    results = show_training(models, data, epochs, args.batch_size, args.lr, args.seed, device)
    kept = show_evaluation(models, results, data, CLASSES[args.dataset], device)
    show_learned(models[kept], data, device)
    # dataset + seed + smoke rebuild the test split; mean and std standardise any new image
    config = {"model": kept, "dataset": args.dataset, "seed": args.seed, "smoke": args.smoke}
    config |= {"image_size": data["train"][0].shape[-1], "mean": data["mean"], "std": data["std"]}
    with tempfile.TemporaryDirectory() as scratch:  # a smoke model never replaces a trained one
        keep = args.smoke and args.checkpoint.exists()
        path = Path(scratch) / args.checkpoint.name if keep else args.checkpoint
        show_checkpoint(path, models[kept], config, data, device)
        if keep:
            console.print(f"(--smoke: your checkpoint {args.checkpoint.name} was left as it was)")
    learned = "Shared filters find a pattern anywhere; validation picks weights; test is used once."
    console.print(Panel(learned, title="What you just learned"))
    if args.metrics_json:
        metrics = {"model": kept, "test_accuracy": results[kept]["test_accuracy"], "epochs": epochs}
        metrics["train_seconds"] = sum(result["seconds"] for result in results.values())
        for name, result in results.items():  # linear_accuracy, ..., cnn_shifts_accuracy
            metrics[f"{name.replace(' + ', '_')}_accuracy"] = result["test_accuracy"]
        args.metrics_json.write_text(json.dumps(metrics, indent=2), encoding="utf-8")


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
