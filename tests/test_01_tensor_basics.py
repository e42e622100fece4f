"""Lesson 01 prints lines of code next to what they return: check that the pairs tell the truth."""

import io
import re

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


def test_numpy_interop_shows_shared_and_copied_memory(lesson, printed):
    lesson.numpy_interop()
    results = dict(prompt_pairs(printed()))
    shared = results["torch.from_numpy(array)  # shares memory: sees the 100"]
    copied = results["torch.tensor(array)      # copied: does not"]
    assert shared.startswith("tensor([100.,") and copied.startswith("tensor([0.,")
    assert results["weights_view  # taken before weights += 1"] == (
        "array([1., 1., 1.], dtype=float32)"
    )


def test_moving_to_the_current_device_is_not_a_copy(lesson, printed):
    lesson.moving_between_devices(torch.device("cpu"))
    results = dict(prompt_pairs(printed()))
    assert results["features.to(device) is features"] == "True"
    assert results["on_device.cpu().device"] == "device(type='cpu')"


def test_writing_through_a_slice_changes_the_original(lesson, printed):
    lesson.basic_indexing()
    results = dict(prompt_pairs(printed()))
    assert results["grid[0, 0]  # after first_row[0] = 100"] == "tensor(100)"
    assert results["grid[grid > 8]  # boolean mask -> 1-D"] == "tensor([ 9, 10, 11])"
