"""Chapter 9 (rings): the self-check. Texts: learn.quiz.09.* in i18n/catalogues/learn_08_14.py."""
QUESTIONS = [
    {"qid": "quiz.09.event_data", "answer": "no", "choices": ("no", "yes"), "wrong": {"yes": "carries"}},
    {"qid": "quiz.09.every", "answer": "no", "choices": ("no", "yes"), "wrong": {"yes": "each"}},
    {"qid": "quiz.09.slot", "answer": 70 & 31},
    {"qid": "quiz.09.final", "answer": "race", "choices": ("race", "count", "xen")},
]
