"""Chapter 11 (network): the self-check. Texts: learn.quiz.11.* in i18n/catalogues/learn_08_14.py."""
QUESTIONS = [
    {"qid": "quiz.11.rings", "answer": 2},
    {"qid": "quiz.11.copy", "answer": "guest", "choices": ("guest", "dom0"), "wrong": {"dom0": "dom0"}},
    {"qid": "quiz.11.mac", "answer": "00:16:3e", "choices": ("00:16:3e", "00:0c:29", "52:54:00"),
     "wrong": {"00:0c:29": "vmware"}},
    {"qid": "quiz.11.bridge", "answer": "bridge", "choices": ("bridge", "xen", "nic"), "wrong": {"xen": "xen"}},
]
