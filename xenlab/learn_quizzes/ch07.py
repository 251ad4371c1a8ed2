"""Chapter 07's self-check: the answers to the questions 1-6 its text asks, and its defaults
(texts: learn.quiz.07.* in xenlab/i18n/catalogues/learn.py). Numbers come from the chapter's runs."""
QUESTIONS = [
    # Question 1
    {"qid": "quiz.07.q1_shortest", "answer": "bvt", "choices": ("rrobin", "bvt", "credit"),
     "wrong": {"credit": "credit_boost", "rrobin": "rr_tail"}},
    {"qid": "quiz.07.q1_longest", "answer": "rrobin", "choices": ("rrobin", "bvt", "credit"),
     "wrong": {"credit": "credit_boost", "bvt": "bvt_warp"}},
    {"qid": "quiz.07.q1_slices", "answer": 1, "wrong": lambda v: "two" if v >= 2 else "none" if v == 0 else None},
    # Question 2
    {"qid": "quiz.07.q2_share", "answer": 0.571, "tolerance": 0.02,
     "wrong": lambda v: "inverted" if abs(v - 0.143) <= 0.02 else "equal" if abs(v - 0.333) <= 0.02 else None},
    # Question 3
    {"qid": "quiz.07.q3_rest", "answer": "batch", "choices": ("batch", "video_audio", "nobody"),
     "wrong": {"video_audio": "no_xtratime", "nobody": "idle"}},
    {"qid": "quiz.07.q3_overload", "answer": "deadlines", "choices": ("deadlines", "refused", "scaled"),
     "wrong": {"refused": "admission", "scaled": "scaled"}},
    # Question 4
    {"qid": "quiz.07.q4_video_ms", "answer": 5, "tolerance": 0.1,
     "wrong": lambda v: "computes" if v >= 19 else "extra" if v > 5 else None},
    {"qid": "quiz.07.q4_ratio", "answer": 3, "tolerance": 0.1, "wrong": lambda v: "equal" if v == 1 else None},
    {"qid": "quiz.07.q4_unused", "answer": "best_effort", "choices": ("best_effort", "video_later", "idle"),
     "wrong": {"video_later": "banked", "idle": "idle"}},
    {"qid": "quiz.07.q4_extratime", "answer": "more", "choices": ("more", "same"), "wrong": {"same": "nothing"}},
    # Question 5
    {"qid": "quiz.07.q5_light", "answer": 0.2, "tolerance": 0.02,
     "wrong": lambda v: "weights" if abs(v - 0.34) <= 0.03 else None},
    {"qid": "quiz.07.q5_idle", "answer": "no", "choices": ("yes", "no"), "wrong": {"yes": "idle"}},
    # Question 6 (the lab)
    {"qid": "quiz.07.q6_io_wait", "answer": 0, "tolerance": 0.5, "wrong": lambda v: "slice" if v >= 9 else None},
    # the default
    {"qid": "quiz.07.default", "answer": "sedf", "choices": ("sedf", "credit", "bvt"),
     "wrong": {"credit": "credit_303", "bvt": "bvt_20"}},
]
