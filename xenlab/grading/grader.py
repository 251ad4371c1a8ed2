"""`xenlab grade`: grading for marks, safe against what a submission does.

The trust boundary. A submission is hostile input. Its notebook runs in a sandbox (sandbox.py: a
private copy of the one file in its own directory, an unprivileged user when grading as root, its own
session and PID/mount/network namespaces, rlimits on memory, CPU, file size and processes; every
process it started is killed at the end). The checks, their hidden inputs and the references run
only here, in the grader, which calls the student's functions across a data-only channel (remote.py,
wire.py) and judges the plain values that come back; nothing in the submission's process can change a
score, read a reference or reach the solutions (the checks package, solutions/, course/ and git history
do not exist inside the sandbox).

Model objects. Several checks hand live model objects to the student (a front ring, the shared ring
page with a write hook, a back end's I/O object, a machine's memory, a grant map case). Decision: those
objects stay in the grader and the student's code gets proxies to them; each attribute read or write
or method call is a request the grader carries out on the real object (remote.py says what is
allowed: public names of the model's objects only). Plain arguments (lists, dicts) are copied in and
copied back after the call, so in-place edits work. The grader recomputes every reference itself from
the student's seed, in its own process, as the checks already do. So the check modules in
xenlab/grading/checks/ run unchanged, and a new one written in the same style needs nothing more.

For one notebook: read it (a corrupt file scores zero), find its exercise (from the assignment, else
notebook metadata `xenlab.exercise`, else `exNN` in the file name), derive the variant seed from
(student, exercise), run it in a sandbox, run every check, public and hidden; a check's exception of any
kind, SystemExit and KeyboardInterrupt included, costs that check only; each check has its own time
limit (grader-side as well), the notebook has its own. A student function that calls the model's own
implementation of the function it should write is flagged (not penalised).

For a class (`grade_folder`): the exercises come from the instructor's assignment (assignment.py);
each student's notebooks are graded in parallel grader processes; each result goes into the SQLite
gradebook (gradebook.py) as soon as it is known, and a batch started again skips what is already
graded (same notebook bytes, same settings). CSV export and one feedback file per student.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

from xenlab.grading.registry import all_exercises, get_exercise, variant_seed
from xenlab.i18n import get_language, t

CELL_TIMEOUT_S = 30
NOTEBOOK_TIMEOUT_S = 120
STARTUP_S = 30              # interpreter start and imports, on top of the notebook's own limit
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_STARTS = 3              # a submission that hangs a check is restarted at most this often
EXERCISE_IN_NAME = re.compile(r"(ex\d+[a-z]?)(?=[_\-.]|$)")


def exercise_of(nb: dict | None, path: Path) -> str | None:
    meta = (nb or {}).get("metadata", {}) if isinstance(nb, dict) else {}
    meta = meta.get("xenlab", {}) if isinstance(meta, dict) else {}
    if isinstance(meta, dict) and isinstance(meta.get("exercise"), str) and meta.get("exercise"):
        return str(meta["exercise"])[:40]
    m = EXERCISE_IN_NAME.search(Path(path).name)
    return m.group(1) if m else None


def _empty_report(path, student, exercise_id, lang) -> dict:
    report = {"student": student, "notebook": str(path), "exercise": exercise_id, "seed": None,
              "points": 0, "max_points": 0, "checks": [], "problems": [], "flags": [], "seconds": 0.0,
              "lang": lang, "sandbox": None, "sha256": None, "hints": 0}
    if exercise_id:
        try:
            ex = get_exercise(exercise_id)
            report["max_points"] = ex.max_points
            report["seed"] = variant_seed(student, exercise_id)
        except KeyError as exc:
            report["problems"].append(str(exc.args[0]))
    return report


def _zero_checks(exercise_id: str, lang: str, message: str) -> list:
    ex = get_exercise(exercise_id)
    return [{"name": c.name, "title": c.title_text(lang), "function": c.function, "points": 0,
             "max_points": c.points, "hidden": c.hidden, "status": "error", "message": message,
             "traceback": ""} for c in ex.checks]


def read_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"{size} bytes (the limit is {MAX_NOTEBOOK_BYTES})")
    return path.read_bytes()


def read_notebook(path: Path, raw: bytes | None = None):
    """(bytes, parsed notebook) or raises ValueError with the reason."""
    raw = read_bytes(path) if raw is None else raw
    try:
        nb = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("not a notebook (no list of cells)")
    return raw, nb


def grade_notebook(path, student: str | None = None, *, exercise_id: str | None = None,
                   lang: str | None = None, cell_timeout: float = CELL_TIMEOUT_S,
                   notebook_timeout: float = NOTEBOOK_TIMEOUT_S, timeout_scale: float = 1.0,
                   limits: dict | None = None, hide=(), uid: int = 65534, gid: int = 65534,
                   data: bytes | None = None) -> dict:
    """Grade one submitted notebook; never raises for anything the submission does.

    `data`: the notebook's bytes when the caller read them (a confined judge cannot see the folder)."""
    from xenlab.grading import sandbox as sb
    from xenlab.grading.remote import RemoteFunction, Session
    from xenlab.grading.runner import run_check

    path = Path(path)
    lang = lang or get_language()
    student = student or path.resolve().parent.name
    started = time.monotonic()
    try:
        raw, nb = read_notebook(path, data)
    except (OSError, ValueError) as exc:
        report = _empty_report(path, student, exercise_id or exercise_of(None, path), lang)
        report["problems"].append(t("grade.corrupt", lang, error=str(exc)))
        if report["exercise"] in all_exercises():
            report["checks"] = _zero_checks(report["exercise"], lang, t("grade.not_run", lang))
        return report
    exercise_id = exercise_id or exercise_of(nb, path)
    report = _empty_report(path, student, exercise_id, lang)
    report["sha256"] = hashlib.sha256(raw).hexdigest()
    if not exercise_id:
        report["problems"].append(t("grade.no_exercise", lang))
        return report
    if exercise_id not in all_exercises():
        return report
    from xenlab.grading.hints import hints_taken
    report["hints"] = hints_taken(nb, exercise_id)      # reported with the grade, never deducted
    ex = get_exercise(exercise_id)
    seed = report["seed"]
    watch = {f: [f] for f in ex.functions}
    worker_options = {"functions": list(ex.functions), "cell_timeout": cell_timeout,
                      "notebook_timeout": notebook_timeout}
    env = {"XENLAB_LANG": lang, "XENLAB_VARIANT_SEED": str(seed)}
    hidden = sb.hidden_paths(hide)
    box = {"session": None, "starts": 0}
    skip: list[int] = []

    def start():
        box["starts"] += 1
        sandbox = sb.Sandbox(raw, {**worker_options, "skip": skip}, hide=hidden, limits=limits, env=env,
                             uid=uid, gid=gid)
        box["session"] = Session(sandbox, startup_timeout=STARTUP_S, notebook_timeout=notebook_timeout,
                                 cell_timeout=cell_timeout, watch=watch)
        return box["session"]

    session = start()
    # A cell that hung past its limit (ignoring the interrupt) or killed its own process is skipped
    # on a fresh start, so it costs what depends on it, not the whole notebook.
    while session.ready is None and box["starts"] < MAX_STARTS:
        if session.stuck_cell is not None:
            skip.append(session.stuck_cell)
        elif session.dead == "timeout":
            break                             # the interpreter itself did not start in time
        session.close()                       # (a process that died before its first cell: once more)
        session = start()
    report["sandbox"] = session.tier
    if session.ready is None:
        why = session.dead or "?"
        problem = (t("grade.notebook_timeout", lang, seconds=f"{notebook_timeout:g}") if why == "timeout"
                   else t("grade.kernel_died", lang, error=why))
        report["problems"].append(problem)
        report["checks"] = _zero_checks(exercise_id, lang, t("grade.not_run", lang))
        report["seconds"] = round(time.monotonic() - started, 2)
        session.close()
        return report
    ready = session.ready
    cells = []
    for i in ready.get("stopped", []) if isinstance(ready.get("stopped"), list) else []:
        if type(i) is int:
            cells.append((i, t("grade.cell_timeout", lang, seconds=f"{cell_timeout:g}")))
    for item in ready.get("errors", []) if isinstance(ready.get("errors"), list) else []:
        if isinstance(item, list) and len(item) == 2 and type(item[0]) is int:
            cells.append((item[0], str(item[1])[:500]))
    for i in skip:
        cells.append((i, t("grade.cell_skipped", lang, seconds=f"{cell_timeout:g}")))
    cells.sort(key=lambda c: c[0])
    if cells:
        report["problems"].append(t("grade.cell_errors", lang, n=len(cells), first=cells[0][0] + 1,
                                    error=cells[0][1]))
    defined = ready.get("defined") if isinstance(ready.get("defined"), dict) else {}
    current = {"timeout": 5.0}
    namespace = {}
    for name in ex.functions:
        state = defined.get(name)
        if state == "callable":
            namespace[name] = RemoteFunction(lambda: box["session"], name, lambda: current["timeout"])
        elif state == "not_callable":
            namespace[name] = 0
    results = []
    for check in ex.checks:
        s = box["session"]
        if s.dead is not None and box["starts"] < MAX_STARTS:
            s.close()
            s = start()
        current["timeout"] = check.timeout_s * timeout_scale
        if s.dead is not None:
            results.append({**_zero_checks(exercise_id, lang, "")[ex.checks.index(check)],
                            "message": t("grade.submission_gone", lang, why=s.dead)})
            continue
        results.append(run_check(check, namespace, seed, lang, timeout_scale, grace=1.0))
    for s in {id(box["session"]): box["session"]}.values():
        report["flags"] = list(s.flags)
        s.close()
    report["checks"] = results
    report["points"] = sum(r["points"] for r in results)
    report["seconds"] = round(time.monotonic() - started, 2)
    return report


# --- a class --------------------------------------------------------------------------------------------

def find_submissions(folder: Path) -> dict[str, list[Path]]:
    """{student: notebooks} for a folder of per-student folders (or notebooks straight inside)."""
    folder = Path(folder)
    found: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir()):
        if p.is_symlink():
            continue
        if p.is_dir() and not p.name.startswith("."):
            nbs = sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts
                         and not q.is_symlink())
            found[p.name] = nbs
        elif p.suffix == ".ipynb":
            found.setdefault(p.stem, []).append(p)
    return found


def plan(folder, exercises: list, lang: str):
    """What to grade: ([(student, exercise, notebook)], {student: [notes]}) for the assignment's exercises."""
    work, notes = [], {}
    for student, notebooks in find_submissions(Path(folder)).items():
        notes[student] = []
        mine: dict[str, list[Path]] = {}
        for nbpath in notebooks:
            try:
                _, nb = read_notebook(nbpath)
            except (OSError, ValueError):
                nb = None
            ex = exercise_of(nb, nbpath)
            if ex in exercises:
                mine.setdefault(ex, []).append(nbpath)
            else:
                notes[student].append(t("grade.not_in_assignment", lang, notebook=nbpath.name,
                                        exercise=ex or "?"))
        for ex in exercises:
            candidates = mine.get(ex, [])
            if not candidates:
                notes[student].append(t("grade.missing", lang, exercise=ex))
                continue
            # Several notebooks for one exercise: the one named like the course's file, else the first.
            chosen = next((c for c in candidates if c.name.startswith(ex + "_")), candidates[0])
            if len(candidates) > 1:
                notes[student].append(t("grade.several", lang, exercise=ex, notebook=chosen.name))
            work.append((student, ex, chosen))
    return work, notes


def _safe_to_hide(p: Path) -> bool:
    """A folder may be covered in the sandbox unless the interpreter or the package lives inside it."""
    import sys
    import xenlab
    p = p.resolve()
    needed = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
              Path(xenlab.__file__).resolve().parent] + [Path(q).resolve() for q in sys.path if q]
    return not any(n == p or p in n.parents for n in needed) and p != Path("/")


def _judge(job: dict) -> dict:
    return grade_notebook(**job)


def _judge_init(hide) -> None:
    from xenlab.grading.sandbox import confine_judge
    confine_judge(hide)


def grade_one(path, student: str | None = None, **kwargs) -> dict:
    """`grade_notebook` in a confined judge process (what `xenlab grade NOTEBOOK` uses)."""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing
    path = Path(path).resolve()
    hide = [str(path.parent)] + list(kwargs.get("hide", ()))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"), initializer=_judge_init,
                             initargs=(hide,)) as pool:
        try:
            data = read_bytes(path)
        except (OSError, ValueError):
            data = None                       # the judge reports it as unreadable
        return pool.submit(_judge, {"path": str(path), "student": student or path.parent.name, "data": data,
                                    **kwargs}).result()


def grade_folder(folder, *, assignment=None, exercises=None, gradebook=None, lang: str | None = None,
                 on_report=None, jobs: int = 1, resume: bool = True, **kwargs) -> list[dict]:
    """Grade a class; returns one report per (student, exercise) of the assignment.

    `assignment` (assignment.Assignment) or `exercises` (a list of ids) says what counts. Each finished
    notebook is written to `gradebook` (a path; default: <folder>.gradebook.sqlite next to the folder)
    at once; with `resume`, notebooks already graded there (same bytes, same settings) are not graded again.
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool
    import multiprocessing

    from xenlab.grading.assignment import Assignment
    from xenlab.grading.gradebook import Gradebook

    lang = lang or get_language()
    folder = Path(folder).resolve()
    if assignment is None:
        if not exercises:
            raise ValueError("grade_folder needs the assignment's exercises (an assignment file or a list)")
        assignment = Assignment(name=folder.name, exercises=list(exercises))
    for key, attr in (("cell_timeout", "cell_timeout"), ("notebook_timeout", "notebook_timeout"),
                      ("timeout_scale", "timeout_scale")):
        if key in kwargs:
            setattr(assignment, attr, kwargs.pop(key))
    gradebook = Path(gradebook) if gradebook else folder.with_name(folder.name + ".gradebook.sqlite")
    book = Gradebook(gradebook)
    fingerprint = assignment.fingerprint()
    work, notes = plan(folder, assignment.exercises, lang)
    book.clear_notes()
    for student, items in notes.items():
        for n in items:
            book.note(student, n)
    hide = [str(folder)] + list(assignment.hide)
    for p in (gradebook.resolve().parent,):
        hide.append(str(p) if _safe_to_hide(p) else str(gradebook.resolve()))
    options = {"lang": lang, "cell_timeout": assignment.cell_timeout,
               "notebook_timeout": assignment.notebook_timeout, "timeout_scale": assignment.timeout_scale,
               "limits": assignment.limits(), "hide": hide, "uid": assignment.uid, "gid": assignment.gid,
               **kwargs}
    reports: dict[tuple, dict] = {}
    todo = []
    for student, ex, nbpath in work:
        try:
            sha = hashlib.sha256(nbpath.read_bytes()).hexdigest()
        except OSError:
            sha = None
        if resume and sha and book.done(student, ex, sha, fingerprint):
            reports[(student, ex)] = book.report(student, ex)
            continue
        todo.append({"path": str(nbpath), "student": student, "exercise_id": ex, **options})

    def finished(report):
        book.record(report, fingerprint)
        reports[(report["student"], report["exercise"])] = report
        if on_report:
            on_report(report)

    ctx = multiprocessing.get_context("forkserver")

    def with_bytes(job):
        try:
            return {**job, "data": read_bytes(Path(job["path"]))}
        except (OSError, ValueError):
            return job                        # the judge then reports the file as unreadable

    while todo:
        failed = []
        with ProcessPoolExecutor(max_workers=max(1, int(jobs)), mp_context=ctx, initializer=_judge_init,
                                 initargs=(hide,)) as pool:
            queue = list(todo)
            running = {}
            while queue or running:
                # A few notebooks in flight at a time: memory stays bounded whatever the class size.
                while queue and len(running) < 2 * max(1, int(jobs)):
                    job = queue.pop(0)
                    running[pool.submit(_judge, with_bytes(job))] = job
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    try:
                        finished(future.result())
                    except BrokenProcessPool:
                        failed.append(job)
                    except Exception as exc:  # a bug in the grader itself: say so, keep going
                        rep = _empty_report(job["path"], job["student"], job["exercise_id"], lang)
                        rep["problems"].append(t("grade.grader_error", lang, error=f"{type(exc).__name__}: {exc}"))
                        finished(rep)
                if failed and not running:
                    failed += queue
                    queue = []
        if len(failed) == len(todo):          # the pool itself cannot run: grade them one by one here
            for job in failed:
                finished(grade_notebook(**with_bytes(job)))
            failed = []
        todo = failed
    book.close()
    out = []
    for student in find_submissions(folder):
        for ex in assignment.exercises:
            rep = reports.get((student, ex))
            if rep is None:
                rep = _empty_report(folder / student, student, ex, lang)
                rep["problems"].append(t("grade.missing", lang, exercise=ex))
            out.append(rep)
    return out


def export(gradebook, csv_path=None, feedback_dir=None, *, exercises=None, lang: str | None = None) -> int:
    """The gradebook as CSV (one row per student) and/or one feedback text file per student."""
    from xenlab.grading.gradebook import Gradebook
    lang = lang or get_language()
    book = Gradebook(gradebook)
    if exercises is None:
        exercises = sorted({r[0] for r in book.db.execute("SELECT DISTINCT exercise FROM submissions")})
    known = all_exercises()
    max_points = {e: known[e].max_points if e in known else 0 for e in exercises}
    n = len(book.students())
    if csv_path:
        book.export_csv(csv_path, exercises, max_points)
    if feedback_dir:
        Path(feedback_dir).mkdir(parents=True, exist_ok=True)
        for s in book.students():
            parts = [f"{t('grade.student', lang)}: {s}"] + [f"! {n_}" for n_ in book.notes(s)]
            for ex in exercises:
                rep = book.report(s, ex)
                if rep:
                    parts.append(format_report(rep, lang))
            safe = re.sub(r"[^A-Za-z0-9_.@-]", "_", s) or "_"
            (Path(feedback_dir) / f"{safe}.txt").write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    book.close()
    return n


def write_gradebook(reports: list[dict], csv_path, exercises=None) -> int:
    """One row per student from a list of reports (for `xenlab grade` without a gradebook file)."""
    import csv
    exercises = exercises or sorted({r["exercise"] for r in reports if r["exercise"] in all_exercises()})
    known = all_exercises()
    students = list(dict.fromkeys(r["student"] for r in reports))
    header = ["student"]
    for ex in exercises:
        header += [ex, f"{ex}_max", f"{ex}_seed"]
    header += ["total", "max_total", "problems", "flags"]
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for student in students:
            mine = [r for r in reports if r["student"] == student]
            row, total = [student], 0
            for ex in exercises:
                rep = next((r for r in mine if r["exercise"] == ex), None)
                points = rep["points"] if rep else 0
                row += [points, known[ex].max_points, rep["seed"] if rep else ""]
                total += points
            problems = "; ".join(f"{Path(r['notebook']).name}: {p}" for r in mine for p in r["problems"])
            flags = "; ".join(f for r in mine for f in r.get("flags", []))
            row += [total, sum(known[e].max_points for e in exercises), problems, flags]
            writer.writerow(row)
    return len(students)


def format_report(report: dict, lang: str | None = None) -> str:
    """A report as text for the terminal."""
    lang = lang or report.get("lang") or get_language()
    status = {"pass": t("check.pass", lang), "fail": t("check.fail", lang),
              "timeout": t("check.timeout", lang), "error": t("check.error", lang)}
    lines = [f"{t('grade.student', lang)}: {report['student']}   {t('grade.exercise', lang)}: "
             f"{report['exercise']}   ({t('grade.seed', lang)} {report['seed']})   {report['notebook']}"]
    if report.get("sandbox") in ("none", "user"):
        lines.append(f"  ! {t('grade.weak_sandbox', lang, tier=report['sandbox'])}")
    for p in report["problems"]:
        lines.append(f"  ! {p}")
    for f in report.get("flags", []):
        lines.append(f"  ? {t('grade.flag', lang, what=f)}")
    for r in report["checks"]:
        hidden = f" [{t('grade.hidden', lang)}]" if r["hidden"] else ""
        lines.append(f"  [{status.get(r['status'], r['status'])}] {r['title']}{hidden}: {r['points']}/{r['max_points']}")
        if r["status"] != "pass" and r["message"]:
            lines.append(f"      {r['message']}")
    lines.append("  " + t("grade.total", lang, got=report["points"], max=report["max_points"]))
    return "\n".join(lines)
