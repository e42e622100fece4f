"""Lesson 03's own logic: the hand-made softmax, logsumexp and broadcasting rules agree with
torch's, survive huge inputs, and the printed numbers and timings are shaped as promised."""

import io

import pytest
import torch
from helpers import load_lesson
from rich.console import Console
from test_lessons import TIMING

lesson = load_lesson("03")

# Ordinary logits, and logits shifted so far that exp() overflows or underflows in float32.
SHIFTS = [0.0, 1000.0, -1000.0, 1e30]


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_stable_softmax_equals_torch(shift, dim):
    torch.manual_seed(0)
    logits = torch.randn(4, 5, 6) * 3 + shift  # (4, 5, 6)
    probabilities = lesson.stable_softmax(logits, dim=dim)
    assert torch.isfinite(probabilities).all()
    torch.testing.assert_close(probabilities, torch.softmax(logits, dim=dim))
    totals = probabilities.sum(dim=dim)
    torch.testing.assert_close(totals, torch.ones_like(totals))  # each distribution sums to 1


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_stable_logsumexp_equals_torch(shift, dim):
    torch.manual_seed(0)
    logits = torch.randn(4, 5, 6) * 3 + shift  # (4, 5, 6)
    result = lesson.stable_logsumexp(logits, dim=dim)
    expected = torch.logsumexp(logits, dim=dim)
    assert result.shape == expected.shape  # the reduced dimension is gone, as in torch
    torch.testing.assert_close(result, expected)


def test_the_naive_versions_really_break_on_large_logits():
    """The lesson's claim: a shift of 1000 breaks the naive formulas, not the stable ones."""
    logits = torch.tensor([1.0, 2.0, 3.0])
    for shifted in (logits + 1000, logits - 1000):
        assert torch.isnan(lesson.naive_softmax(shifted)).all()
        torch.testing.assert_close(lesson.stable_softmax(shifted), torch.softmax(logits, dim=-1))
    assert lesson.naive_softmax(logits).allclose(torch.softmax(logits, dim=-1))


SHAPE_PAIRS = [
    ((3, 4), (4,)),
    ((3, 4), (3, 1)),
    ((3, 1), (1, 4)),
    ((2, 1, 4), (3, 1)),
    ((), (2, 3)),
    ((5, 1, 1), (1, 7, 1)),
    ((0, 3), (1, 3)),  # a 1 stretches even to 0
    ((3, 4), (3,)),  # the lesson's failing case
    ((2, 3), (3, 2)),
    ((4, 1), (2, 4, 3)),
]


@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPE_PAIRS)
def test_broadcast_shape_by_hand_matches_torch(shape_a, shape_b):
    try:
        expected = tuple(torch.broadcast_shapes(shape_a, shape_b))
    except RuntimeError:
        with pytest.raises(ValueError, match="neither is 1"):
            lesson.broadcast_shape(shape_a, shape_b)
    else:
        assert lesson.broadcast_shape(shape_a, shape_b) == expected
        assert lesson.broadcast_shape(shape_b, shape_a) == expected  # order does not matter


@pytest.mark.parametrize("seconds", [0.5, 0.0123, 4.56e-5, 7.8e-8, 999.9e-6, 1e-3, 0.1])
def test_timings_have_one_width_and_are_masked_by_the_determinism_test(seconds):
    # The determinism test masks the number and unit; a table pads each cell to its column's
    # width, so the text must be equally wide in every run, or the padding would differ.
    text = lesson.with_unit(seconds, lesson.TIME_UNITS)
    assert len(text) == 8, text
    assert TIMING.sub("<t>", text) == "<t>", text


@pytest.mark.parametrize("flops", [3e10, 9.99e11, 1e12, 4.5e13])
def test_flops_have_one_width_and_are_masked(flops):
    text = lesson.with_unit(flops, lesson.FLOPS_UNITS)
    assert len(text) == 13, text
    assert TIMING.sub("<t>", text) == "<t>", text


def test_with_unit_picks_a_readable_unit():
    assert lesson.with_unit(1.5, lesson.TIME_UNITS) == "1.500 s"
    assert lesson.with_unit(0.0025, lesson.TIME_UNITS) == "2.500 ms"
    assert lesson.with_unit(3e-7, lesson.TIME_UNITS) == "300.0 ns"
    assert lesson.with_unit(2.5e13, lesson.FLOPS_UNITS) == "25.00 TFLOP/s"


def test_speed_up_is_masked():
    assert TIMING.sub("<t>", f"{155.93:#.4g}×") == "<t>"


def test_as_text_prints_fixed_decimals_brackets_literally_and_no_negative_zero():
    printed = io.StringIO()
    console = Console(file=printed, width=100)
    console.print(lesson.as_text(torch.tensor([0.09, float("inf"), float("nan"), -1e-9])))
    console.print(lesson.as_text(torch.tensor([[True], [False]])))
    assert printed.getvalue().splitlines() == ["[0.090, inf, nan, 0.000]", "[[True], [False]]"]
