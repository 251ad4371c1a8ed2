"""Every notebook in notebooks/, solutions/ and exercises/ runs top to bottom in a fresh kernel.

Cells tagged `nbval-check-output` (or starting with `# NBVAL_CHECK_OUTPUT`) must print what the
committed notebook shows; other outputs (widgets, timings) are not compared. Cells tagged
`raises-exception` may raise. Exercise notebooks still hold stubs: their check cell reports failures,
but no cell may crash. The kernel gets JPY_SESSION_NAME as JupyterLab would, so an English notebook
runs in English.
"""
import asyncio
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from xenlab.coursebuild import visible_text

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p for tree in ("notebooks", "solutions", "exercises")
                   for p in (ROOT / tree).glob("*/*.ipynb"))
CELL_TIMEOUT_S = 60


def checked(cell) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return cell.cell_type == "code" and ("nbval-check-output" in tags
                                         or cell.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT"))


def execute(path: Path):
    nb = nbformat.read(str(path), as_version=4)
    expected = {i: visible_text(c.outputs) for i, c in enumerate(nb.cells) if checked(c)}
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
    env = {**os.environ, "JPY_SESSION_NAME": path.relative_to(ROOT).as_posix()}
    for key in ("XENLAB_LANG", "XENLAB_GRADING"):
        env.pop(key, None)
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S, allow_errors=False,
                            record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    asyncio.run(client.async_execute(env=env, cwd=str(path.parent)))
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
    # xenlab.check() speaks the notebook's language (the kernel learns it from the notebook's folder)
    lang = path.parent.name
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip().startswith("xenlab.check("):
            text = visible_text(cell.outputs)
            assert ("Sprawdzenia do zadania" if lang == "pl" else "Checks for exercise") in text, text


def test_there_are_notebooks():
    trees = {p.relative_to(ROOT).parts[0] for p in NOTEBOOKS}
    assert {"notebooks", "solutions", "exercises"} <= trees
