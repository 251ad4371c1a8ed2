"""`xenlab.check("ex01")`: immediate feedback inside an exercise notebook.

It finds the student's functions in the namespace of the notebook that called it, runs the exercise's
public checks, and prints one line per check in the current language; for a failure it prints the
human message first and, when the student's code raised, a short traceback after it.
"""
from __future__ import annotations

import os
import sys

from xenlab.grading.registry import get_exercise
from xenlab.grading.runner import run_checks
from xenlab.i18n import get_language, t

_STATUS_KEY = {"pass": "check.pass", "fail": "check.fail", "timeout": "check.timeout",
               "error": "check.error"}


def _caller_namespace(depth: int = 2) -> dict:
    try:
        return sys._getframe(depth).f_globals
    except ValueError:
        return vars(sys.modules["__main__"])


def format_results(exercise_id: str, results: list[dict], hidden_count: int, lang: str) -> str:
    ex = get_exercise(exercise_id)
    lines = [t("check.header", lang, exercise=exercise_id, title=ex.title_text(lang))]
    for r in results:
        lines.append(t("check.line", lang, status=t(_STATUS_KEY[r["status"]], lang), title=r["title"],
                       points=t("grading.points", lang, n=r["max_points"])))
        if r["status"] != "pass":
            lines.append("    " + r["message"])
            if r["traceback"]:
                lines.append("    " + t("check.traceback", lang))
                lines.extend("      " + ln for ln in r["traceback"].splitlines())
    failed = sum(r["status"] != "pass" for r in results)
    got = sum(r["points"] for r in results)
    total = sum(r["max_points"] for r in results)
    lines.append(t("check.score", lang, got=got, max=total))
    if failed:
        lines.append(t("check.some_failed", lang, failed=failed, total=len(results)))
    elif hidden_count:
        lines.append(t("check.public_passed", lang, n=hidden_count))
    else:
        lines.append(t("check.all_passed", lang))
    return "\n".join(lines)


def check(exercise_id: str, namespace: dict | None = None) -> None:
    """Run the public checks of `exercise_id` on the functions defined in the calling notebook."""
    lang = get_language()
    if os.environ.get("XENLAB_GRADING") == "1":
        print(t("check.grading_mode", lang))
        return None
    ex = get_exercise(exercise_id)
    ns = namespace if namespace is not None else _caller_namespace()
    results = run_checks(exercise_id, ns, hidden=False, lang=lang)
    hidden_count = sum(c.hidden for c in ex.checks)
    print(format_results(exercise_id, results, hidden_count, lang))
    return None
