"""Chapter 03's self-check (texts: learn.quiz.03.* in xenlab/i18n/catalogues/learn.py)."""
QUESTIONS = [
    {"qid": "quiz.03.top", "answer": 64, "wrong": lambda v: {168: "pae", 4: "m2p_only", 1024: "kernel"}.get(v)},
    {"qid": "quiz.03.dpl0", "answer": "refused", "choices": ("refused", "truncated", "accepted"),
     "wrong": {"truncated": "truncated", "accepted": "accepted"}},
    {"qid": "quiz.03.gdt_rw", "answer": "no", "choices": ("yes", "no"), "wrong": {"yes": "writable"}},
    {"qid": "quiz.03.byte_limit", "answer": "refused", "choices": ("refused", "truncated"),
     "wrong": {"truncated": "byte_truncated"}},
    {"qid": "quiz.03.pae_top", "answer": "0xf5800000", "choices": ("0xfc000000", "0xf5800000", "0xc0000000"),
     "wrong": {"0xfc000000": "non_pae", "0xc0000000": "page_offset"}},
]
