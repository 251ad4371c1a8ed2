"""Chapter 10 (block devices): the self-check. Texts: learn.quiz.10.* in i18n/catalogues/learn_08_14.py."""
QUESTIONS = [
    {"qid": "quiz.10.segments", "answer": 11},
    {"qid": "quiz.10.match", "answer": "id", "choices": ("id", "slot", "order"),
     "wrong": {"slot": "slot", "order": "order"}},
    {"qid": "quiz.10.map", "answer": "map", "choices": ("map", "direct", "event"), "wrong": {"direct": "all_memory"}},
    {"qid": "quiz.10.bad", "answer": "error", "choices": ("error", "halt", "kill")},
]
