"""Lesson 04's own logic: hand-derived gradients equal autograd's, the hand-written descent equals
torch.optim.SGD, the three learning rates crawl, settle and blow up, training lowers the validation
loss, early stopping keeps the best weights, and the default run writes the metrics it promises."""

import io
import re

import pytest
import torch
from helpers import call_main, default_run, load_lesson
from rich.console import Console
from torch.utils.data import DataLoader, random_split

lesson = load_lesson("04")


@pytest.fixture(autouse=True)
def quiet_single_threaded(monkeypatch, one_cpu_thread):
    """Progress bars into a buffer; one CPU thread, as the script uses, for tiny tensors."""
    monkeypatch.setattr(lesson, "console", Console(file=io.StringIO(), width=100))


def loaders(num_samples: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    dataset = lesson.PowerCurveDataset(num_samples, generator)
    train_set, val_set, _ = random_split(dataset, lesson.SPLIT, generator=generator)
    train_loader = DataLoader(train_set, batch_size=16, shuffle=True, generator=generator)
    return train_loader, DataLoader(val_set, batch_size=256)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hand_computed_gradient_equals_autograd(seed, torch_device):
    torch.manual_seed(seed)
    x, y = lesson.make_line_data(50, torch_device)
    w = torch.randn((), requires_grad=True, device=torch_device)
    b = torch.randn((), requires_grad=True, device=torch_device)
    ((w * x + b - y) ** 2).mean().backward()
    dw, db = lesson.line_gradients_by_hand(x, y, w.detach(), b.detach())
    torch.testing.assert_close(dw, w.grad)
    torch.testing.assert_close(db, b.grad)


def test_descent_by_hand_equals_nn_linear_with_sgd_and_finds_the_line(torch_device):
    torch.manual_seed(0)
    x, y = lesson.make_line_data(100, torch_device)
    w, b, losses = lesson.fit_line_by_hand(x, y, lr=0.1, steps=60)
    model = lesson.fit_line_with_optim(x, y, lr=0.1, steps=60)
    assert model.weight.item() == pytest.approx(w, abs=1e-5)
    assert model.bias.item() == pytest.approx(b, abs=1e-5)
    assert w == pytest.approx(3, abs=0.2) and b == pytest.approx(2, abs=0.2)  # y = 3x + 2 + noise
    assert losses[-1] < losses[0] / 10


def test_the_three_learning_rates_crawl_settle_and_blow_up(torch_device):
    """Section 5's table: the verdicts the guide explains, for the reasons it gives."""
    torch.manual_seed(0)
    x, y = lesson.make_line_data(lesson.LINE_SAMPLES, torch_device)
    runs = {lr: lesson.fit_line_by_hand(x, y, lr, lesson.LINE_STEPS) for lr in lesson.LR_DEMO}
    small, right, big = (runs[lr] for lr in lesson.LR_DEMO)
    assert [lesson.lr_verdict(run[2]) for run in (small, right, big)] == [
        "too small",
        "about right",
        "too big",
    ]
    assert small[2][-1] > 1.5 * right[2][-1]  # still well above the noise floor after 100 steps
    assert right[0] == pytest.approx(3, abs=0.2) and right[1] == pytest.approx(2, abs=0.2)
    assert big[2][10] > big[2][0]  # the loss grows
    # the edge the guide states: 2 / the largest curvature of the loss, about 0.72 for this data
    mean_square, mean = (x * x).mean().item(), x.mean().item()
    curvature = 2 * torch.tensor([[mean_square, mean], [mean, 1.0]])
    assert 2 / torch.linalg.eigvalsh(curvature).max().item() == pytest.approx(0.72, abs=0.01)


def test_dataset_items_and_power_curve():
    dataset = lesson.PowerCurveDataset(400, torch.Generator().manual_seed(0))
    features, target = dataset[0]
    assert len(dataset) == 400 and features.shape == target.shape == (1,)
    assert dataset.features.min() >= -1 and dataset.features.max() <= 1
    speed = dataset.features * 12.5 + 12.5  # back to m/s
    calm, rated = dataset.targets[speed < 3], dataset.targets[speed > 12]
    assert calm.abs().max() < 0.25  # no power below the cut-in speed, only noise
    assert (rated.mean() - 2.0).abs() < 0.02  # flat at 2 MW above the rated speed


def test_training_lowers_validation_loss_and_keeps_the_best_weights(torch_device):
    train_loader, val_loader = loaders(300)
    torch.manual_seed(0)
    model = lesson.make_model()
    untrained = lesson.evaluate(model, val_loader, torch_device)
    result = lesson.train(
        model, train_loader, val_loader, torch_device, epochs=8, lr=0.1, patience=8
    )
    # val_loss[0] is the untrained model ("epoch 0"), so val_loss[epoch] is that epoch's loss
    assert len(result["train_loss"]) == len(result["val_loss"]) - 1 == 8
    assert result["val_loss"][0] == pytest.approx(untrained)
    assert result["best_val_loss"] < untrained / 5
    assert result["best_val_loss"] == min(result["val_loss"])
    assert result["val_loss"][result["best_epoch"]] == result["best_val_loss"]
    # the model handed back holds the best epoch's weights, whichever epoch came last
    assert lesson.evaluate(model, val_loader, torch_device) == pytest.approx(
        result["best_val_loss"]
    )


def test_early_stopping_hands_back_the_best_weights_after_divergence(torch_device):
    """lr = 50 blows the weights up (to nan) in the first epoch: training must stop after
    'patience' epochs and hand back the untrained weights (epoch 0), copied, not referenced."""
    train_loader, val_loader = loaders(200)
    torch.manual_seed(0)
    model = lesson.make_model()
    untrained = lesson.evaluate(model, val_loader, torch_device)
    result = lesson.train(
        model, train_loader, val_loader, torch_device, epochs=20, lr=50.0, patience=3
    )
    assert result["best_epoch"] == 0 and len(result["train_loss"]) == 3
    assert not any(loss <= untrained for loss in result["val_loss"][1:])  # nan or worse
    assert result["best_val_loss"] == untrained
    assert lesson.evaluate(model, val_loader, torch_device) == pytest.approx(untrained)


def test_a_loss_that_blows_up_prints_a_hint_and_keeps_the_untrained_weights(torch_device):
    metrics = lesson.full_training_loop(
        torch_device, 200, epochs=20, batch_size=16, lr=50.0, seed=0
    )
    printed = lesson.console.file.getvalue()
    assert "The loss blew up" in printed and metrics["best_epoch"] == 0
    assert metrics["test_loss"] < 10  # the untrained weights, not nan


def test_sparkline_scales_and_samples():
    line = lesson.sparkline([1.0, 0.1, 0.01], low=0.01, high=1.0, width=60)
    assert line == "█▅▁"  # log scale: 0.1 sits halfway between 1 and 0.01
    long_run = lesson.sparkline([2.0**-i for i in range(500)], 2.0**-499, 1.0, width=60)
    assert len(long_run) == 60 and long_run[0] == "█" and long_run[-1] == "▁"


def test_default_run_writes_the_metrics_it_promises():
    result, metrics = default_run("04")  # shared with the guide test that checks its quotes
    assert result.returncode == 0, result.stderr[-3000:]
    expected = {"train_loss", "val_loss", "test_loss", "baseline_test_loss", "best_epoch", "epochs"}
    assert expected | {"train_seconds"} == set(metrics)
    assert metrics["best_epoch"] + lesson.PATIENCE == metrics["epochs"] < lesson.EPOCHS
    assert metrics["test_loss"] < metrics["baseline_test_loss"] / 10
    # the guide's reading: no gap between training and held-out loss (nothing memorised)
    assert metrics["train_loss"] > metrics["val_loss"] / 2 and metrics["train_loss"] > 0.0025 / 2


def test_a_diverging_learning_rate_keeps_the_untrained_weights_and_says_so(device):
    code, printed, errors = call_main(lesson, "--device", device, "--smoke", "--lr", "1e6")
    assert code == 0, errors
    assert "The loss blew up (x = nan/inf): best weights kept; try a smaller --lr." in printed
    assert re.search(r"best epoch \(weights kept\) +│ 0 ", printed)
