import re

import pytest
import torch
from helpers import GUIDES, LESSONS, prefetch


def pytest_addoption(parser):
    parser.addoption(
        "--device",
        default="cpu",
        choices=["auto", "cpu", "cuda", "mps", "xpu"],
        help="device every test that runs model code uses (default: cpu)",
    )


def pytest_collection_finish(session):
    """Start the shared subprocess runs that the selected tests need now, so that they overlap
    the in-process tests: a lesson's smoke run or default run where a selected test that names
    the lesson comes from a file that uses one (a guide's default run only if it quotes one)."""
    if session.config.option.collectonly:
        return
    smoke, default, notebook = set(), set(), set()
    for item in session.items:
        found = re.search(r"\[(\d\d)_|test_(\d\d)_", item.nodeid)
        if not found:
            continue
        number, code = found[1] or found[2], item.path.read_text(encoding="utf-8")
        if "smoke_run(" in code:
            smoke.add(number)
        if "notebook_run(" in code:
            notebook.add(number)
        if "default_run(" in code:
            guide = [g for g in GUIDES if g.name[:2] == number]
            quotes = guide and "default-run" in guide[0].read_text(encoding="utf-8")
            if quotes or item.path.name != "test_guides.py":
                default.add(number)
    stems = [path.stem for path in LESSONS if path.name[:2] in smoke | default | notebook]
    prefetch(resolve(session.config.getoption("--device")), stems, smoke, default, notebook)


def resolve(requested: str) -> str:
    """'auto' -> the accelerator the lessons would pick, else 'cpu' (what their banner prints)."""
    if requested != "auto":
        return requested
    accelerator = torch.accelerator.current_accelerator(check_available=True)
    return accelerator.type if accelerator is not None else "cpu"


@pytest.fixture(scope="session")
def device(request) -> str:
    """The device named by --device ('auto' resolved), as the lessons' --device flag takes it."""
    return resolve(request.config.getoption("--device"))


@pytest.fixture(scope="session")
def torch_device(device) -> torch.device:
    """The same, as a torch.device, for tests that build tensors and models themselves."""
    return torch.device(device)


@pytest.fixture
def one_cpu_thread():
    """One CPU thread, as the lessons use on tiny tensors; the old count comes back afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
