"""Lesson 05's own logic: the layer shapes the guide states are the script's, dropout in train and
eval mode, the weight-initialisation experiment, the optimizer race (also when a run diverges),
and --metrics-json."""

import copy
import io
import re

import pytest
import torch
from helpers import GUIDE_DIR, call_main, default_run, load_lesson
from rich.console import Console
from torch import nn

lesson = load_lesson("05")
GUIDE = GUIDE_DIR / "05_neural_networks.md"


@pytest.fixture(autouse=True)
def quiet_single_threaded(monkeypatch, one_cpu_thread):
    """Output into a buffer; one CPU thread, as the script uses, for tiny tensors."""
    monkeypatch.setattr(lesson, "console", Console(file=io.StringIO(), width=100))


def test_guide_shape_table_is_what_the_layers_return(torch_device):
    rows = re.findall(
        r"^\| `(nn\.[^`]+)` \| `(\([\d, ]+\))` \| `(\([\d, ]+\))` \|$",
        GUIDE.read_text(encoding="utf-8"),
        re.M,
    )
    expected = [
        (name, str(shape_in), str(shape_out))
        for name, shape_in, shape_out in lesson.layer_shapes(torch_device)
    ]
    assert rows == expected


def test_lstm_hidden_state_ignores_batch_first(torch_device):
    shapes = {name: shape_out for name, _, shape_out in lesson.layer_shapes(torch_device)}
    batch, hidden = lesson.DEMO_BATCH, lesson.LSTM_HIDDEN
    lstm = "nn.LSTM(16, 32, batch_first=True)"
    assert shapes[f"{lstm} output"] == (batch, lesson.SEQ_LEN, hidden)
    assert shapes[f"{lstm} h_n"] == shapes[f"{lstm} c_n"] == (1, batch, hidden)


def test_dropout_lines_zero_and_rescale_in_train_mode_and_pass_through_in_eval_mode(torch_device):
    torch.manual_seed(0)
    lesson.layers_and_shapes(torch_device)
    printed = lesson.console.file.getvalue()
    passes = {
        (mode, run): values
        for mode, run, values in re.findall(r"^dropout (\w+) +pass (\d): \[(.*)\]$", printed, re.M)
    }
    train = [[float(v) for v in passes[("train", run)].split(",")] for run in "12"]
    assert all(set(values) <= {0.0, 2.0} for values in train)  # p = 0.5: survivors doubled
    assert train[0] != train[1]  # a new mask on every call
    assert passes[("eval", "1")] == passes[("eval", "2")] == ", ".join(["1.0"] * 8)


def test_simple_net_parameters_and_state_dict_round_trip():
    torch.manual_seed(0)
    model, twin = lesson.SimpleNet(), lesson.SimpleNet()
    assert sum(p.numel() for p in model.parameters()) == 10 * 5 + 5 + 5 * 1 + 1 == 61
    assert list(model.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    x = torch.randn(4, 10)
    assert not torch.equal(model(x), twin(x))
    twin.load_state_dict(model.state_dict())
    assert torch.equal(model(x), twin(x)) and model(x).shape == (4, 1)


def test_initialisation_experiment_separates_the_four_inits():
    torch.manual_seed(0)
    inputs = torch.randn(256, lesson.INIT_WIDTH)
    stats = {name: lesson.deep_tanh_stats(init, inputs) for name, init in lesson.INITS.items()}
    tiny_stds, _, tiny_grad = stats["normal(std=0.01)"]
    assert tiny_stds[-1] < 1e-3 and tiny_grad < 1e-10  # the signal and the gradient vanish
    assert stats["normal(std=1)"][1] > 0.5  # most units saturated
    xavier_stds, xavier_saturated, xavier_grad = stats["xavier(gain=5/3)"]
    assert xavier_stds[-1] > 0.3 and xavier_saturated < 0.1 and xavier_grad > 1e-3
    assert len(xavier_stds) == lesson.INIT_DEPTH


def race_inputs():
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    return x, torch.sin(3 * x)


@pytest.mark.parametrize("run", list(lesson.RUNS))
def test_every_optimizer_lowers_the_loss_and_its_batches_follow_the_seed(run):
    torch.manual_seed(0)
    x, y = race_inputs()
    initial_state = copy.deepcopy(lesson.make_mlp().state_dict())
    make_optimizer, lr, _ = lesson.RUNS[run]
    curves = []
    for seed in (0, 1):  # the seed only decides the order of the batches
        model = lesson.make_mlp()
        model.load_state_dict(initial_state)
        optimizer = make_optimizer(model.parameters(), lr=lr)
        curves.append(lesson.train_curve(model, optimizer, None, x, y, 30, 16, seed=seed))
    assert curves[0] != curves[1]  # the shuffling is seeded by train_curve's own seed
    assert len(curves[0]) == 30 * 4
    initial_loss = nn.functional.mse_loss(lesson.make_mlp().requires_grad_(False)(x), y)
    assert curves[0][-1] < 0.5 * min(curves[0][0], initial_loss.item())


def test_steps_to_threshold_and_sparkline():
    assert lesson.steps_to_threshold([0.5, 0.02, 0.009, 0.001]) == 3
    assert lesson.steps_to_threshold([0.5, 0.2]) is None
    line = lesson.sparkline([1.0, 0.1, 0.01, 0.001], low=0.001, high=1.0, width=4)
    assert line == "█▆▃▁"
    diverged = [1.0, 10.0, float("inf"), float("nan")]  # NaN and inf are drawn as x
    assert lesson.sparkline(diverged, low=1.0, high=10.0, width=4) == "▁█xx"


def test_a_diverging_learning_rate_is_reported_not_a_crash(device):
    code, printed, errors = call_main(lesson, "--device", device, "--smoke", "--lr", "3")
    assert code == 0, errors
    race = printed.split("6. Optimizers")[1]
    assert re.search(r"SGD \+ momentum .*\bnan\b", race)  # this lr blows SGD up: its row ...
    assert re.search(r"^  SGD \+ momentum +\S*x+$", race, re.M)  # ... and its curve ends in x


def test_a_run_added_to_the_race_takes_one_line(monkeypatch, torch_device):
    """Exercise 6: plain SGD appended to RUNS (the cosine note must not depend on the last run)."""
    runs = {**lesson.RUNS, "SGD": (torch.optim.SGD, 0.1, False)}
    monkeypatch.setattr(lesson, "RUNS", runs)
    metrics = lesson.optimizer_race(torch_device, epochs=2, batch_size=64, lr=None, seed=0)
    assert list(metrics["final_loss"]) == list(runs)
    assert "cosine schedule: lr 0.02 at step 1" in lesson.console.file.getvalue()


def test_default_run_writes_the_metrics_it_promises():
    result, metrics = default_run("05")  # shared with the guide test that checks its quotes
    assert result.returncode == 0, result.stderr[-3000:]
    assert metrics["epochs"] == lesson.EPOCHS and metrics["batch_size"] == lesson.BATCH_SIZE
    assert set(metrics["final_loss"]) == set(metrics["steps_to_threshold"]) == set(lesson.RUNS)
    assert all(steps is not None for steps in metrics["steps_to_threshold"].values())
    assert all(loss < lesson.LOSS_THRESHOLD for loss in metrics["final_loss"].values())
    assert metrics["train_seconds"] > 0
