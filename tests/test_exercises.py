"""The self-checking exercises (starter_kit/15_pytorch_ml/exercises/) and their solutions.

For every exercise file the glob finds: its solution passes every check; the untouched file
reports every exercise as not attempted and exits 1; a forgotten `return`, a crash and a
deliberately wrong answer each get a one-line hint, not a traceback; the checks are the same text
in both files; both files carry a valid PEP 723 block, a docstring with their `uv run` command,
guide links that resolve, and verbatim copies of the contract helpers. Most tests import the
files by path and call main([...]) in-process; one runs an exercise file as a real process.
"""

import ast
import copy
import functools
import importlib.util
import io
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
import torch
from helpers import GUIDE_DIR, LESSON_DIR, LESSONS, ROOT, lesson_env
from rich.console import Console
from torch import nn

EXERCISE_DIR = LESSON_DIR / "exercises"
SOLUTION_DIR = LESSON_DIR / "solutions"
EXERCISE_FILES = sorted(EXERCISE_DIR.glob("[0-9][0-9]_*.py"))
SOLUTION_FILES = sorted(SOLUTION_DIR.glob("[0-9][0-9]_*.py"))
ALL_FILES = EXERCISE_FILES + SOLUTION_FILES
# The contract helpers every exercise and solution file carries (tools/contract.py), and all of
# tools/exercise_contract.py's.
CONTRACT_HELPERS = [
    "make_console",
    "fail",
    "resolve_device",
    "seed_everything",
    "LessonArgumentParser",
    "seed_value",
    "contract_parser",
    "script_arguments",
    "run_lesson",
]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PEP_723 = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")
GUIDE_LINK = re.compile(r"learning/\d\d_\w+\.md(?:#[\w-]+)?")
NOT_ATTEMPTED, PASSED, FAILED = "not attempted", "passed", "failed"


def file_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@functools.cache
def load(path: Path) -> ModuleType:
    """Import an exercise or solution file by path, once per session (main() does not run)."""
    spec = importlib.util.spec_from_file_location(f"{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_main(module: ModuleType, monkeypatch, *args: str) -> tuple[int, str]:
    """module.main(args) in-process: (exit status, what it printed), on a wide plain console."""
    printed = io.StringIO()
    monkeypatch.setattr(module, "console", Console(file=printed, width=1000))
    try:
        module.main(list(args))
        status = 0
    except SystemExit as stop:
        status = stop.code
    return status, printed.getvalue()


def table_rows(output: str) -> dict[int, tuple[str, str]]:
    """The checker's table as {number: (status, hint)}; a hint's lines are joined with ' | '."""
    rows: dict[int, list[str]] = {}
    number = None
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) != 4:
            continue
        if cells[0].isdigit():
            number = int(cells[0])
            rows[number] = [cells[2], cells[3]]
        elif number is not None and cells[3]:
            rows[number][1] += " | " + cells[3]
    return {n: (status, hint) for n, (status, hint) in rows.items()}


@functools.cache
def syntax_tree(path: Path) -> ast.Module:
    """A file's syntax tree, parsed once per session (a parse of a 30 KB file is not free)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def exercise_names(path: Path) -> list[str]:
    """The exercises of an exercise file: top-level functions (or classes, all of whose methods)
    are only a docstring and `raise NotImplementedError("TODO: ...")`."""
    return [node.name for node in syntax_tree(path).body if is_todo(node)]


def is_todo(node: ast.stmt) -> bool:
    if isinstance(node, ast.ClassDef):
        methods = [item for item in node.body if isinstance(item, ast.FunctionDef)]
        return bool(methods) and all(is_todo(method) for method in methods)
    if not isinstance(node, ast.FunctionDef):
        return False
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return False
    raised = body[0].exc
    return (
        isinstance(raised, ast.Call)
        and isinstance(raised.func, ast.Name)
        and raised.func.id == "NotImplementedError"
        and len(raised.args) == 1
        and isinstance(raised.args[0], ast.Constant)
        and str(raised.args[0].value).startswith("TODO: ")
    )


def top_level(path: Path) -> dict[str, ast.stmt]:
    """name -> node of every top-level def and class, in source order."""
    tree = syntax_tree(path)
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}


def check_numbers(path: Path) -> list[int]:
    return [int(name[6:]) for name in top_level(path) if re.fullmatch(r"check_\d+", name)]


def checks_using(path: Path, name: str) -> list[int]:
    """The numbers of the checks that call the exercise `name`."""
    nodes = top_level(path)
    return [
        number
        for number in check_numbers(path)
        if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(nodes[f"check_{number}"]))
    ]


def skeleton(node: ast.stmt) -> str:
    """A def or class with every function body cut down to its docstring: its interface."""
    node = copy.deepcopy(node)
    for item in ast.walk(node):
        if isinstance(item, ast.FunctionDef):
            docstring = ast.get_docstring(item)
            item.body = [ast.Expr(ast.Constant(docstring))] if docstring else [ast.Pass()]
    return ast.unparse(node)


@pytest.fixture(autouse=True)
def restore_global_torch_state(one_cpu_thread):
    """main() sets one CPU thread and deterministic algorithms; put both back afterwards."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    benchmark = torch.backends.cudnn.benchmark
    yield
    now = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    if now != (deterministic, warn_only):  # only then: its first call imports torch._inductor
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
    torch.backends.cudnn.benchmark = benchmark


# Deliberately wrong answers: (exercise file stem, exercise name, wrong implementation, a piece
# of the hint it must get). Every exercise file needs at least one; the common mistakes that the
# lesson warns about belong here.
def targets_by_elementwise_product(features, true_weights, noise_std):
    return features * true_weights.T + noise_std * torch.randn_like(features)


def targets_with_uniform_noise(features, true_weights, noise_std):
    clean = features @ true_weights
    return clean + noise_std * torch.rand_like(clean)


def model_without_activation(num_features, hidden_size):
    return nn.Sequential(nn.Linear(num_features, hidden_size), nn.Linear(hidden_size, 1))


def train_without_zero_grad(model, features, targets, epochs, lr):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        loss = nn.functional.mse_loss(model(features), targets)
        loss.backward()  # the mistake: no optimizer.zero_grad(), so gradients add up
        optimizer.step()
        losses.append(loss.item())
    return losses


def predict_in_training_mode(model, samples):
    with torch.inference_mode():  # the mistake: no model.eval(), so dropout stays on
        return model(samples)


def linspace_without_end(start, end, count, device):
    return torch.arange(start, end, (end - start) / (count - 1), device=device)


def pixels_by_truncation(brightness):
    return (brightness.clamp(0, 1) * 255).to(torch.uint8)


def pixels_without_clamp(brightness):
    return (brightness * 255).round().to(torch.uint8)


def from_numpy_sharing_memory(array, device):
    return torch.from_numpy(array).float().to(device)


def numpy_of_a_tracked_tensor(tensor):
    return tensor.numpy()


def zero_the_first_row_in_place(grid):
    grid[0] = 0
    return grid


def channels_first_by_reshape(images):
    batch, height, width, channels = images.shape
    return images.reshape(batch, channels, height, width)


def flatten_with_view(images):
    return images.view(images.shape[0], -1)


def mse_broadcast_to_a_table(predictions, targets):
    return ((predictions - targets) ** 2).mean()


def outliers_picked_by_mask(values, limit):
    return values[values.abs() <= limit]


def snapshot_without_clone(weights):
    return weights.detach()


def cross_entropy_of_probabilities(logits, labels):
    probabilities = logits.softmax(dim=1)
    return -probabilities.log_softmax(dim=1).gather(1, labels.unsqueeze(1)).mean()


def centre_the_rows(scores):
    return scores - scores.mean(dim=1, keepdim=True)


def loss_of_probabilities(logits, labels):
    probabilities = torch.softmax(logits, dim=1)
    return probabilities, nn.functional.cross_entropy(probabilities, labels)  # the mistake


def softmax_shifted_by_the_global_max(logits, dim):
    exponentials = (logits - logits.max()).exp()
    return exponentials / exponentials.sum(dim=dim, keepdim=True)


def softmax_without_shift(logits, dim):
    exponentials = logits.exp()
    return exponentials / exponentials.sum(dim=dim, keepdim=True)


def derivative_of_a_vector(x):
    leaf = x.detach().clone().requires_grad_()
    (leaf.sin() * leaf.exp()).backward()  # the mistake: backward() on a vector
    return leaf.grad


def one_sided_difference(f, w, eps):
    gradient = torch.zeros_like(w)
    for i in range(w.numel()):
        nudge = torch.zeros_like(w).view(-1)
        nudge[i] = eps
        gradient.view(-1)[i] = (f(w + nudge.view_as(w)) - f(w)) / eps
    return gradient


def descent_without_clearing_gradients(x, y, lr, steps):
    w = torch.zeros((), device=x.device, requires_grad=True)
    b = torch.zeros((), device=x.device, requires_grad=True)
    for _ in range(steps):
        ((w * x + b - y) ** 2).mean().backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return w.item(), b.item()


def step_without_zero_grad(model, optimizer, loss_fn, features, targets):
    loss = loss_fn(model(features), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def evaluate_in_training_mode(model, loader, device):
    total = 0.0
    with torch.inference_mode():
        for features, targets in loader:
            predictions = model(features.to(device))
            total += nn.functional.mse_loss(predictions, targets.to(device), reduction="sum").item()
    return total / len(loader.dataset)


def evaluate_mean_of_batch_means(model, loader, device):
    model.eval()
    with torch.inference_mode():
        losses = [
            nn.functional.mse_loss(model(x.to(device)), y.to(device)).item() for x, y in loader
        ]
    return sum(losses) / len(losses)


def early_stopping_keeping_live_weights(
    model, train_loader, val_loader, device, lr, max_epochs, patience
):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    best_val_loss, best_epoch, best_state = float("inf"), 0, None
    for epoch in range(1, max_epochs + 1):
        model.train()
        for features, targets in train_loader:
            loss = nn.functional.mse_loss(model(features.to(device)), targets.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.inference_mode():
            val_loss = sum(
                nn.functional.mse_loss(model(x.to(device)), y.to(device), reduction="sum").item()
                for x, y in val_loader
            ) / len(val_loader.dataset)
        if val_loss < best_val_loss:
            best_val_loss, best_epoch = val_loss, epoch
            best_state = model.state_dict()  # the mistake: the live tensors, not a copy
        elif epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    return {"best_epoch": best_epoch, "best_val_loss": best_val_loss, "epochs_run": epoch}


class ClassifierInAPlainList(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        self.layers = [nn.Linear(n_in, n_out) for n_in, n_out in pairs]  # not registered

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)


class ClassifierWithAFinalReLU(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        self.layers = nn.ModuleList(nn.Linear(n_in, n_out) for n_in, n_out in pairs)

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))  # the mistake: after the last layer too
        return x


class ClassifierOfProbabilities(ClassifierWithAFinalReLU):
    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x).softmax(dim=1)  # the mistake: CrossEntropyLoss softmaxes again


def all_of_h_n(lstm, embedded):
    return lstm(embedded)[1][0]


def first_layer_state(lstm, embedded):
    return lstm(embedded)[1][0][0]


def last_sequence_instead_of_last_step(lstm, embedded):
    return lstm(embedded)[0][-1]


def bce_of_sigmoid(logits, labels):
    return nn.BCELoss()(torch.sigmoid(logits.squeeze(1)), labels.float())


def bce_of_integer_labels(logits, labels):
    return nn.functional.binary_cross_entropy_with_logits(logits.squeeze(1), labels)


def bce_of_mismatched_shapes(logits, labels):
    return nn.functional.binary_cross_entropy_with_logits(logits, labels.float())


def init_too_large(weight):
    return nn.init.normal_(weight, std=1.0)


def init_without_gain(weight):
    return nn.init.xavier_normal_(weight)


def init_by_rebinding(weight):
    weight = torch.randn_like(weight) * (5 / 3) / weight.shape[1] ** 0.5  # a new tensor
    return weight


def fit_sine_loop(model, x, y, steps, optimizer, zero_grad=True):
    losses = []
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(x), y)
        if zero_grad:
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def fit_with_plain_sgd(model, x, y, steps):
    return fit_sine_loop(model, x, y, steps, torch.optim.SGD(model.parameters(), lr=0.1))


def fit_without_zero_grad(model, x, y, steps):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    return fit_sine_loop(model, x, y, steps, optimizer, zero_grad=False)


def tokenize_by_splitting(text):
    return text.lower().split()


def tokenize_without_apostrophes(text):
    return re.findall(r"\w+|[!?]", text.lower().replace("<br />", " "))


def vocabulary(train_tokens, min_freq, specials=True, strictly_more=False, per_review=False):
    counts = {}
    for tokens in train_tokens:
        for token in set(tokens) if per_review else tokens:
            counts[token] = counts.get(token, 0) + 1
    kept = [t for t, c in counts.items() if (c > min_freq if strictly_more else c >= min_freq)]
    kept.sort(key=lambda token: (-counts[token], token))
    return ["<pad>", "<unk>"] + kept if specials else kept


def vocabulary_without_specials(train_tokens, min_freq):
    return vocabulary(train_tokens, min_freq, specials=False)


def vocabulary_above_min_freq(train_tokens, min_freq):
    return vocabulary(train_tokens, min_freq, strictly_more=True)


def vocabulary_by_review_count(train_tokens, min_freq):
    return vocabulary(train_tokens, min_freq, per_review=True)


def collate_sequence_first(batch):
    ids = nn.utils.rnn.pad_sequence([ids for ids, _ in batch])  # (longest, batch)
    lengths = torch.tensor([len(ids) for ids, _ in batch])
    return ids, lengths, torch.tensor([label for _, label in batch])


def collate_padding_with_unk(batch):
    ids = nn.utils.rnn.pad_sequence([ids for ids, _ in batch], batch_first=True, padding_value=1)
    lengths = torch.tensor([len(ids) for ids, _ in batch])
    return ids, lengths, torch.tensor([label for _, label in batch])


class MeanBagCountingPads(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_classes):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, mode="mean")  # no padding_idx
        self.classifier = nn.Linear(embed_dim, num_classes)

    def forward(self, ids, lengths):
        return self.classifier(self.embedding(ids))


def metrics(probabilities, labels, swap=False, plain_mean=False, zero_division_ok=True):
    called, actual = probabilities > 0.5, labels == 1
    true_pos, false_pos = (called & actual).sum().item(), (called & ~actual).sum().item()
    false_neg = (~called & actual).sum().item()
    if zero_division_ok:
        precision = true_pos / max(true_pos + false_pos, 1)
    else:
        precision = true_pos / (true_pos + false_pos)
    recall = true_pos / max(true_pos + false_neg, 1)
    if swap:
        precision, recall = recall, precision
    total = precision + recall
    f1 = total / 2 if plain_mean else 2 * precision * recall / total if total else 0.0
    accuracy = (called == actual).float().mean().item()
    return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1}


def metrics_with_precision_and_recall_swapped(probabilities, labels):
    return metrics(probabilities, labels, swap=True)


def metrics_with_a_plain_mean(probabilities, labels):
    return metrics(probabilities, labels, plain_mean=True)


def metrics_dividing_by_zero(probabilities, labels):
    return metrics(probabilities, labels, zero_division_ok=False)


def fit_sentiment_loop(
    model, train_loader, val_loader, epochs, lr, device, zero_grad=True, eval_mode=True, best=True
):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    accuracies, best_state = [], None
    for _ in range(epochs):
        model.train()
        for ids, lengths, labels in train_loader:
            loss = nn.functional.cross_entropy(model(ids.to(device), lengths), labels.to(device))
            if zero_grad:
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if eval_mode:
            model.eval()
        num_correct = 0
        with torch.inference_mode():
            for ids, lengths, labels in val_loader:
                predicted = model(ids.to(device), lengths).argmax(dim=1).cpu()
                num_correct += (predicted == labels).sum().item()
        accuracies.append(num_correct / len(val_loader.dataset))
        if accuracies[-1] >= max(accuracies):
            best_state = copy.deepcopy(model.state_dict())
    if best:
        model.load_state_dict(best_state)
    return accuracies


def fit_keeping_the_last_epoch(model, train_loader, val_loader, epochs, lr, device):
    return fit_sentiment_loop(model, train_loader, val_loader, epochs, lr, device, best=False)


def fit_validating_in_training_mode(model, train_loader, val_loader, epochs, lr, device):
    return fit_sentiment_loop(model, train_loader, val_loader, epochs, lr, device, eval_mode=False)


def fit_sentiment_without_zero_grad(model, train_loader, val_loader, epochs, lr, device):
    return fit_sentiment_loop(model, train_loader, val_loader, epochs, lr, device, zero_grad=False)


def conv_size_by_true_division(size, kernel_size, stride=1, padding=0):
    return (size + 2 * padding - kernel_size) / stride + 1


def conv_size_without_the_first_position(size, kernel_size, stride=1, padding=0):
    return (size + 2 * padding - kernel_size) // stride


def conv_size_with_padding_on_one_side(size, kernel_size, stride=1, padding=0):
    return (size + padding - kernel_size) // stride + 1


def tiny_cnn(num_classes, flatten=True, in_features=64, softmax=False):
    layers = [
        nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    ]  # fmt: skip
    layers += [nn.Flatten()] if flatten else []
    layers += [nn.Dropout(0.25), nn.Linear(in_features, num_classes)]
    return nn.Sequential(*layers, *([nn.Softmax(dim=1)] if softmax else []))


def cnn_with_the_wrong_linear_size(num_classes):
    return tiny_cnn(num_classes, in_features=16 * 4 * 4)


def cnn_without_flatten(num_classes):
    return tiny_cnn(num_classes, flatten=False)


def cnn_ending_in_softmax(num_classes):
    return tiny_cnn(num_classes, softmax=True)


def shift_by_rolling(images, max_shift):
    shifts = torch.randint(-max_shift, max_shift + 1, (len(images), 2)).tolist()
    rolled = [image.roll(tuple(shifts[i]), dims=(1, 2)) for i, image in enumerate(images)]
    return torch.stack(rolled)


def windows_of(padded, dy, dx, height, width):
    dy, dx = dy.to(padded.device), dx.to(padded.device)
    index = torch.arange(len(padded), device=padded.device)[:, None, None]
    rows = (dy[:, None] + torch.arange(height, device=padded.device))[:, :, None]
    columns = (dx[:, None] + torch.arange(width, device=padded.device))[:, None, :]
    return padded[index, 0, rows, columns].unsqueeze(1)


def shift_with_zeros(images, max_shift):
    padded = nn.functional.pad(images, (max_shift,) * 4)  # the mistake: a black border
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, len(images)))
    return windows_of(padded, dy, dx, *images.shape[2:])


def shift_the_whole_batch_alike(images, max_shift):
    padded = nn.functional.pad(images, (max_shift,) * 4, mode="replicate")
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, 1)).expand(2, len(images))  # one shift
    return windows_of(padded, dy, dx, *images.shape[2:])


def shift_in_one_direction(images, max_shift):
    padded = nn.functional.pad(images, (max_shift,) * 4, mode="replicate")
    dy, dx = torch.randint(0, max_shift + 1, (2, len(images)))  # the mistake: 0 to max_shift
    return windows_of(padded, dy, dx, *images.shape[2:])


def predict_with_dropout_on(model, images):
    with torch.inference_mode():
        confidences, classes = model(images).softmax(dim=1).max(dim=1)
    return classes, confidences


def predict_with_logits_as_confidence(model, images):
    model.eval()
    with torch.inference_mode():
        confidences, classes = model(images).max(dim=1)
    return classes, confidences


def confusion_transposed(true_labels, predicted, num_classes):
    counts = torch.bincount(predicted * num_classes + true_labels, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def confusion_without_minlength(true_labels, predicted, num_classes):
    return torch.bincount(true_labels * num_classes + predicted).reshape(num_classes, num_classes)


def digits_loop(model, images, labels, epochs, batch_size, lr, train=True, softmax=False, zero=1):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    losses = []
    for _ in range(epochs):
        if train:
            model.train()
        total = 0.0
        for batch in torch.randperm(len(labels), device=labels.device).split(batch_size):
            logits = model(images[batch])
            scores = logits.softmax(dim=1) if softmax else logits  # softmax: the mistake
            loss = nn.functional.cross_entropy(scores, labels[batch])
            if zero:
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(labels))
    return losses


def train_digits_in_eval_mode(model, images, labels, epochs, batch_size, lr):
    return digits_loop(model, images, labels, epochs, batch_size, lr, train=False)


def train_digits_on_probabilities(model, images, labels, epochs, batch_size, lr):
    return digits_loop(model, images, labels, epochs, batch_size, lr, softmax=True)


def train_digits_without_zero_grad(model, images, labels, epochs, batch_size, lr):
    return digits_loop(model, images, labels, epochs, batch_size, lr, zero=0)


def lr_scaled_by_world_size(per_process, world_size, base_lr, base_batch):
    return per_process * world_size, base_lr * world_size


def global_batch_of_one_process(per_process, world_size, base_lr, base_batch):
    return per_process, base_lr * per_process / base_batch


def lr_divided_by_world_size(per_process, world_size, base_lr, base_batch):
    return per_process * world_size, base_lr / world_size


def device_and_backend_of(use_accelerator, variable="LOCAL_RANK", kind=None, set_index=True):
    import os

    accelerator = torch.accelerator.current_accelerator()
    if not use_accelerator or accelerator is None:
        return torch.device("cpu"), "gloo"
    index = int(os.environ.get(variable, "0"))
    if set_index:
        torch.accelerator.set_device_index(index)
    backend = {"cuda": "nccl", "xpu": "xccl"}.get(accelerator.type)
    if backend is None:
        raise ValueError(f"{accelerator.type} has no distributed backend")
    return torch.device(kind or accelerator.type, index), backend


def device_by_global_rank(use_accelerator):
    return device_and_backend_of(use_accelerator, variable="RANK")


def device_always_cuda(use_accelerator):
    return device_and_backend_of(use_accelerator, kind="cuda")


def device_not_made_current(use_accelerator):
    return device_and_backend_of(use_accelerator, set_index=False)


def shard_in_blocks(num_samples, rank, world_size):
    per_rank = -(-num_samples // world_size)
    return list(range(num_samples))[rank * per_rank : (rank + 1) * per_rank]


def shard_without_padding(num_samples, rank, world_size):
    return list(range(rank, num_samples, world_size))


def shard_padded_with_the_last(num_samples, rank, world_size):
    per_rank = -(-num_samples // world_size)
    indices = list(range(num_samples))
    indices += [num_samples - 1] * (per_rank * world_size - num_samples)
    return indices[rank::world_size]


def gradients_summed(model):
    for parameter in model.parameters():
        torch.distributed.all_reduce(parameter.grad)  # the mistake: no division
    return [parameter.grad for parameter in model.parameters()]


def gradients_never_reduced(model):
    for parameter in model.parameters():
        parameter.grad /= torch.distributed.get_world_size()  # the mistake: no all_reduce
    return [parameter.grad for parameter in model.parameters()]


def gradients_averaged_twice(model):
    for parameter in model.parameters():
        torch.distributed.all_reduce(parameter.grad, op=torch.distributed.ReduceOp.AVG)
        parameter.grad /= torch.distributed.get_world_size()  # the mistake: AVG already divides
    return [parameter.grad for parameter in model.parameters()]


def gradients_in_one_flat_buffer_summed(model):
    flat = torch.cat([parameter.grad.flatten() for parameter in model.parameters()])
    torch.distributed.all_reduce(flat)  # one call for all; the mistake: no division
    for parameter, piece in zip(
        model.parameters(), flat.split([p.numel() for p in model.parameters()]), strict=True
    ):
        parameter.grad.copy_(piece.view_as(parameter.grad))
    return [parameter.grad for parameter in model.parameters()]


def load_weights_only(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state"])  # the mistake: no optimizer state
    return checkpoint["epoch"]


def load_trusting_the_pickle(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=False)  # the mistake
    model.load_state_dict(checkpoint["model_state"])
    optimizer.load_state_dict(checkpoint["optimizer_state"])
    return checkpoint["epoch"]


def load_untrusted_running_the_pickle(path):
    try:
        return torch.load(path, weights_only=False)  # the mistake: runs the payload
    except (EOFError, RuntimeError) as error:
        raise ValueError(str(error) or "empty") from None


def load_untrusted_letting_errors_through(path):
    return torch.load(path, weights_only=True)  # UnpicklingError, EOFError escape


def export_with_a_fixed_batch(model, example):
    return torch.export.export(model.eval(), (example,))


def export_in_training_mode(model, example):
    batch = torch.export.Dim("batch", min=1, max=1024)
    return torch.export.export(model, (example,), dynamic_shapes=({0: batch},))


def parse_request(body, bools=True, nan=True):
    import json

    payload = json.loads(body)
    if not isinstance(payload, dict) or "images" not in payload:
        raise ValueError('"images" missing')
    images = payload["images"]
    if not isinstance(images, list) or not 1 <= len(images) <= 256:
        raise ValueError('"images" must hold 1 to 256 images')
    for i, image in enumerate(images):
        if not isinstance(image, list) or len(image) != 64:
            raise ValueError(f"images[{i}] must be 64 numbers")
        for j, value in enumerate(image):
            if (bools and isinstance(value, bool)) or not isinstance(value, int | float):
                raise ValueError(f"images[{i}][{j}] is not a number")
            if nan and value != value:
                raise ValueError(f"images[{i}][{j}] is NaN")
            if value < 0 or value > 16:
                raise ValueError(f"images[{i}][{j}] is outside 0-16")
    return images


def parse_request_accepting_true(body):
    return parse_request(body, bools=False)


def parse_request_accepting_nan(body):
    return parse_request(body, nan=False)


def parse_request_without_type_checks(body):
    import json

    images = json.loads(body)["images"]  # KeyError, TypeError on a bad body
    for i, image in enumerate(images):
        for j, value in enumerate(image):
            if not 0 <= value <= 16:
                raise ValueError(f"images[{i}][{j}] is outside 0-16")
    return images


def save_straight_into_path(path, model, optimizer, epoch):
    state = {"epoch": epoch, "model_state": model.state_dict()}
    torch.save(state | {"optimizer_state": optimizer.state_dict()}, path)
    return path


def save_the_model_object(path, model, optimizer, epoch):
    import os

    temporary = path.with_name(path.name + ".tmp")
    torch.save({"epoch": epoch, "model_state": model, "optimizer_state": optimizer}, temporary)
    os.replace(temporary, path)
    return path


def save_leaving_the_temporary_file(path, model, optimizer, epoch):
    import os

    temporary = path.with_name(path.name + ".tmp")
    state = {"epoch": epoch, "model_state": model.state_dict()}
    torch.save(state | {"optimizer_state": optimizer.state_dict()}, temporary)  # no cleanup
    os.replace(temporary, path)
    return path


def save_via_the_system_temporary_folder(path, model, optimizer, epoch):
    import shutil
    import tempfile

    state = {"epoch": epoch, "model_state": model.state_dict()}
    with tempfile.NamedTemporaryFile(suffix=".pt", delete=False) as file:
        torch.save(state | {"optimizer_state": optimizer.state_dict()}, file.name)
    shutil.move(file.name, path)
    return path


WRONG_ANSWERS = [
    ("00_quickstart", "make_targets", targets_by_elementwise_product, "`@` is the matrix product"),
    ("00_quickstart", "make_targets", targets_with_uniform_noise, "not torch.rand"),
    ("00_quickstart", "make_model", model_without_activation, "put nn.ReLU() between"),
    ("00_quickstart", "train", train_without_zero_grad, "without optimizer.zero_grad()"),
    ("00_quickstart", "predict", predict_in_training_mode, "call model.eval()"),
    ("01_tensor_basics", "linspace_by_arange", linspace_without_end, "arange stops before"),
    ("01_tensor_basics", "to_pixels", pixels_by_truncation, "truncates toward zero"),
    ("01_tensor_basics", "to_pixels", pixels_without_clamp, "clamp values outside [0, 1]"),
    ("01_tensor_basics", "from_numpy_for_model", from_numpy_sharing_memory, "shares the array's"),
    ("01_tensor_basics", "to_numpy", numpy_of_a_tracked_tensor, "call .detach()"),
    ("01_tensor_basics", "with_first_row_zeroed", zero_the_first_row_in_place, "clone() first"),
    ("02_tensor_manipulation", "to_channels_first", channels_first_by_reshape, "use permute"),
    ("02_tensor_manipulation", "flatten_for_linear", flatten_with_view, "not contiguous"),
    ("02_tensor_manipulation", "mean_squared_error", mse_broadcast_to_a_table, "squeeze(1)"),
    ("02_tensor_manipulation", "zero_outliers", outliers_picked_by_mask, "masked_fill"),
    ("02_tensor_manipulation", "snapshot", snapshot_without_clone, "clone() it as well"),
    ("02_tensor_manipulation", "cross_entropy_by_hand", cross_entropy_of_probabilities, "raw"),
    ("03_tensor_math", "center_columns", centre_the_rows, "dim=0 averages"),
    ("03_tensor_math", "probabilities_and_loss", loss_of_probabilities, "the raw logits"),
    ("03_tensor_math", "stable_softmax", softmax_shifted_by_the_global_max, "each row's own max"),
    ("03_tensor_math", "stable_softmax", softmax_without_shift, "exp() overflows"),
    ("04_training", "derivative_of_sin_exp", derivative_of_a_vector, "backward() on a vector"),
    ("04_training", "central_difference", one_sided_difference, "a one-sided difference"),
    ("04_training", "fit_line_by_hand", descent_without_clearing_gradients, "never clears"),
    ("04_training", "train_step", step_without_zero_grad, "call optimizer.zero_grad() before"),
    ("04_training", "evaluate", evaluate_in_training_mode, "call model.eval()"),
    ("04_training", "evaluate", evaluate_mean_of_batch_means, "the mean of the batch means"),
    ("04_training", "train_with_early_stopping", early_stopping_keeping_live_weights, "deepcopy"),
    ("05_neural_networks", "MLPClassifier", ClassifierInAPlainList, "nn.ModuleList"),
    ("05_neural_networks", "MLPClassifier", ClassifierWithAFinalReLU, "ReLU after the last"),
    ("05_neural_networks", "MLPClassifier", ClassifierOfProbabilities, "returns probabilities"),
    ("05_neural_networks", "last_hidden_state", all_of_h_n, "top layer's state is h_n[-1]"),
    ("05_neural_networks", "last_hidden_state", first_layer_state, "the first (bottom) layer"),
    ("05_neural_networks", "last_hidden_state", last_sequence_instead_of_last_step, "[:, -1]"),
    ("05_neural_networks", "binary_cross_entropy", bce_of_sigmoid, "rounds to 1.0"),
    ("05_neural_networks", "binary_cross_entropy", bce_of_integer_labels, "labels.float()"),
    ("05_neural_networks", "binary_cross_entropy", bce_of_mismatched_shapes, "squeeze(1)"),
    ("05_neural_networks", "init_for_tanh", init_too_large, "saturated"),
    ("05_neural_networks", "init_for_tanh", init_without_gain, "the signal fades"),
    ("05_neural_networks", "init_for_tanh", init_by_rebinding, "fill it in place"),
    ("05_neural_networks", "fit_sine", fit_with_plain_sgd, "Plain SGD is too slow"),
    ("05_neural_networks", "fit_sine", fit_without_zero_grad, "call optimizer.zero_grad()"),
    ("06_sentiment_analysis", "tokenize", tokenize_by_splitting, "punctuation sticks"),
    ("06_sentiment_analysis", "tokenize", tokenize_without_apostrophes, "keep the apostrophe"),
    ("06_sentiment_analysis", "build_vocabulary", vocabulary_without_specials, "'<pad>' (id 0)"),
    ("06_sentiment_analysis", "build_vocabulary", vocabulary_above_min_freq, ">= min_freq"),
    ("06_sentiment_analysis", "build_vocabulary", vocabulary_by_review_count, "every occurrence"),
    ("06_sentiment_analysis", "collate_padded", collate_sequence_first, "batch_first=True"),
    ("06_sentiment_analysis", "collate_padded", collate_padding_with_unk, "pad with 0"),
    ("06_sentiment_analysis", "MeanBagClassifier", MeanBagCountingPads, "counted the <pad>"),
    (
        "06_sentiment_analysis",
        "precision_recall_f1",
        metrics_with_precision_and_recall_swapped,
        "precision and recall are swapped",
    ),
    ("06_sentiment_analysis", "precision_recall_f1", metrics_with_a_plain_mean, "harmonic mean"),
    ("06_sentiment_analysis", "precision_recall_f1", metrics_dividing_by_zero, "divided by zero"),
    ("06_sentiment_analysis", "fit_sentiment", fit_keeping_the_last_epoch, "load the best epoch"),
    (
        "06_sentiment_analysis",
        "fit_sentiment",
        fit_validating_in_training_mode,
        "validation ran in training mode",
    ),
    ("06_sentiment_analysis", "fit_sentiment", fit_sentiment_without_zero_grad, "zero_grad()"),
    ("07_image_classification", "conv_output_size", conv_size_by_true_division, "use `//`"),
    (
        "07_image_classification",
        "conv_output_size",
        conv_size_without_the_first_position,
        "add 1, for the kernel's first position",
    ),
    ("07_image_classification", "conv_output_size", conv_size_with_padding_on_one_side, "both"),
    ("07_image_classification", "make_tiny_cnn", cnn_with_the_wrong_linear_size, "2 x 2 = 64"),
    ("07_image_classification", "make_tiny_cnn", cnn_without_flatten, "put nn.Flatten()"),
    ("07_image_classification", "make_tiny_cnn", cnn_ending_in_softmax, "returns probabilities"),
    ("07_image_classification", "random_shift", shift_by_rolling, "torch.roll wraps"),
    ("07_image_classification", "random_shift", shift_with_zeros, "filled with 0s"),
    ("07_image_classification", "random_shift", shift_the_whole_batch_alike, "the same way"),
    ("07_image_classification", "random_shift", shift_in_one_direction, "only 4 of the 9"),
    ("07_image_classification", "predict_with_confidence", predict_with_dropout_on, "model.eval()"),
    (
        "07_image_classification",
        "predict_with_confidence",
        predict_with_logits_as_confidence,
        "apply softmax first",
    ),
    ("07_image_classification", "confusion_matrix", confusion_transposed, "is transposed"),
    ("07_image_classification", "confusion_matrix", confusion_without_minlength, "minlength="),
    ("07_image_classification", "train_digits", train_digits_in_eval_mode, "call model.train()"),
    ("07_image_classification", "train_digits", train_digits_on_probabilities, "never went below"),
    ("07_image_classification", "train_digits", train_digits_without_zero_grad, "zero_grad()"),
    ("08_deployment", "load_checkpoint", load_weights_only, "optimizer's state"),
    ("08_deployment", "load_checkpoint", load_trusting_the_pickle, "weights_only=False"),
    ("08_deployment", "load_untrusted", load_untrusted_running_the_pickle, "the payload ran"),
    ("08_deployment", "load_untrusted", load_untrusted_letting_errors_through, "raise ValueError"),
    ("08_deployment", "export_for_any_batch", export_with_a_fixed_batch, "dynamic_shapes="),
    ("08_deployment", "export_for_any_batch", export_in_training_mode, "call model.eval()"),
    ("08_deployment", "parse_predict_request", parse_request_accepting_true, "bool is an int"),
    ("08_deployment", "parse_predict_request", parse_request_accepting_nan, "math.isfinite"),
    (
        "08_deployment",
        "parse_predict_request",
        parse_request_without_type_checks,
        "isinstance(payload, dict)",
    ),
    ("08_deployment", "save_checkpoint", save_straight_into_path, "wrote straight into path"),
    ("08_deployment", "save_checkpoint", save_the_model_object, "not the objects themselves"),
    (
        "08_deployment",
        "save_checkpoint",
        save_leaving_the_temporary_file,
        "delete the temporary file",
    ),
    ("08_deployment", "save_checkpoint", save_via_the_system_temporary_folder, "own folder"),
    (
        "09_distributed_training",
        "global_batch_and_lr",
        lr_scaled_by_world_size,
        "base_lr x world_size",
    ),
    (
        "09_distributed_training",
        "global_batch_and_lr",
        global_batch_of_one_process,
        "one process's share",
    ),
    ("09_distributed_training", "global_batch_and_lr", lr_divided_by_world_size, "less noisy"),
    ("09_distributed_training", "device_and_backend", device_by_global_rank, "LOCAL_RANK"),
    ("09_distributed_training", "device_and_backend", device_always_cuda, "never 'cuda'"),
    (
        "09_distributed_training",
        "device_and_backend",
        device_not_made_current,
        "set_device_index(2)",
    ),
    ("09_distributed_training", "shard_indices", shard_in_blocks, "a contiguous block"),
    ("09_distributed_training", "shard_indices", shard_without_padding, "pad the indices"),
    ("09_distributed_training", "shard_indices", shard_padded_with_the_last, "the FIRST indices"),
    ("09_distributed_training", "average_gradients", gradients_summed, "is the SUM"),
    ("09_distributed_training", "average_gradients", gradients_never_reduced, "never called"),
    ("09_distributed_training", "average_gradients", gradients_averaged_twice, "divided twice"),
    (
        "09_distributed_training",
        "average_gradients",
        gradients_in_one_flat_buffer_summed,
        "is the SUM",
    ),
]


# On an accelerator, .to(device) copies, so sharing memory with NumPy is a CPU-only mistake.
MISTAKES_ONLY_THE_CPU_SHOWS = {from_numpy_sharing_memory}


def test_every_exercise_file_has_its_lesson_and_its_solution():
    assert EXERCISE_FILES, f"no exercise file in {EXERCISE_DIR.relative_to(ROOT)}"
    assert [p.name for p in EXERCISE_FILES] == [p.name for p in SOLUTION_FILES]
    lessons = {lesson.name for lesson in LESSONS}
    orphans = [p.name for p in EXERCISE_FILES if p.name not in lessons]
    assert not orphans, f"exercise files must be named like their lesson: {orphans}"


@pytest.mark.parametrize("solution", SOLUTION_FILES, ids=file_id)
def test_solution_passes_every_check(solution, device, monkeypatch):
    module = load(solution)
    status, output = run_main(module, monkeypatch, "--device", device)
    rows = table_rows(output)
    assert status == 0, output
    assert 3 <= len(module.EXERCISES) <= 6, "3 to 6 exercises per lesson"
    assert {n: s for n, (s, _) in rows.items()} == dict.fromkeys(range(1, len(rows) + 1), PASSED)
    assert len(rows) == len(module.EXERCISES), output
    if device == "cpu":  # an accelerator may warn about a kernel that is not deterministic
        assert all(hint == "" for _, hint in rows.values()), f"a check warned: {output}"


@pytest.mark.parametrize("exercise", EXERCISE_FILES, ids=file_id)
def test_untouched_exercise_file_reports_every_exercise_not_attempted(exercise, monkeypatch):
    module = load(exercise)
    status, output = run_main(module, monkeypatch, "--device", "cpu")
    rows = table_rows(output)
    assert status == 1
    assert len(rows) == len(module.EXERCISES) == len(exercise_names(exercise)), output
    for number, (state, hint) in rows.items():
        assert state == NOT_ATTEMPTED, f"exercise {number}: {state} {hint}"
        section = module.EXERCISES[number - 1].section
        assert hint.startswith("TODO: ") and hint.endswith(f"read {section}"), hint
    assert f"0 of {len(rows)} passed, 0 failed, {len(rows)} not attempted yet" in output


@pytest.mark.parametrize("exercise", EXERCISE_FILES, ids=file_id)
def test_a_forgotten_return_gets_a_hint_in_every_check(exercise, monkeypatch):
    module = load(exercise)
    for name in exercise_names(exercise):
        number = checks_using(exercise, name)[0]
        with monkeypatch.context() as patch:
            patch.setattr(module, name, lambda *args, **kwargs: None)
            status, output = run_main(module, patch, "--device", "cpu", "--only", str(number))
        state, hint = table_rows(output)[number]
        assert status == 1 and state == FAILED, f"{name} returning None: {state} {hint}"
        assert "None" in hint and "your code raised" not in hint, f"{name}: {hint}"
        assert "reread learning/" in hint, hint


@pytest.mark.parametrize("exercise", EXERCISE_FILES, ids=file_id)
def test_a_crash_is_one_line_with_its_error_not_a_traceback(exercise, monkeypatch):
    module = load(exercise)
    name = exercise_names(exercise)[0]

    def crashes(*args, **kwargs):
        return 1 / 0

    monkeypatch.setattr(module, name, crashes)
    number = checks_using(exercise, name)[0]
    status, output = run_main(module, monkeypatch, "--device", "cpu", "--only", str(number))
    state, hint = table_rows(output)[number]
    assert status == 1 and state == FAILED
    # The deepest frame of the learner's own code: here, `crashes` in this test file.
    assert hint.startswith("your code raised ZeroDivisionError: division by zero (line "), hint
    assert ", in crashes)" in hint, hint
    assert "Traceback" not in output


def test_every_exercise_file_has_a_wrong_answer_test():
    covered = {stem for stem, *_ in WRONG_ANSWERS}
    missing = [p.stem for p in EXERCISE_FILES if p.stem not in covered]
    assert not missing, f"add a deliberately wrong answer for {missing} to WRONG_ANSWERS"


@pytest.mark.parametrize(
    ("stem", "name", "wrong", "hint_part"),
    WRONG_ANSWERS,
    ids=[f"{stem}-{wrong.__name__}" for stem, _, wrong, _ in WRONG_ANSWERS],
)
def test_a_wrong_answer_gets_its_hint(stem, name, wrong, hint_part, device, monkeypatch):
    if wrong in MISTAKES_ONLY_THE_CPU_SHOWS:
        device = "cpu"
    path = EXERCISE_DIR / f"{stem}.py"
    module = load(path)
    monkeypatch.setattr(module, name, wrong)
    number = checks_using(path, name)[0]
    status, output = run_main(module, monkeypatch, "--device", device, "--only", str(number))
    state, hint = table_rows(output)[number]
    assert status == 1 and state == FAILED, output
    assert hint_part in hint and "your code raised" not in hint, hint
    assert "reread learning/" in hint and "Traceback" not in output


@pytest.mark.parametrize("exercise", EXERCISE_FILES, ids=file_id)
def test_the_solution_is_the_exercise_file_worked_out(exercise):
    solution = SOLUTION_DIR / exercise.name
    exercises, solutions = top_level(exercise), top_level(solution)
    assert list(exercises) == list(solutions), "the same top-level names, in the same order"
    numbers = check_numbers(exercise)
    assert numbers == list(range(1, len(numbers) + 1)), f"checks must be check_1..: {numbers}"
    for number in numbers:
        name = f"check_{number}"
        assert ast.unparse(exercises[name]) == ast.unparse(solutions[name]), (
            f"{name} differs between {file_id(exercise)} and {file_id(solution)}"
        )
    names = exercise_names(exercise)
    assert 3 <= len(names) <= 6, f"3 to 6 exercises, found {names}"
    for name in names:
        assert ast.get_docstring(exercises[name]), f"{name} needs a docstring: task, Input, Return"
        assert skeleton(exercises[name]) == skeleton(solutions[name]), f"{name}'s interface"
        assert not is_todo(solutions[name]), f"the solution of {name} is not worked out"
        assert checks_using(exercise, name), f"no check calls {name}"
    module = load(exercise)
    assert [e.check.__name__ for e in module.EXERCISES] == [f"check_{n}" for n in numbers]
    assert len(names) == len(numbers), f"one check per exercise: {names}, {numbers}"
    # Exercise N: the N-th TODO function, after a "# %% Exercise N - Title" cell marker whose
    # title is the table's (plus "(warm-up)" or "(stretch)"); check_N calls it; its docstring's
    # Guide: line names the section the table names.
    markers = re.findall(
        r"^# %% Exercise (\d+) - (.+)$", exercise.read_text(encoding="utf-8"), re.M
    )
    assert [int(n) for n, _ in markers] == numbers, markers
    for (number, title), name, entry in zip(markers, names, module.EXERCISES, strict=True):
        assert re.sub(r" \((warm-up|stretch)\)$", "", title) == entry.title, (title, entry.title)
        assert int(number) in checks_using(exercise, name), f"check_{number} must call {name}"
        guide_line = re.search(r"^\s*Guide:\s+(\S+)", ast.get_docstring(exercises[name]), re.M)
        assert guide_line and guide_line[1] == entry.section, f"{name}'s Guide: line"


def script_metadata(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    blocks = [m for m in PEP_723.finditer(text) if m["type"] == "script"]
    assert len(blocks) == 1, f"{path.name}: {len(blocks)} '# /// script' blocks, want exactly 1"
    content = "".join(
        line[2:] if line.startswith("# ") else line[1:]
        for line in blocks[0]["content"].splitlines(keepends=True)
    )
    return tomllib.loads(content)


def third_party_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(syntax_tree(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    distribution = {"sklearn": "scikit-learn"}
    return {distribution.get(n, n) for n in names if n not in sys.stdlib_module_names}


@pytest.mark.parametrize("path", ALL_FILES, ids=file_id)
def test_pep_723_block_shares_the_project_date_and_declares_its_imports(path):
    metadata = script_metadata(path)
    assert metadata["requires-python"] == PYPROJECT["project"]["requires-python"]
    assert metadata["tool"]["uv"]["exclude-newer"] == PYPROJECT["tool"]["uv"]["exclude-newer"]
    assert metadata["dependencies"][:3] == ["torch>=2.15", "numpy>=2.0", "rich>=14"]
    declared = {re.match(r"[A-Za-z0-9._-]+", r)[0].lower() for r in metadata["dependencies"]}
    assert declared == third_party_imports(path)
    assert set(metadata["dependencies"]) <= set(PYPROJECT["project"]["dependencies"])


@pytest.mark.parametrize("path", ALL_FILES, ids=file_id)
def test_docstring_names_the_run_command_the_other_file_and_the_guide(path):
    docstring = ast.get_docstring(syntax_tree(path))
    if path.parent == EXERCISE_DIR:
        kind, other = "Exercises", "solutions"
    else:
        kind, other = "Solutions", "exercises"
    assert docstring.startswith(f"{kind} {path.name[:2]} - "), docstring.split("\n")[0]
    assert f"uv run starter_kit/15_pytorch_ml/{path.parent.name}/{path.name}" in docstring
    assert f"starter_kit/15_pytorch_ml/{other}/{path.name}" in docstring
    guides = [p.name for p in GUIDE_DIR.glob(f"{path.name[:2]}_*.md")]
    assert f"Guide:    learning/{guides[0]}" in docstring


def slug(heading: str) -> str:
    """GitHub's anchor for a heading (as tests/test_guides.py computes it)."""
    heading = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


@pytest.mark.parametrize("path", ALL_FILES, ids=file_id)
def test_every_guide_section_a_hint_names_exists(path):
    text = path.read_text(encoding="utf-8")
    links = set(GUIDE_LINK.findall(text))
    guides = re.findall(r'^GUIDE = "(.+)"$', text, re.M)  # f"{GUIDE}#anchor" in the checks
    links |= {
        guide + anchor for guide in guides for anchor in re.findall(r"\{GUIDE\}(#[\w-]+)", text)
    }
    assert any("#" in link for link in links), "hints must name guide sections"
    for link in sorted(links):
        guide, _, anchor = link.partition("#")
        assert (ROOT / guide).exists(), f"{path.name}: no {guide}"
        headings = re.findall(r"^#+ (.+)$", (ROOT / guide).read_text(encoding="utf-8"), re.M)
        assert not anchor or anchor in {slug(h) for h in headings}, f"{path.name}: no {link}"


@functools.cache
def master_texts() -> dict[str, str]:
    """name -> master text of every helper, as tools/sync_contract.py reads them."""
    spec = importlib.util.spec_from_file_location("sync_contract", ROOT / "tools/sync_contract.py")
    sync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sync)
    return sync.master_texts()


def source_text(path: Path, node: ast.stmt) -> str:
    """The exact text of a top-level def or class, decorators included."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(lines[first - 1 : node.end_lineno])


@pytest.mark.parametrize("path", ALL_FILES, ids=file_id)
def test_helpers_are_verbatim_copies_of_the_masters(path):
    exercise_master = ROOT / "tools" / "exercise_contract.py"
    required = CONTRACT_HELPERS + list(top_level(exercise_master))
    missing = [name for name in required if name not in top_level(path)]
    assert not missing, f"{path.name} lacks the helpers {missing}"
    masters = master_texts()
    differing = [
        name
        for name, node in top_level(path).items()
        if name in masters and source_text(path, node) != masters[name]
    ]
    assert not differing, f"{differing} differ from the masters: run tools/sync_contract.py"


@pytest.mark.parametrize("exercise", EXERCISE_FILES, ids=file_id)
def test_only_is_validated_by_argparse(exercise, monkeypatch, capsys):
    module = load(exercise)
    too_big = str(len(module.EXERCISES) + 1)
    for bad in (["--only", too_big], ["--only", "0"], ["--only", "two"]):
        status, _ = run_main(module, monkeypatch, "--device", "cpu", *bad)
        error = capsys.readouterr().err
        assert status == 2 and error.startswith("error: argument --only: "), error
        assert len(error.strip().splitlines()) == 1, error


@pytest.mark.parametrize("solution", SOLUTION_FILES[:1], ids=file_id)
def test_only_checks_that_one_exercise(solution, device, monkeypatch):
    status, output = run_main(load(solution), monkeypatch, "--device", device, "--only", "2")
    assert status == 0 and list(table_rows(output)) == [2], output


@functools.cache
def script_run() -> subprocess.Popen:
    """The one real run of an exercise file (the first), as a learner's command line runs it."""
    return subprocess.Popen(
        [sys.executable, str(EXERCISE_FILES[0]), "--device", "cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=lesson_env() | {"COLUMNS": "200"},
        cwd=ROOT,
    )


@pytest.fixture(scope="module", autouse=True)
def start_the_script_run_early(request):
    """Start the real run when this module starts (if its test is selected): its start-up, mostly
    `import torch`, then overlaps the in-process tests instead of following them."""
    test = "test_an_exercise_file_run_as_a_script_prints_the_table_and_exits_1"
    selected = any(item.originalname == test for item in request.session.items)
    if selected and EXERCISE_FILES:
        script_run()
    yield
    if selected and EXERCISE_FILES and script_run().poll() is None:
        script_run().kill()  # its test did not get to read it
        script_run().communicate()


def test_an_exercise_file_run_as_a_script_prints_the_table_and_exits_1():
    stdout, stderr = script_run().communicate(timeout=180)
    first_line = stdout.splitlines()[0]
    assert script_run().returncode == 1, stderr
    assert first_line.startswith(f"Exercises {EXERCISE_FILES[0].name[:2]} - PyTorch "), first_line
    assert "device cpu - seed 0" in first_line
    rows = table_rows(stdout)
    assert rows and all(state == NOT_ATTEMPTED for state, _ in rows.values()), stdout
    assert stderr == "", stderr  # no traceback, no warning
    assert "\x1b[" not in stdout, "piped output must carry no escape codes"
