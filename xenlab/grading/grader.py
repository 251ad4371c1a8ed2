"""`xenlab grade`: execute submitted exercise notebooks in fresh kernels and run every check on them.

For one notebook: read it (a corrupt file scores zero with a message), find its exercise (notebook
metadata `xenlab.exercise`, else `exNN` in the file name), derive the student's variant seed from
(student id, exercise id), execute the notebook top to bottom in a fresh kernel with nbclient
(errors allowed, each cell under a time limit and the whole notebook under another), then run all
checks, public and hidden, on the functions left in the kernel's namespace and collect the results.

For a folder of per-student folders (`submissions/<student>/<anything>.ipynb`): grade every
notebook, keep going whatever one submission does, and write a gradebook (one row per student).

Known limitation: the checks run inside the student's kernel, so a determined student could tamper
with them from the notebook; the grader is built for honest mistakes (crashes, loops, typos).
"""
from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import tempfile
import time
from pathlib import Path

from xenlab.grading.registry import all_exercises, get_exercise, variant_seed
from xenlab.grading.runner import RESULT_MARKER
from xenlab.i18n import get_language, t

CELL_TIMEOUT_S = 30
NOTEBOOK_TIMEOUT_S = 120
EXERCISE_IN_NAME = re.compile(r"(ex\d+[a-z]?)(?=[_\-.]|$)")


def exercise_of(nb: dict | None, path: Path) -> str | None:
    meta = (nb or {}).get("metadata", {}).get("xenlab", {}) if isinstance(nb, dict) else {}
    if isinstance(meta, dict) and meta.get("exercise"):
        return str(meta["exercise"])
    m = EXERCISE_IN_NAME.search(Path(path).name)
    return m.group(1) if m else None


def _empty_report(path, student, exercise_id, lang) -> dict:
    report = {"student": student, "notebook": str(path), "exercise": exercise_id, "seed": None,
              "points": 0, "max_points": 0, "checks": [], "problems": [], "seconds": 0.0,
              "lang": lang}
    if exercise_id:
        try:
            ex = get_exercise(exercise_id)
            report["max_points"] = ex.max_points
            report["seed"] = variant_seed(student, exercise_id)
        except KeyError as exc:
            report["problems"].append(str(exc.args[0]))
            report["exercise"] = exercise_id
    return report


def _zero_checks(exercise_id: str, lang: str, message: str) -> list:
    ex = get_exercise(exercise_id)
    return [{"name": c.name, "title": c.title_text(lang), "function": c.function, "points": 0,
             "max_points": c.points, "hidden": c.hidden, "status": "error", "message": message,
             "traceback": ""} for c in ex.checks]


def _grading_cell(exercise_id: str, seed: int, lang: str, timeout_scale: float) -> dict:
    source = ("from xenlab.grading.runner import grade_namespace as __xenlab_grade\n"
              f"__xenlab_grade({exercise_id!r}, globals(), {seed}, {lang!r}, {timeout_scale!r})\n")
    return {"cell_type": "code", "execution_count": None, "id": "xenlab-grading",
            "metadata": {"xenlab_grading": True}, "outputs": [], "source": source}


def _cell_error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    return None


def _client_class():
    from nbclient import NotebookClient

    class GradingClient(NotebookClient):
        """Remembers which cells were stopped by their time limit."""
        timed_out: list

        async def _async_handle_timeout(self, timeout, cell=None):
            if cell is not None:
                self.timed_out.append((cell.get("id"), timeout))
            return await super()._async_handle_timeout(timeout, cell)
    return GradingClient


async def _execute(nb, workdir: str, env: dict, cell_timeout: float, grading_timeout: float,
                   deadline: float, timed_out: list):

    def timeout_for(cell):
        if cell.get("metadata", {}).get("xenlab_grading"):
            return int(grading_timeout) + 1
        return max(1, int(min(cell_timeout, deadline - time.monotonic())))

    client = _client_class()(
        nb, kernel_name="python3", timeout_func=timeout_for, allow_errors=True,
        interrupt_on_timeout=True, record_timing=False, shutdown_kernel="immediate",
        error_on_timeout={"ename": "CellTimeout", "evalue": f"cell stopped after its time limit"},
        resources={"metadata": {"path": workdir}},
    )
    client.timed_out = timed_out
    await client.async_execute(env=env, cwd=workdir)
    return nb


def grade_notebook(path, student: str | None = None, *, exercise_id: str | None = None,
                   lang: str | None = None, cell_timeout: float = CELL_TIMEOUT_S,
                   notebook_timeout: float = NOTEBOOK_TIMEOUT_S, timeout_scale: float = 1.0) -> dict:
    """Grade one submitted notebook; never raises for anything the submission does."""
    import nbformat

    path = Path(path)
    lang = lang or get_language()
    student = student or path.resolve().parent.name
    started = time.monotonic()
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # unreadable JSON, not a notebook, missing file
        report = _empty_report(path, student, exercise_id or exercise_of(None, path), lang)
        report["problems"].append(t("grade.corrupt", lang, error=f"{type(exc).__name__}: {exc}"))
        if report["exercise"] in all_exercises():
            report["checks"] = _zero_checks(report["exercise"], lang, t("grade.not_run", lang))
        return report
    exercise_id = exercise_id or exercise_of(nb, path)
    report = _empty_report(path, student, exercise_id, lang)
    if not exercise_id:
        report["problems"].append(t("grade.no_exercise", lang))
        return report
    if exercise_id not in all_exercises():
        return report
    ex = get_exercise(exercise_id)
    seed = report["seed"]
    nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get("xenlab_grading")]
    nb.cells.append(nbformat.from_dict(_grading_cell(exercise_id, seed, lang, timeout_scale)))
    grading_timeout = sum(c.timeout_s for c in ex.checks) * timeout_scale + 5
    env = {**os.environ, "XENLAB_GRADING": "1", "XENLAB_LANG": lang, "XENLAB_VARIANT_SEED": str(seed),
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    env.pop("JPY_SESSION_NAME", None)
    begin = time.monotonic()
    deadline = begin + notebook_timeout
    failure = None
    timed_out: list = []
    with tempfile.TemporaryDirectory(prefix="xenlab-grade-") as workdir:
        try:
            asyncio.run(asyncio.wait_for(
                _execute(nb, workdir, env, cell_timeout, grading_timeout, deadline, timed_out),
                timeout=notebook_timeout + grading_timeout))
        except Exception as exc:  # the overall limit, DeadKernelError and friends
            if time.monotonic() - begin >= notebook_timeout + grading_timeout - 0.5:
                failure = t("grade.notebook_timeout", lang, seconds=f"{notebook_timeout:g}")
            else:
                failure = t("grade.kernel_died", lang, error=f"{type(exc).__name__}: {exc}")
    stopped = {cell_id: seconds for cell_id, seconds in timed_out}
    errors = []
    for i, c in enumerate(nb.cells[:-1]):
        if c.get("cell_type") != "code":
            continue
        if c.get("id") in stopped:
            errors.append((i, t("grade.cell_timeout", lang, seconds=stopped[c.get("id")])))
        elif _cell_error(c):
            errors.append((i, _cell_error(c)))
    if errors:
        report["problems"].append(t("grade.cell_errors", lang, n=len(errors), first=errors[0][0] + 1,
                                    error=errors[0][1]))
    results = None
    for out in nb.cells[-1].get("outputs", []):
        text = out.get("text", "") if out.get("output_type") == "stream" else ""
        for line in text.splitlines():
            if line.startswith(RESULT_MARKER):
                results = json.loads(line[len(RESULT_MARKER):])
    if results is None:
        problem = failure or t("grade.no_result", lang, error=_cell_error(nb.cells[-1]) or "-")
        report["problems"].append(problem)
        results = _zero_checks(exercise_id, lang, t("grade.not_run", lang))
    elif failure:
        report["problems"].append(failure)
    report["checks"] = results
    report["points"] = sum(r["points"] for r in results)
    report["seconds"] = round(time.monotonic() - started, 2)
    return report


def find_submissions(folder: Path) -> dict[str, list[Path]]:
    """{student: notebooks} for a folder of per-student folders (or notebooks straight inside)."""
    folder = Path(folder)
    found: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir()):
        if p.is_dir() and not p.name.startswith("."):
            nbs = sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
            found[p.name] = nbs
        elif p.suffix == ".ipynb":
            found.setdefault(p.stem, []).append(p)
    return found


def grade_folder(folder, *, lang: str | None = None, on_report=None, jobs: int = 1,
                 **kwargs) -> list[dict]:
    """Grade every student's notebooks, `jobs` kernels at a time; one report per (student, notebook),
    plus a zero report for each exercise a student did not hand in."""
    from concurrent.futures import ThreadPoolExecutor

    lang = lang or get_language()
    submissions = find_submissions(Path(folder))
    work = [(student, nbpath) for student, notebooks in submissions.items() for nbpath in notebooks]
    reports = []
    with ThreadPoolExecutor(max_workers=max(1, int(jobs)), thread_name_prefix="xenlab-grade") as pool:
        futures = [pool.submit(grade_notebook, nbpath, student, lang=lang, **kwargs)
                   for student, nbpath in work]
        for future in futures:                      # in submission order, whatever finishes first
            report = future.result()
            reports.append(report)
            if on_report:
                on_report(report)
    seen_exercises = sorted({r["exercise"] for r in reports if r["exercise"]})
    for student in submissions:
        have = {r["exercise"] for r in reports if r["student"] == student}
        for ex_id in seen_exercises:
            if ex_id not in have:
                report = _empty_report(Path(folder) / student, student, ex_id, lang)
                report["problems"].append(t("grade.missing", lang, exercise=ex_id))
                reports.append(report)
    return reports


def write_gradebook(reports: list[dict], csv_path) -> int:
    """One row per student: points, maximum and variant seed per exercise, the total, the problems."""
    exercises = sorted({r["exercise"] for r in reports if r["exercise"]})
    students = list(dict.fromkeys(r["student"] for r in reports))
    header = ["student"]
    for ex in exercises:
        header += [ex, f"{ex}_max", f"{ex}_seed"]
    header += ["total", "max_total", "problems"]
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for student in students:
            mine = [r for r in reports if r["student"] == student]
            row = [student]
            total = max_total = 0
            for ex in exercises:
                best = max((r for r in mine if r["exercise"] == ex), key=lambda r: r["points"], default=None)
                if best is None:
                    row += [0, get_exercise(ex).max_points if ex in all_exercises() else 0, ""]
                    continue
                row += [best["points"], best["max_points"], best["seed"]]
                total += best["points"]
                max_total += best["max_points"]
            problems = "; ".join(f"{Path(r['notebook']).name}: {p}" for r in mine for p in r["problems"])
            row += [total, max_total, problems]
            writer.writerow(row)
    return len(students)


def format_report(report: dict, lang: str | None = None) -> str:
    """A report as text for the terminal."""
    lang = lang or report.get("lang") or get_language()
    status = {"pass": t("check.pass", lang), "fail": t("check.fail", lang),
              "timeout": t("check.timeout", lang), "error": t("check.error", lang)}
    lines = [f"{t('grade.student', lang)}: {report['student']}   {t('grade.exercise', lang)}: "
             f"{report['exercise']}   ({t('grade.seed', lang)} {report['seed']})   {report['notebook']}"]
    for p in report["problems"]:
        lines.append(f"  ! {p}")
    for r in report["checks"]:
        hidden = f" [{t('grade.hidden', lang)}]" if r["hidden"] else ""
        lines.append(f"  [{status[r['status']]}] {r['title']}{hidden}: {r['points']}/{r['max_points']}")
        if r["status"] != "pass" and r["message"]:
            lines.append(f"      {r['message']}")
    lines.append("  " + t("grade.total", lang, got=report["points"], max=report["max_points"]))
    return "\n".join(lines)
