"""The widgets of predict-then-reveal cells and self-check quizzes (the logic is xenlab/learn.py).

A prediction shows its question, an input (a dropdown for choices, a text box for numbers) and a Check
button. The first valid answer is committed: the input locks, the feedback (right, or the
misconception's explanation, and always the why) appears, and the prediction's ``show`` function, if
any, runs into an output area below (the model's run the question was about). An input that is not a
number or not a choice gets a hint and is not counted.

A quiz shows every question with its input and one Check button; after the attempt every question gets
its feedback and the answers are revealed, then the inputs lock. The score is shown on top.
"""
from __future__ import annotations

import html

import ipywidgets as W

from xenlab.i18n import t
from xenlab.viz.base import View

RIGHT_COLOUR, WRONG_COLOUR, NOTE_COLOUR = "#1b7a1b", "#b00", "#555"


def _box(text: str, colour: str) -> str:
    return (f"<div style='border-left:4px solid {colour};padding:4px 8px;margin:4px 0;"
            f"white-space:pre-wrap'>{html.escape(text)}</div>")


def _input(p):
    """The input widget of one question: a dropdown of choices or a text box for a number."""
    if p.choices is not None:
        options = [(t("learn.ui.choose"), None)] + [(p.label(c), c) for c in p.choices]
        return W.Dropdown(options=options, value=None, layout=W.Layout(width="auto"))
    # continuous_update=False: the value changes on Enter (or on leaving the box), which checks the answer
    return W.Text(placeholder=t("learn.ui.number"), layout=W.Layout(width="12em"), continuous_update=False)


class PredictionView(View):
    ERROR_KEY = "learn.ui.error"

    def __init__(self, prediction):
        self.p = prediction
        self.errors = []
        self.error_box = W.HTML("")
        self.title = W.HTML(f"<b>{html.escape(t('learn.ui.predict'))}</b> {html.escape(prediction.question())}")
        self.input = _input(prediction)
        self.button = W.Button(description=t("learn.ui.check"), button_style="primary")
        self.result = W.HTML("")
        self.output = W.Output()
        self.button.on_click(self._guarded(lambda _b: self.submit(self.input.value)))
        if isinstance(self.input, W.Text):           # Enter in the box is the same as Check
            self.input.observe(self._guarded(lambda ch: self.submit(ch["new"]) if not self.input.disabled
                                             and ch["new"] not in (None, "") else None), names="value")
        self.widget = W.VBox([self.title, W.HBox([self.input, self.button]), self.result, self.output,
                              self.error_box])

    def submit(self, given):
        """Check `given`: a valid answer locks the input and reveals; returns the feedback text."""
        p = self.p
        if p.normalise(given) is None:
            text = p.feedback(given) if given not in (None, "") else t("learn.ui.empty")
            self.result.value = _box(text, NOTE_COLOUR)
            return text
        text = p.check(given)
        self.result.value = _box(text, RIGHT_COLOUR if p.is_right(given) else WRONG_COLOUR)
        self.input.disabled = self.button.disabled = True
        if p.show is not None:
            with self.output:
                p.show()
        return text


class QuizView(View):
    ERROR_KEY = "learn.ui.error"

    def __init__(self, quiz):
        self.quiz = quiz
        self.errors = []
        self.error_box = W.HTML("")
        self.inputs, self.results, rows = {}, {}, []
        for i, q in enumerate(quiz.questions, 1):
            self.inputs[q.qid] = _input(q)
            self.results[q.qid] = W.HTML("")
            rows.append(W.HTML(f"<b>{i}.</b> {html.escape(q.question())}"))
            rows += [self.inputs[q.qid], self.results[q.qid]]
        self.header = W.HTML(f"<h4>{html.escape(t('learn.quiz.title', chapter=quiz.chapter))}</h4>")
        self.score = W.HTML("")
        self.button = W.Button(description=t("learn.ui.check"), button_style="primary")
        self.button.on_click(self._guarded(lambda _b: self.submit(
            {qid: w.value for qid, w in self.inputs.items()})))
        self.widget = W.VBox([self.header, *rows, self.button, self.score, self.error_box])

    def submit(self, answers: dict) -> dict:
        feedback = self.quiz.check(answers)
        for q in self.quiz.questions:
            given = answers.get(q.qid)
            colour = RIGHT_COLOUR if q.is_right(given) else WRONG_COLOUR
            self.results[q.qid].value = _box(feedback[q.qid], colour)
            self.inputs[q.qid].disabled = True
        self.button.disabled = True
        self.score.value = html.escape(t("learn.quiz.score", right=self.quiz.score(answers),
                                         n=len(self.quiz.questions)))
        return feedback
