import pytest
import torch


def pytest_addoption(parser):
    parser.addoption(
        "--device",
        default="cpu",
        choices=["auto", "cpu", "cuda", "mps", "xpu"],
        help="device every lesson runs on in the smoke tests (default: cpu)",
    )


@pytest.fixture(scope="session")
def device(request) -> str:
    return request.config.getoption("--device")


@pytest.fixture
def one_cpu_thread():
    """One CPU thread, as the lessons use on tiny tensors; the old count comes back afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
