"""Chapter 14 (save, restore, migration): the self-check. Texts: learn.quiz.14.* in
i18n/catalogues/learn_08_14.py."""
QUESTIONS = [
    {"qid": "quiz.14.save_pause", "answer": "no", "choices": ("no", "yes"), "wrong": {"yes": "same"}},
    {"qid": "quiz.14.canonical", "answer": "pfn", "choices": ("pfn", "mfn", "vaddr"), "wrong": {"mfn": "mfn"}},
    {"qid": "quiz.14.logdirty", "answer": "bitmap", "choices": ("bitmap", "guest", "compare")},
    {"qid": "quiz.14.downtime", "answer": "last", "choices": ("last", "all", "first")},
]
