"""Every lesson opens as a notebook (jupytext reads its `# %%` cells) and runs top to bottom in a
Jupyter kernel: the kernel's own command line is never parsed, and `__file__` is not needed."""

import pytest
from helpers import LESSONS, notebook_run
from test_lessons import section_titles


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_as_a_notebook(lesson, device):
    run = notebook_run(lesson.stem, device)
    assert run["error"] is None, run["error"]
    missing = [title for title in section_titles(lesson) if title not in run["text"]]
    assert not missing, f"sections not printed in the notebook: {missing}"
    assert "What you just learned" in run["text"]
    # In a kernel, the flags come from NOTEBOOK_ARGS, never from the kernel's command line.
    assert "flags read: ['--from-the-notebook']" in run["text"]
