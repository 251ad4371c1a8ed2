"""Chapter 04a's self-check (texts: learn.quiz.04a.* in xenlab/i18n/catalogues/learn.py)."""
QUESTIONS = [
    {"qid": "quiz.04a.read", "answer": "direct", "choices": ("direct", "hypercall"), "wrong": {"hypercall": "read_via_xen"}},
    {"qid": "quiz.04a.pdone", "answer": 1, "wrong": lambda v: {0: "all_or_nothing", 3: "skip_bad", 2: "skip_bad"}.get(v)},
    {"qid": "quiz.04a.limit", "answer": "xenlinux", "choices": ("xenlinux", "xen"), "wrong": {"xen": "xen_limit"}},
    {"qid": "quiz.04a.pf_code", "answer": 3, "wrong": lambda v: {2: "not_present", 1: "read"}.get(v)},
    {"qid": "quiz.04a.hvm_write", "answer": "vmexit", "choices": ("vmexit", "hypercall", "nothing"),
     "wrong": {"hypercall": "hvm_hypercall", "nothing": "no_cost"}},
    # texts of this one: xenlab/i18n/catalogues/multicall.py
    {"qid": "quiz.04a.multicall_fail", "answer": 4,
     "wrong": lambda v: {2: "stops", 0: "all_or_nothing", 5: "no_check"}.get(v)},
]
