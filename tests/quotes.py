"""How a guide's quoted output is compared with what the code printed.

Two kinds of quote (see CONTRIBUTING.md, "Quoting output"):
- exact: every quoted line equals a printed line, in the same order (timings masked). For tensor
  operations on small fixed inputs, which print the same on every machine.
- measured: the info string says `measured` and how far each kind of number may move, e.g.
  ```text default-run measured pct=3 int=3 rel=0.5
  pct=P  a number followed by % may differ by P points
  int=N  a whole number may differ by N
  rel=R  a decimal may differ by R times its size (abs=A: or by A); a number with no tolerance
         for its kind must be printed exactly. The words between the numbers must match exactly.
  For training, random initialisation of many values and large float reductions, whose last
  digits (and sometimes an epoch or a point of accuracy) depend on the CPU, threads, OS and device.
"""

import math
import re

from helpers import TIMING

NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")
KINDS = {"pct", "int", "rel", "abs"}


def tolerances(info: str) -> dict[str, float] | None:
    """None for an exact quote; else {'pct': 3.0, ...} from 'text default-run measured pct=3'."""
    words = info.split()
    if "measured" not in words:
        return None
    found = {}
    for word in words:
        if "=" in word:
            kind, _, value = word.partition("=")
            assert kind in KINDS, f"unknown tolerance {kind!r} in {info!r}; use {sorted(KINDS)}"
            found[kind] = float(value)
    return found


def normalise(line: str) -> str:
    """Timings masked and runs of spaces collapsed: a table's padding follows its widest cell."""
    return " ".join(TIMING.sub("<t>", line).split())


def _split(line: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The words between numbers, and each number with its kind ('pct', 'int' or 'dec')."""
    text = normalise(line)
    words = NUMBER.split(text)
    numbers = []
    for match in NUMBER.finditer(text):
        rest = text[match.end() :].lstrip()
        kind = "pct" if rest.startswith("%") else "dec" if re.search(r"[.e]", match[0]) else "int"
        numbers.append((match[0], kind))
    return words, numbers


def _value(number: str) -> float:
    return float(number.replace(",", ""))


def lines_agree(quoted: str, printed: str, tolerance: dict[str, float] | None) -> bool:
    """Does the printed line say what the quoted line says, within the quote's tolerance?"""
    if tolerance is None:
        return normalise(quoted) == normalise(printed)
    quoted_words, quoted_numbers = _split(quoted)
    printed_words, printed_numbers = _split(printed)
    if quoted_words != printed_words:
        return False
    for (want_text, kind), (got_text, _) in zip(quoted_numbers, printed_numbers, strict=True):
        want, got = _value(want_text), _value(got_text)
        if want_text == got_text:
            continue
        if kind == "pct" and "pct" in tolerance:
            if abs(want - got) <= tolerance["pct"] + 1e-9:
                continue
        elif kind == "int" and "int" in tolerance:
            if abs(want - got) <= tolerance["int"] + 1e-9:
                continue
        elif kind == "dec" and ("rel" in tolerance or "abs" in tolerance):
            if abs(want - got) <= tolerance.get("abs", 0.0) + 1e-12:
                continue
            if abs(want - got) <= tolerance.get("rel", 0.0) * max(abs(want), abs(got)):
                continue
            if not (math.isfinite(want) and math.isfinite(got)):
                return False
        return False
    return True


def find_in_order(quote: list[str], printed: list[str], tolerance) -> str | None:
    """None when every non-blank quoted line agrees with a printed line, in the quote's order;
    else a message naming the first quoted line that has no such line after the previous one."""
    position = 0
    for line in (q for q in quote if q.strip()):
        for index in range(position, len(printed)):
            if lines_agree(line, printed[index], tolerance):
                position = index + 1
                break
        else:
            shape = _split(line)[0] if tolerance is not None else None
            similar = [p for p in printed if shape is not None and _split(p)[0] == shape]
            hint = f"; lines of that shape printed: {similar[:3]}" if similar else ""
            kind = "exact" if tolerance is None else f"measured {tolerance}"
            return (
                f"no printed line matches {line.strip()!r} ({kind}) after the lines before it{hint}"
            )
    return None
