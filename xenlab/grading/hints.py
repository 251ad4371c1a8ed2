"""Hints on demand: ``xenlab.hint("ex09")`` shows an exercise's next hint, each more specific than the last.

The hints live in the message catalogue (``i18n/catalogues/exercises.py``, keys ``hint.<exercise>.<n>``
from 1), so they follow the notebook's language. Every hint printed starts with a marker

    [xenlab-hint ex09 2]

so that whoever grades the executed notebook can count the hints taken: ``count_hints(nb)`` reads the
markers in the code cells' outputs and returns, per exercise, the highest hint number shown. (The
counter lives in the kernel: a restarted kernel starts again at hint 1, and the highest number in the
notebook is what the student saw in the run that produced it.)
"""
from __future__ import annotations

import re

from xenlab.i18n import CATALOGUES, t

MARKER = re.compile(r"\[xenlab-hint (ex[0-9]+[a-z]?) ([0-9]+)\]")
_taken: dict[str, int] = {}


def hints_for(exercise_id: str) -> int:
    """How many hints the catalogue has for the exercise."""
    n = 0
    while f"hint.{exercise_id}.{n + 1}" in CATALOGUES["en"]:
        n += 1
    return n


def hint(exercise_id: str) -> None:
    """Print the next hint for ``exercise_id`` with its marker."""
    total = hints_for(exercise_id)
    if total == 0:
        text = t("hint.none", exercise=exercise_id)
        print(text)
        return
    n = _taken.get(exercise_id, 0)
    if n >= total:
        text = f"[xenlab-hint {exercise_id} {total}] " + t("hint.no_more", exercise=exercise_id, total=total)
        print(text)
        return
    n += 1
    _taken[exercise_id] = n
    text = (f"[xenlab-hint {exercise_id} {n}] " + t("hint.head", n=n, total=total) + "\n"
            + t(f"hint.{exercise_id}.{n}"))
    print(text)


def reset() -> None:
    """Forget the hints taken in this kernel (tests)."""
    _taken.clear()


def _output_texts(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            text = out.get("text", "")
            yield "".join(text) if isinstance(text, list) else text
        else:
            data = out.get("data", {})
            for mime in ("text/plain", "text/markdown", "text/html"):
                if mime in data:
                    text = data[mime]
                    yield "".join(text) if isinstance(text, list) else text


def count_hints(notebook_node) -> dict:
    """{exercise: hints taken} from the markers in an executed notebook's code-cell outputs."""
    counts: dict[str, int] = {}
    for cell in notebook_node.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for text in _output_texts(cell):
            for ex, n in MARKER.findall(text):
                counts[ex] = max(counts.get(ex, 0), int(n))
    return counts


CALL = re.compile(r"""\bhint\(\s*["'](ex[0-9]+[a-z]?)["']\s*\)""")


def hints_taken(notebook_node, exercise_id: str) -> int:
    """How many hints of ``exercise_id`` the student saw: the highest marker in the saved outputs, or
    the number of ``hint("exNN")`` calls in the code cells (each call shows the next hint when the
    grader runs the notebook again), whichever is larger."""
    calls = 0
    for cell in notebook_node.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            calls += sum(1 for ex in CALL.findall(source) if ex == exercise_id)
    return min(max(count_hints(notebook_node).get(exercise_id, 0), calls), hints_for(exercise_id))
