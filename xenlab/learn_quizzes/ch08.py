"""Chapter 8 (time): the self-check. Texts: learn.quiz.08.* in i18n/catalogues/learn_08_14.py."""
QUESTIONS = [
    {"qid": "quiz.08.version", "answer": "retry", "choices": ("retry", "use", "hypercall"),
     "wrong": {"use": "torn", "hypercall": "hypercall"}},
    {"qid": "quiz.08.virtual", "answer": "virtual", "choices": ("tsc", "system", "virtual", "wallclock"),
     "wrong": {"system": "system"}},
    {"qid": "quiz.08.wallclock", "answer": "offset", "choices": ("offset", "hypercall", "tsc"),
     "wrong": {"hypercall": "hypercall"}},
    {"qid": "quiz.08.timer", "answer": 10},
    # texts of this one: xenlab/i18n/catalogues/multicall.py
    {"qid": "quiz.08.runstate", "answer": 100,
     "wrong": lambda v: {0: "no_offline", 1900: "sum", 2000: "sum"}.get(v)},
]
