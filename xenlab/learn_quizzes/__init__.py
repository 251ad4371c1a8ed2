"""The end-of-chapter self-check questions, as data: one module per chapter, ``chNN.py`` (``ch04a.py``).

Each module holds ``QUESTIONS``, a list of dicts with the keys of ``xenlab.predict``: ``qid``,
``answer``, and optionally ``choices``, ``tolerance``, ``params`` and ``wrong`` (a dict from a wrong
choice to its misconception tag). The texts live in the catalogues under ``learn.<qid>.*`` like those
of any prediction, so a quiz question is a prediction whose answer is fixed. Use qids of the form
``quiz.<chapter>.<name>`` and ask in the quiz every question the chapter's text asks.
"""
from __future__ import annotations

import importlib
import re


def questions(chapter: str) -> list:
    """The QUESTIONS of chapter `chapter` ("01", "04a" ...); ValueError when it has no quiz."""
    if not re.fullmatch(r"\d\d[a-z]?", chapter):
        raise ValueError(f"not a chapter: {chapter!r} (use '01', '04a' ...)")
    try:
        module = importlib.import_module(f"xenlab.learn_quizzes.ch{chapter}")
    except ModuleNotFoundError:
        raise ValueError(f"chapter {chapter} has no self-check quiz") from None
    return list(module.QUESTIONS)
