"""Lesson 01 prints lines of code next to what they return: check that the pairs tell the truth."""

import io
import re

import numpy as np
import pytest
import torch
from helpers import load_lesson
from rich.console import Console


@pytest.fixture(scope="module")
def lesson():
    return load_lesson("01")


@pytest.fixture
def printed(lesson, monkeypatch):
    """Send the lesson's console to a buffer; call the fixture to read what was printed."""
    buffer = io.StringIO()
    monkeypatch.setattr(lesson, "console", Console(file=buffer, width=100))
    return buffer.getvalue


def prompt_pairs(text: str) -> list[tuple[str, str]]:
    """'>>> code' lines and the (possibly multi-line) repr printed under each."""
    pairs = re.findall(r"^>>> (.*)\n((?:(?!>>> |─).*\n)+)", text, flags=re.M)
    return [(code, result.rstrip("\n")) for code, result in pairs]


def test_show_prints_brackets_literally(lesson, printed):
    # rich would read "[bold]" as a style tag and swallow it; a tensor repr is full of brackets.
    lesson.show("mask", torch.tensor([True, False]))
    lesson.show("'[bold]'", "[bold]")
    assert printed() == ">>> mask\ntensor([ True, False])\n>>> '[bold]'\n'[bold]'\n"


def test_creation_lines_are_the_code_that_ran(lesson, printed):
    # Re-run every line section 1 shows, from the same seed, and compare with what it printed.
    torch.manual_seed(0)
    lesson.creating_tensors()
    pairs = prompt_pairs(printed())
    assert len(pairs) == 13
    torch.manual_seed(0)
    namespace = {"torch": torch, "template": torch.tensor([[1, 2, 3], [4, 5, 6]])}
    for code, shown in pairs:
        assert repr(eval(code, namespace)) == shown, code


@pytest.fixture
def shown(lesson, monkeypatch):
    """Record each show(code, value) call; value is None for a statement, as at a prompt."""
    calls = []
    monkeypatch.setattr(lesson, "show", lambda code, value=None: calls.append((code, value)))
    return calls


def replay(calls, namespace):
    """Type the shown lines at a prompt, in order: each result must be the one printed."""
    for code, value in calls:
        if value is None:
            exec(code, namespace)
        else:
            assert repr(eval(code, namespace)) == repr(value), code


def test_numpy_lines_are_the_code_that_ran(lesson, shown):
    lesson.numpy_interop()
    # Replaying in order catches a tensor shown as made after array[0] = 100 but made before.
    namespace = {"np": np, "torch": torch}
    replay([call for call in shown if "weights" not in call[0]], namespace)
    assert repr(namespace["shared"]).startswith("tensor([100.,")
    assert repr(namespace["copied"]).startswith("tensor([0.,")
    results = dict(shown)
    assert repr(results["weights_view  # taken before weights += 1"]) == (
        "array([1., 1., 1.], dtype=float32)"
    )


def test_device_lines_are_the_code_that_ran(lesson, shown):
    lesson.moving_between_devices(torch.device("cpu"))
    features = torch.arange(6.0).reshape(2, 3)
    replay(shown, {"torch": torch, "features": features, "device": torch.device("cpu")})
    assert dict(shown)["on_device is features"] is True  # already there: not a copy


def test_writing_through_a_slice_changes_the_original(lesson, printed):
    lesson.basic_indexing()
    results = dict(prompt_pairs(printed()))
    assert results["grid[0, 0]  # after first_row[0] = 100"] == "tensor(100)"
    assert results["grid[grid > 8]  # boolean mask -> 1-D"] == "tensor([ 9, 10, 11])"
