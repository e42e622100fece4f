"""Lesson 06: tokenizer, vocabulary, batches, models, checkpoint, --predict, and the IMDB loader.

Everything runs in-process on tiny inputs; the network is never touched (fake IMDB archives are
built in tmp_path and fetched through file:// URLs).
"""

import hashlib
import io
import json
import sys
import tarfile

import pytest
import torch
from helpers import call_main, every_damaged_file_stops_with_one_line, load_lesson


@pytest.fixture(scope="module")
def lesson():
    return load_lesson("06")


@pytest.fixture(autouse=True)
def restore_threads(one_cpu_thread):
    """main() sets one thread for the bundled corpus; the fixture gives the old count back."""


def run_main(lesson, capsys, *args: str) -> int:
    """Call the script's main() with these arguments; return its exit status. What it printed
    goes to capsys, as a subprocess's output would."""
    code, out, err = call_main(lesson, *args)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


# --- tokenizer and vocabulary -------------------------------------------------------------


def test_tokenize_lowercases_keeps_negations_and_drops_html(lesson):
    assert lesson.tokenize("It ISN'T bad... it's AWFUL?!") == [
        "it", "isn't", "bad", "it's", "awful", "?", "!",
    ]  # fmt: skip
    assert lesson.tokenize("Great.<br /><br />Really.") == ["great", "really"]
    assert lesson.tokenize("   ...  ") == []


def test_tokenize_keeps_accented_words_and_typographic_apostrophes(lesson):
    assert lesson.tokenize("Amélie isn’t naïve") == ["amélie", "isn't", "naïve"]


def test_vocab_puts_specials_first_orders_by_frequency_and_drops_rare_words(lesson):
    vocab = lesson.show_vocabulary([("good good film", 1), ("bad film", 0), ("good", 1)])
    assert vocab == ["<pad>", "<unk>", "good", "film"]  # "bad" was seen once
    assert vocab.index("<pad>") == lesson.PAD_ID and vocab.index("<unk>") == lesson.UNK_ID


def test_encode_maps_unseen_words_to_unk_and_never_returns_nothing(lesson):
    token_to_id = {token: i for i, token in enumerate(["<pad>", "<unk>", "good", "film"])}
    assert lesson.encode("Good zorptastic film", token_to_id) == [2, 1, 3]
    assert lesson.encode("...", token_to_id) == [lesson.UNK_ID]
    assert len(lesson.encode("good " * 1000, token_to_id)) == lesson.MAX_TOKENS


def test_collate_pads_to_the_longest_review(lesson):
    batch = [(torch.tensor([5, 6, 7]), 1), (torch.tensor([8]), 0)]
    ids, lengths, labels = lesson.collate_padded(batch)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert lengths.tolist() == [3, 1] and labels.tolist() == [1, 0]


# --- models -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bag-of-words", "lstm"])
def test_models_ignore_padding(lesson, name):
    """A review scores the same alone as in a batch padded for a longer neighbour."""
    torch.manual_seed(0)
    config = {"model": name, "vocab_size": 20, "embed_dim": 8, "hidden_size": 8, "num_pairs": 2}
    model = lesson.build_model(config).eval()
    if name == "bag-of-words":
        model.pair_keys.copy_(torch.tensor([4 * 20 + 5, 5 * 20 + 6]))  # pairs (4, 5) and (5, 6)
    alone = lesson.collate_padded([(torch.tensor([4, 5]), 0)])
    padded = lesson.collate_padded([(torch.tensor([4, 5]), 0), (torch.tensor([6, 7, 8, 9]), 1)])
    with torch.no_grad():
        logits_alone = model(alone[0], alone[1])  # (1, 2)
        logits_padded = model(padded[0], padded[1])  # (2, 2)
    assert logits_padded.shape == (2, 2)
    torch.testing.assert_close(logits_alone[0], logits_padded[0])


def test_bag_of_words_gives_known_pairs_their_own_row(lesson):
    """Pair (4, 5) is known: it adds row vocab_size + 0 to the bag; unknown (5, 7) adds nothing."""
    model = lesson.BagOfWords(vocab_size=10, embed_dim=1, num_pairs=1).eval()
    model.pair_keys.copy_(torch.tensor([4 * 10 + 5]))
    with torch.no_grad():
        model.embedding.weight.copy_(torch.arange(11.0)[:, None])  # row i holds the number i
        model.classifier.weight.fill_(1.0), model.classifier.bias.zero_()
        logits = model(torch.tensor([[4, 5, 7]]), torch.tensor([3]))
    assert logits[0, 0].item() == pytest.approx(4 + 5 + 7 + 10)  # the sum of 4 rows


def test_only_the_most_frequent_word_pairs_get_a_row(lesson, monkeypatch, torch_device):
    """(4, 2) is seen 4 times, (2, 3) 3 times, (3, 4) twice: with room for 2, (3, 4) is left out."""
    monkeypatch.setattr(lesson, "MAX_PAIRS", 2)
    vocab = ["<pad>", "<unk>", "a", "b", "c"]
    reviews = [[2, 3, 4], [2, 3], [2, 3, 4]] + [[4, 2]] * 4
    dataset = [(torch.tensor(ids), 0) for ids in reviews]
    configs, models = lesson.show_models(vocab, dataset, torch_device)
    assert configs["bag-of-words"]["num_pairs"] == 2
    assert models["bag-of-words"].pair_keys.tolist() == [2 * 5 + 3, 4 * 5 + 2]  # sorted keys


def test_bag_of_words_works_when_no_pair_was_seen_twice(lesson):
    model = lesson.BagOfWords(vocab_size=10, embed_dim=4, num_pairs=0).eval()
    with torch.no_grad():
        logits = model(torch.tensor([[2, 3, 4], [5, 0, 0]]), torch.tensor([3, 1]))
    assert logits.shape == (2, 2)


def test_bag_of_words_starts_undecided(lesson):
    """Summed over 40 words, N(0, 1) rows would start out with confident random opinions."""
    torch.manual_seed(0)
    model = lesson.BagOfWords(vocab_size=100, embed_dim=64, num_pairs=1).eval()
    assert model.embedding.weight[lesson.PAD_ID].abs().max() == 0  # <pad> adds nothing
    ids = torch.randint(2, 100, (8, 40))  # (batch, seq_len): 8 reviews of 40 known words
    with torch.no_grad():
        probabilities = model(ids, torch.full((8,), 40)).softmax(dim=1)  # (8, 2)
    assert (probabilities - 0.5).abs().max() < 0.1


def test_naive_bayes_learns_word_evidence(lesson):
    reviews = [("great fun", 1), ("great cast", 1), ("dull mess", 0), ("dull plot", 0)]
    vocab = ["<pad>", "<unk>", "great", "dull"]
    token_to_id = {token: i for i, token in enumerate(vocab)}
    dataset = [(torch.tensor(lesson.encode(text, token_to_id)), label) for text, label in reviews]
    model = lesson.NaiveBayes(dataset, len(vocab))
    assert model.log_prior.exp().tolist() == pytest.approx([0.5, 0.5])
    great, dull = lesson.predict_texts(["great", "dull"], model, vocab, "cpu")
    assert great.startswith("Positive") and dull.startswith("Negative")


def test_metrics_match_a_hand_count(lesson):
    probabilities = torch.tensor([0.9, 0.8, 0.2, 0.7, 0.1])  # predicted: 1 1 0 1 0
    labels = torch.tensor([1, 0, 1, 1, 0])
    metrics = lesson.classification_metrics(probabilities, labels)
    assert metrics["confusion"] == [[1, 1], [1, 2]]  # rows: actual negative, actual positive
    assert metrics["accuracy"] == pytest.approx(3 / 5)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx(2 / 3)


# --- checkpoint ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bag-of-words", "lstm"])
def test_checkpoint_round_trip_gives_the_same_predictions(lesson, tmp_path, name, torch_device):
    torch.manual_seed(0)
    vocab = ["<pad>", "<unk>", "good", "bad", "film"]
    config = {"model": name, "vocab_size": len(vocab), "embed_dim": 8, "hidden_size": 8}
    model = lesson.build_model(config | {"num_pairs": 1})
    if name == "bag-of-words":
        model.pair_keys.copy_(torch.tensor([3 * len(vocab) + 4]))  # "bad film"
    config |= {"num_pairs": 1}
    token_to_id = {token: i for i, token in enumerate(vocab)}
    test = [(torch.tensor(lesson.encode(t, token_to_id)), 1) for t in ["good film", "bad film"]]
    loader = torch.utils.data.DataLoader(test, batch_size=2, collate_fn=lesson.collate_padded)
    path = tmp_path / "sub" / "model.pt"
    model = model.to(torch_device)
    loaded = lesson.show_checkpoint(path, model, vocab, config, {"test": loader}, torch_device)
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temp file left behind
    _, loaded_vocab, loaded_config = lesson.load_checkpoint(path, torch_device)
    assert loaded_vocab == vocab and loaded_config == config
    if name == "bag-of-words":
        assert torch.equal(loaded.pair_keys, model.pair_keys)  # the known pairs travel too
    texts = ["good film", "bad bad film", "never seen words"]
    predictions = lesson.predict_texts(texts, loaded, vocab, torch_device)
    assert predictions == lesson.predict_texts(texts, model, vocab, torch_device)


def saved(value) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        b"not a checkpoint at all",
        b"",
        saved(torch.zeros(3)),  # a tensor, not a checkpoint dict
        saved({"config": {"model": "lstm", "vocab_size": 4, "embed_dim": 2, "hidden_size": 2}}),
    ],
    ids=["garbage", "empty", "bare-tensor", "no-weights-or-vocab"],
)
@pytest.mark.filterwarnings("error")  # no torch warning on the way to the error line
def test_corrupt_checkpoint_is_one_clear_line(lesson, tmp_path, capsys, content, torch_device):
    path = tmp_path / "broken.pt"
    path.write_bytes(content)
    with pytest.raises(SystemExit) as exit_:
        lesson.load_checkpoint(path, torch_device)
    assert exit_.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith("error:") and "not a readable checkpoint" in error
    assert error.count("\n") == 1


def test_every_damaged_checkpoint_is_one_clear_line(lesson, tmp_path, capsys, torch_device):
    """Not one fixed sample: hundreds of damaged files, each one line and exit status 1."""
    every_damaged_file_stops_with_one_line(lesson.load_checkpoint, tmp_path, torch_device, capsys)


# --- the command line: train in --smoke, then --predict ------------------------------------


def test_smoke_training_beats_the_majority_class_then_predict_uses_it(
    lesson, tmp_path, capsys, device, torch_device
):
    checkpoint, metrics_path = tmp_path / "model.pt", tmp_path / "metrics.json"
    args = ["--device", device, "--smoke", "--checkpoint", str(checkpoint)]
    assert run_main(lesson, capsys, *args, "--metrics-json", str(metrics_path)) == 0
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    assert metrics["dataset"] == "bundled" and metrics["epochs"] == lesson.SMOKE_EPOCHS
    assert 0.45 <= metrics["majority_accuracy"] <= 0.55  # the first 400 test reviews: ~balanced
    assert metrics["test_accuracy"] >= metrics["majority_accuracy"] + 0.10
    assert metrics["baseline_accuracy"] >= metrics["majority_accuracy"] + 0.10
    capsys.readouterr()

    texts = ["This movie is amazing!", "A zorptastic waste of time.", "x" * 100_000]
    predict = [arg for text in texts for arg in ("--predict", text)]
    assert (
        run_main(lesson, capsys, "--device", device, *predict, "--checkpoint", str(checkpoint)) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    # The lines come from the saved model: the same as predicting with it here.
    model, vocab, _ = lesson.load_checkpoint(checkpoint, torch_device)
    assert lines == lesson.predict_texts(texts, model, vocab, torch_device)
    assert len(lines[2]) < 120, "a 100,000-character review is not echoed back whole"


def test_smoke_never_replaces_an_existing_checkpoint(lesson, tmp_path, capsys, device):
    checkpoint = tmp_path / "yours.pt"
    checkpoint.write_bytes(b"a model the learner trained for an hour")
    assert (
        run_main(lesson, capsys, "--device", device, "--smoke", "--checkpoint", str(checkpoint))
        == 0
    )
    assert checkpoint.read_bytes() == b"a model the learner trained for an hour"
    assert "your checkpoint yours.pt was left as it was" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["yours.pt"]


def test_a_diverging_learning_rate_stops_with_one_line(lesson, tmp_path, capsys, device):
    checkpoint = tmp_path / "model.pt"
    args = ["--device", device, "--smoke", "--lr", "1e20", "--checkpoint", str(checkpoint)]
    assert run_main(lesson, capsys, *args) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: training diverged at epoch") and error.count("\n") == 1
    assert not checkpoint.exists(), "a diverged model is never saved"


@pytest.mark.parametrize("where", ["missing", "folder", "empty-name"])
def test_predict_without_a_checkpoint_file_says_how_to_train(lesson, tmp_path, capsys, where):
    path = {"missing": str(tmp_path / "missing.pt"), "folder": str(tmp_path), "empty-name": ""}
    assert run_main(lesson, capsys, "--predict", "Great!", "--checkpoint", path[where]) == 1
    error = capsys.readouterr().err
    assert "no checkpoint file" in error and "train one first" in error and error.count("\n") == 1


def test_predict_with_an_empty_text_is_a_usage_error(lesson, capsys):
    assert run_main(lesson, capsys, "--predict", "  \t ") == 2
    error = capsys.readouterr().err
    assert "empty" in error and error.count("\n") == 1


# --- IMDB, offline, against fake archives -----------------------------------------------------


def make_fake_imdb(path):
    """A .tar.gz with the real layout: aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt."""
    files = {
        "aclImdb/README": "not a review",
        "aclImdb/train/pos/0_9.txt": "Wonderful.<br />Loved it.",
        "aclImdb/train/pos/1_8.txt": "Great fun.",
        "aclImdb/train/neg/0_2.txt": "Dreadful.",
        "aclImdb/train/unsup/0_0.txt": "unlabelled, must be skipped",
        "aclImdb/test/pos/0_10.txt": "A triumph.",
        "aclImdb/test/neg/0_1.txt": "Awful.",
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def fetch(lesson, cache, source, sha256=None, seed=0):
    """load_imdb against a local file:// 'server' and a temporary cache."""
    data = source.read_bytes()
    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    return lesson.load_imdb(seed, cache, source.as_uri(), len(data), sha256)


def test_load_imdb_verifies_renames_reads_only_labelled_reviews_and_reuses_the_cache(
    lesson, tmp_path
):
    source = make_fake_imdb(tmp_path / "source.tar.gz")
    cache = tmp_path / "cache"
    splits = fetch(lesson, cache, source)
    assert sorted(splits["train"] + splits["validation"]) == [
        ("Dreadful.", 0),
        ("Great fun.", 1),
        ("Wonderful.<br />Loved it.", 1),
    ]  # README and train/unsup are skipped; 10% of 3 rounds down to no validation review
    assert sorted(splits["test"]) == [("A triumph.", 1), ("Awful.", 0)]
    archive = cache / "aclImdb_v1.tar.gz"
    assert archive.read_bytes() == source.read_bytes() and list(cache.iterdir()) == [archive]
    # A second call finds the verified archive and never opens the URL.
    sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
    again = lesson.load_imdb(0, cache, "http://invalid.invalid/x", 1, sha256)
    assert sorted(again["test"]) == sorted(splits["test"])


def test_load_imdb_rejects_a_corrupt_download_and_leaves_nothing_behind(lesson, tmp_path):
    good = make_fake_imdb(tmp_path / "good.tar.gz")
    corrupt = tmp_path / "corrupt.tar.gz"
    corrupt.write_bytes(good.read_bytes()[:60])  # cut off mid-transfer
    cache = tmp_path / "cache"
    published = hashlib.sha256(good.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="checksum"):
        fetch(lesson, cache, corrupt, sha256=published)
    assert list(cache.iterdir()) == []  # neither the archive nor a .part file


def test_load_imdb_replaces_a_damaged_cached_archive(lesson, tmp_path):
    source = make_fake_imdb(tmp_path / "source.tar.gz")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "aclImdb_v1.tar.gz").write_bytes(b"half an archive")
    assert len(fetch(lesson, cache, source)["test"]) == 2
    assert (cache / "aclImdb_v1.tar.gz").read_bytes() == source.read_bytes()


def test_imdb_download_failure_names_the_offline_default(lesson, tmp_path, monkeypatch, capsys):
    load_imdb = lesson.load_imdb  # the real download code, pointed at a temporary cache
    monkeypatch.setattr(lesson, "load_imdb", lambda seed: load_imdb(seed, tmp_path / "cache"))

    def no_network(*args, **kwargs):
        raise lesson.urllib.error.URLError("no network")

    monkeypatch.setattr(lesson.urllib.request, "urlopen", no_network)
    with pytest.raises(SystemExit) as exit_:
        lesson.show_data("imdb", smoke=False, seed=0)
    assert exit_.value.code == 1
    error = capsys.readouterr().err
    assert "--dataset bundled" in error and error.count("\n") == 1


def test_the_cache_folder_setting_expands_a_tilde(lesson, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    source = make_fake_imdb(tmp_path / "source.tar.gz")
    assert len(fetch(lesson, "~/kit-cache", source)["test"]) == 2
    assert (tmp_path / "kit-cache" / "aclImdb_v1.tar.gz").is_file()
    assert not (tmp_path / "~").exists()
