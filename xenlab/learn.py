"""Predict-then-reveal cells and end-of-chapter self-checks, with feedback per misconception.

A lecture cell asks the student to commit to a prediction before the model's answer is shown:

    >>> import xenlab
    >>> p = xenlab.predict("demo.batch", 3, params={"n": 3})   # doctest: +SKIP
    >>> print(p.check(1))                                          # doctest: +SKIP
    Not quite: you said 1, the model gives 3. <the misconception's explanation> Why: ...

Every text comes from the message catalogues (``xenlab/i18n/catalogues/learn*.py``), keyed by the
question's id ``qid``:

``learn.<qid>.q``            the question (formatted with ``params``)
``learn.<qid>.why``          the explanation shown with every answer, right or wrong (``params`` and
                             ``answer``, the model's answer as text)
``learn.<qid>.wrong.<tag>``  the explanation of one misconception (``params``, ``answer``, ``given``)
``learn.<qid>.choice.<c>``   (optional) the label of choice ``c``; without it the choice itself is shown

``wrong`` maps a wrong choice to its misconception tag (``{"under": "dom0_under_xen"}``), or is a
function of the student's value returning a tag or None (for numbers: ``lambda v: "per_entry" if v == n``).
A wrong answer without a tag gets the general "not quite" line, the model's answer and the why.

The answer may be a zero-argument function: it is then called at the first check, so the cell runs the
model only after the student has committed. It returns the answer, or a dict ``{"answer": value, ...}``
whose other items join ``params`` (numbers the explanation quotes from the run).

``Prediction.feedback(value)`` is pure (the tests call it); ``Prediction.check(value)`` also records the
attempt and reveals the answer (the widget calls it once, after which its input is locked).

Per-student values: ``student_seed(salt)`` is the first 4 bytes (big-endian) of
sha256(student NUL salt), where the student is ``$XENLAB_STUDENT`` or, without it, the login name; the
grader derives its variant seeds the same way. A cell seeds its scenario with it, e.g.
``n = 3 + xenlab.student_seed("04a.batch") % 5``, so neighbours get different numbers.

``quiz(chapter)`` gathers a chapter's self-check questions (data in ``xenlab/learn_quizzes/chNN.py``,
strings in the catalogues like any prediction) into a ``Quiz``; ``Quiz.check({qid: answer})`` returns the
feedback for every question, answered or not, so the answers are revealed after one attempt.

This module imports no Jupyter package: displaying a Prediction or a Quiz in a notebook imports the
widget layer, ``xenlab.viz.learn``.
"""
from __future__ import annotations

import getpass
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from xenlab.i18n import CATALOGUES, get_language, t

# Every Prediction and Quiz made in this process, in order: the notebook tests probe them after a run.
CREATED: list = []


def student_name() -> str:
    """The student: $XENLAB_STUDENT, else the login name, else 'student'."""
    name = os.environ.get("XENLAB_STUDENT", "").strip()
    if name:
        return name
    try:
        return getpass.getuser() or "student"
    except Exception:  # noqa: BLE001  (no login name in some containers)
        return "student"


def student_seed(salt: str, student: str | None = None) -> int:
    """A per-student seed in [0, 2**32): the first 4 bytes of sha256(student NUL salt), big-endian.

    The same student and salt give the same seed in any process; two students almost surely differ.
    Use one salt per cell ("04a.batch") so the values of different cells are independent.
    """
    who = student if student is not None else student_name()
    digest = hashlib.sha256(f"{who}\0{salt}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big")


def has_message(key: str, lang: str | None = None) -> bool:
    return key in CATALOGUES[lang or get_language()]


def parse_number(text) -> float | int | None:
    """A number typed by a student: 12, 0x1f, 3.5 and the Polish 3,5; None when it is not a number."""
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return text
    s = str(text).strip().replace("\u2212", "-").replace(" ", "").replace("_", "")
    if not s:
        return None
    try:
        return int(s, 0)
    except ValueError:
        pass
    try:
        return float(s.replace(",", "."))
    except ValueError:
        return None


@dataclass
class Prediction:
    """One question whose answer the model computes; see the module docstring."""

    qid: str
    answer: Any
    choices: tuple | None = None
    tolerance: float = 0
    params: dict = field(default_factory=dict)
    wrong: Any = None
    show: Callable | None = None        # called after the reveal (the widget shows what it prints)
    attempts: list = field(default_factory=list)
    _resolved: bool = False

    def __post_init__(self):
        self.params = dict(self.params or {})
        if self.choices is not None:
            self.choices = tuple(self.choices)
            if not callable(self.answer) and self.answer not in self.choices:
                raise ValueError(f"learn.{self.qid}: the answer {self.answer!r} is not one of the choices")
        if not callable(self.answer):
            self._resolved = True

    # -- the model's answer -------------------------------------------------------------------
    def value(self):
        """The model's answer (running the model now if the answer was given as a function)."""
        if not self._resolved:
            got = self.answer()
            if isinstance(got, dict):
                got = dict(got)
                self.params.update({k: v for k, v in got.items() if k != "answer"})
                got = got["answer"]
            if self.choices is not None and got not in self.choices:
                raise ValueError(f"learn.{self.qid}: the model's answer {got!r} is not one of the choices")
            self.answer, self._resolved = got, True
        return self.answer

    @property
    def numeric(self) -> bool:
        return self.choices is None

    def label(self, choice) -> str:
        """How a choice (or a number) is shown."""
        key = f"learn.{self.qid}.choice.{choice}"
        if self.choices is not None and has_message(key):
            return t(key, **self.params)
        if isinstance(choice, float):
            text = str(int(choice)) if choice.is_integer() else f"{choice:.4g}"
            return text.replace(".", ",") if get_language() == "pl" else text   # 0,25 in Polish
        return str(choice)

    # -- texts ----------------------------------------------------------------------------------
    def question(self) -> str:
        return t(f"learn.{self.qid}.q", **self.params)

    def why(self) -> str:
        return t(f"learn.{self.qid}.why", **{**self.params, "answer": self.label(self.value())})

    def normalise(self, given):
        """The student's input as a choice or a number; None when it is neither."""
        if given is None:
            return None
        if self.choices is None:
            return parse_number(given)
        if given in self.choices:
            return given
        for c in self.choices:      # the widget and a typing student may give the label or str(choice)
            if str(given).strip() in (str(c), self.label(c)):
                return c
        return None

    def is_right(self, given) -> bool:
        value = self.normalise(given)
        if value is None:
            return False
        if self.numeric:
            return abs(value - self.value()) <= self.tolerance
        return value == self.value()

    def misconception(self, given) -> str | None:
        """The tag of the misconception a wrong answer shows, or None."""
        value = self.normalise(given)
        if value is None or self.wrong is None or self.is_right(value):
            return None
        tag = self.wrong(value) if callable(self.wrong) else self.wrong.get(value)
        return tag or None

    def feedback(self, given) -> str:
        """What the student reads after answering `given` (pure: records nothing)."""
        value = self.normalise(given)
        if value is None:
            key = "learn.invalid_number" if self.numeric else "learn.invalid_choice"
            return t(key, given=str(given))
        kw = {**self.params, "answer": self.label(self.value()), "given": self.label(value)}
        if self.is_right(value):
            return f"{t('learn.right', **kw)} {t('learn.why', why=self.why())}"
        parts = [t("learn.wrong", **kw)]
        tag = self.misconception(value)
        if tag:
            parts.append(t(f"learn.{self.qid}.wrong.{tag}", **kw))
        parts.append(t("learn.why", why=self.why()))
        return " ".join(parts)

    def check(self, given) -> str:
        """The feedback for `given`; a valid answer is recorded and reveals the model's answer."""
        if self.normalise(given) is not None:
            self.attempts.append(given)
        return self.feedback(given)

    @property
    def revealed(self) -> bool:
        return bool(self.attempts)

    def wrong_example(self):
        """A wrong answer (a tagged one when there is one): for tests and self-checks."""
        if self.choices is not None:
            others = [c for c in self.choices if c != self.value()]
            if isinstance(self.wrong, dict):
                tagged = [c for c in others if c in self.wrong]
                others = tagged or others
            return others[0]
        return self.value() + self.tolerance + 1

    def _ipython_display_(self):
        from IPython.display import display

        from xenlab.viz.learn import PredictionView
        display(PredictionView(self).widget)

    def __repr__(self):
        return f"{self.question()}\n[{self.qid}]"


def predict(qid: str, answer, *, choices=None, tolerance=0, params=None, wrong=None, show=None) -> Prediction:
    """A predict-then-reveal question; displayed in a notebook, a widget (see the module docstring)."""
    p = Prediction(qid, answer, choices, tolerance, params or {}, wrong, show)
    CREATED.append(p)
    return p


@dataclass
class Quiz:
    """A chapter's self-check: its questions as Predictions."""

    chapter: str
    questions: list

    def check(self, answers: dict) -> dict:
        """{qid: feedback} for every question; an unanswered one gets its answer and why."""
        out = {}
        for q in self.questions:
            given = answers.get(q.qid)
            if given is None or (isinstance(given, str) and not given.strip()):
                out[q.qid] = t("learn.quiz.unanswered", answer=q.label(q.value()), why=q.why())
            else:
                out[q.qid] = q.check(given)
        return out

    def score(self, answers: dict) -> int:
        return sum(q.is_right(answers.get(q.qid)) for q in self.questions)

    def _ipython_display_(self):
        from IPython.display import display

        from xenlab.viz.learn import QuizView
        display(QuizView(self).widget)

    def __repr__(self):
        return "\n".join(f"{i}. {q.question()}" for i, q in enumerate(self.questions, 1))


def quiz(chapter) -> Quiz:
    """The self-check of a chapter ("01", "04a", 7 ...), from xenlab/learn_quizzes/ch<chapter>.py."""
    from xenlab.learn_quizzes import questions
    chapter = str(chapter)
    if chapter.isdigit():
        chapter = chapter.zfill(2)
    q = Quiz(chapter, [Prediction(qid=d["qid"], answer=d["answer"], choices=d.get("choices"),
                                  tolerance=d.get("tolerance", 0), params=dict(d.get("params", {})),
                                  wrong=d.get("wrong")) for d in questions(chapter)])
    CREATED.append(q)
    return q


def self_test(objects=None) -> list:
    """Problems found by answering every Prediction/Quiz made in this process right and wrong.

    Used by the notebook tests after a run; an empty list means every question has its texts in both
    languages and gives a right and a wrong answer distinct, non-empty feedback.
    """
    import xenlab.i18n as i18n
    problems = []
    before = i18n._explicit
    items = []
    for obj in (CREATED if objects is None else objects):
        items.extend(obj.questions if isinstance(obj, Quiz) else [obj])
    try:
        for p in items:
            for lang in ("pl", "en"):
                i18n.set_language(lang)
                for key in (f"learn.{p.qid}.q", f"learn.{p.qid}.why"):
                    if not has_message(key, lang):
                        problems.append(f"{p.qid}: no {key} in {lang}")
                if isinstance(p.wrong, dict):
                    for tag in set(p.wrong.values()):
                        if not has_message(f"learn.{p.qid}.wrong.{tag}", lang):
                            problems.append(f"{p.qid}: no learn.{p.qid}.wrong.{tag} in {lang}")
                try:
                    right, bad = p.value(), p.wrong_example()
                    fr, fw = p.feedback(right), p.feedback(bad)
                except Exception as exc:  # noqa: BLE001  (a question that crashes is a problem, reported)
                    problems.append(f"{p.qid} ({lang}): {type(exc).__name__}: {exc}")
                    continue
                if not p.is_right(right) or p.is_right(bad):
                    problems.append(f"{p.qid}: the right/wrong example is judged the wrong way")
                if fr == fw or not fr.strip() or not fw.strip():
                    problems.append(f"{p.qid} ({lang}): right and wrong answers get the same feedback")
                if "learn." in fr + fw:
                    problems.append(f"{p.qid} ({lang}): a message key is missing: {fr} / {fw}")
    finally:
        i18n._explicit = before
    return problems


__all__ = ["Prediction", "Quiz", "predict", "quiz", "student_seed", "student_name", "self_test"]
