"""Lesson 02's own claims, checked in-process: what shares memory, what view refuses, and the
numbers each section prints (the generic smoke, determinism and guide checks live elsewhere)."""

import io
import re

import pytest
import torch
from helpers import load_lesson
from rich.console import Console

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def lesson():
    return load_lesson("02")


@pytest.fixture
def printed(lesson, monkeypatch):
    """Run one section with the lesson's console redirected; return what it printed."""

    def run(section) -> str:
        buffer = io.StringIO()
        monkeypatch.setattr(lesson, "console", Console(file=buffer, width=100, no_color=True))
        section(CPU)
        return buffer.getvalue()

    return run


def test_shares_memory_tells_views_from_copies(lesson):
    base = torch.arange(12).view(3, 4)
    assert lesson.shares_memory(base[1:], base)  # a view that starts further into memory
    assert lesson.shares_memory(base.t(), base)
    assert not lesson.shares_memory(base.clone(), base)
    assert not lesson.shares_memory(base.t().reshape(-1), base)


def test_as_python_rounds_floats_and_keeps_integers(lesson):
    assert lesson.as_python(torch.tensor([0.1, 2 / 3])) == [0.1, 0.67]
    assert lesson.as_python(torch.tensor([[1, 2]])) == [[1, 2]]
    assert lesson.as_python(torch.ones(2, requires_grad=True)) == [1.0, 1.0]


def test_show_fits_80_columns_and_keeps_an_errors_first_sentence(lesson, printed):
    def section(device):
        lesson.show("short", list(range(30)))  # too long for one line: result goes below
        lesson.show("error", RuntimeError("The informative part (a, b). Hint: more."))

    output = printed(section)
    assert output.startswith("short\n    -> [0, 1, 2,")
    assert "error                          -> RuntimeError: The informative part (a, b)\n" in output
    assert "Hint" not in output


def test_layout_table_reports_strides_and_contiguity(lesson):
    grid = torch.arange(6).view(2, 3)
    buffer = io.StringIO()
    table = lesson.layout_table({"grid": grid, "grid.t()": grid.t()}, "grid")
    Console(file=buffer, width=100).print(table)
    rows = [line for line in buffer.getvalue().splitlines() if "grid" in line]
    assert "(3, 1)" in rows[1] and "True" in rows[1]  # grid itself
    assert "(3, 2)" in rows[2] and "(1, 3)" in rows[2] and "False" in rows[2]  # transposed


def test_transpose_swaps_height_and_width_and_flatten_copies_only_when_it_must(lesson, printed):
    output = printed(lesson.permute_transpose_flatten)
    row = next(line for line in output.splitlines() if "│ images.transpose(1, 2)" in line)
    assert "(2, 5, 4, 3)" in row  # height 4 != width 5, so the swap is visible
    assert re.search(r"channels_first\.flatten\(1\) shares memory +-> False", output)
    assert output.count("-> 21") == 2  # the same pixel under both layouts


def test_view_after_transpose_fails_and_reshape_fixes_it(lesson, printed):
    output = printed(lesson.view_vs_reshape)
    assert "grid.t().view(2, -1)" in output
    assert "RuntimeError: view size is not compatible" in output
    assert "two contiguous subspaces)" in output  # the first sentence, in full
    assert output.count("[[0, 4, 8, 1, 5, 9], [2, 6, 10, 3, 7, 11]]") == 2  # reshape, contiguous
    assert re.search(r"the reshaped copy shares grid's memory +-> False", output)


def test_broadcasting_bug_gives_a_square_and_squeeze_fixes_it(lesson, printed):
    torch.manual_seed(0)
    output = printed(lesson.squeeze_and_unsqueeze)
    assert "(predictions - targets).shape" in output and "-> (4, 4), MSE 2.8257" in output
    assert "-> (4,), MSE 3.7137" in output  # the numbers the guide quotes


def test_gather_and_scatter_pick_and_place_the_true_class(lesson, printed):
    output = printed(lesson.gather_and_scatter)
    assert output.count("[2.0, 3.0, 2.5, 1.5]") == 2  # gather and fancy indexing agree
    assert "[[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]" in output
    assert "-> [1, 1, 2]" in output


def test_in_place_errors_are_caught_and_explained(lesson, printed):
    output = printed(lesson.in_place)
    assert "RuntimeError: a leaf Variable that requires grad" in output
    assert "RuntimeError: one of the variables" in output
    assert "expected version 0 instead" in " ".join(output.split())  # the first sentence, in full
    assert "weights.mul_(2) inside torch.no_grad()" in output and "[2.0, 2.0, 2.0]" in output


def test_clone_detach_table_separates_memory_from_the_graph(lesson, printed):
    output = printed(lesson.clone_and_detach)
    assert "-> [0, 100, 2, 3, 4]" in output  # the view wrote through, the clone did not
    expected = {
        "weights[1:] ": ("True", "True"),
        "weights.clone() ": ("False", "True"),
        "weights.detach() ": ("True", "False"),
        "weights.detach().clone() ": ("False", "False"),
    }
    for expression, flags in expected.items():
        row = next(line for line in output.splitlines() if f"│ {expression}" in line)
        assert [cell.strip() for cell in row.split("│")[2:4]] == list(flags), row
