"""Lesson 08's own logic: the checkpoint round trip and resuming, safe loading (a crafted pickle is
refused and never runs; corrupt, empty and wrong-model files are one line and exit 1), the exported
program in a fresh process, ONNX, the request checks, and the HTTP service end to end: every good
and bad request, then a clean exit on SIGTERM and on Ctrl-C."""

import asyncio
import http.client
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings

import pytest
import torch
from helpers import (
    call_main,
    damaged_files,
    default_run,
    lesson_env,
    lesson_path,
    load_lesson,
    smoke_run,
)

lesson = load_lesson("08_deployment")  # the key the shared tests use: one module object
POSIX_SIGNALS = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One CPU thread, as the lesson uses: a thread pool costs more than it saves on tiny
    tensors, and far more on a busy machine. The old count comes back afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def trained(device, one_thread):
    """(data, config, model): a model trained for 3 epochs on the suite's device."""
    torch_device = torch.device(device)
    config = {"seed": 0, "hidden": lesson.HIDDEN, "lr": lesson.LEARNING_RATE, "batch_size": 64}
    data = lesson.load_data(0, torch_device)
    model, optimizer, shuffler = lesson.new_run(config, data, torch_device)
    lesson.train(model, optimizer, shuffler, data, range(3), 64)
    return data, config, model.eval()


def test_data_is_the_digits_split_into_disjoint_train_and_test(device):
    data = lesson.load_data(0, torch.device(device))
    images, labels = data["train"]
    assert images.shape == (1797 - lesson.TEST_IMAGES, 64) and labels.shape == (len(images),)
    assert data["test"][0].shape == (lesson.TEST_IMAGES, 64)
    assert images.min() == 0 and images.max() == 16  # the digits' own scale: the service's too
    every_label = torch.from_numpy(lesson.load_digits_arrays()[1]).long()
    counts = [torch.bincount(split[1].cpu(), minlength=10) for split in data.values()]
    assert torch.equal(sum(counts), torch.bincount(every_label))  # each image in one split
    assert torch.equal(lesson.load_data(0, torch.device(device))["test"][0], data["test"][0])
    assert not torch.equal(lesson.load_data(1, torch.device(device))["test"][1], data["test"][1])


def test_checkpoint_round_trip_keeps_everything(trained, device, tmp_path):
    data, config, _ = trained
    torch_device = torch.device(device)
    model, optimizer, shuffler = lesson.new_run(config, data, torch_device)
    losses = lesson.train(model, optimizer, shuffler, data, range(2), 64)
    state = lesson.checkpoint_of(model, optimizer, shuffler, losses, config, data)
    lesson.save(tmp_path / "ck.pt", lambda file: torch.save(state, file))
    loaded = lesson.read_checkpoint(tmp_path / "ck.pt", torch_device)
    assert loaded["epoch"] == 2 and loaded["losses"] == losses and loaded["config"] == config
    assert set(loaded) >= lesson.REQUIRED | {"metrics"}
    model2, optimizer2, shuffler2 = lesson.restore(loaded, data, torch_device)
    for key, value in model.state_dict().items():
        assert torch.equal(value, model2.state_dict()[key]), key
    moments = optimizer.state_dict()["state"][0]["exp_avg"]
    assert torch.equal(moments, optimizer2.state_dict()["state"][0]["exp_avg"])
    assert torch.equal(shuffler.get_state(), shuffler2.get_state())
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temporary file left behind


def test_resuming_equals_an_uninterrupted_run(trained, device, tmp_path, capsys):
    data, config, _ = trained
    torch_device = torch.device(device)
    straight = lesson.train(*lesson.new_run(config, data, torch_device), data, range(4), 64)
    model, optimizer, shuffler = lesson.new_run(config, data, torch_device)
    losses = lesson.train(model, optimizer, shuffler, data, range(2), 64)
    state = lesson.checkpoint_of(model, optimizer, shuffler, losses, config, data)
    lesson.save(tmp_path / "half.pt", lambda file: torch.save(state, file))
    resumed_state = lesson.read_checkpoint(tmp_path / "half.pt", torch_device)
    model, optimizer, shuffler = lesson.restore(resumed_state, data, torch_device)
    losses += lesson.train(model, optimizer, shuffler, data, range(2, 4), 64)
    assert losses == pytest.approx(straight, rel=1e-5, abs=1e-7)
    # The lesson's own section does the same with --resume's checkpoint, and says so. (A fresh
    # read: the optimizer restored above trained on in the checkpoint's own tensors.)
    resumed_state = lesson.read_checkpoint(tmp_path / "half.pt", torch_device)
    lesson.show_saving(data, config, 4, resumed_state, tmp_path / "final.pt", torch_device)
    printed = capsys.readouterr().out
    gap = float(printed.split("largest difference between the two curves: ")[1].split()[0])
    assert gap <= 1e-5 and "resumed at 2" in printed
    assert lesson.read_checkpoint(tmp_path / "final.pt", torch_device)["epoch"] == 4


def test_crafted_pickle_is_refused_and_its_payload_never_runs(device, tmp_path):
    marker = tmp_path / "payload_ran.txt"
    torch.save(lesson.CraftedPickle(marker), tmp_path / "crafted.pt")
    with pytest.raises(lesson.CheckpointError, match=r"was refused: it asks to call io\.open"):
        lesson.read_checkpoint(tmp_path / "crafted.pt", torch.device(device))
    code, printed, errors = call_main(
        lesson, "--device", device, "--resume", str(tmp_path / "crafted.pt")
    )
    assert code == 1 and printed.count("\n") == 1  # the banner, then nothing ran
    assert errors.strip().splitlines() == [
        f"error: --resume {tmp_path / 'crafted.pt'} was refused: it asks to call io.open"
    ]
    assert not marker.exists(), "the crafted pickle's payload ran"


def bad_files(folder, config) -> dict[str, str]:
    """name -> what --resume must say about it."""
    (folder / "empty.pt").write_bytes(b"")
    (folder / "random.pt").write_bytes(damaged_files(1)[0])  # random bytes, the same every run
    other = {"model_state": torch.nn.Linear(2, 2).state_dict(), "config": config}
    torch.save(other, folder / "lesson07.pt")  # another lesson's checkpoint: other keys
    (folder / "cut.pt").write_bytes((folder / "lesson07.pt").read_bytes()[:400])
    torch.save(torch.zeros(3), folder / "tensor.pt")  # not even a dict
    cpu = torch.device("cpu")
    data = lesson.load_data(0, cpu)
    model, optimizer, shuffler = lesson.new_run(config | {"hidden": 8}, data, cpu)
    state = lesson.checkpoint_of(model, optimizer, shuffler, [], config, data)
    torch.save(state, folder / "other_shapes.pt")  # this lesson's keys, another model's weights
    torch.save(state | {"format": "lesson-99"}, folder / "other_format.pt")
    (folder / "a_folder.pt").mkdir()
    return {
        "empty.pt": "is empty (0 bytes)",
        "random.pt": "is corrupt",
        "cut.pt": "is corrupt or cut off",
        "lesson07.pt": "is not a lesson 08 checkpoint (no epoch, format, losses,",
        "tensor.pt": "is not a lesson 08 checkpoint (no config, epoch,",
        "other_shapes.pt": "does not fit this lesson's model (size mismatch for layers.0.weight",
        "other_format.pt": "is not a lesson 08 checkpoint (format 'lesson-99')",
        "a_folder.pt": "is a folder, not a checkpoint file",
        "missing.pt": "does not exist",
    }


def test_every_damaged_file_is_a_checkpoint_error(tmp_path):
    """Not one fixed sample: hundreds of damaged files, each must be a CheckpointError."""
    path = tmp_path / "damaged.pt"
    for number, content in enumerate(damaged_files()):
        path.write_bytes(content)
        try:
            lesson.read_checkpoint(path, torch.device("cpu"))
        except lesson.CheckpointError as error:
            assert re.search("corrupt|not a lesson 08", str(error)), (number, str(error))
        except Exception as error:
            pytest.fail(f"damaged file {number}: {type(error).__name__} escaped: {error}")
        else:
            pytest.fail(f"damaged file {number} was accepted as a checkpoint")


def test_corrupt_empty_and_wrong_model_files_are_one_line_and_exit_1(trained, device, tmp_path):
    _, config, _ = trained
    for name, message in bad_files(tmp_path, config).items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code, printed, errors = call_main(
                lesson, "--device", device, "--resume", str(tmp_path / name)
            )
        assert code == 1, f"{name}: exit {code}"
        assert errors.startswith(f"error: --resume {tmp_path / name} {message}"), errors
        assert len(errors.strip().splitlines()) == 1 and "Traceback" not in errors, errors
        assert printed.count("\n") == 1, f"{name}: work started before the file was checked"
        assert not [w for w in caught if "torch" in w.filename], f"{name}: a torch warning"


def test_torchscript_warning_is_caught_and_explained(trained, capsys):
    data, _, model = trained
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        lesson.show_torchscript(model, data)
    assert not escaped, [str(w.message) for w in escaped]
    printed = capsys.readouterr().out
    assert "caught a FutureWarning" in printed and "torch.jit.script` is deprecated" in printed
    assert "same outputs as eager: True" in printed


def test_onnx_equals_eager_within_tolerance(trained, tmp_path, capsys):
    data, _, model = trained
    program = lesson.export_predictor(model, data["test"][0][:8])
    session, _ = lesson.show_onnx(program, model, data, tmp_path / "digits.onnx", smoke=False)
    assert (tmp_path / "digits.onnx").stat().st_size > 10_000
    images = data["test"][0]
    for batch in (images[:1], images):  # the batch dimension stayed dynamic
        answers = torch.from_numpy(session.run(None, {"pixels": batch.cpu().numpy()})[0])
        torch.testing.assert_close(
            answers, lesson.probabilities(model, batch), atol=1e-5, rtol=1e-4
        )
    assert "same digit 360/360" in capsys.readouterr().out


def test_missing_compiler_is_one_clear_line_and_eager_goes_on(trained, monkeypatch, capsys):
    data, _, model = trained

    def no_compiler(model, **options):
        def compiled(*inputs):
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found (None, 'g++')")

        return compiled

    monkeypatch.setattr(torch, "compile", no_compiler)
    compiled, seconds = lesson.show_compile(model, data, smoke=False)
    assert compiled is None and seconds == 0.0
    lines = [line for line in capsys.readouterr().out.splitlines() if "unavailable" in line]
    assert len(lines) == 1 and "no working C++ compiler" in lines[0] and "eager" in lines[0]


IMAGE = [0] * 64


@pytest.mark.parametrize(
    "payload, message",
    [
        ([IMAGE], "must be a JSON object"),
        ({"pixels": [IMAGE]}, 'missing field "images"'),
        ({"images": IMAGE[0]}, '"images" is not a list'),
        ({"images": []}, '"images" is 0 images: send a list of 1 to 256'),
        ({"images": [IMAGE] * 257}, '"images" is 257 images'),
        ({"images": [IMAGE, IMAGE[:63]]}, "images[1] is 63 values: an image is 64 numbers"),
        ({"images": [IMAGE + [0]]}, "images[0] is 65 values"),
        ({"images": [7]}, "images[0] is not a list"),
        ({"images": [["7"] + IMAGE[1:]]}, 'images[0][0] is "7", not a number'),
        ({"images": [IMAGE[:5] + [True] + IMAGE[6:]]}, "images[0][5] is true, not a number"),
        ({"images": [IMAGE[:5] + [None] + IMAGE[6:]]}, "images[0][5] is null, not a number"),
        ({"images": [IMAGE[:63] + [math.nan]]}, "images[0][63] is nan, not a finite number"),
        ({"images": [IMAGE[:63] + [-math.inf]]}, "images[0][63] is -inf, not a finite number"),
        ({"images": [IMAGE[:63] + [16.5]]}, "images[0][63] is 16.5, outside the pixel range 0-16"),
        ({"images": [IMAGE[:63] + [-1]]}, "images[0][63] is -1, outside the pixel range 0-16"),
    ],
)
def test_validation_names_the_problem(payload, message):
    with pytest.raises(ValueError) as error:
        lesson.validate_images(payload)
    assert message in str(error.value)


def test_validation_accepts_whole_numbers_and_decimals_in_range():
    images = [[16] * 64, [0.5] * 64] * 128
    assert lesson.validate_images({"images": images}) == images  # 256 images: the most


def test_a_chunked_body_is_cut_off_after_1_mib_not_read_to_the_end():
    """No Content-Length: the app counts as it reads and stops at 1 MiB; a client sending
    forever gets a 413 after 17 chunks of 64 KiB, not after it has sent everything."""
    app = lesson.make_app(lambda pixels: torch.full((len(pixels), 10), 0.1))
    chunks_read, sent = 0, []

    async def receive():
        nonlocal chunks_read
        chunks_read += 1
        assert chunks_read <= 100, "the app kept reading"  # bounded: 6.4 MiB at most
        return {"type": "http.request", "body": b" " * 65536, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/predict",
        "raw_path": b"/predict",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413 and chunks_read == 17
    assert b"1 MiB" in b"".join(m.get("body", b"") for m in sent)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(url: str, body: bytes | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for_health(url: str, process=None, seconds: float = 240) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # bounded: the first start trains and exports
        if process is not None and process.poll() is not None:
            return False
        try:
            return request(url + "/health") == (200, {"status": "ok"})
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    return False


def as_body(payload) -> bytes:
    return json.dumps(payload).encode()


def bad_bodies() -> list[tuple[bytes, int, str]]:
    """(body, status, words of the detail): each problem the issue lists, and a few more."""
    nan = b'{"images": [[NaN' + b", 0" * 63 + b"]]}"
    return [
        (b'{"images": [[0, 1,', 400, "not valid JSON"),
        (b"\xff\xfe\x00", 400, "not valid JSON"),
        (b"[" * 100_000, 400, "not valid JSON"),  # nested deeper than the parser goes
        (as_body([IMAGE]), 422, "must be a JSON object"),
        (as_body({"pixels": [IMAGE]}), 422, 'missing field "images"'),
        (as_body({"images": []}), 422, "0 images"),
        (as_body({"images": [IMAGE] * 257}), 422, "257 images"),
        (as_body({"images": [IMAGE[:63]]}), 422, "63 values"),
        (as_body({"images": [IMAGE[:63] + ["0"]]}), 422, "not a number"),
        (nan, 422, "not a finite number"),
        (nan.replace(b"NaN", b"Infinity"), 422, "not a finite number"),
        (nan.replace(b"NaN", b"-Infinity"), 422, "not a finite number"),
        (nan.replace(b"NaN", b"1e999"), 422, "not a finite number"),  # parses to infinity
        (as_body({"images": [[17] + IMAGE[1:]]}), 422, "outside the pixel range 0-16"),
    ]


def check_every_request(url: str, digits) -> None:
    """Every good and bad request of the issue, then the server is still up."""
    assert request(url + "/health") == (200, {"status": "ok"})
    first, second = digits[:1].tolist(), digits[1:2].tolist()
    status, answer = request(url + "/predict", as_body({"images": first + second}))
    assert status == 200 and len(answer["predictions"]) == 2
    for prediction in answer["predictions"]:
        assert set(prediction) == {"digit", "confidence"} and 0 <= prediction["digit"] <= 9
        assert 0.1 <= prediction["confidence"] <= 1
    _, swapped = request(url + "/predict", as_body({"images": second + first}))
    assert swapped["predictions"] == answer["predictions"][::-1]  # in request order
    status, many = request(url + "/predict", as_body({"images": [[0.5] * 64] * 256}))
    assert status == 200 and len(many["predictions"]) == 256
    for body, status, words in bad_bodies():
        got, answer = request(url + "/predict", body)
        assert (got, words in answer["detail"]) == (status, True), (body[:40], got, answer)
    # Over 1 MiB: a declared length is refused from the headers alone, before any body is sent
    # (a client still sending when the answer comes may only see the connection close, so the
    # body is not sent here); a chunked body is cut off as it arrives (tested in-process above).
    host, port = url.removeprefix("http://").split(":")
    for declared in (2**20 + 1, 100 * 2**20):
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.putrequest("POST", "/predict")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(declared))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413 and b"over 1048576 bytes (1 MiB)" in response.read()
        connection.close()
    assert request(url + "/health") == (200, {"status": "ok"}), "a bad request took it down"


@POSIX_SIGNALS
def test_service_answers_every_request_then_stops_cleanly_on_sigterm(trained, device, tmp_path):
    """As a learner runs it: its own process, serving the .pt2 beside the checkpoint."""
    data, _, model = trained
    torch.export.save(lesson.export_predictor(model, data["test"][0][:8]), tmp_path / "ck.pt2")
    port = free_port()
    command = [sys.executable, str(lesson_path("08")), "--serve", "--device", device]
    command += ["--port", str(port), "--checkpoint", str(tmp_path / "ck.pt")]
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w", encoding="utf-8") as stdout, err.open("w", encoding="utf-8") as stderr:
        server = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=lesson_env())
        try:
            url = f"http://127.0.0.1:{port}"
            assert wait_for_health(url, server), err.read_text(encoding="utf-8")[-3000:]
            check_every_request(url, data["test"][0][:2].int().cpu())
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=60) == 0, err.read_text(encoding="utf-8")[-3000:]
        finally:
            if server.poll() is None:
                server.kill()
                server.wait(timeout=30)
    printed, errors = out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8")
    assert "building" not in printed, "the .pt2 was there: it must be served as it is"
    assert f"serving ck.pt2 at http://127.0.0.1:{port}: GET /health, POST /predict" in printed
    assert printed.rstrip().endswith("stopped (SIGTERM): shut down cleanly")
    assert "Traceback" not in errors and "Warning" not in errors, errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.pt2", "stderr.txt", "stdout.txt"]


@POSIX_SIGNALS
def test_service_builds_its_program_first_and_stops_cleanly_on_ctrl_c(device, tmp_path):
    """In this process (no second `import torch`): with no .pt2 it trains and exports one first
    (--smoke: in a temporary folder, so the learner's checkpoint is never touched), and Ctrl-C
    (SIGINT) ends the lesson normally, with exit status 0."""
    checkpoint = tmp_path / "ck.pt"
    checkpoint.write_bytes(b"a learner's checkpoint")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    answers = []

    def client():
        try:
            if wait_for_health(url, seconds=120):
                two = lesson.load_data(0, torch.device("cpu"))["test"][0][:2].int().tolist()
                answers.append(request(url + "/predict", as_body({"images": two})))
                answers.append(request(url + "/predict", as_body({"images": two[::-1]})))
        finally:  # always, so that a server that is up never keeps the test waiting
            os.kill(os.getpid(), signal.SIGINT)

    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=client)
    thread.start()
    args = ["--serve", "--smoke", "--device", device, "--port", str(port)]
    code, printed, errors = call_main(lesson, *args, "--checkpoint", str(checkpoint))
    thread.join(timeout=60)
    assert code == 0, errors
    assert [status for status, _ in answers] == [200, 200], answers
    assert answers[1][1]["predictions"] == answers[0][1]["predictions"][::-1]  # request order
    assert "no ck.pt2 yet: building it first" in printed
    assert printed.rstrip().endswith("stopped (SIGINT): shut down cleanly")
    assert {n: signal.getsignal(n) for n in handlers} == handlers, "signal handlers not restored"
    assert checkpoint.read_bytes() == b"a learner's checkpoint"
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]


def test_bad_port_and_a_port_in_use_are_one_line(tmp_path):
    for value in ("-1", "65536", "http"):
        code, printed, errors = call_main(lesson, "--serve", "--port", value)
        assert code == 2 and errors.startswith("error: argument --port") and printed == ""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        program = tmp_path / "ck.pt2"
        data = lesson.load_data(0, torch.device("cpu"))
        model = lesson.new_run({"seed": 0, "hidden": 8, "lr": 0.1}, data, torch.device("cpu"))[0]
        torch.export.save(lesson.export_predictor(model, data["test"][0][:8]), program)
        port = str(taken.getsockname()[1])
        args = [
            "--serve",
            "--device",
            "cpu",
            "--port",
            port,
            "--checkpoint",
            str(tmp_path / "ck.pt"),
        ]
        code, _, errors = call_main(lesson, *args)
    assert code == 1 and errors.startswith(f"error: cannot listen on 127.0.0.1 port {port}")
    assert len(errors.strip().splitlines()) == 1


def test_smoke_run_shows_safe_loading_and_every_request(device):
    result = smoke_run("08", device)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout
    assert "did the crafted pickle's payload run? False" in printed
    assert "largest difference between the two curves: 0.0e+00" in printed
    # the guide says the .pt2 holds six tensors: two weights, two biases, the mean and the std
    assert "saved model.pt2: a zip of the graph (as JSON) and 6 tensors" in printed
    assert "GET /health -> 200" in printed and "and afterwards: GET /health -> 200" in printed
    for status in ("400", "413", "422"):
        assert re.search(rf"│ {status} +│", printed), f"no bad request answered {status}"


def test_exported_program_equals_eager_here_and_in_a_fresh_process(trained, tmp_path):
    data, _, model = trained
    program = lesson.export_predictor(model, data["test"][0][:8])
    path = tmp_path / "digits.pt2"
    lesson.save(path, lambda file: torch.export.save(program, file))
    images = data["test"][0]
    expected = lesson.probabilities(model, images)  # (360, 10), computed on the suite's device
    loaded = torch.export.load(path).module()  # no DigitClassifier involved from here on
    for batch in (1, 8, 360):  # exported with 8: the batch dimension is dynamic
        torch.testing.assert_close(
            loaded(images[:batch].cpu()), expected[:batch], atol=1e-5, rtol=0
        )
    with pytest.raises(Exception, match="1024"):  # outside the declared range: refused
        loaded(torch.zeros(lesson.MAX_EXPORT_BATCH + 1, 64))
    # A process that imports only torch: the lesson's default run (shared by the guide's tests,
    # so no extra process here) runs all 360 test images through run_in_fresh_process.
    result, _ = default_run("08")
    assert result.returncode == 0, result.stderr[-3000:]
    found = re.search(
        r"in a fresh process that imports only torch: .* from eager (\S+)", result.stdout
    )
    assert found and float(found[1]) <= 1e-5, result.stdout[-3000:]
