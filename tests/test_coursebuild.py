"""The course sources in course/ and the notebooks built from them."""
import json
from pathlib import Path

import pytest

from xenlab import coursebuild as cb

ROOT = Path(__file__).resolve().parents[1]


def test_committed_notebooks_are_up_to_date():
    stale = cb.stale(ROOT)
    assert not stale, ("out of date (run `python -m xenlab.coursebuild`): "
                       + ", ".join(str(p.relative_to(ROOT)) for p in stale))


def _code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("tree", ["notebooks", "solutions", "exercises"])
def test_polish_and_english_trees_match_with_identical_code(tree):
    pl = sorted(p.name for p in (ROOT / tree / "pl").glob("*.ipynb"))
    en = sorted(p.name for p in (ROOT / tree / "en").glob("*.ipynb"))
    assert pl == en and pl
    for name in pl:
        assert _code_cells(ROOT / tree / "pl" / name) == _code_cells(ROOT / tree / "en" / name), name


def test_every_chapter_notebook_has_a_known_number_and_contents_links_it():
    numbers = {n for n, _ in cb.CHAPTERS}
    contents = {lang: json.dumps(json.loads((ROOT / "notebooks" / lang / "00_contents.ipynb")
                                            .read_text(encoding="utf-8"))) for lang in cb.LANGS}
    for path in (ROOT / "notebooks" / "pl").glob("*.ipynb"):
        assert path.name[:2] in numbers, path.name
        if not path.name.startswith("00"):
            for lang in cb.LANGS:
                assert f"]({path.name})" in contents[lang]


def test_exercises_are_stubs_and_solutions_are_not():
    for path in (ROOT / "exercises").glob("*/*.ipynb"):
        code = "\n".join(_code_cells(path))
        assert "BEGIN SOLUTION" not in code and 'raise NotImplementedError("exercise ex' in code
        meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]["xenlab"]
        assert meta["kind"] == "exercise" and meta["exercise"] in code
        sol = ROOT / "solutions" / path.relative_to(ROOT / "exercises")
        assert "# BEGIN SOLUTION" in "\n".join(_code_cells(sol))


def test_committed_notebooks_are_small_and_carry_no_widget_state():
    for path in sorted(ROOT.glob("*/*/*.ipynb")):
        if path.parts[-3] not in ("notebooks", "solutions", "exercises"):
            continue
        assert path.stat().st_size < 40_000, f"{path} is {path.stat().st_size} bytes"
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert "widgets" not in nb["metadata"]
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                assert "application/vnd.jupyter.widget-view+json" not in out.get("data", {})


def test_strip_solutions():
    code = ("def f(x):\n    \"\"\"Doc.\"\"\"\n    # BEGIN SOLUTION\n    y = x + 1\n    return y\n"
            "    # END SOLUTION\n\n\ndef g():\n    return 2\n")
    assert cb.strip_solutions(code, "ex99") == (
        "def f(x):\n    \"\"\"Doc.\"\"\"\n    raise NotImplementedError(\"exercise ex99: write f()\")\n"
        "\n\ndef g():\n    return 2\n")


@pytest.mark.parametrize("code, problem", [
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "inside a function"),
    ("def f():\n    # BEGIN SOLUTION\n    pass\n", "no # END SOLUTION"),
    ("def f():\n    pass\n    # END SOLUTION\n", "without"),
])
def test_strip_solutions_rejects_bad_markers(code, problem):
    with pytest.raises(cb.SourceError, match=problem):
        cb.strip_solutions(code, "ex99")


def test_parse_rejects_unpaired_translation(tmp_path):
    src = tmp_path / "course" / "99_x.md"
    src.parent.mkdir()
    src.write_text("::: meta\nkind: lecture\n:::\n\n::: pl\nTylko po polsku.\n:::\n\n::: code\n1\n:::\n",
                   encoding="utf-8")
    with pytest.raises(cb.SourceError, match="followed by its translation"):
        cb.parse(src)


def test_build_round_trip(tmp_path):
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "01_demo.md").write_text(
        "::: meta\nkind: lecture\n:::\n::: pl\n# Demo\n:::\n::: en\n# Demo\n:::\n"
        "::: code check\nprint(6 * 7)\n:::\n::: output\n42\n:::\n", encoding="utf-8")
    written = cb.build(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == \
        {"notebooks/pl/01_demo.ipynb", "notebooks/en/01_demo.ipynb"}
    nb = json.loads((tmp_path / "notebooks/en/01_demo.ipynb").read_text(encoding="utf-8"))
    code = nb["cells"][1]
    assert code["metadata"]["tags"] == ["nbval-check-output"]
    assert code["outputs"][0]["text"] == ["42\n"]
    assert cb.stale(tmp_path) == [] and cb.build(tmp_path) == []
