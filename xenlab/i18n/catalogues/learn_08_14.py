"""Predictions, misconception checks and quizzes of chapters 8-14: ``learn.<qid>.q`` (the question),
``learn.<qid>.why`` (the explanation shown after the answer) and ``learn.<qid>.wrong.<tag>`` (what a
particular wrong answer gets wrong). qids are ``c<chapter>_<name>`` for predictions and
``quiz<chapter>_<n>`` for quiz questions.
"""

PL: dict[str, object] = {
}

EN: dict[str, object] = {
}
