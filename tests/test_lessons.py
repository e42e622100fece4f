"""Every lesson, run for real: one shared `--smoke` subprocess per lesson on the chosen device,
determinism (that run against a fresh in-process rerun), the device contract, `--help`, and the
PEP 723 promise through `uv run` in an empty folder."""

import os
import re
import shutil
import subprocess

import pytest
import torch
from helpers import (
    ENVIRONMENT_AT_START,
    LESSONS,
    TIMING,
    call_main,
    lesson_env,
    lesson_path,
    load_lesson,
    smoke_run,
    source,
    writes_checkpoints,
)

RULE_TITLE = re.compile(r'console\.rule\(\s*"([^"]+)"')
# A lesson that draws random numbers (or initialises layers) must repeat them for the same seed.
DRAWS_RANDOM_NUMBERS = re.compile(r"torch\.rand|randperm|random_split|nn\.(Linear|Conv|LSTM|Embed)")
RANDOM_LESSONS = [p for p in LESSONS if DRAWS_RANDOM_NUMBERS.search(source(p.stem))]


def section_titles(path) -> list[str]:
    return RULE_TITLE.findall(path.read_text(encoding="utf-8"))


def available_devices() -> list[str]:
    accelerator = torch.accelerator.current_accelerator(check_available=True)
    return ["cpu"] + ([accelerator.type] if accelerator is not None else [])


def smoke_args(stem: str, device: str, tmp_path) -> list[str]:
    """The flags of the shared smoke run, with this test's own scratch checkpoint."""
    args = ["--device", device, "--smoke"]
    return args + (["--checkpoint", str(tmp_path / "model.pt")] if writes_checkpoints(stem) else [])


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


@pytest.mark.parametrize("lesson", RANDOM_LESSONS, ids=lambda p: p.stem)
def test_same_seed_prints_same_numbers(lesson, device, tmp_path):
    """The shared smoke run (seed 0, its own process) against a rerun in this process."""
    first = smoke_run(lesson.stem, device)
    code, rerun, errors = call_main(
        load_lesson(lesson.stem), *smoke_args(lesson.stem, device, tmp_path)
    )
    assert first.returncode == code == 0, errors[-3000:]
    assert TIMING.sub("<t>", first.stdout).splitlines() == TIMING.sub("<t>", rerun).splitlines()


def test_another_seed_prints_other_numbers(device, tmp_path):
    default = smoke_run("00", device)
    code, reseeded, errors = call_main(
        load_lesson("00"), "--device", device, "--smoke", "--seed", "1"
    )
    assert code == 0, errors
    assert TIMING.sub("<t>", default.stdout) != TIMING.sub("<t>", reseeded)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_missing_accelerator_is_one_line_and_exit_2(lesson):
    missing = next(d for d in ("cuda", "mps", "xpu") if d not in available_devices())
    code, _, errors = call_main(load_lesson(lesson.stem), "--device", missing, "--smoke")
    assert code == 2
    lines = errors.strip().splitlines()
    assert len(lines) == 1, errors
    assert missing in lines[0] and "available: " + ", ".join(available_devices()) in lines[0]


@pytest.mark.parametrize("name", ["cuda", "mps", "xpu"])
def test_named_accelerator_runs_where_present_and_fails_cleanly_where_absent(name, tmp_path):
    code, printed, errors = call_main(load_lesson("01"), "--device", name, "--smoke")
    if name in available_devices():
        assert code == 0, errors
        assert f"device {name}" in printed
    else:
        assert code == 2 and len(errors.strip().splitlines()) == 1


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_unknown_device_is_a_one_line_usage_error(lesson):
    code, _, errors = call_main(load_lesson(lesson.stem), "--device", "tpu")
    assert code == 2
    assert errors.startswith("error: argument --device: invalid choice: 'tpu'"), errors
    assert len(errors.strip().splitlines()) == 1


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_help_lists_the_cli_contract(lesson):
    code, printed, _ = call_main(load_lesson(lesson.stem), "--help")
    assert code == 0
    text = " ".join(printed.split())  # argparse wraps lines wherever it likes
    for flag in ("--device", "--seed", "--smoke"):
        assert flag in text
    assert "(default: auto)" in text and "(default: 0)" in text
    if "add_training_flags(parser" in source(lesson.stem):
        for flag in ("--epochs", "--batch-size", "--lr", "--metrics-json"):
            assert flag in text


UV = os.environ.get("UV") or shutil.which("uv")


@pytest.mark.skipif(UV is None, reason="uv is not installed (see README: Installing uv)")
def test_uv_run_alone_in_an_empty_folder(tmp_path):
    """The PEP 723 promise: the file alone, `uv run`, no project, no install step. Lesson 01 is
    the README's first command; the metadata tests check every other lesson's block."""
    script = shutil.copy(lesson_path("01"), tmp_path)
    env = lesson_env()
    env.pop("VIRTUAL_ENV", None)  # the project's .venv must not leak into the script's own
    result = subprocess.run(
        [UV, "run", "--quiet", script, "--device", "cpu", "--smoke"],
        capture_output=True,
        encoding="utf-8",
        timeout=900,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert section_titles(lesson_path("01"))[-1] in result.stdout


def test_lesson_subprocesses_never_inherit_what_a_test_set_for_itself(monkeypatch):
    """The background pool starts lessons while in-process tests run; a RANK that lesson 09's
    test sets for a moment must not reach them."""
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("HOME", "/a/home/that/a/test/set")
    env = lesson_env()
    assert env.get("RANK") == ENVIRONMENT_AT_START.get("RANK")
    assert env.get("HOME") == ENVIRONMENT_AT_START.get("HOME")
