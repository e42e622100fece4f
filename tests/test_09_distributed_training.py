"""Lesson 09's own checks: two real CPU processes train one model (the shared --smoke run), a
crashing rank ends the whole job within seconds, DDP matches one process in an in-process group,
checkpoints follow the rules, and bad flags stop before any process starts."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from argparse import Namespace

import pytest
import torch
import torch.distributed as dist
from helpers import (
    ROOT,
    default_run,
    lesson_env,
    lesson_path,
    load_lesson,
    run_lesson,
    smoke_run,
)
from torch.utils.data import DistributedSampler

lesson = load_lesson("09")


@pytest.fixture
def process_group(device):
    """A real process group of one process (world size 1), as torchrun's rank 0 would have,
    on the pytest --device; no network, no files."""
    accelerator = lesson.resolve_device(device)
    if accelerator.type != "cpu":
        accelerator = torch.device(accelerator.type, 0)  # as the worker with local rank 0 has
    backend = lesson.BACKENDS[accelerator.type]
    if not dist.is_backend_available(backend):
        pytest.skip(f"this torch build has no {backend} backend for {accelerator.type}")
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    store = dist.HashStore()  # an in-memory store: enough for a world of one
    dist.init_process_group(backend, store=store, rank=0, world_size=1)
    try:
        yield accelerator
    finally:
        dist.destroy_process_group()
        torch.set_num_threads(threads)  # the lesson seeds and sets these; later tests get theirs
        torch.use_deterministic_algorithms(deterministic)


def lesson_args(tmp_path, **changes) -> Namespace:
    """The flags main() would parse for a --smoke run, writing only into tmp_path."""
    args = Namespace(device="cpu", seed=0, smoke=True, epochs=lesson.SMOKE_EPOCHS, lr=0.05)
    args.batch_size, args.nproc, args.crash_rank = lesson.BATCH_SIZE, "auto", None
    args.checkpoint, args.metrics_json = tmp_path / "model.pt", tmp_path / "metrics.json"
    for name, value in changes.items():
        setattr(args, name, value)
    return args


def test_smoke_runs_two_processes_that_agree():
    result = smoke_run("09", "cpu")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "2 processes (gloo)" in out.splitlines()[0]
    assert out.count("Lesson 09") == 1, "only rank 0 prints"
    assert "all_reduce(SUM) of rank + 1: every rank now holds 3" in out
    assert "all_gather of [10 * rank, 10 * rank + 1]: [[0.0, 1.0], [10.0, 11.0]]" in out
    assert "largest difference between any rank's weights and rank 0's: 0\n" in out
    assert "within the tolerance 1e-04" in out and "NOT within" not in out
    assert "samples/s" in out and result.stderr == ""


def test_a_crashing_rank_ends_the_whole_job_within_seconds():
    """The job must end because the launcher tears it down, long before the 60 s timeout."""
    command = [sys.executable, str(lesson_path("09")), "--device", "cpu", "--smoke"]
    process = subprocess.Popen(
        [*command, "--crash-rank", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=lesson_env(),
        cwd=ROOT,
        start_new_session=True,  # its own process group, so a hang can be killed whole
    )
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(
        target=lambda: lines.extend((time.monotonic(), line) for line in process.stderr)
    )
    reader.start()
    try:
        process.wait(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("the job hung after rank 1 crashed")
    ended = time.monotonic()
    reader.join()
    stderr = "".join(line for _, line in lines)
    assert process.returncode == 1, stderr
    crashed = [t for t, line in lines if "rank 1 crashed on purpose (--crash-rank 1)" in line]
    assert crashed, stderr
    # The launcher ends the job, well before the 60 s process-group timeout could (we measured
    # 11 s from the crash to the exit on our 2 cores under a load average of 10).
    assert ended - crashed[0] < 45, f"{ended - crashed[0]:.1f} s from the crash to the exit"
    assert "error: rank 1 failed first (exit status 1)" in stderr
    assert "Traceback" not in stderr


def test_every_section_in_a_process_group_of_one(process_group, tmp_path, capsys, monkeypatch):
    """The whole lesson in this process, as rank 0 of a world of one: DDP against one process,
    the metrics file, and a --smoke run that never replaces an existing checkpoint."""
    args = lesson_args(tmp_path, device=process_group.type, epochs=1)
    args.checkpoint.write_bytes(b"a trained model")
    for name, value in {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1"}.items():
        monkeypatch.setenv(name, value)  # what torchrun would set (section 2 prints them)
    lesson.run_sections(args, 0, 1, process_group, lesson.BACKENDS[process_group.type])
    out = capsys.readouterr().out
    assert "within the tolerance 1e-04" in out and "NOT within" not in out
    metrics = json.loads(args.metrics_json.read_text(encoding="utf-8"))
    assert metrics["weight_difference"] <= lesson.TOLERANCE and metrics["processes"] == 1
    assert args.checkpoint.read_bytes() == b"a trained model"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["metrics.json", "model.pt"]


def test_rank_0_saves_a_checkpoint_that_loads_with_weights_only(process_group, tmp_path):
    args = lesson_args(tmp_path, smoke=False, checkpoint=tmp_path / "new" / "model.pt")
    model = lesson.make_model()
    lesson.save_checkpoint(model, args, rank=0)
    checkpoint = torch.load(args.checkpoint, weights_only=True)
    loaded = lesson.make_model()
    loaded.load_state_dict(checkpoint["model_state"])  # the plain model's names, not DDP's
    assert lesson.largest_difference(model, loaded) == 0
    assert sorted(path.name for path in args.checkpoint.parent.iterdir()) == ["model.pt"]


def test_the_default_run_learns_and_matches_one_process():
    result, metrics = default_run("09")
    assert result.returncode == 0, result.stderr[-3000:]
    assert metrics["test_accuracy"] > 0.95 and metrics["epochs"] == lesson.EPOCHS
    assert metrics["weight_difference"] <= lesson.TOLERANCE
    assert "NOT within" not in result.stdout


def test_global_batches_are_the_ranks_batches_side_by_side():
    train_set, _ = lesson.load_data(seed=0)
    batches = lesson.global_batches(train_set, world_size=2, per_process=64, seed=0, epoch=3)
    shards = []
    for rank in range(2):
        sampler = DistributedSampler(train_set, 2, rank, shuffle=True, seed=0)
        sampler.set_epoch(3)
        shards.append(list(sampler))
    assert batches[0] == shards[0][:64] + shards[1][:64]
    assert batches[-1] == shards[0][-(len(shards[0]) % 64) :] + shards[1][-(len(shards[1]) % 64) :]
    assert sum(len(batch) for batch in batches) == 2 * len(shards[0])


def test_averaged_half_batch_gradients_are_the_full_batch_gradient(one_cpu_thread):
    """What DDP relies on: with equal per-rank batches, the mean of the ranks' mean-loss
    gradients is the gradient of the mean loss over the global batch."""
    torch.manual_seed(0)
    model = lesson.make_model()
    images, labels = torch.randn(128, 64), torch.randint(0, 10, (128,))

    def gradient(batch: slice) -> torch.Tensor:
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(images[batch]), labels[batch]).backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    averaged = (gradient(slice(0, 64)) + gradient(slice(64, 128))) / 2
    torch.testing.assert_close(averaged, gradient(slice(0, 128)), rtol=1e-4, atol=1e-6)


class ExitCalledError(Exception):
    """What the fake os._exit raises, so that a test can see the worker's exit status."""


def fake_exit(status: int) -> None:
    raise ExitCalledError(status)


@pytest.mark.parametrize("crash", [False, True], ids=["success", "crash"])
def test_a_finished_worker_leaves_through_os_exit(crash, device, capsys, monkeypatch):
    """Python's shutdown can abort a gloo worker whose threads still hold the last collective's
    tensors, so a worker that finished must end through os._exit(0); a failing one exits the
    usual way with fail()'s status. Both destroy their process group. Here: the worker of a world
    of one, in this process. MASTER_PORT 0 lets its store take a free port as it binds (no other
    rank needs to find it), where probing for a free port first could lose it in between."""
    torchrun_sets = {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1"}
    for name, value in (torchrun_sets | {"MASTER_PORT": "0"}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(lesson.os, "_exit", fake_exit)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        with pytest.raises((ExitCalledError, SystemExit)) as ended:
            lesson.main(["--device", device, "--smoke", *["--crash-rank", "0"] * crash])
    finally:
        torch.set_num_threads(threads)  # the lesson seeds and sets these; later tests get theirs
        torch.use_deterministic_algorithms(deterministic)
    assert not dist.is_initialized()
    output = capsys.readouterr()
    if crash:
        assert ended.type is SystemExit and ended.value.code == 1
        assert output.err == "error: rank 0 crashed on purpose (--crash-rank 0) in epoch 1\n"
    else:
        assert ended.type is ExitCalledError and ended.value.args == (0,)
        assert "within the tolerance 1e-04" in output.out and output.err == ""


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--nproc", "0"], "expected auto or a number from 1 to 64"),
        (["--nproc", "2", "--batch-size", "127"], "does not split evenly over 2 processes"),
        (["--nproc", "2", "--crash-rank", "2"], "the ranks are 0 to 1"),
        (["--crash-rank", "-1"], "expected a rank"),
        (["--checkpoint", "."], "is a folder"),
    ],
)
def test_bad_flags_stop_before_any_process_starts(flags, message, capsys, monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as stopped:
        lesson.main(["--device", "cpu", *flags])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_nccl_on_two_gpus(device):
    if device != "cuda":
        pytest.skip("nccl needs CUDA GPUs: run pytest --device cuda on a machine with 2 or more")
    if torch.cuda.device_count() < 2:
        pytest.skip(f"nccl with 2 processes needs 2 GPUs; found {torch.cuda.device_count()}")
    result = run_lesson("09", "--device", "cuda", "--smoke", "--nproc", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 processes (nccl)" in result.stdout.splitlines()[0]
    assert "within the tolerance" in result.stdout and "NOT within" not in result.stdout
