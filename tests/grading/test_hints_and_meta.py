"""Hints on demand (xenlab.hint, grading/hints.count_hints) and the exercises' metadata: every chapter
01-14 has a graded exercise, each exercise shows its level and time in its header, and has hints."""
import json
import re
from pathlib import Path

import nbformat
import pytest

import xenlab
from xenlab.coursebuild import LANGS, exercise_meta, sources
from xenlab.grading import all_exercises
from xenlab.grading.hints import count_hints, hints_for, reset
from xenlab.i18n import CATALOGUES, set_language

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = [s for s in sources(ROOT) if s.kind == "exercise"]


def test_every_chapter_has_a_graded_exercise():
    covered = set()
    registered = all_exercises()
    for src in EXERCISES:
        meta = exercise_meta(src)
        assert src.meta["exercise"] in registered, src.name
        covered |= set(meta["chapters"])
    assert covered >= set(range(1, 15)), sorted(set(range(1, 15)) - covered)


@pytest.mark.parametrize("src", EXERCISES, ids=lambda s: s.name)
def test_exercise_metadata_and_header(src):
    meta = exercise_meta(src)
    assert set(meta) == {"chapters", "level", "minutes"}
    assert meta["level"] in (1, 2, 3) and 5 <= meta["minutes"] <= 120
    # the registered exercise's chapter is among the chapters it lists
    assert all_exercises()[src.meta["exercise"]].chapter in meta["chapters"]
    for lang in LANGS:
        path = ROOT / "exercises" / lang / f"{src.name}.ipynb"
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert {k: nb["metadata"]["xenlab"][k] for k in meta} == meta
        header = "".join(next(c for c in nb["cells"] if c["cell_type"] == "markdown")["source"])
        want = (f"poziom {meta['level']} · ok. {meta['minutes']} min" if lang == "pl"
                else f"level {meta['level']} · about {meta['minutes']} min")
        assert want in header, (src.name, lang)


@pytest.mark.parametrize("src", EXERCISES, ids=lambda s: s.name)
def test_every_exercise_has_hints_in_both_languages(src):
    ex = src.meta["exercise"]
    n = hints_for(ex)
    assert n >= 2, ex
    for k in range(1, n + 1):
        assert CATALOGUES["pl"][f"hint.{ex}.{k}"] != CATALOGUES["en"][f"hint.{ex}.{k}"]


def test_hints_come_one_at_a_time_with_a_marker(capsys):
    reset()
    set_language("en")
    try:
        for _ in range(hints_for("ex02") + 1):
            xenlab.hint("ex02")
    finally:
        set_language("pl")
        reset()
    out = capsys.readouterr().out
    n = hints_for("ex02")
    assert re.findall(r"\[xenlab-hint ex02 (\d+)\]", out) == [str(k) for k in range(1, n + 1)] + [str(n)]
    assert f"Hint 1 of {n}" in out and "No more hints for ex02" in out
    # each hint is the catalogue's text, in order
    assert out.index(CATALOGUES["en"]["hint.ex02.1"]) < out.index(CATALOGUES["en"]["hint.ex02.2"])


def test_count_hints_reads_an_executed_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("[xenlab-hint ex09 3] in prose, not an output: not counted"),
        nbformat.v4.new_code_cell("xenlab.hint('ex09')", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="[xenlab-hint ex09 1] Hint 1 of 3:\n...\n")]),
        nbformat.v4.new_code_cell("xenlab.hint('ex09'); xenlab.hint('ex04c')", outputs=[
            nbformat.v4.new_output("stream", name="stdout",
                                   text=["[xenlab-hint ex09 2] Hint 2 of 3:\n", "...\n",
                                         "[xenlab-hint ex04c 1] Hint 1 of 3:\n"])]),
        nbformat.v4.new_code_cell("x", outputs=[
            nbformat.v4.new_output("execute_result", data={"text/plain": "'[xenlab-hint ex09b 2]'"})]),
        nbformat.v4.new_code_cell("print('no hint here')", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="[xenlab hint ex01 9]\n")]),
    ]
    assert count_hints(nb) == {"ex09": 2, "ex04c": 1, "ex09b": 2}
    assert count_hints(nbformat.v4.new_notebook()) == {}


@pytest.mark.parametrize("src", EXERCISES, ids=lambda s: s.name)
def test_exercise_offers_its_hints_in_both_languages(src):
    ex = src.meta["exercise"]
    for lang in LANGS:
        text = "".join(b.text for b in src.blocks if b.kind == lang)
        assert f'xenlab.hint("{ex}")' in text, (src.name, lang)


def test_polish_exercises_use_the_glossary_terms():
    """The glossary says "część zaplecza" / "część frontowa", not a bare "backend" / "frontend"."""
    from xenlab.grading.checks import (
        ex09_front_ring,
        ex09b_lost_wakeup,
        ex10_blkback,
        ex10b_grant_map,
    )
    bare = re.compile(r"\b(?:[Bb]ackend|[Ff]rontend)\w*")
    for src in EXERCISES:
        for b in src.blocks:
            if b.kind == "pl":
                assert not bare.findall(b.text), (src.name, bare.findall(b.text))
    for mod in (ex09_front_ring, ex09b_lost_wakeup, ex10_blkback, ex10b_grant_map):
        ex = all_exercises()[mod.EX.id]
        for check in ex.checks:
            assert not bare.findall(check.title_text("pl")), (ex.id, check.name)
    for key, text in CATALOGUES["pl"].items():
        if key.startswith(("hint.", "ex.")):
            assert not bare.findall(text), key


def test_bad_exercise_meta_is_refused(tmp_path):
    from xenlab.coursebuild import SourceError, parse
    path = tmp_path / "ex99_bad.md"
    for bad in ("level: 4", "minutes: soon", "chapters: four"):
        path.write_text(f"::: meta\nkind: exercise\nexercise: ex99\n{bad}\n:::\n", encoding="utf-8")
        with pytest.raises(SourceError, match="bad exercise meta"):
            exercise_meta(parse(path))


def test_hints_taken_counts_markers_and_calls_and_the_gradebook_exports_them(tmp_path):
    import csv

    import nbformat

    from xenlab.grading.gradebook import Gradebook
    from xenlab.grading.hints import hints_for, hints_taken
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('xenlab.hint("ex09")'), nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("xenlab.hint('ex09')\nxenlab.hint(\"ex01\")")]
    assert hints_taken(nb, "ex09") == 2 and hints_taken(nb, "ex01") == 1 and hints_taken(nb, "ex03") == 0
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="[xenlab-hint ex09 3]\n...")]
    assert hints_taken(nb, "ex09") == min(3, hints_for("ex09"))         # the saved outputs saw more
    book = Gradebook(tmp_path / "g.sqlite")
    report = {"student": "ala", "exercise": "ex09", "notebook": "n", "sha256": "x", "seed": 7, "points": 4,
              "max_points": 10, "problems": [], "flags": [], "seconds": 1.0, "sandbox": "none", "lang": "pl",
              "hints": 2, "checks": []}
    book.record(report)
    assert book.report("ala", "ex09")["hints"] == 2
    book.export_csv(tmp_path / "g.csv", ["ex09"], {"ex09": 10})
    row = next(csv.DictReader((tmp_path / "g.csv").open(encoding="utf-8")))
    assert row["ex09_hints"] == "2" and row["ex09"] == "4"
