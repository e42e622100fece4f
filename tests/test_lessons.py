"""Every lesson, run for real: smoke runs on the chosen device, determinism, the device contract,
and the PEP 723 promise through `uv run` in an empty folder."""

import os
import re
import shutil
import subprocess

import pytest
import torch
from helpers import LESSONS, TIMING, lesson_env, lesson_path, run_lesson, smoke_run

RULE_TITLE = re.compile(r'console\.rule\(\s*"([^"]+)"')


def section_titles(path) -> list[str]:
    return RULE_TITLE.findall(path.read_text(encoding="utf-8"))


def available_devices() -> list[str]:
    accelerator = torch.accelerator.current_accelerator(check_available=True)
    return ["cpu"] + ([accelerator.type] if accelerator is not None else [])


def test_there_are_lessons():
    assert LESSONS, "no lesson found in starter_kit/15_pytorch_ml/"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_smoke_run_prints_every_section(lesson, device):
    result = smoke_run(lesson.stem, device)
    assert result.returncode == 0, result.stderr[-3000:]
    titles = section_titles(lesson)
    assert titles, f"{lesson.name} has no console.rule(...) sections"
    missing = [title for title in titles if title not in result.stdout]
    assert not missing, f"sections not printed: {missing}"
    assert f"device {device}" in result.stdout.splitlines()[0], "the banner names the device"
    # Torch warnings in our own code are bugs; the tests run with PYTHONWARNINGS=default.
    assert "Warning" not in result.stderr, result.stderr[-3000:]
    assert "\x1b[" not in result.stdout, "piped output must carry no escape codes"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_same_seed_prints_same_numbers(lesson, device):
    first = smoke_run(lesson.stem, device)
    second = run_lesson(lesson.stem, "--device", device, "--smoke", "--seed", "0")
    assert first.returncode == second.returncode == 0, second.stderr[-3000:]
    assert TIMING.sub("<t>", first.stdout) == TIMING.sub("<t>", second.stdout)


def test_another_seed_prints_other_numbers(device):
    default = smoke_run("00", device)
    reseeded = run_lesson("00", "--device", device, "--smoke", "--seed", "1")
    assert reseeded.returncode == 0, reseeded.stderr
    assert TIMING.sub("<t>", default.stdout) != TIMING.sub("<t>", reseeded.stdout)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_missing_accelerator_is_one_line_and_exit_2(lesson):
    missing = next(d for d in ("cuda", "mps", "xpu") if d not in available_devices())
    result = run_lesson(lesson.stem, "--device", missing, "--smoke")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0] and "available: " + ", ".join(available_devices()) in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["cuda", "mps"])
def test_named_accelerator_runs_where_present_and_fails_cleanly_where_absent(name):
    result = run_lesson("01", "--device", name, "--smoke")
    if name in available_devices():
        assert result.returncode == 0, result.stderr
        assert f"device {name}" in result.stdout
    else:
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_unknown_device_is_a_usage_error():
    result = run_lesson("00", "--device", "tpu")
    assert result.returncode == 2
    assert "invalid choice: 'tpu'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_help_lists_the_cli_contract(lesson):
    # --help exits before any work; importing torch is the only cost.
    result = run_lesson(lesson.stem, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # argparse wraps lines wherever it likes
    for flag in ("--device", "--seed", "--smoke"):
        assert flag in text
    assert "(default: auto)" in text and "(default: 0)" in text


UV = os.environ.get("UV") or shutil.which("uv")


@pytest.mark.skipif(UV is None, reason="uv is not installed (python3 -m pip install uv)")
@pytest.mark.parametrize("stem", ["00", "01"])
def test_uv_run_alone_in_an_empty_folder(stem, tmp_path):
    """The PEP 723 promise: the file alone, `uv run`, no project, no install step."""
    script = shutil.copy(lesson_path(stem), tmp_path)
    env = lesson_env()
    env.pop("VIRTUAL_ENV", None)  # the project's .venv must not leak into the script's own
    result = subprocess.run(
        [UV, "run", "--quiet", script, "--device", "cpu", "--smoke"],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert section_titles(lesson_path(stem))[-1] in result.stdout
