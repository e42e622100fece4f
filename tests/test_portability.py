"""What breaks on other platforms, caught on this one: float64 on an accelerator (Apple's MPS has
none), a Windows console that cannot encode the sparklines and block pictures, files and
subprocesses without a named encoding."""

import ast
import contextlib
import functools
import io
import sys
import traceback
from pathlib import Path

import pytest
import torch
from helpers import LESSONS, ROOT, call_main, load_lesson, writes_checkpoints
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

# A float64 tensor is fine on the CPU: a factory without a device makes one there. What crashed
# on an Apple GPU was a conversion (.double()) of a tensor that may live on the device, so a line
# that converts a tensor to float64 must say that it is on the CPU (.cpu(), device="cpu") or that
# it comes from NumPy, whose default is float64.
CPU_BOUND = ("cpu", "numpy", "np.")
DISPATCH_WRAPPERS = ("torch/_compile.py", "torch/_dynamo/eval_frame.py")


class Float64Finder(TorchDispatchMode):
    """Records each line of `path` that converts a tensor to float64, while it is active."""

    def __init__(self, path):
        super().__init__()
        self.path, self.lines = str(path), {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        inputs = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        outputs = [t for t in tree_leaves(result) if isinstance(t, torch.Tensor)]
        converts = any(t.dtype != torch.float64 for t in inputs)
        if converts and any(t.dtype == torch.float64 for t in outputs):
            # Only a line that converts directly: not library code it calls, such as gradcheck
            # or torch.utils.benchmark's statistics, whose CPU tensors are not the lesson's choice.
            frames = traceback.extract_stack()[:-1]  # [-1] is this method
            while Path(frames[-1].filename).as_posix().endswith(DISPATCH_WRAPPERS):
                frames.pop()  # torch wraps a mode's __torch_dispatch__ in these
            caller = frames[-1]
            if caller.filename == self.path:
                self.lines[caller.lineno] = caller.line
        return result


@functools.cache
def float64_lines(stem: str, device: str, scratch: str) -> tuple[int, str, dict]:
    module = load_lesson(stem)
    args = ["--device", device, "--smoke"]
    args += ["--checkpoint", f"{scratch}/model.pt"] if writes_checkpoints(stem) else []
    finder = Float64Finder(module.__file__)
    with finder:
        code, _, errors = call_main(module, *args)
    return code, errors, finder.lines


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_float64_is_made_only_on_the_cpu(lesson, device, tmp_path):
    """Lesson 02 once called .double() on a device tensor: --device mps crashed in section 6."""
    code, errors, lines = float64_lines(lesson.stem, device, str(tmp_path))
    assert code == 0, errors[-2000:]
    suspicious = {n: text for n, text in lines.items() if not any(w in text for w in CPU_BOUND)}
    assert not suspicious, (
        f"{lesson.name}: float64 where the device may be an Apple GPU: {suspicious}"
    )


def test_the_finder_catches_float64_on_a_device_tensor():
    """The check above can fail: the line lesson 02 had is caught."""
    finder = Float64Finder(__file__)
    with finder:
        tensor = torch.ones(3)
        tensor.detach().double().round(decimals=2)  # the old lesson 02 line
        tensor.detach().cpu().double()  # the fixed line
    flagged = [t for t in finder.lines.values() if not any(w in t for w in CPU_BOUND)]
    assert flagged == ["tensor.detach().double().round(decimals=2)  # the old lesson 02 line"]


def test_a_console_that_cannot_encode_blocks_gets_question_marks_not_a_crash(tmp_path):
    """Windows' cp1252 when piped: rich re-raises UnicodeEncodeError for ▁▂▃ and █. Lesson 07
    draws digits in block characters; its whole smoke run must survive such a console."""
    module = load_lesson("07")
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252", write_through=True)
    saved_stdout, saved_console = sys.stdout, module.console
    try:
        sys.stdout = stream
        module.console = module.make_console()  # what the lesson does at import
        with contextlib.redirect_stderr(io.StringIO()):
            module.main(["--device", "cpu", "--smoke", "--checkpoint", str(tmp_path / "m.pt")])
    finally:
        sys.stdout, module.console = saved_stdout, saved_console
        torch.set_num_threads(torch.get_num_threads())
    printed = raw.getvalue().decode("cp1252")
    assert "What you just learned" in printed and "?" in printed


def test_every_file_opened_by_the_kit_names_its_encoding():
    """open() and read_text()/write_text() without an encoding use the OS's default: cp1252 on
    Windows, which cannot read the kit's UTF-8 files."""
    files = [*ROOT.glob("starter_kit/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("tools/*.py")]
    missing = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            keywords = {k.arg for k in node.keywords}
            text_mode = not any(
                isinstance(a, ast.Constant) and "b" in str(a.value) for a in node.args[1:]
            )
            owner = getattr(getattr(node.func, "value", None), "id", "")
            if owner in ("tarfile", "gzip", "zipfile", "os"):  # binary archives, file descriptors
                continue
            if name == "open" and text_mode and "encoding" not in keywords:
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if name in ("read_text", "write_text") and "encoding" not in keywords:
                if not (name == "write_text" and len(node.args) >= 2):  # (text, encoding)
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not missing, f"name the encoding (utf-8) at: {missing}"
