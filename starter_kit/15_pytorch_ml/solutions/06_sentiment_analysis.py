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
"""Solutions 06 - Sentiment analysis: tokens, a vocabulary, padded batches, a model, worked out.

Each function and class below is an exercise of exercises/06_sentiment_analysis.py, solved, with
comments that say why. Try the exercise first, then compare. Running this file runs the very same
checks on these answers: every row passes and it exits 0.

Run it:   uv run starter_kit/15_pytorch_ml/solutions/06_sentiment_analysis.py
Exercise: starter_kit/15_pytorch_ml/exercises/06_sentiment_analysis.py
Guide:    learning/06_sentiment_analysis.md
"""

import argparse
import copy
import os
import random
import re
import sys
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, NoReturn

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from rich.text import Text
from torch import nn
from torch.utils.data import DataLoader

# %% Config
GUIDE = "learning/06_sentiment_analysis.md"
# A notebook kernel has no __file__; Jupyter and VS Code start it in this file's own folder.
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
CORPUS_PATH = HERE.parent / "data" / "movie_reviews.tsv"  # the kit's reviews, as lesson 06 reads
PAD_ID, UNK_ID = 0, 1  # "<pad>" and "<unk>" open every vocabulary

# Flags for a notebook run (VS Code or Jupyter runs every cell and never reads the kernel's own
# command line): for example ["--device", "cpu", "--only", "2"].
NOTEBOOK_ARGS: list[str] = []


# %% Exercise 1 - A tokenizer (warm-up)
def tokenize(text: str):
    """Cut a review into tokens, as the lesson does: lowercase words, "isn't" kept whole (a
    negation matters for sentiment), and every ! and ? as a token of its own.

    First lowercase the text, replace the HTML line break "<br />" with a space and the
    typographic apostrophe "’" with "'". A word is a run of letters, digits or _ (regex \\w+),
    optionally followed by an apostrophe and more of them ("isn't", "it's"). Everything else
    (spaces, commas, full stops, dashes) is dropped.
    Input:   text, a str.
    Return:  a list of str.
    Example: "It isn’t bad... it's AWFUL?!" -> ["it", "isn't", "bad", "it's", "awful", "?", "!"]
    Guide:   learning/06_sentiment_analysis.md#2-tokenization
    """
    text = text.lower().replace("<br />", " ")  # IMDB keeps HTML line breaks in its text
    text = text.replace("’", "'")  # the apostrophe phones and Macs type
    # \w+ a word, (?:'\w+)? an optional "'t" or "'s" glued to it, | or [!?] one ! or ?.
    # re.findall returns every match in order; text.split() would keep "amazing!" whole.
    return re.findall(r"\w+(?:'\w+)?|[!?]", text)


# %% Exercise 2 - A vocabulary
def build_vocabulary(train_tokens: list[list[str]], min_freq: int):
    """The vocabulary of a training split: "<pad>" (id 0) and "<unk>" (id 1) first, then every
    token seen at least min_freq times in all the reviews together, the most frequent first,
    tokens seen equally often in alphabetical order.

    Input:   train_tokens, a list of reviews, each a list of tokens (str); min_freq, an int.
    Return:  a list of str: the token with id i is vocab[i]. Each token appears once.
    Example: [["a", "film"], ["a", "dull", "film"], ["dull"], ["a"]], 2
             -> ["<pad>", "<unk>", "a", "dull", "film"]
    Guide:   learning/06_sentiment_analysis.md#3-vocabulary
    """
    # Every occurrence counts, so a word said twice in one review counts twice.
    counts = Counter(token for tokens in train_tokens for token in tokens)
    kept = [token for token, count in counts.items() if count >= min_freq]  # >=: exactly 2 stays
    # Sort key (-count, token): the largest count first, then alphabetical among equals.
    return ["<pad>", "<unk>"] + sorted(kept, key=lambda token: (-counts[token], token))


# %% Exercise 3 - Padded batches
def collate_padded(batch: list[tuple[torch.Tensor, int]]):
    """A DataLoader's collate_fn: turn a list of reviews of different lengths into one
    rectangular batch, padding each review with <pad> (id 0) up to the longest in this batch.

    Input:   batch, a list of (ids, label) pairs: ids a 1-D int64 tensor of a review's token
             ids (never 0), label an int, 0 or 1.
    Return:  a tuple (ids, lengths, labels): ids (batch, longest) int64, each review first,
             then 0s; lengths (batch,) int64, each review's own length; labels (batch,) int64.
    Example: [(tensor([3, 2, 5]), 1), (tensor([4]), 0)]
             -> (tensor([[3, 2, 5], [4, 0, 0]]), tensor([3, 1]), tensor([1, 0]))
    Guide:   learning/06_sentiment_analysis.md#4-batches
    """
    sequences = [ids for ids, _ in batch]
    # pad_sequence stacks them, padding at the end; batch_first=True puts the batch first, as
    # the models expect (its default is (longest, batch), the layout of sequence layers).
    ids = nn.utils.rnn.pad_sequence(sequences, batch_first=True, padding_value=PAD_ID)
    lengths = torch.tensor([len(sequence) for sequence in sequences])  # before padding
    labels = torch.tensor([label for _, label in batch])
    return ids, lengths, labels


# %% Exercise 4 - A bag of words that ignores padding
class MeanBagClassifier(nn.Module):
    """A bag-of-words classifier: the mean of a review's word vectors, then one linear layer.

    self.embedding holds one vector of embed_dim numbers per vocabulary id (an nn.EmbeddingBag
    or an nn.Embedding of vocab_size rows); self.classifier = nn.Linear(embed_dim, num_classes).
    The mean is over each review's real words only: the <pad> ids (0) that fill up a batch must
    not count, so a review gets the same logits however long the other reviews of its batch are.
    Input:   vocab_size, embed_dim and num_classes, ints.
    Return:  the model; model(ids, lengths) for ids (batch, longest) int64 padded with 0 and
             lengths (batch,) int64, both on the model's device, returns the logits
             (batch, num_classes).
    Guide:   learning/06_sentiment_analysis.md#5-models
    """

    def __init__(self, vocab_size: int, embed_dim: int, num_classes: int):
        """Create the embedding table and the linear layer."""
        super().__init__()
        # EmbeddingBag looks the vectors up and averages them in one step; padding_idx=0 leaves
        # the <pad> positions out of the mean (and keeps <pad>'s row at 0, never trained).
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, mode="mean", padding_idx=PAD_ID)
        self.classifier = nn.Linear(embed_dim, num_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor):
        """(batch, longest) ids -> (batch, num_classes) logits."""
        # The same with nn.Embedding: sum the vectors of the real words (a mask ids != 0) and
        # divide by lengths; .mean(dim=1) would divide by the padded length instead.
        return self.classifier(self.embedding(ids))  # (batch, embed_dim) -> (batch, classes)


# %% Exercise 5 - Precision, recall and F1 by hand
def precision_recall_f1(probabilities: torch.Tensor, labels: torch.Tensor):
    """How good are the positive calls? Accuracy, and precision, recall and F1 of the positive
    class (label 1), counted by hand: a review is called positive when its probability is above
    0.5. Precision: of the reviews called positive, the share that are. Recall: of the positive
    reviews, the share called positive. F1: their harmonic mean. A share of nothing (no review
    called positive, say) counts as 0, and so does F1 when precision and recall are both 0.

    Input:   probabilities (num_reviews,), float, P(positive); labels (num_reviews,), int64,
             0 or 1; same device.
    Return:  a dict {"accuracy": float, "precision": float, "recall": float, "f1": float},
             Python floats between 0 and 1.
    Guide:   learning/06_sentiment_analysis.md#7-evaluation
    """
    predicted = probabilities > 0.5  # (num_reviews,) True = called positive
    actual = labels == 1
    true_pos = (predicted & actual).sum().item()  # .item(): a Python int
    false_pos = (predicted & ~actual).sum().item()  # called positive, but negative
    false_neg = (~predicted & actual).sum().item()  # positive, but missed
    correct = (predicted == actual).sum().item()
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 0.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 0.0
    # The harmonic mean is low when either is low: 0.9 and 0.1 give 0.18, not 0.5.
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = correct / len(labels)
    return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1}


# %% Exercise 6 - Keep the best epoch (stretch)
def fit_sentiment(
    model: nn.Module,
    train_loader: DataLoader,
    val_loader: DataLoader,
    epochs: int,
    lr: float,
    device: torch.device,
):
    """Train a review classifier and keep the weights of its best epoch, chosen on validation,
    as the lesson's training section does.

    Each epoch: in training mode, for every batch (ids, lengths, labels) of train_loader, moved
    to device: the cross-entropy of the model's logits, and a step of torch.optim.Adam with
    learning rate lr. Then the accuracy on val_loader (the share of all its reviews classified
    right), in evaluation mode and without gradients. Keep a copy of the weights of the epoch
    with the best validation accuracy so far; at the end, load them back into the model.
    Input:   model, on device, called as model(ids, lengths) -> logits (batch, 2); train_loader
             and val_loader, DataLoaders (or other iterables with a .dataset) of (ids, lengths,
             labels) batches on the CPU, as exercise 3's collate_fn makes them; epochs, an int;
             lr, a float; device. (The check's train_loader gives every label wrong in the last
             epoch, so that the last epoch is not the best one.)
    Return:  a list of `epochs` Python floats: the validation accuracy after each epoch.
    Guide:   learning/06_sentiment_analysis.md#6-training
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    accuracies, best_state = [], None
    for _ in range(epochs):
        model.train()  # dropout on; validation below switched it off
        for ids, lengths, labels in train_loader:
            logits = model(ids.to(device), lengths.to(device))  # (batch, 2)
            loss = nn.functional.cross_entropy(logits, labels.to(device))  # raw logits in
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()  # dropout off: the same weights always give the same accuracy
        num_correct = 0
        with torch.inference_mode():
            for ids, lengths, labels in val_loader:
                predicted = model(ids.to(device), lengths.to(device)).argmax(dim=1).cpu()
                num_correct += (predicted == labels).sum().item()
        accuracies.append(num_correct / len(val_loader.dataset))
        if accuracies[-1] > max(accuracies[:-1], default=-1.0):  # >: a tie keeps the earlier
            # state_dict() hands out the live tensors, which the next step changes in place:
            # deepcopy keeps this epoch's numbers.
            best_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return accuracies


# %% Checks: run_exercises calls these; the solution file has the very same text
def check_1(device: torch.device) -> None:
    cases = {
        "This movie is amazing!": ["this", "movie", "is", "amazing", "!"],
        "It isn’t bad... it's AWFUL?!": ["it", "isn't", "bad", "it's", "awful", "?", "!"],
        "Amélie.<br />Gone, sadly.": ["amélie", "gone", "sadly"],
        "10/10 - would watch again!!": ["10", "10", "would", "watch", "again", "!", "!"],
        "": [],
    }
    for text, expected in cases.items():
        what = f"tokenize({text!r})"
        tokens = expect_type(tokenize(text), list, what)
        expect(
            all(isinstance(token, str) for token in tokens),
            f"{what}: expected a list of str, got {tokens!r}",
        )
        if tokens == expected:
            continue
        wrong = f"{what}: expected {expected}, got {tokens}"
        expect(
            all(token == token.lower() for token in tokens),
            f"{wrong}: lowercase the text first, so that 'Great' and 'great' are one token",
        )
        expect(
            not any(re.search(r"\w[^\w']|[^\w']\w", token) for token in tokens),
            f"{wrong}: punctuation sticks to the words; text.split() cuts at spaces only: find "
            'the tokens with re.findall(r"\\w+(?:\'\\w+)?|[!?]", text)',
        )
        expect(
            "br" not in tokens,
            f"{wrong}: replace the HTML line break '<br />' with a space before you cut",
        )
        expect(
            "’" not in "".join(tokens) and "isn" not in tokens,
            f"{wrong}: replace the typographic apostrophe ’ with ' first, and keep the "
            "apostrophe inside a word: \\w+(?:'\\w+)? matches isn't whole",
        )
        expect(
            "t" not in tokens and "s" not in tokens,
            f"{wrong}: keep the apostrophe inside a word: \\w+(?:'\\w+)? matches isn't whole",
        )
        expect(
            tokens.count("!") == expected.count("!") and tokens.count("?") == expected.count("?"),
            f"{wrong}: keep every ! and ? as a token of its own: they carry sentiment",
        )
        raise WrongAnswerError(f"{wrong}: drop every other character (, . - / and spaces)")


def check_2(device: torch.device) -> None:
    reviews = [
        "a wonderful film", "a dull film", "wonderful acting and wonderful music", "dull",
        "not bad not bad at all", "a film", "bad acting", "at all a music film",
    ]  # fmt: skip
    train_tokens = [review.split() for review in reviews]
    counts = {}  # every occurrence, counted by a plain loop
    for tokens in train_tokens:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    for min_freq in (2, 1, 3):
        what = f"build_vocabulary(8 reviews, min_freq={min_freq})"
        vocab = expect_type(build_vocabulary(train_tokens, min_freq), list, what)
        kept = [token for token, count in counts.items() if count >= min_freq]
        expected = ["<pad>", "<unk>"] + sorted(kept, key=lambda token: (-counts[token], token))
        if vocab == expected:
            continue
        wrong = f"{what}: expected {expected}, got {vocab}"
        expect(
            vocab[:2] == ["<pad>", "<unk>"],
            f"{wrong}: start with '<pad>' (id 0) and '<unk>' (id 1), then the tokens",
        )
        expect(len(set(vocab)) == len(vocab), f"{wrong}: each token may appear only once")
        got = set(vocab[2:])
        per_review = {}  # the number of reviews a token appears in, not its count
        for tokens in train_tokens:
            for token in set(tokens):
                per_review[token] = per_review.get(token, 0) + 1
        expect(
            got != {token for token, count in per_review.items() if count >= min_freq}
            or got == set(kept),
            f"{wrong}: that counts the reviews a token is in; count every occurrence ('not bad "
            "not bad' has 'bad' twice)",
        )
        expect(
            set(kept) <= got,
            f"{wrong}: {sorted(set(kept) - got)} are missing: keep every token seen at least "
            f"min_freq times (count >= min_freq)",
        )
        expect(
            got <= set(kept),
            f"{wrong}: {sorted(got - set(kept))} were seen fewer than {min_freq} times: leave "
            "them out (they become <unk>)",
        )
        by_count = [counts[token] for token in vocab[2:]]
        expect(
            by_count == sorted(by_count, reverse=True),
            f"{wrong}: the most frequent token first: sort by -count",
        )
        raise WrongAnswerError(
            f"{wrong}: tokens seen equally often go in alphabetical order: sort by (-count, token)"
        )


def check_3(device: torch.device) -> None:
    lengths = [3, 1, 5, 2, 4, 1, 6]
    dataset = [
        (torch.randint(1, 50, (length,)), label)  # ids from 1: 0 is <pad>, never a word
        for length, label in zip(lengths, [1, 0, 0, 1, 1, 0, 1], strict=True)
    ]
    batches = [dataset[0:3], dataset[3:6], dataset[6:7]]  # as a DataLoader with batch_size=3
    for number, batch in enumerate(batches, start=1):
        sizes = [len(ids) for ids, _ in batch]
        what = f"collate_padded(batch {number}: reviews of lengths {sizes})"
        result = expect_type(collate_padded(batch), (tuple, list), what)
        expect(len(result) == 3, f"{what} returned {len(result)} values, expected 3")
        ids, batch_lengths, labels = result
        longest = max(sizes)
        expected = torch.zeros(len(batch), longest, dtype=torch.int64)  # filled by a loop
        for row, (review, _) in enumerate(batch):
            expected[row, : len(review)] = review
        ids = expect_tensor(ids, f"{what}: ids", dtype=torch.int64)
        expect(
            ids.shape[0] == len(batch) or ids.shape[1] != len(batch),
            f"{what}: ids: expected shape {(len(batch), longest)}, got {tuple(ids.shape)}: "
            "(longest, batch) is pad_sequence's default; pass batch_first=True",
        )
        expect(
            ids.shape[1] == longest or ids.shape[0] != len(batch),
            f"{what}: ids: expected shape {(len(batch), longest)}, got {tuple(ids.shape)}: "
            "pad each batch to its own longest review",
        )
        expect_tensor(ids, f"{what}: ids", shape=(len(batch), longest))
        if not torch.equal(ids, expected):
            real = expected != 0  # the reviews' own ids are never 0
            expect(
                not torch.equal(ids[real], expected[real]) or bool((ids[~real] == 0).all()),
                f"{what}: ids are padded with {ids[~real][0].item()}: pad with 0, the id of "
                "<pad> (1 is <unk>, a word the model reads)",
            )
            padding_first = [expected[row].roll(longest - size) for row, size in enumerate(sizes)]
            expect(
                not torch.equal(ids, torch.stack(padding_first)),
                f"{what}: the padding comes first: put each review first, then the 0s",
            )
            raise WrongAnswerError(f"{what}: ids: expected {expected.tolist()}, got {ids.tolist()}")
        batch_lengths = expect_tensor(batch_lengths, f"{what}: lengths", shape=(len(batch),))
        expect(
            batch_lengths.tolist() == sizes,
            f"{what}: lengths: expected {sizes}, got {batch_lengths.tolist()}: each review's "
            "own length, measured before padding",
        )
        expect(batch_lengths.dtype == torch.int64, f"{what}: lengths: expected int64")
        labels = expect_tensor(labels, f"{what}: labels", shape=(len(batch),), dtype=torch.int64)
        expect(
            labels.tolist() == [label for _, label in batch],
            f"{what}: labels: expected {[label for _, label in batch]}, got {labels.tolist()}",
        )


def check_4(device: torch.device) -> None:
    vocab_size, embed_dim = 40, 6
    what = f"MeanBagClassifier({vocab_size}, {embed_dim}, 2)"
    model = expect_type(MeanBagClassifier(vocab_size, embed_dim, 2), nn.Module, what)
    expected_count = vocab_size * embed_dim + embed_dim * 2 + 2
    num_params = sum(p.numel() for p in model.parameters())
    expect(
        num_params == expected_count,
        f"{what} has {num_params} parameters, expected {vocab_size} * {embed_dim} (a vector "
        f"per id) + {embed_dim} * 2 + 2 (the linear layer) = {expected_count}",
    )
    embedding, classifier = getattr(model, "embedding", None), getattr(model, "classifier", None)
    expect(
        isinstance(embedding, nn.Embedding | nn.EmbeddingBag)
        and tuple(embedding.weight.shape) == (vocab_size, embed_dim),
        f"{what}: expected self.embedding, an nn.EmbeddingBag or nn.Embedding of "
        f"{vocab_size} rows of {embed_dim} numbers",
    )
    expect(
        isinstance(classifier, nn.Linear)
        and (classifier.in_features, classifier.out_features) == (embed_dim, 2),
        f"{what}: expected self.classifier = nn.Linear({embed_dim}, 2)",
    )
    model = model.to(device)
    sizes = [5, 2, 7, 1]
    ids = torch.zeros(len(sizes), 7, dtype=torch.int64)  # (batch 4, longest 7), 0 = <pad>
    for row, size in enumerate(sizes):
        ids[row, :size] = torch.randint(1, vocab_size, (size,))
    what = f"{what}(ids of reviews of lengths {sizes}, padded to 7)"
    with torch.no_grad():
        logits = model(ids.to(device), torch.tensor(sizes, device=device))
    expect_tensor(logits, what, shape=(4, 2), dtype=torch.float32, device=device)
    table = embedding.weight.detach().cpu().double().numpy()
    weight = classifier.weight.detach().cpu().double().numpy()
    bias = classifier.bias.detach().cpu().double().numpy()
    rows = ids.numpy()
    means = np.stack([table[rows[i, :size]].mean(axis=0) for i, size in enumerate(sizes)])
    expected = means @ weight.T + bias
    result = logits.cpu().double().numpy()
    if not np.allclose(result, expected, rtol=1e-4, atol=1e-5):
        over_all = table[rows].mean(axis=1) @ weight.T + bias  # pads counted too
        expect(
            not np.allclose(result, over_all, rtol=1e-4, atol=1e-5),
            f"{what}: the mean counted the <pad> positions, so the same review gets other "
            "logits in a batch with longer reviews: nn.EmbeddingBag(..., mode='mean', "
            "padding_idx=0), or sum the real words' vectors and divide by lengths",
        )
        sums = np.stack([table[rows[i, :size]].sum(axis=0) for i, size in enumerate(sizes)])
        expect(
            not np.allclose(result, sums @ weight.T + bias, rtol=1e-4, atol=1e-5),
            f"{what}: that is the sum of the word vectors; divide by each review's length",
        )
    expect_close(logits, expected, what, rtol=1e-4, atol=1e-5)


def check_5(device: torch.device) -> None:
    def by_hand(probabilities: list[float], labels: list[int]) -> dict[str, float]:
        counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        for probability, label in zip(probabilities, labels, strict=True):
            called = probability > 0.5
            key = ("t" if called == (label == 1) else "f") + ("p" if called else "n")
            counts[key] += 1
        precision = counts["tp"] / max(counts["tp"] + counts["fp"], 1)
        recall = counts["tp"] / max(counts["tp"] + counts["fn"], 1)
        total = precision + recall
        f1 = 2 * precision * recall / total if total else 0.0
        accuracy = (counts["tp"] + counts["tn"]) / len(labels)
        return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1}

    none_called = torch.full((6,), 0.2, device=device)  # no review is called positive
    some_positive = torch.tensor([1, 0, 1, 0, 0, 0], device=device)
    cases = [
        ("40 reviews", torch.rand(40, device=device), torch.randint(0, 2, (40,), device=device)),
        ("6 reviews, none called positive", none_called, some_positive),
    ]
    for description, probabilities, labels in cases:
        what = f"precision_recall_f1({description})"
        try:
            result = precision_recall_f1(probabilities, labels)
        except ZeroDivisionError:
            raise WrongAnswerError(
                f"{what} divided by zero: no review was called positive, so the precision is a "
                "share of nothing: count it (and an F1 of 0 and 0) as 0"
            ) from None
        result = expect_type(result, dict, what)
        missing = {"accuracy", "precision", "recall", "f1"} - set(result)
        expect(not missing, f"{what}: the dict lacks {sorted(missing)}")
        for key in ("accuracy", "precision", "recall", "f1"):
            expect_type(result[key], (float, int), f"{what}[{key!r}]")
        expected = by_hand(probabilities.tolist(), labels.tolist())
        values = {key: result[key] for key in expected}
        expect(
            not any(np.isnan(value) for value in values.values()),
            f"{what} gave {values}: 0 / 0 is nan; count a share of nothing as 0",
        )
        if all(np.isclose(values[key], expected[key], atol=1e-9) for key in expected):
            continue
        expect(
            max(values.values()) <= 1,
            f"{what} gave {values}: shares between 0 and 1, not percentages",
        )
        expect(
            not (
                np.isclose(values["precision"], expected["recall"])
                and np.isclose(values["recall"], expected["precision"])
                and not np.isclose(expected["precision"], expected["recall"])
            ),
            f"{what}: precision and recall are swapped: precision = TP / (TP + FP), of the "
            "reviews called positive; recall = TP / (TP + FN), of the positive reviews",
        )
        mean = (expected["precision"] + expected["recall"]) / 2
        expect(
            not np.isclose(values["f1"], mean) or np.isclose(mean, expected["f1"]),
            f"{what}: F1 is {values['f1']:.4f}, the plain mean of precision and recall: F1 is "
            "their harmonic mean, 2 * p * r / (p + r)",
        )
        for key in ("accuracy", "precision", "recall", "f1"):
            expect_close(values[key], expected[key], f"{what}[{key!r}]", rtol=1e-9, atol=1e-9)


def check_6(device: torch.device) -> None:
    if not CORPUS_PATH.is_file():
        raise WrongAnswerError(
            f"cannot check: the kit's review corpus is missing; it should be at {CORPUS_PATH}"
        )
    # The pipeline of exercises 1 to 4, written out here, so that only fit_sentiment is tested.
    splits = {"train": [], "validation": [], "test": []}
    for line in CORPUS_PATH.read_text(encoding="utf-8").splitlines()[1:]:  # [1:]: the header
        split, label, text = line.split("\t", 2)
        if split == "test":
            continue  # used once, by the lesson, at the very end
        text = text.lower().replace("<br />", " ").replace("’", "'")
        tokens = re.findall(r"\w+(?:'\w+)?|[!?]", text)
        splits[split].append((tokens, int(label == "pos")))
    counts = Counter(token for tokens, _ in splits["train"] for token in tokens)
    vocab = ["<pad>", "<unk>"] + [token for token, count in counts.items() if count >= 2]
    token_to_id = {token: index for index, token in enumerate(vocab)}

    class Batches:  # what a DataLoader with exercise 3's collate_fn gives, made faster
        def __init__(self, split: str, batch_size: int, flip_in_epoch: int = 0):
            reviews = [
                [token_to_id.get(token, UNK_ID) for token in tokens] or [UNK_ID]  # none: <unk>
                for tokens, _ in splits[split]
            ]
            self.dataset, self.batch_size, self.epoch = reviews, batch_size, 0
            self.flip_in_epoch = flip_in_epoch  # that epoch gets every label wrong
            self.lengths = torch.tensor([len(review) for review in reviews])
            padded = np.zeros((len(reviews), self.lengths.max().item()), dtype=np.int64)
            for row, review in enumerate(reviews):
                padded[row, : len(review)] = review
            self.ids = torch.from_numpy(padded)  # (reviews, longest), 0 = <pad>
            self.labels = torch.tensor([label for _, label in splits[split]])

        def __len__(self):
            return (len(self.dataset) + self.batch_size - 1) // self.batch_size

        def __iter__(self):
            self.epoch += 1
            flip = self.epoch == self.flip_in_epoch
            for batch in torch.randperm(len(self.dataset)).split(self.batch_size):
                lengths, labels = self.lengths[batch], self.labels[batch]
                yield self.ids[batch, : lengths.max()], lengths, 1 - labels if flip else labels

    # In the last of 3 epochs every training label is wrong: the best epoch is not the last.
    train_loader, val_loader = Batches("train", 256, flip_in_epoch=3), Batches("validation", 512)

    class MeanBag(nn.Module):  # exercise 4's model, with dropout
        def __init__(self):
            super().__init__()
            self.embedding = nn.EmbeddingBag(len(vocab), 16, mode="mean", padding_idx=PAD_ID)
            self.dropout, self.classifier = nn.Dropout(0.5), nn.Linear(16, 2)

        def forward(self, ids, lengths):
            return self.classifier(self.dropout(self.embedding(ids)))

    model = MeanBag().to(device)
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
    what = (
        f"fit_sentiment(model, the kit's {len(train_loader.dataset):,} train reviews, "
        f"{len(val_loader.dataset)} validation, 3 epochs, lr=0.1)"
    )
    try:
        accuracies = fit_sentiment(model, train_loader, val_loader, 3, 0.1, device)
    finally:
        for handle in handles:
            handle.remove()
    accuracies = expect_type(accuracies, list, what)
    expect(len(accuracies) == 3, f"{what} returned {len(accuracies)} accuracies, expected 3")
    for accuracy in accuracies:
        expect_type(accuracy, float, f"{what}: each accuracy")
        expect(0 <= accuracy <= 1, f"{what}: accuracy {accuracy} is not a share between 0 and 1")
    expect(
        not any(added_up),
        f"{what}: the gradients added up from step to step: call optimizer.zero_grad() before "
        "loss.backward() in every step",
        section="learning/04_training.md#2-non-scalar-outputs-and-accumulation",
    )
    expect(
        not any(not training and grad for training, grad in passes),
        f"{what}: a training step ran in evaluation mode (dropout off): call model.train() at "
        "the start of every epoch, since measuring validation switched it to model.eval()",
    )
    expect(
        not any(training and not grad for training, grad in passes),
        f"{what}: validation ran in training mode, so dropout was on: call model.eval() before "
        "measuring",
    )
    model.eval()
    num_correct = 0
    with torch.no_grad():
        for ids, lengths, labels in val_loader:
            predicted = model(ids.to(device), lengths.to(device)).argmax(dim=1).cpu()
            num_correct += (predicted == labels).sum().item()
    now = num_correct / len(val_loader.dataset)
    expect(
        np.isclose(now, max(accuracies)),
        f"{what}: the model's validation accuracy is {now:.1%}, but the best epoch had "
        f"{max(accuracies):.1%}: measure in model.eval() mode, and load the best epoch's "
        "weights back at the end; state_dict() returns the live tensors, so keep "
        "copy.deepcopy(model.state_dict())",
    )
    expect(
        max(accuracies) >= 0.7,
        f"{what}: the best validation accuracy is {max(accuracies):.1%}, expected at least 70%: "
        "train on every batch, cross-entropy of the raw logits (no softmax first), Adam on "
        "model.parameters() with lr",
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
    Exercise("A tokenizer", f"{GUIDE}#2-tokenization", check_1),
    Exercise("A vocabulary", f"{GUIDE}#3-vocabulary", check_2),
    Exercise("Padded batches", f"{GUIDE}#4-batches", check_3),
    Exercise("A bag of words that ignores padding", f"{GUIDE}#5-models", check_4),
    Exercise("Precision, recall and F1 by hand", f"{GUIDE}#7-evaluation", check_5),
    Exercise("Keep the best epoch", f"{GUIDE}#6-training", check_6),
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
        f"Solutions 06 - PyTorch {torch.__version__} - device {device} - seed {args.seed}"
    )
    run_exercises(EXERCISES, device, args.seed, args.only)


# %% Run: as a script, the command line's flags; as a notebook, NOTEBOOK_ARGS above
if __name__ == "__main__":
    run_lesson(main, NOTEBOOK_ARGS)
