"""Chapter 01's self-check (texts: learn.quiz.01.* in xenlab/i18n/catalogues/learn.py)."""
QUESTIONS = [
    {"qid": "quiz.01.dom0", "answer": "privileged", "choices": ("privileged", "host", "xen"),
     "wrong": {"host": "host"}},
    {"qid": "quiz.01.state", "answer": "blocked", "choices": ("running", "blocked", "paused"),
     "wrong": {"paused": "paused"}},
    {"qid": "quiz.01.windows", "answer": "no", "choices": ("yes", "no"), "wrong": {"yes": "yes"}},
    {"qid": "quiz.01.paravirt", "answer": "hypercalls", "choices": ("hypercalls", "syscalls", "nothing"),
     "wrong": {"syscalls": "syscalls", "nothing": "nothing"}},
    {"qid": "quiz.01.xen_size", "answer": 17.5, "tolerance": 1.5, "wrong": lambda v: "model" if v <= 4 else None},
]
