import pytest


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
