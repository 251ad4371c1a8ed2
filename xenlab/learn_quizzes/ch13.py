"""Chapter 13 (domain management): the self-check. Texts: learn.quiz.13.* in i18n/catalogues/learn_08_14.py."""
QUESTIONS = [
    {"qid": "quiz.13.pause", "answer": "yes", "choices": ("yes", "no")},
    {"qid": "quiz.13.b", "answer": "blocked", "choices": ("blocked", "building", "paused")},
    {"qid": "quiz.13.reboot", "answer": "guest", "choices": ("guest", "xend")},
    {"qid": "quiz.13.two", "answer": 200, "tolerance": 5},
]
