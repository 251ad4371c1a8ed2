"""Chapter 05's self-check (texts: learn.quiz.05.* in xenlab/i18n/catalogues/learn.py)."""
QUESTIONS = [
    {"qid": "quiz.05.kernel_ring", "answer": 1, "choices": (0, 1, 2, 3), "wrong": {0: "ring0", 3: "ring3"}},
    {"qid": "quiz.05.syscall", "answer": "no", "choices": ("yes", "no"), "wrong": {"yes": "via_xen"}},
    {"qid": "quiz.05.cr2", "answer": "vcpu_info", "choices": ("vcpu_info", "stack", "cr2"),
     "wrong": {"stack": "xen2", "cr2": "cr2"}},
    {"qid": "quiz.05.hlt", "answer": "block", "choices": ("block", "hlt", "nothing"),
     "wrong": {"hlt": "hlt", "nothing": "spin"}},
    {"qid": "quiz.05.hvm_pf", "answer": "vmexit", "choices": ("vmexit", "bounce", "hypercall"),
     "wrong": {"bounce": "bounce", "hypercall": "hypercall"}},
]
