"""Rewrite every copy of a contract helper from its master copy in tools/contract.py.

Lessons stay standalone, so each carries its own copy of the helpers it uses (device resolution,
seeding, the one-line failure, the contract's flags, atomic writes, the sparkline, the notebook-safe
entry point). A copy is any top-level `def` or `class` whose name is one in tools/contract.py.

    uv run python tools/sync_contract.py          # rewrite the copies that differ
    uv run python tools/sync_contract.py --check  # only list them; exit 1 if any differs

tests/test_contract.py runs the same check.
"""

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The lessons' helpers, and those that only exercise files use (tools/exercise_contract.py).
MASTERS = [ROOT / "tools" / "contract.py", ROOT / "tools" / "exercise_contract.py"]
KIT = ROOT / "starter_kit" / "15_pytorch_ml"


def copies_of_the_contract() -> list[Path]:
    """Every lesson, exercise and solution file."""
    return sorted(KIT.glob("[0-9][0-9]_*.py")) + sorted(KIT.glob("*/[0-9][0-9]_*.py"))


def top_level_helpers(source: str) -> dict[str, tuple[int, int]]:
    """name -> (first line, last line), 0-based and inclusive, of each top-level def or class."""
    spans = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            spans[node.name] = (first, node.end_lineno - 1)
    return spans


def master_texts() -> dict[str, str]:
    """name -> the exact source text of each helper in the master copies."""
    texts = {}
    for master in MASTERS:
        if not master.exists():
            continue
        source = master.read_text(encoding="utf-8")
        lines = source.splitlines(keepends=True)
        for name, (first, last) in top_level_helpers(source).items():
            assert name not in texts, f"{name} is defined in two master copies"
            texts[name] = "".join(lines[first : last + 1])
    return texts


def synced(source: str, masters: dict[str, str]) -> str:
    """`source` with each helper that the master copy also has replaced by the master's text."""
    lines = source.splitlines(keepends=True)
    spans = top_level_helpers(source)
    for name, (first, last) in sorted(spans.items(), key=lambda item: -item[1][0]):
        if name in masters:  # bottom-up, so the earlier line numbers stay right
            lines[first : last + 1] = [masters[name]]
    return "".join(lines)


def differing_helpers(path: Path, masters: dict[str, str] | None = None) -> list[str]:
    """Names of the helpers in `path` whose text is not the master's."""
    masters = masters or master_texts()
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    return [
        name
        for name, (first, last) in top_level_helpers(source).items()
        if name in masters and "".join(lines[first : last + 1]) != masters[name]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="list differing copies; change none")
    args = parser.parse_args()
    masters = master_texts()
    stale = {path: differing_helpers(path, masters) for path in copies_of_the_contract()}
    stale = {path: names for path, names in stale.items() if names}
    for path, names in stale.items():
        print(f"{path.relative_to(ROOT)}: {', '.join(names)}")
        if not args.check:
            source = path.read_text(encoding="utf-8")
            path.write_text(synced(source, masters), encoding="utf-8")
    if args.check and stale:
        sys.exit(1)
    if not stale:
        print("every copy of the contract helpers matches tools/contract.py")


if __name__ == "__main__":
    main()
