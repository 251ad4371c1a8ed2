"""`xenlab nbgrader-export DIR`: the exercises as an nbgrader course directory.

For a class that already runs nbgrader's release / collect / autograde / formgrader workflow:

    DIR/nbgrader_config.py                 course id and root
    DIR/source/<exNN>/<exNN_topic>.ipynb   one assignment per exercise

Each source notebook is the exercise's solution notebook with nbgrader's cell metadata
(schema_version 3): the cells holding `# BEGIN SOLUTION` ... `# END SOLUTION` regions are solution
cells (nbgrader replaces the regions with its stub in the released version, as `exercises/` does);
every other cell is locked (read-only; autograde puts back the original if a student edits it); and one
autograder test cell per xenlab check, worth that check's points, calls xenlab's check through
`xenlab.grading.nbgrader_cells.assert_check` (hidden checks inside `### BEGIN HIDDEN TESTS`, so the
released notebook does not show them). The variant seed is fixed per exercise (nbgrader does not tell a
kernel whose notebook it is running).

Note the trust model: nbgrader runs the tests in the student's own kernel, so this path is for classes
that accept nbgrader's model; `xenlab grade` is the one that is safe against hostile submissions.
"""
from __future__ import annotations

import json
from pathlib import Path

from xenlab.grading.registry import all_exercises

ROOT = Path(__file__).resolve().parent.parent.parent
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
         "task": False}
    if points is not None:
        m["points"] = points
    return m


def source_notebook(exercise_id: str, lang: str = "en", solutions_dir: Path | None = None) -> tuple[str, dict]:
    """(file name, nbgrader source notebook) for one exercise."""
    ex = all_exercises()[exercise_id]
    folder = Path(solutions_dir or ROOT / "solutions") / lang
    path = next(folder.glob(f"{exercise_id}_*.ipynb"))
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for i, cell in enumerate(nb["cells"]):
        cell = dict(cell)
        cell.setdefault("metadata", {})
        cell["metadata"] = dict(cell["metadata"])
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = src
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        if cell["cell_type"] == "code" and BEGIN in src:
            cell["metadata"]["nbgrader"] = _meta(f"{exercise_id}-solution-{i}", solution=True)
        else:
            cell["metadata"]["nbgrader"] = _meta(f"{exercise_id}-cell-{i}", locked=True)
        cells.append(cell)
    for check in ex.checks:
        call = (f"# xenlab check {exercise_id}/{check.name}: {check.title_text('en')}\n"
                f"assert_check({exercise_id!r}, {check.name!r}, globals())")
        if check.hidden:
            source = ("# a hidden xenlab check\nfrom xenlab.grading.nbgrader_cells import assert_check\n"
                      f"### BEGIN HIDDEN TESTS\n{call}\n### END HIDDEN TESTS")
        else:
            source = f"from xenlab.grading.nbgrader_cells import assert_check\n{call}"
        cells.append({"cell_type": "code", "execution_count": None, "id": f"{exercise_id}-{check.name}"[:64],
                      "metadata": {"nbgrader": _meta(f"{exercise_id}-{check.name}", grade=True, locked=True,
                                                     points=check.points)},
                      "outputs": [], "source": source})
    nb["cells"] = cells
    return path.name, nb


def export(dest, exercises=None, *, lang: str = "en", course_id: str = "xenlab") -> list[Path]:
    """Write the course directory; returns the source notebooks written."""
    dest = Path(dest)
    (dest / "source").mkdir(parents=True, exist_ok=True)
    config = dest / "nbgrader_config.py"
    if not config.exists():
        config.write_text("c = get_config()  # noqa: F821\n"
                          f"c.CourseDirectory.course_id = {course_id!r}\n"
                          "c.CourseDirectory.root = __import__('os').path.dirname(__import__('os').path.abspath(__file__))\n"
                          "c.ClearSolutions.code_stub = {'python': 'raise NotImplementedError()'}\n",
                          encoding="utf-8")
    written = []
    for ex in exercises or list(all_exercises()):
        name, nb = source_notebook(ex, lang)
        out = dest / "source" / ex / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(out)
    return written
