"""What the autograder test cells of an nbgrader export call (see nbgrader_export.py)."""
from __future__ import annotations

from xenlab.grading.registry import get_exercise, variant_seed
from xenlab.grading.runner import run_check
from xenlab.i18n import get_language


def assert_check(exercise_id: str, check_name: str, namespace: dict) -> None:
    """Run one xenlab check on the notebook's functions; AssertionError with its message unless it passes."""
    ex = get_exercise(exercise_id)
    check = next(c for c in ex.checks if c.name == check_name)
    result = run_check(check, namespace, variant_seed("nbgrader", exercise_id), get_language())
    if result["status"] != "pass":
        raise AssertionError(result["message"])
    print(f"{exercise_id}/{check_name}: {result['points']}/{result['max_points']}")
