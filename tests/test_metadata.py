"""Each lesson's PEP 723 block is valid, shares the project's date, and declares what it imports."""

import ast
import re
import sys
import tomllib

import pytest
from helpers import LESSONS, ROOT

# The reference implementation's regex from PEP 723.
BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")
# Import names that differ from the distribution that provides them.
DISTRIBUTION_OF = {"sklearn": "scikit-learn"}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def script_metadata(path) -> dict:
    blocks = [m for m in BLOCK.finditer(path.read_text(encoding="utf-8")) if m["type"] == "script"]
    assert len(blocks) == 1, f"{path.name}: {len(blocks)} '# /// script' blocks, want exactly 1"
    content = "".join(
        line[2:] if line.startswith("# ") else line[1:]
        for line in blocks[0]["content"].splitlines(keepends=True)
    )
    return tomllib.loads(content)


def requirement_name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)[0].lower().replace("_", "-")


def third_party_imports(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return {DISTRIBUTION_OF.get(n, n) for n in names if n not in sys.stdlib_module_names}


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_block_is_valid_and_shares_the_project_date(lesson):
    metadata = script_metadata(lesson)
    assert metadata["requires-python"] == PYPROJECT["project"]["requires-python"]
    assert metadata["tool"]["uv"]["exclude-newer"] == PYPROJECT["tool"]["uv"]["exclude-newer"]
    assert metadata["dependencies"][:3] == ["torch>=2.15", "numpy>=2.0", "rich>=14"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_declares_exactly_what_it_imports(lesson):
    declared = {requirement_name(r) for r in script_metadata(lesson)["dependencies"]}
    imported = third_party_imports(lesson)
    assert imported <= declared, f"imported but not declared: {imported - declared}"
    # numpy is seeded by every lesson (the CLI contract), so it is always imported.
    assert declared <= imported, f"declared but never imported: {declared - imported}"


def test_pyproject_dependencies_are_the_union_of_the_lessons():
    union = set()
    for lesson in LESSONS:
        union.update(script_metadata(lesson)["dependencies"])
    assert set(PYPROJECT["project"]["dependencies"]) == union


def test_docstring_names_the_run_command_and_an_existing_guide():
    for lesson in LESSONS:
        docstring = ast.get_docstring(ast.parse(lesson.read_text(encoding="utf-8")))
        assert docstring, f"{lesson.name} has no module docstring"
        assert f"uv run starter_kit/15_pytorch_ml/{lesson.name}" in docstring, lesson.name
        guides = re.findall(r"learning/\d\d_\w+\.md", docstring)
        assert guides and all((ROOT / g).exists() for g in guides), f"{lesson.name}: {guides}"
