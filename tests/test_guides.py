"""The guides: snippets run in order (one namespace per guide, like a notebook), shown outputs
match what the code prints, headings mirror the scripts, and every relative link resolves."""

import contextlib
import io
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
import torch
from helpers import GUIDES, LESSONS, ROOT, default_run, smoke_run
from quotes import find_in_order, tolerances
from test_lessons import section_titles

FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CLOSING = ["Key takeaways", "Exercises", "Next"]
QUICK_REFERENCE = [
    "torch.tensor([1, 2, 3])",
    "torch.randn(3, 4)",
    "torch.zeros(3, 4)",
    ".cuda()",
    ".cpu()",
    ".shape",
    ".view(2, -1)",
]


def number(path: Path) -> str:
    return path.name[:2]


def lesson_for(guide: Path) -> Path:
    return next(p for p in LESSONS if number(p) == number(guide))


def blocks(guide: Path) -> list[dict]:
    """Fenced blocks in order: info string, body, the text just before it."""
    text = guide.read_text(encoding="utf-8")
    return [
        {"info": m["info"].strip(), "body": m["body"], "before": text[: m.start()]}
        for m in FENCE.finditer(text)
    ]


def headings(guide: Path) -> list[str]:
    text = FENCE.sub("", guide.read_text(encoding="utf-8"))
    return re.findall(r"^## (.+?)\s*$", text, re.M)


def tidy(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def test_every_lesson_has_a_guide_and_back():
    assert [number(g) for g in GUIDES] == [number(s) for s in LESSONS]


@pytest.fixture
def torch_state_restored():
    """Guide snippets may set torch's thread count or determinism; later tests get theirs back."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_snippets_run_and_shown_output_matches(guide, tmp_path, monkeypatch, torch_state_restored):
    monkeypatch.chdir(tmp_path)  # snippets that write files write them here
    namespace = {"__name__": "__guide__"}
    previous_output = None
    ran = 0
    for index, block in enumerate(blocks(guide)):
        info = block["info"].split()
        if info[:1] == ["python"] and "no-run" in info:
            last_paragraph = block["before"].rstrip().split("\n\n")[-1]
            assert "Not run by the tests:" in last_paragraph, (
                f"{guide.name} block {index}: a no-run block must say so visibly, with the reason"
            )
            previous_output = None
        elif info == ["python"]:
            stdout = io.StringIO()
            with contextlib.redirect_stdout(stdout):
                exec(compile(block["body"], f"{guide.name}[block {index}]", "exec"), namespace)
            previous_output = stdout.getvalue()
            ran += 1
        elif info[:1] == ["output"]:
            assert previous_output is not None, f"{guide.name} block {index}: output of what?"
            tolerance = tolerances(block["info"])
            shown, printed = tidy(block["body"]), tidy(previous_output)
            if tolerance is None:
                assert printed == shown, f"{guide.name} block {index}: the shown output is stale"
            else:
                assert len(printed) == len(shown), f"{guide.name} block {index}: line count"
                problem = find_in_order(shown, printed, tolerance)
                assert problem is None, f"{guide.name} block {index}: {problem}"
            previous_output = None
        else:
            previous_output = None
    assert ran > 0, f"{guide.name} has no runnable python block"


def script_quotes(guide: Path) -> list[dict]:
    """```text (the --smoke --device cpu run) and ```text default-run (the default CPU run)
    blocks, each optionally `measured` with its tolerances."""
    return [b for b in blocks(guide) if b["info"].split()[:1] == ["text"]]


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_quoted_script_output_is_what_the_script_prints(guide):
    """Every quoted line is printed by the script today, in the quote's order (timings masked);
    a measured quote's numbers within the tolerance its info string shows."""
    quotes = script_quotes(guide)
    if not quotes:
        pytest.skip(f"{guide.name} quotes no script output")
    stem = lesson_for(guide).stem
    for quote in quotes:
        info = quote["info"].split()
        assert set(info) - {"text", "default-run", "measured"} <= {w for w in info if "=" in w}, (
            f"{guide.name}: unknown words in ```{quote['info']}"
        )
        if "default-run" in info:
            result, _ = default_run(stem)
        else:
            result = smoke_run(stem, "cpu")
        assert result.returncode == 0, result.stderr[-2000:]
        problem = find_in_order(
            tidy(quote["body"]), result.stdout.splitlines(), tolerances(quote["info"])
        )
        assert problem is None, f"{guide.name}: {problem}"


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_measured_quotes_say_numbers_will_differ(guide):
    """Where a guide first quotes measured output, it has said that your numbers will differ."""
    measured = [b for b in blocks(guide) if "measured" in b["info"].split()]
    if measured:
        before = " ".join(measured[0]["before"].split())
        assert re.search(r"yours will differ|your numbers will differ", before, re.I), (
            f"{guide.name}: say, before the first measured quote, that your numbers will differ "
            "a little and by about how much"
        )


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_sections_mirror_the_script(guide):
    found = headings(guide)
    numbered = [h for h in found if re.match(r"\d+\. ", h)]
    assert numbered == section_titles(lesson_for(guide))
    assert found == numbered + CLOSING, f"{guide.name}: headings must be sections, then {CLOSING}"


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_links_its_script_and_the_next_guide(guide):
    targets = {(guide.parent / unquote(t.split("#")[0])).resolve() for t in links(guide)}
    assert lesson_for(guide).resolve() in targets, f"{guide.name} does not link its script"
    later = [g for g in GUIDES if number(g) > number(guide)]
    if later:
        next_section = guide.read_text(encoding="utf-8").split("## Next", 1)[1]
        assert f"]({later[0].name})" in next_section, f"{guide.name}: Next must link {later[0]}"


def test_quick_reference_appears_in_guide_code():
    code = "".join(b["body"] for g in GUIDES for b in blocks(g) if b["info"].startswith("python"))
    missing = [op for op in QUICK_REFERENCE if op not in code]
    assert not missing, f"quick-reference operations missing from guide code: {missing}"


def links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    heading = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


MARKDOWN = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *GUIDES]
MARKDOWN += sorted((ROOT / "starter_kit").rglob("*.md"))


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    assert page.exists()
    for target in links(page):
        path_part, _, anchor = unquote(target).partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        assert destination.exists(), f"{page.name}: broken link {target}"
        assert ROOT in destination.parents or destination == ROOT, f"{target} leaves the repo"
        if anchor and destination.suffix == ".md":
            anchors = {
                slug(h)
                for h in re.findall(r"^#+ (.+)$", destination.read_text(encoding="utf-8"), re.M)
            }
            assert anchor in anchors, f"{page.name}: no heading for #{anchor} in {destination.name}"


def test_readme_learning_path_lists_every_lesson_and_guide():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in LESSONS + GUIDES:
        link = f"]({path.relative_to(ROOT).as_posix()})"
        assert link in readme, f"README.md's learning-path table does not link {path.name}"
