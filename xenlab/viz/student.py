"""Calling a student's function from a live view: a stub, an exception or a loop is reported, not raised."""
from __future__ import annotations

from xenlab.grading.runner import CheckTimeout, call_with_timeout


def call_student(fn, timeout_s: float, *args, not_written: str, timed_out: str):
    """(value, None), or (None, what went wrong): ``not_written`` for a missing function or a stub,
    ``timed_out`` after ``timeout_s`` seconds, the exception's type and message otherwise."""
    if fn is None:
        return None, not_written
    try:
        return call_with_timeout(fn, timeout_s, *args), None
    except NotImplementedError:
        return None, not_written
    except CheckTimeout:
        return None, timed_out
    except Exception as exc:  # noqa: BLE001  (the student's bug, shown not raised)
        return None, f"{type(exc).__name__}: {exc}"
