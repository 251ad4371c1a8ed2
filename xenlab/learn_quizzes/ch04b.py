"""Chapter 04b's self-check (texts: learn.quiz.04b.* in xenlab/i18n/catalogues/learn.py)."""
QUESTIONS = [
    {"qid": "quiz.04b.p2m", "answer": "guest", "choices": ("guest", "xen"), "wrong": {"xen": "xen_keeps"}},
    {"qid": "quiz.04b.m2p", "answer": "xen", "choices": ("guest", "xen"), "wrong": {"guest": "guest_keeps"}},
    {"qid": "quiz.04b.invalid", "answer": "invalid", "choices": ("invalid", "zero", "old_mfn"),
     "wrong": {"zero": "zero", "old_mfn": "old_mfn"}},
    {"qid": "quiz.04b.foreign", "answer": 0, "wrong": lambda v: "errno" if v < 0 else None},
    {"qid": "quiz.04b.scatter", "answer": "model", "choices": ("model", "several_domains"),
     "wrong": {"several_domains": "several_domains"}},
    {"qid": "quiz.04b.pae_levels", "answer": 3, "wrong": lambda v: {2: "two", 4: "four"}.get(v)},
]
