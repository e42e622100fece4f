"""Lesson 07's own logic: the IDX parser and the downloader against fake and corrupt files (no
network), the data split, the shift augmentation, the layer table, the checkpoint round trip,
--predict-index, and the CNN beating the linear baseline in a --smoke-sized run."""

import gzip
import hashlib
import importlib.util
import io
import struct
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import call_main, every_damaged_file_stops_with_one_line, load_lesson

lesson = load_lesson("07")


def write_idx(path, array: np.ndarray) -> None:
    """A real IDX file of bytes: zero, zero, 0x08, number of dims, big-endian dims, data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def fake_mnist(folder, num_train: int = 100, num_test: int = 20) -> dict[str, str]:
    """The four MNIST files, tiny and random; returns file name -> MD5."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.arange(num_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.arange(num_test, dtype=np.uint8) % 10,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        write_idx(folder / name, array)
    return {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in arrays}


def test_read_idx_parses_images_and_labels(tmp_path):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    write_idx(tmp_path / "images.gz", images)
    write_idx(tmp_path / "labels.gz", np.array([7, 0, 9], dtype=np.uint8))
    np.testing.assert_array_equal(lesson.read_idx(tmp_path / "images.gz"), images)
    np.testing.assert_array_equal(lesson.read_idx(tmp_path / "labels.gz"), [7, 0, 9])


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x08\x03\x00\x00", "bad or cut-off header"),  # bytes in the wrong order
        (b"\x00\x00\x0d\x01\x00\x00\x00\x01abcd", "bad or cut-off header"),  # floats, not bytes
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "bad or cut-off header"),  # 3 dims, 1 given
        (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "the header says (5,)"),  # 5 promised, 3 there
        (b"\x00\x00\x08\x01\x00\x00\x00\x02abc", "the header says (2,)"),  # extra bytes
    ],
)
def test_read_idx_rejects_corrupt_files(tmp_path, content, message):
    path = tmp_path / "corrupt-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        lesson.read_idx(path)


def test_read_idx_rejects_a_file_that_is_not_gzip(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x01x")  # a valid IDX, but not compressed
    with pytest.raises(OSError):  # gzip.BadGzipFile
        lesson.read_idx(path)
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x10" + b"x" * 16)[:-12])
    with pytest.raises(EOFError):  # a cut-off download
        lesson.read_idx(path)


def test_fetch_checks_the_md5_leaves_nothing_half_written_and_caches(tmp_path, monkeypatch):
    md5s = fake_mnist(tmp_path / "mirror")
    cache = tmp_path / "cache"
    monkeypatch.setitem(lesson.IDX_URLS, "mnist", (tmp_path / "mirror").as_uri() + "/")
    monkeypatch.setitem(lesson.IDX_MD5, "mnist", dict.fromkeys(md5s, "0" * 32))
    with pytest.raises(ValueError, match="does not match its published MD5"):
        lesson.fetch_idx_dataset("mnist", cache)
    assert list((cache / "mnist").iterdir()) == []  # no .part file, no half-written file
    monkeypatch.setitem(lesson.IDX_MD5, "mnist", md5s)
    paths = lesson.fetch_idx_dataset("mnist", cache)
    assert [p.name for p in paths] == list(md5s)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(md5s)  # only those
    assert all(hashlib.md5(p.read_bytes()).hexdigest() == md5s[p.name] for p in paths)
    dead = (tmp_path / "nowhere").as_uri() + "/"
    monkeypatch.setitem(lesson.IDX_URLS, "mnist", dead)  # offline now: the cache is enough
    assert lesson.fetch_idx_dataset("mnist", cache) == paths
    with pytest.raises(OSError):  # unreachable: URLError is an OSError, and nothing is left
        lesson.fetch_idx_dataset("mnist", tmp_path / "empty-cache")
    assert list((tmp_path / "empty-cache" / "mnist").iterdir()) == []


def test_load_dataset_builds_mnist_splits_from_idx_files(tmp_path, monkeypatch):
    paths = [tmp_path / name for name in fake_mnist(tmp_path)]
    monkeypatch.setattr(lesson, "fetch_idx_dataset", lambda name: paths)
    data = lesson.load_dataset("mnist", seed=0, smoke=False)
    assert data["train"][0].shape == (90, 1, 28, 28)  # 10% of each class goes to validation
    assert data["validation"][0].shape == (10, 1, 28, 28)
    assert data["test"][0].shape == (20, 1, 28, 28)
    assert abs(data["train"][0].mean().item()) < 1e-4  # standardised with train statistics


def test_offline_mnist_is_one_line_naming_the_default(monkeypatch, capsys):
    def offline(name):
        raise OSError("could not download train-images-idx3-ubyte.gz (no network)")

    monkeypatch.setattr(lesson, "fetch_idx_dataset", offline)
    with pytest.raises(SystemExit) as exit_info:
        lesson.load_dataset("mnist", seed=0, smoke=True)
    assert exit_info.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--dataset digits" in lines[0]


def test_digits_split_is_stratified_disjoint_and_complete():
    labels = torch.from_numpy(lesson.load_digits_arrays()[1]).long()
    generator = torch.Generator().manual_seed(0)
    splits = lesson.stratified_split(labels, lesson.SPLIT, generator)
    everything = torch.cat(splits).sort().values
    assert torch.equal(everything, torch.arange(len(labels)))  # each image in exactly one split
    for split, fraction in zip(splits, lesson.SPLIT, strict=True):
        counts = torch.bincount(labels[split], minlength=10).float()
        expected = torch.bincount(labels, minlength=10).float() * fraction
        assert (counts - expected).abs().max() <= 1  # every class cut in the same proportions


def test_digits_file_is_what_load_digits_returns(monkeypatch, tmp_path):
    images, labels = lesson.load_digits_arrays()  # the CSV inside the scikit-learn wheel
    assert images.shape == (1797, 8, 8) and images.max() == 16 and labels.shape == (1797,)
    real_find_spec = importlib.util.find_spec
    moved = SimpleNamespace(submodule_search_locations=[tmp_path])  # a folder without the CSV

    def find_spec(name, *args):
        return moved if name == "sklearn" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    fallback_images, fallback_labels = lesson.load_digits_arrays()  # no CSV: load_digits()
    np.testing.assert_array_equal(images, fallback_images)
    np.testing.assert_array_equal(labels, fallback_labels)


def test_random_shift_moves_each_image_by_at_most_one_pixel():
    torch.manual_seed(0)
    images = torch.randn(32, 1, 8, 8)
    assert torch.equal(lesson.random_shift(images, 0), images)
    shifted = lesson.random_shift(images, 1)
    padded = torch.nn.functional.pad(images, (1, 1, 1, 1), mode="replicate")
    candidates = [padded[:, :, dy : dy + 8, dx : dx + 8] for dy in range(3) for dx in range(3)]
    matches = torch.stack([(c == shifted).flatten(1).all(1) for c in candidates])  # (9, 32)
    assert matches.any(dim=0).all()  # every image is one of its nine shifted copies
    assert matches.sum(dim=1).gt(0).sum() > 1  # and not all the same shift


@pytest.mark.parametrize("image_size", [8, 28])
def test_layer_table_matches_the_model(image_size):
    model = lesson.make_model("cnn", image_size, 10)
    rows = lesson.layer_table(model, torch.randn(5, 1, image_size, image_size))
    assert [layer for layer, _, _ in rows] == [type(layer).__name__ for layer in model]
    assert rows[0][1] == (5, 16, image_size, image_size)
    assert rows[-1][1] == (5, 10)
    assert sum(params for _, _, params in rows) == lesson.count_parameters(model)
    assert all(not layer._forward_hooks for layer in model)  # no hook left behind


@pytest.fixture(scope="module")
def digits():
    torch.manual_seed(0)
    return lesson.load_dataset("digits", seed=0, smoke=True)


def test_cnn_beats_the_linear_baseline_in_a_smoke_run(digits, one_cpu_thread, torch_device):
    torch.manual_seed(0)
    models = {kind: lesson.make_model(kind).to(torch_device) for kind in ("linear", "cnn")}
    results = lesson.show_training(models, digits, lesson.SMOKE_EPOCHS, 64, 1e-2, 0, torch_device)
    assert list(results) == ["linear", "cnn"] and results["cnn"]["epoch"] >= 1
    images, labels = (tensor.to(torch_device) for tensor in digits["test"])
    accuracies = {kind: lesson.accuracy(model, images, labels) for kind, model in models.items()}
    assert accuracies["cnn"] > accuracies["linear"] + 0.01, accuracies
    assert accuracies["cnn"] > 0.9, accuracies


def save_untrained(path, digits, device):
    """A checkpoint of an untrained CNN, written the way the script writes one."""
    torch.manual_seed(0)
    model = lesson.make_model("cnn").to(device)
    config = {"model": "cnn", "dataset": "digits", "image_size": 8, "mean": 0.3, "std": 0.4}
    lesson.show_checkpoint(path, model, config | {"seed": 0, "smoke": False}, digits, device)
    return model


def test_checkpoint_round_trip_predicts_identically(tmp_path, digits, capsys, torch_device):
    model = save_untrained(tmp_path / "cnn.pt", digits, torch_device)
    assert [p.name for p in tmp_path.iterdir()] == ["cnn.pt"]  # no temporary file is left
    assert "same test predictions as before: True" in capsys.readouterr().out
    loaded, config = lesson.load_checkpoint(tmp_path / "cnn.pt", torch_device)
    images = digits["test"][0].to(torch_device)
    assert config["dataset"] == "digits"
    assert torch.equal(
        lesson.predict_probabilities(model, images), lesson.predict_probabilities(loaded, images)
    )


def test_every_damaged_checkpoint_is_one_clear_line(tmp_path, capsys, torch_device):
    """Not one fixed sample: hundreds of damaged files, each one line and exit status 1."""
    every_damaged_file_stops_with_one_line(lesson.load_checkpoint, tmp_path, torch_device, capsys)


def run_main(device, *args) -> tuple[int, str, str]:
    return call_main(lesson, "--device", device, *args)


def test_predict_index(tmp_path, digits, device, torch_device):
    save_untrained(tmp_path / "cnn.pt", digits, torch_device)
    checkpoint = ["--checkpoint", str(tmp_path / "cnn.pt")]
    code, out, _ = run_main(device, "--predict-index", "3", *checkpoint)
    assert code == 0 and "test image 3" in out and "confidence), true label 2" in out

    code, _, err = run_main(device, "--predict-index", "269", *checkpoint)
    assert code == 2
    assert err.strip() == "error: --predict-index 269 is out of range: the test images are 0-268"
    code, _, err = run_main(device, "--predict-index", "-1", *checkpoint)
    assert code == 2 and len(err.strip().splitlines()) == 1


def saved(value) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        None,  # no file at all
        b"",  # empty
        b"not a checkpoint",  # a text file
        saved(torch.zeros(3)),  # a bare tensor
        saved({"config": {}}),  # a dict without the keys
        "folder",  # a folder where the file should be
    ],
    ids=["missing", "empty", "text", "tensor", "no-keys", "folder"],
)
@pytest.mark.filterwarnings("error")  # no torch warning on the way to the error line
def test_predict_index_without_a_good_checkpoint_is_one_line(tmp_path, device, content):
    path = tmp_path / "model.pt"
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    code, _, err = run_main(device, "--predict-index", "0", "--checkpoint", str(path))
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    expected = "train one first" if content in (None, "folder") else "not a readable checkpoint"
    assert expected in err


def test_smoke_never_replaces_an_existing_checkpoint(tmp_path, device):
    checkpoint = tmp_path / "yours.pt"
    checkpoint.write_bytes(b"a model the learner trained for an hour")
    code, out, err = run_main(device, "--smoke", "--checkpoint", str(checkpoint))
    assert code == 0, err
    assert checkpoint.read_bytes() == b"a model the learner trained for an hour"
    assert "your checkpoint yours.pt was left as it was" in out
    assert [p.name for p in tmp_path.iterdir()] == ["yours.pt"]


def test_a_diverging_learning_rate_stops_with_one_line(tmp_path, device):
    checkpoint = tmp_path / "model.pt"
    code, _, err = run_main(device, "--smoke", "--lr", "1e6", "--checkpoint", str(checkpoint))
    assert code == 1 and err.startswith("error: training diverged at epoch"), err
    assert not checkpoint.exists(), "a diverged model is never saved"


def test_a_damaged_cached_download_is_replaced(tmp_path, monkeypatch):
    md5s = fake_mnist(tmp_path / "mirror")
    monkeypatch.setitem(lesson.IDX_URLS, "mnist", (tmp_path / "mirror").as_uri() + "/")
    monkeypatch.setitem(lesson.IDX_MD5, "mnist", md5s)
    cache = tmp_path / "cache"
    (cache / "mnist").mkdir(parents=True)
    damaged = cache / "mnist" / "train-images-idx3-ubyte.gz"
    damaged.write_bytes(b"cut off mid-transfer")
    paths = lesson.fetch_idx_dataset("mnist", cache)
    assert damaged.read_bytes() == (tmp_path / "mirror" / damaged.name).read_bytes()
    assert len(paths) == 4


def test_the_cache_folder_setting_expands_a_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    md5s = fake_mnist(tmp_path / "mirror")
    monkeypatch.setitem(lesson.IDX_URLS, "mnist", (tmp_path / "mirror").as_uri() + "/")
    monkeypatch.setitem(lesson.IDX_MD5, "mnist", md5s)
    paths = lesson.fetch_idx_dataset("mnist", "~/kit-cache")
    assert paths[0].parent == tmp_path / "kit-cache" / "mnist"
