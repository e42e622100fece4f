"""The CLI contract, one text: every copy of a contract helper equals tools/contract.py, every
lesson has the helpers its flags need, every bad value of every flag is one line and exit 2,
Ctrl-C is one line and exit 130, and files are written atomically."""

import os
import stat
import sys
from pathlib import Path

import pytest
from helpers import (
    LESSONS,
    ROOT,
    call_main,
    is_training_lesson,
    load_file,
    load_lesson,
    source,
    writes_checkpoints,
)

sys.path.insert(0, str(ROOT / "tools"))
import sync_contract  # noqa: E402  (tools/ is not a package)

contract = load_file(ROOT / "tools" / "contract.py", "contract_master")

EVERY_LESSON = [
    "make_console",
    "fail",
    "resolve_device",
    "seed_everything",
    "LessonArgumentParser",
    "seed_value",
    "contract_parser",
    "script_arguments",
    "run_lesson",
]
TRAINING = ["positive_int", "learning_rate", "output_file", "add_training_flags"]
SAVING = ["write_atomically"]
PROC = Path("/proc")  # a folder that nobody, not even root, can create files in (Linux only)


def test_every_copy_of_a_contract_helper_is_the_master_text():
    stale = {
        path.relative_to(ROOT).as_posix(): sync_contract.differing_helpers(path)
        for path in sync_contract.copies_of_the_contract()
    }
    stale = {path: names for path, names in stale.items() if names}
    assert not stale, f"run `uv run python tools/sync_contract.py` to rewrite these: {stale}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_each_lesson_has_the_helpers_its_flags_need(lesson):
    helpers = sync_contract.top_level_helpers(source(lesson.stem))
    needed = EVERY_LESSON + (TRAINING if is_training_lesson(lesson.stem) else [])
    needed += SAVING if writes_checkpoints(lesson.stem) else []
    assert not [name for name in needed if name not in helpers], lesson.name
    text = source(lesson.stem)
    assert "NOTEBOOK_ARGS: list[str] = [" in text and "def main(argv: list[str])" in text
    assert text.rstrip().endswith('if __name__ == "__main__":\n    run_lesson(main, NOTEBOOK_ARGS)')


def test_the_sync_tool_rewrites_a_drifted_copy(tmp_path):
    masters = sync_contract.master_texts()
    drifted = source("01").replace("exit 2 if absent", "exit 2 when absent")
    assert drifted != source("01")
    assert sync_contract.synced(drifted, masters) == source("01")


def bad_values(flag: str, tmp_path: Path) -> list[str]:
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    paths = ["", str(tmp_path), str(a_file / "inside.json")]
    paths += [str(PROC / "inside.json")] if PROC.is_dir() else []
    return {
        "--seed": ["-1", "4294967296", "1.5", "zero"],
        "--epochs": ["0", "-1", "1.5", "100000000000000000000", "many"],
        "--batch-size": ["0", "-1", "100000000000000000000"],
        "--lr": ["0", "-1", "nan", "inf", "-inf", "1e300", "fast"],
        "--metrics-json": paths,
        "--checkpoint": paths,
        "--dataset": ["no-such-dataset"],
        "--device": ["tpu"],
    }[flag]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_bad_value_of_every_flag_is_one_line_and_exit_2(lesson, tmp_path):
    module = load_lesson(lesson.stem)
    training = ["--epochs", "--batch-size", "--lr", "--metrics-json"]
    flags = ["--seed"] + (training if is_training_lesson(lesson.stem) else [])
    flags += [f for f in ("--checkpoint", "--dataset") if f'"{f}"' in source(lesson.stem)]
    flags += ["--device"]
    tried = 0
    for flag in flags:
        for value in bad_values(flag, tmp_path):
            code, printed, errors = call_main(module, "--device", "cpu", "--smoke", flag, value)
            where = f"{lesson.name} {flag} {value!r}"
            assert code == 2, f"{where}: exit {code}, {errors[-500:]}"
            assert errors.startswith(f"error: argument {flag}"), f"{where}: {errors}"
            assert len(errors.strip().splitlines()) == 1, f"{where}: {errors}"
            assert printed == "", f"{where}: it started working before it checked its flags"
            tried += 1
    assert tried >= 5


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_ctrl_c_is_one_line_and_exit_130(lesson, capsys):
    module = load_lesson(lesson.stem)

    def interrupted(argv):
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exit_:
        module.run_lesson(interrupted, [])
    assert exit_.value.code == 130
    errors = capsys.readouterr().err
    assert errors.startswith("error: interrupted") and errors.count("\n") == 1


def test_flags_come_from_the_command_line_only_when_run_as_a_script(monkeypatch):
    module = load_lesson("01")
    monkeypatch.setattr(sys, "argv", [module.__file__, "--smoke"])
    assert module.script_arguments(["--device", "cpu"]) == ["--smoke"]
    kernel = ["ipykernel_launcher.py", "-f", "kernel-connection-file.json"]
    monkeypatch.setattr(sys, "argv", kernel)  # a notebook: the kernel's flags are not ours
    assert module.script_arguments(["--device", "cpu"]) == ["--device", "cpu"]


def test_write_atomically_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "checkpoint.pt"
    target.write_bytes(b"the good old checkpoint")

    def fails_halfway(file):
        file.write(b"half a new")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        contract.write_atomically(target, fails_halfway)
    assert target.read_bytes() == b"the good old checkpoint"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"], "a temporary file was left"

    contract.write_atomically(target, lambda file: file.write(b"new"))
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == [target.name]
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600

    nested = tmp_path / "new" / "folder" / "file.bin"  # missing folders are made
    contract.write_atomically(nested, lambda file: file.write(b"x"))
    assert nested.read_bytes() == b"x"


def test_output_file_accepts_a_file_to_be_made_in_a_folder_to_be_made(tmp_path):
    assert contract.output_file(str(tmp_path / "new" / "m.json")) == tmp_path / "new" / "m.json"
    assert not (tmp_path / "new").exists(), "checking a path must not create anything"
    assert list(tmp_path.iterdir()) == []


def test_sparkline_draws_a_diverged_run_and_a_flat_one():
    assert contract.sparkline([1.0, 0.1, 0.01], low=0.01, high=1.0, width=60) == "█▅▁"
    assert contract.sparkline([1.0, 10.0, float("inf"), float("nan")], 1.0, 10.0, 4) == "▁█xx"
    assert contract.sparkline([0.5, 0.5], 0.5, 0.5, 2) == "▁▁"  # flat: no division by zero
    assert contract.sparkline([0.0, 1.0], 0.0, 1.0, 2)[1] == "█"  # a zero loss on a log scale
    long_run = contract.sparkline([2.0**-i for i in range(500)], 2.0**-499, 1.0, width=60)
    assert len(long_run) == 60 and long_run[0] == "█" and long_run[-1] == "▁"


def test_stop_if_diverged(capsys):
    contract.stop_if_diverged(12.5, epoch=3)  # a finite loss goes on
    with pytest.raises(SystemExit) as exit_:
        contract.stop_if_diverged(float("nan"), epoch=4)
    assert exit_.value.code == 1
    assert "training diverged at epoch 4 (loss nan)" in capsys.readouterr().err
