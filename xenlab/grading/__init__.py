"""Graded exercises: the check registry, `xenlab.check()` for notebooks and the `xenlab grade` grader.

- registry.py: `exercise(...)`, `@EX.check(points=..., function=..., hidden=...)`, `fail`, `expect`.
- runner.py:   runs checks one by one under a time limit (an infinite loop becomes a "timeout").
- notebook.py: `check("ex01")`, the public checks with their results printed in the current language.
- grader.py:   `xenlab grade`: each submission in a sandbox, every check in the grader (the trust boundary).
- sandbox.py, worker.py, wire.py, remote.py: the sandbox, the submission's side, the data-only channel,
               the grader's side of it.
- assignment.py, gradebook.py: the instructor's list of exercises and limits; the SQLite gradebook.
- checks/:     one module per exercise, `exNN_<topic>.py`.
See docs/AUTHORING.md for how to add an exercise.
"""
from xenlab.grading.notebook import check
from xenlab.grading.registry import all_exercises, get_exercise, variant_seed

__all__ = ["check", "all_exercises", "get_exercise", "variant_seed"]
