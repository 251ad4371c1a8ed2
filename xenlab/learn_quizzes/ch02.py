"""Chapter 02's self-check (texts: learn.quiz.02.* in xenlab/i18n/catalogues/learn.py)."""
QUESTIONS = [
    {"qid": "quiz.02.dom0_level", "answer": "guest_level", "choices": ("guest_level", "ring0", "below"),
     "wrong": {"ring0": "ring0", "below": "below"}},
    {"qid": "quiz.02.eperm", "answer": -1, "wrong": lambda v: {0: "allowed", -22: "einval", 1: "sign"}.get(v)},
    {"qid": "quiz.02.replace", "answer": "privileged", "choices": ("privileged", "syscalls", "interrupts"),
     "wrong": {"syscalls": "syscalls", "interrupts": "interrupts"}},
    {"qid": "quiz.02.idle", "answer": 0, "choices": (0, 1, 3), "wrong": {1: "dom0_idle"}},
]
