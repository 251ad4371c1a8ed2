"""Running checks: one at a time, each under a time limit, each turned into a plain-dict result.

`run_checks` is used by `xenlab.check()` in a notebook (public checks only, in the student's kernel);
the grader calls `run_check` in its own process, with the student's functions reached through the
sandbox's channel (remote.py), so nothing here is ever run inside a submission for marks.

Time limits use SIGALRM (`setitimer`) when running in the main thread, which is where IPython runs
cells: an infinite `while True` loop in a student's function is interrupted by `CheckTimeout`, a
BaseException so a student's `except Exception:` cannot swallow it. Elsewhere a daemon thread is used
and a looping function is abandoned (it keeps running in the background). The grader adds its own
per-cell and per-notebook limits around all of this.
"""
from __future__ import annotations

import signal
import threading
import traceback

from xenlab.grading.registry import CheckFailed, Context, get_exercise, variant_seed
from xenlab.i18n import get_language, t


class CheckTimeout(BaseException):
    """Raised inside a check that ran past its time limit."""


def call_with_timeout(fn, seconds: float, *args, **kwargs):
    """fn(*args, **kwargs), raising CheckTimeout after `seconds` of wall time."""
    use_alarm = (threading.current_thread() is threading.main_thread()
                 and hasattr(signal, "setitimer"))
    if use_alarm:
        def on_alarm(signum, frame):
            raise CheckTimeout()
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    box: dict = {}

    def target():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed over to the caller's thread
            box["error"] = exc
    worker = threading.Thread(target=target, daemon=True, name="xenlab-check")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise CheckTimeout()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _short_traceback(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    # Drop the runner's and the registry's own frames: the student needs their code and the check.
    keep = [f for f in frames if "xenlab/grading/runner.py" not in f.filename.replace("\\", "/")
            and "xenlab/grading/registry.py" not in f.filename.replace("\\", "/")]
    lines = traceback.format_list(keep) + traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def run_check(check, namespace: dict, seed: int, lang: str, timeout_scale: float = 1.0,
              grace: float = 0.0) -> dict:
    """Run one check; return {name, title, function, points, max_points, hidden, status, message, traceback}.

    Whatever the student's code raises, SystemExit and KeyboardInterrupt included, costs this check
    only. `grace` is added to the limit here when the limit is also enforced elsewhere (the grader's
    sandboxed worker stops the student's function itself after `seconds`).
    """
    ctx = Context(get_exercise(check.exercise), namespace, seed)
    result = {"name": check.name, "title": check.title_text(lang), "function": check.function,
              "points": 0, "max_points": check.points, "hidden": check.hidden,
              "status": "pass", "message": "", "traceback": ""}
    seconds = check.timeout_s * timeout_scale
    try:
        call_with_timeout(check.fn, seconds + grace, ctx)
        result["points"] = check.points
    except CheckTimeout:
        result["status"] = "timeout"
        result["message"] = t("check.timed_out", lang, seconds=f"{seconds:g}",
                              name=check.function or check.name)
    except CheckFailed as exc:
        result["status"] = "fail"
        result["message"] = exc.text(lang)
    except BaseException as exc:  # the student's code raised: say so first, then show where
        if type(exc).__name__ == "SubmissionGone":
            result["status"] = "error"
            result["message"] = t("grade.submission_gone", lang, why=str(exc))
            return result
        kind = getattr(exc, "kind", None) or type(exc).__name__
        text = getattr(exc, "message", None) if hasattr(exc, "kind") else str(exc)
        result["status"] = "error"
        result["message"] = t("check.raised", lang, name=check.function or check.name,
                              error=f"{kind}: {text}")
        result["traceback"] = getattr(exc, "student_traceback", None) or _short_traceback(exc)
    return result


def run_checks(exercise_id: str, namespace: dict, *, seed: int | None = None, hidden: bool = True,
               lang: str | None = None, timeout_scale: float = 1.0) -> list[dict]:
    """Run the exercise's checks (public, plus hidden when `hidden`) against a namespace."""
    ex = get_exercise(exercise_id)
    lang = lang or get_language()
    seed = variant_seed("", exercise_id) if seed is None else int(seed)
    return [run_check(c, namespace, seed, lang, timeout_scale) for c in ex.checks
            if hidden or not c.hidden]
