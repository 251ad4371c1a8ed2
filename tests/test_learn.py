"""Predict-then-reveal cells and self-check quizzes (xenlab/learn.py, xenlab/viz/learn.py).

The oracle for the feedback is the catalogue itself: a right answer must show the confirmation and the
why, a wrong one the misconception's own explanation and the why, never the same text. The generic
tests at the end read every lecture notebook, so chapters added later are covered without listing them.
"""
import hashlib
import json
import re
from pathlib import Path

import pytest

import xenlab
from xenlab import i18n
from xenlab import learn
from xenlab import coursebuild as cb
from xenlab.i18n import CATALOGUES

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "notebooks").glob("*/*.ipynb"))

TEST_MESSAGES = {
    "pl": {"learn.t.count.q": "Ile wywołań dla {n} wpisów?",
           "learn.t.count.why": "Jedno wywołanie na {per} wpisów, więc {answer}.",
           "learn.t.count.wrong.per_entry": "Każdy wpis osobno? Nie: wpisy idą w paczce.",
           "learn.t.place.q": "Gdzie jest dom0?",
           "learn.t.place.why": "dom0 to domena jak inne: {answer}.",
           "learn.t.place.wrong.under": "dom0 nie jest pod Xenem.",
           "learn.t.place.choice.beside": "obok domU, nad Xenem"},
    "en": {"learn.t.count.q": "How many calls for {n} entries?",
           "learn.t.count.why": "One call per {per} entries, so {answer}.",
           "learn.t.count.wrong.per_entry": "One call per entry? No: entries go in a batch.",
           "learn.t.place.q": "Where is dom0?",
           "learn.t.place.why": "dom0 is a domain like the others: {answer}.",
           "learn.t.place.wrong.under": "dom0 is not under Xen.",
           "learn.t.place.choice.beside": "beside the domUs, above Xen"},
}


@pytest.fixture(autouse=True)
def messages(monkeypatch):
    for lang, extra in TEST_MESSAGES.items():
        monkeypatch.setitem(CATALOGUES, lang, {**CATALOGUES[lang], **extra})
    saved = i18n._explicit
    i18n.set_language("en")
    yield
    i18n._explicit = saved


def count_question():
    return learn.Prediction("t.count", 3, params={"n": 5, "per": 2},
                            wrong=lambda v: "per_entry" if v == 5 else None)


def test_right_and_wrong_numbers_get_their_own_feedback():
    p = count_question()
    right, per_entry, other = p.feedback(3), p.feedback(5), p.feedback(4)
    assert right.startswith("Right: 3.") and "One call per 2 entries, so 3." in right
    assert "You said: 5;" in per_entry and "One call per entry? No" in per_entry
    assert "One call per 2 entries, so 3." in per_entry          # the why comes with a wrong answer too
    assert "You said: 4" in other and "One call per entry" not in other
    assert len({right, per_entry, other}) == 3
    assert p.attempts == [] and not p.revealed                  # feedback() records nothing


def test_numbers_are_read_as_students_type_them():
    p = count_question()
    assert p.is_right("3") and p.is_right(" 3 ") and p.is_right("0x3") and p.is_right("3,0")
    assert not p.is_right("three") and not p.is_right("") and not p.is_right(None)
    tolerant = learn.Prediction("t.count", 10.0, tolerance=0.5, params={"n": 1, "per": 1})
    assert tolerant.is_right("10,4") and not tolerant.is_right("10.6")


def test_an_invalid_answer_is_not_an_attempt():
    p = count_question()
    text = p.check("three")
    assert "not a number" in text and p.attempts == []
    p.check("5")
    assert p.attempts == ["5"] and p.revealed


def test_choices_with_labels_and_misconceptions_in_both_languages():
    p = learn.Prediction("t.place", "beside", choices=("under", "beside", "inside"),
                         wrong={"under": "under"})
    assert p.feedback("beside").startswith("Right: beside the domUs, above Xen.")
    assert "dom0 is not under Xen." in p.feedback("under")
    assert "dom0 is not under Xen." not in p.feedback("inside")
    assert p.normalise("beside the domUs, above Xen") == "beside"    # the label works as input
    i18n.set_language("pl")
    assert "dom0 nie jest pod Xenem." in p.feedback("under") and p.feedback("beside").startswith("Dobrze")
    with pytest.raises(ValueError):
        learn.Prediction("t.place", "nowhere", choices=("under", "beside"))


def test_a_lazy_answer_runs_the_model_only_at_the_check():
    runs = []

    def run():
        runs.append(1)
        return {"answer": 3, "per": 2}

    p = learn.predict("t.count", run, params={"n": 5})
    assert runs == [] and p in learn.CREATED
    assert "so 3." in p.check(3) and runs == [1]
    p.check(4)
    assert runs == [1]


def test_student_seed_is_sha256_of_student_and_salt(monkeypatch):
    monkeypatch.setenv("XENLAB_STUDENT", "s123456")
    want = int.from_bytes(hashlib.sha256(b"s123456\x0004a.batch").digest()[:4], "big")
    assert xenlab.student_seed("04a.batch") == want == learn.student_seed("04a.batch")
    assert xenlab.student_seed("04a.batch") == xenlab.student_seed("04a.batch")
    assert xenlab.student_seed("04a.other") != want
    monkeypatch.setenv("XENLAB_STUDENT", "s654321")
    assert xenlab.student_seed("04a.batch") != want
    seeds = {learn.student_seed("x", student=f"s{i}") for i in range(200)}
    assert len(seeds) == 200 and all(0 <= s < 2 ** 32 for s in seeds)


def test_quiz_reveals_every_answer_after_one_attempt():
    q = learn.Quiz("99", [count_question(),
                          learn.Prediction("t.place", "beside", choices=("under", "beside"), wrong={"under": "under"})])
    out = q.check({"t.count": "3"})
    assert out["t.count"].startswith("Right: 3.")
    assert out["t.place"].startswith("Not answered. The answer: beside the domUs, above Xen.")
    assert q.score({"t.count": 3, "t.place": "under"}) == 1


def test_self_test_finds_a_question_without_texts():
    assert learn.self_test([count_question()]) == []
    problems = learn.self_test([learn.Prediction("t.missing", 1)])
    assert any("no learn.t.missing.q" in p for p in problems)


def test_widgets_lock_after_a_committed_prediction():
    pytest.importorskip("ipywidgets")
    from xenlab.viz.learn import PredictionView, QuizView
    shown = []
    p = learn.Prediction("t.count", 3, params={"n": 5, "per": 2}, show=lambda: shown.append(1))
    view = PredictionView(p)
    view.submit("abc")
    assert not view.input.disabled and "not a number" in view.result.value and shown == []
    view.submit("5")
    assert view.input.disabled and view.button.disabled and "You said: 5" in view.result.value
    assert shown == [1]
    qv = QuizView(learn.Quiz("99", [count_question()]))
    qv.submit({"t.count": "3"})
    assert "Right: 3." in qv.results["t.count"].value and "1 of 1" in qv.score.value


# -- the course: every predict and quiz cell ------------------------------------------------------

def _cells(tag):
    for path in LECTURES:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and tag in cell.get("metadata", {}).get("tags", []):
                yield path, "".join(cell["source"])


def test_every_predict_cell_names_questions_with_texts_in_both_languages():
    for path, source in _cells("predict"):
        qids = re.findall(r"""predict\(\s*["']([^"']+)["']""", source)
        assert qids, f"{path.name}: a predict cell without xenlab.predict('<qid>', ...): {source[:80]}"
        for qid in qids:
            for lang in ("pl", "en"):
                for part in ("q", "why"):
                    assert f"learn.{qid}.{part}" in CATALOGUES[lang], f"{path.name}: learn.{qid}.{part} ({lang})"


def test_every_quiz_cell_loads_a_quiz_whose_answers_are_told_apart():
    for path, source in _cells("quiz"):
        chapters = re.findall(r"""quiz\(\s*["']?(\w+)""", source)
        assert chapters, f"{path.name}: a quiz cell without xenlab.quiz(<chapter>)"
        for chapter in chapters:
            q = learn.quiz(chapter)
            assert len(q.questions) >= 3, f"{path.name}: quiz {chapter} has fewer than 3 questions"
            assert learn.self_test([q]) == [], (path.name, learn.self_test([q]))


def test_every_quiz_module_is_complete():
    for module in sorted((ROOT / "xenlab" / "learn_quizzes").glob("ch*.py")):
        q = learn.quiz(module.stem[2:])
        assert learn.self_test([q]) == []
        assert len({x.qid for x in q.questions}) == len(q.questions), f"{module.name}: a qid twice"


def test_no_quiz_for_a_chapter_without_one():
    with pytest.raises(ValueError):
        learn.quiz("99")
    with pytest.raises(ValueError):
        learn.quiz("../x")


# -- the course builder's tags and per-language outputs --------------------------------------------

def test_builder_tags_and_per_language_outputs(tmp_path):
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "01_demo.md").write_text(
        "::: meta\nkind: lecture\n:::\n::: pl\n# Demo\n:::\n::: en\n# Demo\n:::\n"
        "::: code predict hide\nxenlab.predict('t.count', 3)\n:::\n"
        "::: code check\nprint(xenlab.i18n.t('x'))\n:::\n::: output pl\npo polsku\n:::\n::: output en\nin English\n:::\n"
        "::: code quiz\nxenlab.quiz('01')\n:::\n", encoding="utf-8")
    cb.build(tmp_path)
    for lang, want in (("pl", "po polsku\n"), ("en", "in English\n")):
        nb = json.loads((tmp_path / f"notebooks/{lang}/01_demo.ipynb").read_text(encoding="utf-8"))
        codes = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert codes[0]["metadata"]["tags"] == ["predict", "hide-output"]
        assert codes[1]["outputs"][0]["text"] == [want]
        assert codes[2]["metadata"]["tags"] == ["quiz"]


@pytest.mark.parametrize("outputs", [
    "::: output pl\nx\n:::\n",                                 # one language only
    "::: output pl\nx\n:::\n::: output de\ny\n:::\n",          # an unknown language
    "::: output pl\nx\n:::\n::: result en\ny\n:::\n",          # mixed kinds
    "::: output\nx\n:::\n::: output en\ny\n:::\n",             # shared and per-language
])
def test_builder_rejects_bad_per_language_outputs(tmp_path, outputs):
    src = tmp_path / "99_x.md"
    src.write_text("::: meta\nkind: lecture\n:::\n::: code check\nprint(1)\n:::\n" + outputs, encoding="utf-8")
    with pytest.raises(cb.SourceError):
        cb.parse(src)


def test_numbers_are_shown_with_the_languages_decimal_separator():
    p = learn.Prediction("t.count", 0.571, tolerance=0.02, params={"n": 1, "per": 1})
    assert p.label(p.value()) == "0.571"
    i18n.set_language("pl")
    assert p.label(p.value()) == "0,571" and p.is_right("0,57")


# Chapters whose active-learning parts are done; a chapter with any predict cell must have them all too
# (so chapters 08-14 are held to the same rule as soon as they gain predict cells).
REQUIRED = ("01", "02", "03", "04a", "04b", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14")
SUMMARY = {"pl": "## Podsumowanie", "en": "## Summary"}
THEN_AND_NOW = {"pl": "**Wtedy i dziś.**", "en": "**Then and now.**"}


def _lecture(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    tags = [t for c in nb["cells"] if c["cell_type"] == "code" for t in c.get("metadata", {}).get("tags", [])]
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return tags, text


@pytest.mark.parametrize("path", [p for p in LECTURES if p.stem.split("_")[0] != "00"],
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_chapter_has_predictions_a_summary_a_then_and_now_box_and_a_quiz(path):
    tags, text = _lecture(path)
    lang, number = path.parent.name, path.stem.split("_")[0]
    if number not in REQUIRED and "predict" not in tags:
        pytest.skip(f"chapter {number} has no predict cells yet")
    assert tags.count("predict") >= 3, f"{path.name}: {tags.count('predict')} predict cells"
    assert tags.count("quiz") >= 1, f"{path.name}: no quiz cell"
    assert SUMMARY[lang] in text, f"{path.name}: no summary section"
    assert THEN_AND_NOW[lang] in text, f"{path.name}: no Then-and-now box"


def test_narration_says_the_models_phrases_in_both_languages():
    from xenlab.i18n.narration import PHRASES, say
    for _pattern, key in PHRASES:
        assert key in CATALOGUES["pl"] and key in CATALOGUES["en"], key
    from xenlab.xen.descriptor import check_descriptor
    from xenlab.hw.segments import SegmentDescriptor
    rule = check_descriptor(SegmentDescriptor.flat(3, False).encode()).rule     # the model's own phrase
    assert say(rule) == rule == "limit truncated to end at 0xfc400000"           # English is the model's text
    i18n.set_language("pl")
    assert say(rule) == "granica przycięta do 0xfc400000"
    assert say("a phrase the catalogues do not know") == "a phrase the catalogues do not know"
