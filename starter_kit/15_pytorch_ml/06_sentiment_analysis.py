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
"""Lesson 06 - Project: sentiment analysis, from raw review text to "Positive (0.95 confidence)".

Tokenizer, vocabulary, padded batches, EmbeddingBag and LSTM models, a Naive Bayes baseline,
validation, one honest test, a checkpoint, a predictor. Guide: learning/06_sentiment_analysis.md
Run: uv run starter_kit/15_pytorch_ml/06_sentiment_analysis.py [--predict TEXT] [--dataset imdb]
"""

import argparse
import hashlib
import json
import math
import os
import random
import re
import sys
import tarfile
import tempfile
import time
import urllib.request
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NoReturn

import numpy as np
import torch
from rich.console import Console
from rich.panel import Panel
from rich.progress import track
from rich.table import Table
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence
from torch.utils.data import DataLoader

# %% Config
# A notebook kernel has no __file__; Jupyter and VS Code start it in the lesson's own folder.
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
CORPUS_PATH = HERE / "data" / "movie_reviews.tsv"  # written for the kit: data/README.md
DEFAULT_CHECKPOINT = HERE / "checkpoints" / "06_sentiment.pt"
CACHE_DIR = Path(os.environ.get("STARTER_KIT_CACHE", "~/.cache/pytorch-starter-kit")).expanduser()
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SIZE = 84_125_825
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
LABELS = ["Negative", "Positive"]  # label 0, label 1
PAD_ID, UNK_ID = 0, 1  # "<pad>" and "<unk>" open every vocabulary
MIN_FREQ = 2  # a word (or word pair) seen once in train is mostly noise: it is left out
MAX_PAIRS = 50_000  # the most frequent pairs only: IMDB has far more, each a row of 64 weights
MAX_TOKENS = 256  # IMDB reviews run to 2,000 words; the models read the first 256
EMBED_DIM, HIDDEN_SIZE, DROPOUT = 64, 64, 0.5  # LSTM dropout: 2,300 reviews are easy to memorise
EPOCHS, BATCH_SIZE = 10, 32  # chosen on the validation split, like the learning rates
LEARNING_RATES = {"bag-of-words": 3e-4, "lstm": 1e-2}  # Adam's; --lr sets one for both
SMOKE_EPOCHS, SMOKE_REVIEWS = 5, 400  # --smoke: 5 epochs, the first 400 reviews of each split
DEMO_TEXTS = ["This movie is amazing!", "Not bad at all.", "A wonderful, moving film."]
ECHO_CHARS = 60  # --predict shows at most this much of each text it classifies
# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--predict", "What a fun film!"].
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


# %% 1. The data
def load_imdb(seed=0, cache_dir=CACHE_DIR, url=IMDB_URL, size=IMDB_SIZE, sha256=IMDB_SHA256):
    """Download once (checksum-verified, renamed into place only when whole), then read it."""
    archive = Path(cache_dir).expanduser() / "aclImdb_v1.tar.gz"

    def download(file) -> None:  # into a temporary file: it takes the real name only when whole
        digest = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=30) as response:
            chunks = iter(lambda: response.read(1 << 20), b"")  # 1 MiB at a time until b""
            for chunk in track(chunks, "IMDB", size >> 20, disable=not console.is_terminal):
                file.write(chunk)
                digest.update(chunk)
        if digest.hexdigest() != sha256:
            raise ValueError(f"the download from {url} does not match its published checksum")

    # Checked on every run, not only after the download: a damaged cached copy is replaced.
    if not (archive.is_file() and hashlib.sha256(archive.read_bytes()).hexdigest() == sha256):
        write_atomically(archive, download)
    splits = {"train": [], "test": []}  # the checksum vouches for the archive's contents
    with tarfile.open(archive, "r:gz") as tar:  # no extractall: nothing lands on disk
        for member in tar:  # the README and train/unsup (no labels) do not match
            found = re.fullmatch(r"aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt", member.name)
            if found and member.isfile():
                text = tar.extractfile(member).read().decode("utf-8")
                splits[found[1]].append((text, int(found[2] == "pos")))
    for reviews in splits.values():  # the archive lists all negatives, then all positives
        random.Random(seed).shuffle(reviews)
    cut = len(splits["train"]) // 10  # IMDB has no validation split: hold out 10% of train
    splits["validation"], splits["train"] = splits["train"][:cut], splits["train"][cut:]
    return splits


def show_data(dataset: str, smoke: bool, seed: int) -> dict[str, list[tuple[str, int]]]:
    console.rule("1. The data")
    if dataset == "imdb":
        try:
            splits = load_imdb(seed)
        except (OSError, ValueError) as error:  # no network (URLError is an OSError), a bad file
            fail(f"IMDB: {error}; the offline default is --dataset bundled")
    elif not CORPUS_PATH.exists():
        fail(f"the review corpus is missing: it should be at {CORPUS_PATH}")
    else:  # the kit's corpus: one review per line, split<TAB>label<TAB>text, the split fixed
        splits = {"train": [], "validation": [], "test": []}
        for line in CORPUS_PATH.read_text(encoding="utf-8").splitlines()[1:]:  # 1: the header
            split, label, text = line.split("\t", 2)
            splits[split].append((text, int(label == "pos")))
    if smoke:  # a few hundred reviews per split (IMDB's 25,000 test reviews shrink too)
        splits = {name: reviews[:SMOKE_REVIEWS] for name, reviews in splits.items()}
    table = Table("split", "reviews", "positive", "negative", title=f"dataset: {dataset}")
    for name, reviews in splits.items():
        num_positive = sum(label for _, label in reviews)
        table.add_row(name, str(len(reviews)), str(num_positive), str(len(reviews) - num_positive))
    console.print(table)
    for text, label in splits["train"][:3]:
        console.print(f"  {LABELS[label]}: {text[:65]}", markup=False)
    return splits


# %% 2. Tokenization
def tokenize(text: str) -> list[str]:
    """Lowercase words, keeping "isn't" whole (negation matters here), plus ! and ?."""
    text = text.lower().replace("<br />", " ")  # IMDB's reviews keep HTML line breaks
    text = text.replace("’", "'")  # a typographic apostrophe, as phones and Macs type it
    return re.findall(r"\w+(?:'\w+)?|[!?]", text)


def show_tokenization() -> None:
    console.rule("2. Tokenization")
    for text in DEMO_TEXTS + ["Isn't it AWFUL?!"]:
        console.print(f"  {text!r:31} -> {tokenize(text)}", markup=False)


# %% 3. Vocabulary
def encode(text: str, token_to_id: dict[str, int]) -> list[int]:
    """Text -> ids; unseen words become <unk>, and a review with no words is one <unk>."""
    ids = [token_to_id.get(token, UNK_ID) for token in tokenize(text)][:MAX_TOKENS]
    return ids or [UNK_ID]


def show_vocabulary(train: list[tuple[str, int]]) -> list[str]:
    """Every token seen at least MIN_FREQ times in the *train* split, most frequent first."""
    console.rule("3. Vocabulary")
    counts = Counter(token for text, _ in train for token in tokenize(text))
    kept = [token for token, count in counts.items() if count >= MIN_FREQ]
    vocab = ["<pad>", "<unk>"] + sorted(kept, key=lambda token: (-counts[token], token))
    console.print(f"{len(kept)} tokens seen {MIN_FREQ}+ times in train, + <pad>, <unk>; first 10:")
    console.print(f"  {vocab[:10]}", markup=False)
    token_to_id = {token: index for index, token in enumerate(vocab)}
    text = "This movie is zorptastic!"
    console.print(f"  {text!r} -> {encode(text, token_to_id)}  (1 = <unk>, never seen)")
    return vocab


# %% 4. Batches
def collate_padded(batch: list[tuple[torch.Tensor, int]]):
    """Reviews differ in length: pad each batch to its longest review with <pad> (id 0)."""
    sequences = [ids for ids, _ in batch]
    ids = pad_sequence(sequences, batch_first=True, padding_value=PAD_ID)  # (batch, longest)
    lengths = torch.tensor([len(sequence) for sequence in sequences])  # (batch,)
    return ids, lengths, torch.tensor([label for _, label in batch])  # labels: (batch,)


def show_batches(splits, vocab: list[str], batch_size: int) -> dict[str, DataLoader]:
    console.rule("4. Batches")
    token_to_id = {token: index for index, token in enumerate(vocab)}
    loaders = {}
    for name, reviews in splits.items():
        # Numericalised once, up front; a plain list is a valid Dataset (it has len() and [i]).
        dataset = [(torch.tensor(encode(text, token_to_id)), label) for text, label in reviews]
        shuffle = name == "train"  # a new order every epoch; evaluation order does not matter
        loaders[name] = DataLoader(dataset, batch_size, shuffle=shuffle, collate_fn=collate_padded)
    ids, lengths, _ = next(iter(loaders["train"]))
    console.print(f"one batch: ids {tuple(ids.shape)}, lengths {lengths[:8].tolist()}...")
    console.print(f"  shortest review, padded: {ids[lengths.argmin()][:12].tolist()}...")
    return loaders


# %% 5. Models
class NaiveBayes(nn.Module):
    """The count-based baseline: log P(class) + the sum of log P(word | class), all counted."""

    def __init__(self, train_dataset: list[tuple[torch.Tensor, int]], vocab_size: int):
        super().__init__()
        word_counts = torch.ones(2, vocab_size)  # +1 for every word: no zero probabilities
        for ids, label in train_dataset:
            word_counts[label] += torch.bincount(ids, minlength=vocab_size)
        class_counts = torch.bincount(torch.tensor([label for _, label in train_dataset]))
        self.register_buffer("log_p_word", (word_counts / word_counts.sum(1, keepdim=True)).log())
        self.register_buffer("log_prior", (class_counts / len(train_dataset)).log())  # (2,)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        log_p_tokens = self.log_p_word[:, ids] * (ids != PAD_ID)  # (2, batch, seq_len), pads: 0
        return (log_p_tokens.sum(-1) + self.log_prior[:, None]).T  # (batch, 2): log P(class, text)


class BagOfWords(nn.Module):
    """Add up the vectors of a review's words and known word pairs; one linear layer on top."""

    def __init__(self, vocab_size: int, embed_dim: int, num_pairs: int):
        super().__init__()
        # Rows: one per word, then one per known pair, so "not bad" gets a vector of its own.
        # mode="sum": evidence adds up, as in Naive Bayes; a mean did worse on validation.
        self.embedding = nn.EmbeddingBag(
            vocab_size + num_pairs, embed_dim, mode="sum", padding_idx=PAD_ID
        )
        with torch.no_grad():  # N(0, 1) rows: a sum of 40 would start out confidently random
            self.embedding.weight.mul_(0.01)  # (<pad>'s row stays 0)
        self.register_buffer("pair_keys", torch.zeros(num_pairs, dtype=torch.long))  # saved too
        self.vocab_size, self.classifier = vocab_size, nn.Linear(embed_dim, 2)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if len(self.pair_keys) == 0:  # a corpus too small to repeat any pair: words only
            return self.classifier(self.embedding(ids))
        keys = ids[:, :-1] * self.vocab_size + ids[:, 1:]  # (batch, seq_len - 1): every pair
        rows = torch.searchsorted(self.pair_keys, keys).clamp(max=len(self.pair_keys) - 1)
        known = (self.pair_keys[rows] == keys) & (ids[:, 1:] != PAD_ID)
        pair_ids = torch.where(known, self.vocab_size + rows, PAD_ID)  # unknown pairs: <pad>
        bag = self.embedding(torch.cat([ids, pair_ids], dim=1))  # (batch, embed_dim): the sum
        return self.classifier(bag)  # (batch, 2)


class LSTMClassifier(nn.Module):
    """Read the review word by word; classify from the LSTM's memory after the last real word."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True)
        self.dropout, self.classifier = nn.Dropout(DROPOUT), nn.Linear(hidden_size, 2)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        embedded = self.embedding(ids)  # (batch, seq_len, embed_dim)
        # Packing tells the LSTM each review's true length, so it stops before the padding.
        packed = pack_padded_sequence(
            embedded, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, (hidden, _) = self.lstm(packed)  # hidden: (1, batch, hidden_size)
        return self.classifier(self.dropout(hidden[0]))  # (batch, 2)


def build_model(config: dict) -> nn.Module:
    """Config dict -> model: training and checkpoint loading both come through here."""
    if config["model"] == "bag-of-words":
        return BagOfWords(config["vocab_size"], config["embed_dim"], config["num_pairs"])
    return LSTMClassifier(config["vocab_size"], config["embed_dim"], config["hidden_size"])


def show_models(vocab: list[str], train_dataset, device) -> tuple[dict, dict]:
    console.rule("5. Models")
    size = len(vocab)  # a word pair (a, b) becomes the number a * size + b
    keys = torch.cat([ids[:-1] * size + ids[1:] for ids, _ in train_dataset])
    keys = keys[(keys // size != UNK_ID) & (keys % size != UNK_ID)]  # no pairs with <unk>
    unique, counts = keys.unique(return_counts=True)  # sorted, as searchsorted needs
    frequent = counts.argsort(descending=True, stable=True)[:MAX_PAIRS]
    frequent = frequent[counts[frequent] >= MIN_FREQ]  # seen MIN_FREQ+ times in train
    pair_keys = unique[frequent].sort().values  # the known pairs, sorted again
    not_pairs = [f"not {vocab[key % size]}" for key in pair_keys if vocab[key // size] == "not"]
    console.print(f"{len(pair_keys)} known word pairs, such as {not_pairs[-3:]}", markup=False)
    extras = {"bag-of-words": {"num_pairs": len(pair_keys)}, "lstm": {"hidden_size": HIDDEN_SIZE}}
    configs, models = {}, {}
    for name, extra in extras.items():
        configs[name] = {"model": name, "vocab_size": size, "embed_dim": EMBED_DIM} | extra
        models[name] = build_model(configs[name]).to(device)
        console.print(f"  {name}: {sum(p.numel() for p in models[name].parameters()):,} parameters")
    models["bag-of-words"].pair_keys.copy_(pair_keys)  # from train, like the vocabulary
    return configs, models


# %% 6. Training
@torch.inference_mode()
def predict_probabilities(model: nn.Module, loader: DataLoader, device: torch.device):
    """P(positive) for every review in the loader, and the true labels: both (num_reviews,)."""
    model.eval()
    batches = [(model(ids.to(device), lengths).cpu(), labels) for ids, lengths, labels in loader]
    probabilities = torch.cat([logits.softmax(dim=1)[:, 1] for logits, _ in batches])
    return probabilities, torch.cat([labels for _, labels in batches])


def accuracy_on(model: nn.Module, loader: DataLoader, device: torch.device) -> float:
    probabilities, labels = predict_probabilities(model, loader, device)
    return ((probabilities > 0.5).long() == labels).float().mean().item()


def show_training(models, vocab, loaders, epochs: int, lr: float | None, device):
    console.rule("6. Training")
    naive_bayes = NaiveBayes(loaders["train"].dataset, len(vocab)).to(device)  # counts, no epochs
    accuracy = accuracy_on(naive_bayes, loaders["validation"], device)
    console.print(f"  naive bayes: counted in one pass, no epochs  val {accuracy:.1%}")
    validation, train_seconds = {}, 0.0  # each model's best validation accuracy
    for name, model in models.items():  # Adam on cross-entropy, the loop of lessons 04-05
        optimizer = torch.optim.Adam(model.parameters(), lr=lr or LEARNING_RATES[name])
        best_epoch, best_state, losses, start = 0, None, [], time.perf_counter()
        for epoch in range(1, epochs + 1):
            model.train()
            total_loss = 0.0
            batches = track(loaders["train"], f"{name} {epoch}", disable=not console.is_terminal)
            for ids, lengths, labels in batches:  # a live bar in a terminal, nothing when piped
                logits = model(ids.to(device), lengths)  # (batch, 2)
                loss = nn.functional.cross_entropy(logits, labels.to(device))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total_loss += loss.item() * len(labels)
            stop_if_diverged(total_loss, epoch)
            losses.append(total_loss / len(loaders["train"].dataset))
            accuracy = accuracy_on(model, loaders["validation"], device)
            console.print(f"  {name} epoch {epoch:2d}  loss {losses[-1]:.3f}  val {accuracy:.1%}")
            if accuracy > validation.get(name, -1):  # chosen on validation; test stays unseen
                validation[name], best_epoch = accuracy, epoch
                best_state = {key: value.clone() for key, value in model.state_dict().items()}
        model.load_state_dict(best_state)  # back to the best epoch
        seconds = time.perf_counter() - start
        train_seconds += seconds
        kept = f"kept epoch {best_epoch} (val {validation[name]:.1%})"
        console.print(f"  {name}: {kept}, trained in {seconds:.2f} s")
        curve = sparkline(losses, min(losses), max(losses), width=len(losses))  # log scale
        console.print(f"  {name}: training loss by epoch {curve} (log scale)")
    return {"naive bayes": naive_bayes} | models, validation, train_seconds


# %% 7. Evaluation
def classification_metrics(probabilities: torch.Tensor, labels: torch.Tensor) -> dict:
    """Accuracy, and precision / recall / F1 of the positive class, from the confusion counts."""
    outcomes = 2 * labels + (probabilities > 0.5).long()  # 0..3: actual label, then predicted
    true_neg, false_pos, false_neg, true_pos = torch.bincount(outcomes, minlength=4).tolist()
    precision = true_pos / max(true_pos + false_pos, 1)  # of the reviews called positive
    recall = true_pos / max(true_pos + false_neg, 1)  # of the reviews that are positive
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    accuracy = (true_pos + true_neg) / len(labels)
    confusion = [[true_neg, false_pos], [false_neg, true_pos]]  # rows: actual label
    return dict(accuracy=accuracy, precision=precision, recall=recall, f1=f1, confusion=confusion)


def show_evaluation(models, validation, splits, loaders, device):
    console.rule("7. Evaluation")
    probabilities = {}  # P(positive) for each test review, per model
    for name, model in models.items():
        probabilities[name], labels = predict_probabilities(model, loaders["test"], device)
    majority = int(2 * sum(label for _, label in splits["train"]) >= len(splits["train"]))
    results = {"majority class": classification_metrics(torch.full_like(labels, majority), labels)}
    results |= {name: classification_metrics(p, labels) for name, p in probabilities.items()}
    table = Table("test split", "accuracy", "precision", "recall", "F1")
    for name, result in results.items():
        scores = [f"{result[key]:.1%}" for key in ("accuracy", "precision", "recall", "f1")]
        table.add_row(name, *(scores[:1] if name == "majority class" else scores))
    console.print(table)
    best = max(validation, key=validation.get)  # the better *validation* accuracy, never test
    console.print(f"kept for saving: {best} (the better validation accuracy)")
    (true_neg, false_pos), (false_neg, true_pos) = results[best]["confusion"]
    matrix = Table("", "predicted negative", "predicted positive", title=f"confusion: {best}")
    matrix.add_row("actual negative", f"[green]{true_neg}", f"[red]{false_pos}")
    matrix.add_row("actual positive", f"[red]{false_neg}", f"[green]{true_pos}")
    console.print(matrix)
    correct = {name: (p > 0.5).long() == labels for name, p in probabilities.items()}
    only_best = (correct[best] & ~correct["naive bayes"]).sum().item()  # same reviews, paired
    only_baseline = (correct["naive bayes"] & ~correct[best]).sum().item()
    console.print(f"{best} and naive bayes disagree on {only_best + only_baseline} test reviews:")
    console.print(
        f"  right only by {best}: {only_best}, right only by naive bayes: {only_baseline}"
    )
    p_positive, correct = probabilities[best], correct[best]  # (num_test,) each
    by_confidence = (p_positive - 0.5).abs().argsort(descending=True, stable=True).tolist()
    console.print(f"most confident right and wrong ({best}), P(positive):")
    for verdict, wanted in (("right", True), ("wrong", False)):
        for i in [i for i in by_confidence if correct[i] == wanted][:3]:
            review = f"{LABELS[labels[i]]}: {splits['test'][i][0]}"
            console.print(f"  {verdict} {p_positive[i]:.2f}  {review[:62]}", markup=False)
    return best, results


# %% 8. Saving and loading
def load_checkpoint(path: Path, device: torch.device):
    """weights_only=True unpickles tensors, lists, dicts and strings and refuses arbitrary code by
    design (it has had bypasses, e.g. CVE-2025-32434, fixed in torch 2.6: keep torch up to date)."""
    if not path.is_file():
        fail(f"no checkpoint file at {path}; train one first: uv run {sys.argv[0]}")
    try:
        with warnings.catch_warnings(action="ignore"):  # e.g. torch's note on a legacy format
            checkpoint = torch.load(path, weights_only=True, map_location=device)
        if not isinstance(checkpoint, dict):  # e.g. a bare tensor, saved by other code
            raise TypeError(f"a {type(checkpoint).__name__}, not a dict")
        model = build_model(checkpoint["config"]).to(device)
        model.load_state_dict(checkpoint["model_state"])
        vocab, config = checkpoint["vocab"], checkpoint["config"]
    except Exception as e:  # damaged bytes fail in many ways (KeyError, struct.error, ...)
        fail(f"{path} is not a readable checkpoint ({type(e).__name__}); train a new one")
    return model.eval(), vocab, config


def show_checkpoint(path: Path, model, vocab, config, loaders, device) -> nn.Module:
    """Weights + vocabulary + config in one file, written to a temp file, renamed when whole."""
    console.rule("8. Saving and loading")
    checkpoint = {"model_state": model.state_dict(), "vocab": vocab, "config": config}
    try:  # a crash mid-save never leaves a half-written checkpoint
        write_atomically(path, lambda file: torch.save(checkpoint, file))
    except OSError as error:
        fail(f"could not save the checkpoint to {path} ({error.strerror or error})")
    console.print(f"saved {path.name} ({path.stat().st_size / 1e6:.1f} MB): weights, vocab, config")
    console.print("  " + " ".join(f"{key}={value}" for key, value in config.items()))
    loaded, _, _ = load_checkpoint(path, device)
    before_after = [predict_probabilities(m, loaders["test"], device)[0] for m in (model, loaded)]
    console.print(f"reloaded: identical test predictions: {torch.equal(*before_after)}")
    return loaded


# %% 9. Inference
@torch.inference_mode()
def predict_texts(texts: list[str], model: nn.Module, vocab: list[str], device) -> list[str]:
    """Raw strings in, "Positive (0.95 confidence)  'text'" lines out, through the same steps."""
    token_to_id = {token: index for index, token in enumerate(vocab)}
    ids, lengths, _ = collate_padded([(torch.tensor(encode(t, token_to_id)), 0) for t in texts])
    probabilities = model.eval()(ids.to(device), lengths).softmax(dim=1)  # (num_texts, 2)
    confidences, labels = probabilities.max(dim=1)  # the likelier label and its probability
    shown = [text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 3] + "..." for text in texts]
    rows = zip(shown, labels.tolist(), confidences.tolist(), strict=True)
    return [f"{LABELS[label]} ({conf:.2f} confidence)  {text!r}" for text, label, conf in rows]


def show_inference(model: nn.Module, vocab: list[str], device) -> None:
    console.rule("9. Inference")
    texts = DEMO_TEXTS + ["What a waste of two hours.", "The plot was zorptastic, the cast superb."]
    console.print("\n".join(predict_texts(texts, model, vocab, device)), markup=False)


# %% main
def main(argv: list[str]) -> None:
    parser = contract_parser(
        __doc__.split("\n")[0], smoke_help=f"a tiny run: {SMOKE_REVIEWS} reviews per split"
    )
    add_training_flags(
        parser, EPOCHS, BATCH_SIZE, lr=None, lr_help="Adam's; default: 3e-4 bag-of-words, 1e-2 LSTM"
    )
    add = parser.add_argument
    add("--dataset", default="bundled", choices=["bundled", "imdb"], help="imdb: 84 MB download")
    add("--predict", metavar="TEXT", action="append", help="classify TEXT; repeat for more")
    add("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="where to save or load")
    args = parser.parse_args(argv)
    if args.predict and not all(text.strip() for text in args.predict):
        parser.error("argument --predict: needs some text to classify; got an empty review")
    if not args.predict:  # training writes the checkpoint: check the path before any work
        try:
            output_file(str(args.checkpoint))
        except argparse.ArgumentTypeError as error:
            parser.error(f"argument --checkpoint: {error}")

    device = resolve_device(args.device)
    if args.dataset == "bundled":  # tiny tensors: a thread pool burns CPU for no speed-up
        torch.set_num_threads(1)
    if args.predict:
        model, vocab, _ = load_checkpoint(args.checkpoint, device)
        console.print("\n".join(predict_texts(args.predict, model, vocab, device)), markup=False)
        return
    seed_everything(args.seed, device)
    epochs = min(args.epochs, SMOKE_EPOCHS) if args.smoke else args.epochs
    console.print(f"Lesson 06 - PyTorch {torch.__version__} - device {device} - seed {args.seed}")
    splits = show_data(args.dataset, args.smoke, args.seed)
    show_tokenization()
    vocab = show_vocabulary(splits["train"])
    loaders = show_batches(splits, vocab, args.batch_size)
    configs, models = show_models(vocab, loaders["train"].dataset, device)
    models, validation, train_seconds = show_training(
        models, vocab, loaders, epochs, args.lr, device
    )
    best, results = show_evaluation(models, validation, splits, loaders, device)
    with tempfile.TemporaryDirectory() as scratch:  # a smoke model never replaces a trained one
        keep = args.smoke and args.checkpoint.exists()
        path = Path(scratch) / "smoke.pt" if keep else args.checkpoint
        config = configs[best] | {"dataset": args.dataset}
        model = show_checkpoint(path, models[best], vocab, config, loaders, device)
        if keep:
            console.print(f"(--smoke: your checkpoint {args.checkpoint.name} was left as it was)")
        show_inference(model, vocab, device)

    summary = "Text -> tokens -> ids -> padded batches -> models; validation picks, test judges."
    console.print(Panel(summary + " Always train a baseline too.", title="What you just learned"))
    if args.metrics_json:  # read by make bench and the tests
        accuracy = {name: result["accuracy"] for name, result in results.items()}
        metrics = {"test_accuracy": accuracy[best], "baseline_accuracy": accuracy["naive bayes"]}
        metrics |= {"majority_accuracy": accuracy["majority class"], "f1": results[best]["f1"]}
        metrics |= {"train_seconds": train_seconds, "epochs": epochs, "dataset": args.dataset}
        args.metrics_json.write_text(json.dumps(metrics | {"model": best}, indent=2), "utf-8")


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
