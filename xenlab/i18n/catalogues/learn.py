"""Strings of the predict-then-reveal cells and self-check quizzes (xenlab/learn.py, xenlab/viz/learn.py)
and the questions of chapters 00-07 (``learn.<qid>.q`` / ``.why`` / ``.wrong.<tag>`` / ``.choice.<c>``)."""

PL: dict[str, object] = {
    # the machinery
    "learn.right": "Dobrze: {answer}.",
    "learn.wrong": "Nie tym razem: Twoja odpowiedź to {given}, a model daje {answer}.",
    "learn.why": "Dlaczego: {why}",
    "learn.invalid_number": "„{given}” nie jest liczbą; wpisz liczbę (np. 12, 0x1f albo 3,5).",
    "learn.invalid_choice": "„{given}” nie jest żadną z odpowiedzi do wyboru.",
    "learn.quiz.unanswered": "Bez odpowiedzi. Odpowiedź: {answer}. Dlaczego: {why}",
    "learn.quiz.title": "Sprawdź się: rozdział {chapter}",
    "learn.quiz.score": "Dobrych odpowiedzi: {right} z {n}.",
    "learn.ui.predict": "Przewidź:",
    "learn.ui.check": "Sprawdź",
    "learn.ui.choose": "– wybierz –",
    "learn.ui.number": "liczba",
    "learn.ui.empty": "Najpierw wpisz albo wybierz odpowiedź.",
    "learn.ui.error": "Błąd w widżecie: {error}",
}

EN: dict[str, object] = {
    "learn.right": "Right: {answer}.",
    "learn.wrong": "Not this time: you said {given}, the model gives {answer}.",
    "learn.why": "Why: {why}",
    "learn.invalid_number": "\u201c{given}\u201d is not a number; type a number (e.g. 12, 0x1f or 3.5).",
    "learn.invalid_choice": "\u201c{given}\u201d is none of the choices.",
    "learn.quiz.unanswered": "Not answered. The answer: {answer}. Why: {why}",
    "learn.quiz.title": "Self-check: chapter {chapter}",
    "learn.quiz.score": "Right answers: {right} of {n}.",
    "learn.ui.predict": "Predict:",
    "learn.ui.check": "Check",
    "learn.ui.choose": "\u2013 choose \u2013",
    "learn.ui.number": "number",
    "learn.ui.empty": "Type or choose an answer first.",
    "learn.ui.error": "Error in the widget: {error}",
}
