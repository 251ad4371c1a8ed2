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


class Guarded:
    """A student's function made safe to hand to the model (a sandbox hook, a plugged scheduler step).

    Each call goes through ``call_student``; ``check(value)`` may refuse an answer of the wrong shape
    (it returns what is wrong, or None). A stub, an exception, a loop or a refused answer makes the call
    return NotImplemented, which the model's hooks read as "let Xen's own code do this step"; the first
    problem is kept in ``problem`` and, as a loop would cost a timeout on every call, the function is
    not called again after it. ``calls`` and ``used`` count the calls and the answers the model used.
    """

    def __init__(self, fn, timeout_s: float = 1.0, check=None, *, not_written: str, timed_out: str):
        self.fn, self.timeout_s, self.check = fn, timeout_s, check
        self.not_written, self.timed_out = not_written, timed_out
        self.problem: str | None = None
        self.calls = self.used = 0

    def __call__(self, *args):
        self.calls += 1
        if self.problem is not None:
            return NotImplemented
        value, problem = call_student(self.fn, self.timeout_s, *args, not_written=self.not_written,
                                      timed_out=self.timed_out)
        if problem is None and self.check is not None:
            try:
                problem = self.check(value)
            except Exception as exc:  # noqa: BLE001  (a value the check cannot even look at)
                problem = f"{type(exc).__name__}: {exc}"
        if problem is not None:
            self.problem = problem
            return NotImplemented
        self.used += 1
        return value
