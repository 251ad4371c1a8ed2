"""Chapter 06's self-check (texts: learn.quiz.06.* in xenlab/i18n/catalogues/learn.py)."""
QUESTIONS = [
    {"qid": "quiz.06.ports", "answer": 1024, "wrong": lambda v: {4096: "x86_64", 32: "word", 131072: "fifo"}.get(v)},
    {"qid": "quiz.06.data", "answer": "nothing", "choices": ("nothing", "count", "payload"),
     "wrong": {"count": "count", "payload": "payload"}},
    {"qid": "quiz.06.masked", "answer": "kept", "choices": ("kept", "lost", "delivered"),
     "wrong": {"lost": "lost", "delivered": "delivered"}},
    {"qid": "quiz.06.pirq", "answer": "dom0", "choices": ("dom0", "any"), "wrong": {"any": "any"}},
    {"qid": "quiz.06.eexist", "answer": -17, "wrong": lambda v: {0: "rebind", -22: "einval"}.get(v)},
]
