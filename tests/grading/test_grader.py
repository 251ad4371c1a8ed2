"""The grader end to end: real submissions executed in fresh kernels.

It must discriminate: every solution gets full marks, every generated exercise stub gets zero, a
solution with one function broken loses exactly that function's points, and loops, crashes and
corrupt files are cut off or scored zero without stopping a batch. (Hostile submissions: test_hostile.py.)
"""
import csv
import json
import time

import nbformat
import pytest

from xenlab.cli import main as xenlab_main
from xenlab.grading import get_exercise, variant_seed
from xenlab.grading.grader import grade_folder, grade_notebook, write_gradebook

from grading_helpers import (ROOT, exercise_id, exercise_notebooks, solution_notebooks,
                      with_function_replaced, with_function_stubbed, write)

pytestmark = pytest.mark.grading
FAST = {"timeout_scale": 0.1, "cell_timeout": 10, "notebook_timeout": 60}


@pytest.mark.parametrize("path", solution_notebooks(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_solution_gets_full_marks(path):
    report = grade_notebook(path, "teacher", **FAST)
    ex = get_exercise(exercise_id(nbformat.read(str(path), 4)))
    assert report["points"] == report["max_points"] == ex.max_points, report
    assert report["problems"] == []
    assert report["seed"] == variant_seed("teacher", ex.id)
    assert all(r["status"] == "pass" for r in report["checks"])
    assert any(r["hidden"] for r in report["checks"])


@pytest.mark.parametrize("path", exercise_notebooks(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_generated_stub_gets_zero(path):
    report = grade_notebook(path, "student", **FAST)
    assert report["max_points"] > 0
    assert report["points"] == 0, report
    assert report["problems"] == [], "an untouched exercise notebook must run without errors"


def _broken_variants():
    for path in solution_notebooks():
        nb = nbformat.read(str(path), 4)
        for fn in get_exercise(exercise_id(nb)).functions:
            if path.parent.name == "en":  # one language is enough here; both run above
                yield pytest.param(path, fn, id=f"{path.stem}-{fn}")


@pytest.mark.parametrize("path, function", list(_broken_variants()))
def test_one_broken_function_loses_exactly_its_points(path, function, tmp_path):
    nb = with_function_stubbed(nbformat.read(str(path), 4), function)
    sub = write(nb, tmp_path / "mallory" / path.name)
    report = grade_notebook(sub, **FAST)
    ex = get_exercise(exercise_id(nb))
    assert report["student"] == "mallory"
    assert report["points"] == ex.max_points - ex.points_for(function)
    assert {r["function"] for r in report["checks"] if r["status"] != "pass"} == {function}


def test_batch_survives_loops_crashes_and_corrupt_files(tmp_path):
    """One folder per student; the gradebook has a row for each, whatever they submitted."""
    path = ROOT / "solutions" / "en" / "ex01_domain_states.ipynb"
    nb = nbformat.read(str(path), 4)
    subs = tmp_path / "submissions"
    write(nb, subs / "alice" / "ex01.ipynb")
    # An infinite loop inside one function: its checks time out, the rest pass.
    write(with_function_replaced(nb, "hypercall_allowed", "while True:\n    pass"),
          subs / "bob" / "ex01_domain_states.ipynb")
    # A top-level cell that loops forever: the cell is interrupted, later cells still run.
    looping = nbformat.from_dict(nb)
    looping.cells.insert(2, nbformat.v4.new_code_cell("while True:\n    pass"))
    write(looping, subs / "carol" / "ex01_domain_states.ipynb")
    # Not a notebook at all.
    (subs / "dave").mkdir()
    (subs / "dave" / "ex01_domain_states.ipynb").write_text('{"cells": [', encoding="utf-8")
    # A process that dies half way: that cell is skipped on a fresh run, the rest is graded.
    dying = nbformat.from_dict(nb)
    dying.cells.insert(3, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    write(dying, subs / "erin" / "ex01_domain_states.ipynb")
    # A student who handed in nothing.
    (subs / "frank").mkdir()

    started = time.monotonic()
    reports = grade_folder(subs, exercises=["ex01"], gradebook=tmp_path / "book.sqlite", lang="en",
                           timeout_scale=0.1, cell_timeout=3, notebook_timeout=30, jobs=2)
    elapsed = time.monotonic() - started
    by = {r["student"]: r for r in reports}
    ex = get_exercise("ex01")
    assert by["alice"]["points"] == ex.max_points
    assert by["bob"]["points"] == ex.max_points - ex.points_for("hypercall_allowed")
    assert {r["status"] for r in by["bob"]["checks"] if r["function"] == "hypercall_allowed"} == {"timeout"}
    assert by["carol"]["points"] == ex.max_points
    assert any("time limit" in p for p in by["carol"]["problems"]), by["carol"]["problems"]
    assert by["dave"]["points"] == 0 and "cannot be read" in by["dave"]["problems"][0]
    assert by["erin"]["points"] == ex.max_points and "skipped" in by["erin"]["problems"][0]
    assert by["frank"]["points"] == 0 and "No submission" in by["frank"]["problems"][0]
    assert elapsed < 60

    book = tmp_path / "grades.csv"
    assert write_gradebook(reports, book) == 6
    rows = {row["student"]: row for row in csv.DictReader(book.open(encoding="utf-8"))}
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin", "frank"}
    assert rows["alice"]["ex01"] == str(ex.max_points) and rows["alice"]["total"] == str(ex.max_points)
    assert rows["alice"]["ex01_seed"] == str(variant_seed("alice", "ex01"))
    assert rows["dave"]["total"] == "0" and rows["dave"]["problems"]


def test_a_cell_that_ignores_every_interrupt_is_skipped_not_fatal(tmp_path):
    nb = nbformat.read(str(ROOT / "solutions" / "pl" / "ex01_domain_states.ipynb"), 4)
    nb.cells.insert(1, nbformat.v4.new_code_cell(
        "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except BaseException:\n        pass"))
    sub = write(nb, tmp_path / "zed" / "ex01.ipynb")
    started = time.monotonic()
    report = grade_notebook(sub, lang="pl", cell_timeout=1, notebook_timeout=20, timeout_scale=0.2)
    assert time.monotonic() - started < 40
    assert report["points"] == get_exercise("ex01").max_points
    assert any("zawiesiła się" in p for p in report["problems"]), report["problems"]


def test_a_notebook_that_runs_past_its_limit_is_stopped(tmp_path):
    nb = nbformat.read(str(ROOT / "solutions" / "en" / "ex01_domain_states.ipynb"), 4)
    for _ in range(3):
        nb.cells.insert(1, nbformat.v4.new_code_cell("import time\ntime.sleep(0.9)"))
    sub = write(nb, tmp_path / "zed" / "ex01.ipynb")
    report = grade_notebook(sub, lang="en", cell_timeout=5, notebook_timeout=2, timeout_scale=0.2)
    # The cells that did not get their turn are reported; functions defined before them still count.
    assert report["problems"] and "stopped" in report["problems"][0]


def test_cli_grade_json_and_csv(tmp_path, capsys):
    sub = tmp_path / "subs" / "alice"
    sub.mkdir(parents=True)
    write(nbformat.read(str(ROOT / "solutions" / "en" / "ex01_domain_states.ipynb"), 4),
          sub / "ex01_domain_states.ipynb")
    rc = xenlab_main(["grade", str(tmp_path / "subs"), "--json", "--csv", str(tmp_path / "g.csv")])
    assert rc == 2 and "--exercise" in capsys.readouterr().err     # a class needs its exercise list
    config = tmp_path / "assignment.toml"
    config.write_text('name = "lab"\nexercises = ["ex01"]\n', encoding="utf-8")
    rc = xenlab_main(["grade", str(tmp_path / "subs"), "--config", str(config), "--json",
                      "--csv", str(tmp_path / "g.csv"), "--feedback", str(tmp_path / "fb")])
    assert rc == 0
    reports = json.loads(capsys.readouterr().out)
    assert reports[0]["student"] == "alice" and reports[0]["points"] == reports[0]["max_points"]
    assert (tmp_path / "g.csv").read_text(encoding="utf-8").startswith("student,ex01,ex01_max,ex01_seed")
    assert "11 / 11" in (tmp_path / "fb" / "alice.txt").read_text(encoding="utf-8")
