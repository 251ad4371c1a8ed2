"""Chapter 12 (performance): the self-check. Texts: learn.quiz.12.* in i18n/catalogues/learn_08_14.py."""
QUESTIONS = [
    {"qid": "quiz.12.syscall", "answer": "no", "choices": ("no", "yes"), "wrong": {"yes": "via_xen"}},
    {"qid": "quiz.12.vmware", "answer": "bt", "choices": ("bt", "pv", "vtx"), "wrong": {"vtx": "vtx"}},
    {"qid": "quiz.12.uml", "answer": "ptrace", "choices": ("ptrace", "hypercall", "vmexit")},
    {"qid": "quiz.12.specint", "answer": "little_os", "choices": ("little_os", "faster_cpu")},
]
