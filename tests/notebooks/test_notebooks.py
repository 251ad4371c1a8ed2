"""Every notebook in notebooks/, solutions/ and exercises/ runs top to bottom in a fresh kernel.

Cells tagged `nbval-check-output` (or starting with `# NBVAL_CHECK_OUTPUT`) must print what the
committed notebook shows; other outputs (widgets, timings) are not compared. Cells tagged
`raises-exception` may raise. Exercise notebooks still hold stubs: their check cell reports failures,
but no cell may crash. The kernel gets JPY_SESSION_NAME as JupyterLab would, so an English notebook
runs in English.

A Polish notebook must print no English (issue 12): after the run, every text output of every cell (not
only the compared ones: streams, text/plain, text/html without its tags, errors) is scanned by
`xenlab.i18n.english.notebook_english`. What real Xen and its tools print stays verbatim (``xm list``'s
header, Xen's log lines, xentop's screen, identifiers such as GNTST_okay or mmu_update); everything the
course or the model says in its own words must come from the catalogues. The allowed patterns, each with
its reason, are VERBATIM and PER_NOTEBOOK in xenlab/i18n/english.py; PENDING there lists the notebooks
not yet translated, with the reason.
"""
import asyncio
import json
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from xenlab.coursebuild import visible_text
from xenlab.i18n.english import PENDING, notebook_english

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p for tree in ("notebooks", "solutions", "exercises")
                   for p in (ROOT / tree).glob("*/*.ipynb"))
CELL_TIMEOUT_S = 60


def checked(cell) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return cell.cell_type == "code" and ("nbval-check-output" in tags
                                         or cell.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT"))


# Appended after the last cell of a notebook with `predict`/`quiz` cells: answer every question the run
# made right and wrong, in both languages (xenlab.learn.self_test), and count them.
LEARN_PROBE = """import json as _json, xenlab.learn as _learn
print("XENLAB-LEARN " + _json.dumps({"problems": _learn.self_test(),
      "predictions": sum(isinstance(o, _learn.Prediction) for o in _learn.CREATED),
      "quizzes": sum(isinstance(o, _learn.Quiz) for o in _learn.CREATED)}))"""


def tagged(nb, tag) -> int:
    return sum(tag in c.get("metadata", {}).get("tags", []) for c in nb.cells if c.cell_type == "code")


def execute(path: Path):
    nb = nbformat.read(str(path), as_version=4)
    expected = {i: visible_text(c.outputs) for i, c in enumerate(nb.cells) if checked(c)}
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
    if tagged(nb, "predict") or tagged(nb, "quiz"):
        nb.cells.append(nbformat.v4.new_code_cell(LEARN_PROBE))
    env = {**os.environ, "JPY_SESSION_NAME": path.relative_to(ROOT).as_posix()}
    for key in ("XENLAB_LANG", "XENLAB_GRADING"):
        env.pop(key, None)
    for attempt in (1, 2):
        client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S, allow_errors=False,
                                record_timing=False, resources={"metadata": {"path": str(path.parent)}})
        try:
            asyncio.run(client.async_execute(env=env, cwd=str(path.parent)))
            break
        except RuntimeError as exc:
            # A kernel that dies before its first reply never ran a cell: on a loaded machine two
            # kernels starting at once can race for the same ports. Start it once more; a second
            # failure, or any failure after a cell ran, is the notebook's and is reported.
            if attempt == 2 or "before replying to kernel_info" not in str(exc):
                raise
    return nb, expected


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_runs(path):
    started = time.monotonic()
    nb, expected = execute(path)
    for index, want in expected.items():
        got = visible_text(nb.cells[index].outputs)
        assert got == want, (f"{path.name}, cell {index + 1}: output changed\n--- expected\n{want}\n"
                             f"--- got\n{got}\n(fix the model, or the `::: output` block in course/)")
    assert time.monotonic() - started < 60, "a notebook should run in well under a minute"
    # every predict/quiz cell made its question, and each question tells a right from a wrong answer
    if tagged(nb, "predict") or tagged(nb, "quiz"):
        probe = visible_text(nb.cells[-1].outputs)
        assert probe.startswith("XENLAB-LEARN "), probe
        report = json.loads(probe.split(" ", 1)[1])
        assert report["problems"] == [], report["problems"]
        assert report["predictions"] >= tagged(nb, "predict"), report
        assert report["quizzes"] >= tagged(nb, "quiz"), report
    # xenlab.check() speaks the notebook's language (the kernel learns it from the notebook's folder)
    lang = path.parent.name
    if lang == "pl" and path.name not in PENDING:
        english = notebook_english(nb, path.name)
        assert not english, (f"{path.relative_to(ROOT)} prints English (print it through the catalogues, "
                             "xenlab.i18n.narration.say(); see xenlab/i18n/english.py for what may stay "
                             "English):\n" + "\n".join(english))
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip().startswith("xenlab.check("):
            text = visible_text(cell.outputs)
            assert ("Sprawdzenia do zadania" if lang == "pl" else "Checks for exercise") in text, text


def test_there_are_notebooks():
    trees = {p.relative_to(ROOT).parts[0] for p in NOTEBOOKS}
    assert {"notebooks", "solutions", "exercises"} <= trees
