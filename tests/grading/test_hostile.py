"""Grading for marks against hostile submissions (issue 15).

One class is graded in one batch: an honest student and one student per attack that worked on the old,
in-kernel grader. The batch must complete, honest work must get full marks, and no attack may raise a
score above what the same functions earn honestly.
"""
import csv
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from xenlab.grading import get_exercise
from xenlab.grading.grader import export, grade_folder
from xenlab.grading import wire

from grading_helpers import ROOT, with_function_replaced, with_function_stubbed, write

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("hostile")]
SOLUTION = ROOT / "solutions" / "en" / "ex01_domain_states.ipynb"
CHECKS_FILE = ROOT / "xenlab" / "grading" / "checks" / "ex01_domain_states.py"


def _solution():
    return nbformat.read(str(SOLUTION), 4)


def _stub():
    nb = with_function_stubbed(_solution(), "xm_state_string")
    return with_function_stubbed(nb, "hypercall_allowed")


def _plus(nb, *cells, at=None):
    nb = nbformat.from_dict(nb)
    for i, src in enumerate(cells):
        cell = nbformat.v4.new_code_cell(src)
        if at is None:
            nb.cells.append(cell)
        else:
            nb.cells.insert(at + i, cell)
    return nb


def _processes_with(marker: bytes) -> list:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if marker in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    subs = base / "submissions"
    book = base / "marks" / "gradebook.sqlite"
    book.parent.mkdir()
    csv_path = base / "marks" / "grades.csv"
    sol = _solution()
    alice = write(sol, subs / "alice" / "ex01_domain_states.ipynb")
    alice_sha = hashlib.sha256(alice.read_bytes()).hexdigest()
    write(_plus(sol, "import os, signal\nfor pid in (os.getppid(), 1):\n    try:\n"
                     "        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n"
                     "os.killpg(0, signal.SIGKILL)", at=1),
          subs / "killer" / "ex01_domain_states.ipynb")
    write(_plus(sol, f"for p in [{str(alice)!r}, '../alice/ex01_domain_states.ipynb', {str(subs / 'zed.ipynb')!r}]:\n"
                     f"    try:\n        open(p, 'w').write('{{}}')\n    except OSError:\n        pass"),
          subs / "overwriter" / "ex01_domain_states.ipynb")
    write(_plus(sol, "import subprocess\nscript = 'sleep 2; echo hacked > " + str(book) + "; echo x > " + str(csv_path)
                + "'\nsubprocess.Popen(['sh', '-c', script], start_new_session=True)\n"
                  f"try:\n    open({str(book)!r}, 'w').write('hacked')\nexcept OSError:\n    pass"),
          subs / "gbwriter" / "ex01_domain_states.ipynb")
    write(_plus(sol, "import subprocess\nsubprocess.Popen(['sleep', '313'], start_new_session=True)\n"
                     "subprocess.Popen(['sh', '-c', 'nohup sleep 313 >/dev/null 2>&1 &'])"),
          subs / "sleeper" / "ex01_domain_states.ipynb")
    write(_plus(sol, "hog = bytearray(2 * 1024 ** 3)"), subs / "hog" / "ex01_domain_states.ipynb")
    write(_plus(_stub(),
                "try:\n    from xenlab.grading.checks.ex01_domain_states import reference_state_string as xm_state_string\n"
                "    from xenlab.grading.checks.ex01_domain_states import reference_hypercall_allowed as hypercall_allowed\n"
                "except Exception:\n    pass",
                f"try:\n    exec(open({str(CHECKS_FILE)!r}).read())\n    xm_state_string = reference_state_string\n"
                "    hypercall_allowed = reference_hypercall_allowed\nexcept Exception:\n    pass"),
          subs / "importer" / "ex01_domain_states.ipynb")
    sols = sorted(str(p) for p in (ROOT / "solutions").rglob("ex01*.ipynb"))
    write(_plus(_stub(), "import json\n"
                         f"for p in {sols!r}:\n"
                         "    try:\n        for c in json.load(open(p))['cells']:\n"
                         "            if c['cell_type'] == 'code':\n                exec(''.join(c['source']))\n"
                         "    except Exception:\n        pass"),
          subs / "solexec" / "ex01_domain_states.ipynb")
    write(_plus(_stub(),
                "import xenlab.grading.runner as R, xenlab.grading.registry as G\n"
                "R.grade_namespace = lambda *a, **k: print('XENLAB-GRADE-RESULT []')\n"
                "R.run_check = lambda check, *a, **k: {'name': check.name, 'points': check.points, 'status': 'pass'}\n"
                "G.expect = lambda *a, **k: None\nG.fail = lambda *a, **k: None\n"
                "def xm_state_string(*flags):\n    return 'garbage'\n"
                "def hypercall_allowed(domid, name):\n    return 'garbage'"),
          subs / "patcher" / "ex01_domain_states.ipynb")
    framer = with_function_replaced(sol, "xm_state_string",
                                    "import sys\nf = sys._getframe(1)\nwhile f is not None:\n"
                                    "    if isinstance(f.f_locals.get('want'), str):\n        return f.f_locals['want']\n"
                                    "    f = f.f_back\nreturn '------'")
    write(framer, subs / "framer" / "ex01_domain_states.ipynb")
    equal = with_function_replaced(sol, "xm_state_string",
                                   "class Yes(str):\n    def __eq__(self, other):\n        return True\n"
                                   "    def __ne__(self, other):\n        return False\n    __hash__ = str.__hash__\n"
                                   "return Yes('------')")
    equal = with_function_replaced(equal, "hypercall_allowed",
                                   "class Yes:\n    def __eq__(self, other):\n        return True\n"
                                   "    def __bool__(self):\n        return True\nreturn Yes()")
    write(equal, subs / "equal" / "ex01_domain_states.ipynb")
    write(with_function_replaced(sol, "xm_state_string", "return '------'"),
          subs / "constant" / "ex01_domain_states.ipynb")
    write(with_function_replaced(sol, "hypercall_allowed",
                                 "if name == 'dom0_op':\n    raise SystemExit(0)\n"
                                 "if name == 'console_io':\n    raise KeyboardInterrupt()\n"
                                 "return name in ('mmu_update',) or domid == 0"),
          subs / "exiter" / "ex01_domain_states.ipynb")
    write(sol, subs / "mallory" / "ex01_domain_states.ipynb")
    write(nbformat.read(str(ROOT / "solutions" / "en" / "ex09_front_ring.ipynb"), 4),
          subs / "mallory" / "ex09_front_ring.ipynb")
    write(with_function_replaced(sol, "hypercall_allowed",
                                 "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
                                 "    except BaseException:\n        pass"),
          subs / "staller" / "ex01_domain_states.ipynb")
    started = time.monotonic()
    reports = grade_folder(subs, exercises=["ex01"], gradebook=book, lang="en", jobs=2,
                           timeout_scale=0.2, cell_timeout=10, notebook_timeout=40)
    elapsed = time.monotonic() - started
    time.sleep(3)                      # the detached writer's moment, had it survived
    export(book, csv_path, exercises=["ex01"], lang="en")
    by = {r["student"]: r for r in reports}
    return {"by": by, "elapsed": elapsed, "alice": alice, "alice_sha": alice_sha, "book": book, "csv": csv_path,
            "subs": subs}


def _need_namespaces(report):
    if report["sandbox"] not in ("root", "userns") and os.environ.get("XENLAB_REQUIRE_SANDBOX") != "1":
        pytest.skip(f"this machine gives the grader sandbox tier {report['sandbox']!r} only")


def _points(report, function):
    return sum(r["points"] for r in report["checks"] if r["function"] == function)


def test_the_batch_completes_and_honest_work_gets_full_marks(batch):
    by, ex = batch["by"], get_exercise("ex01")
    assert set(by) == {"alice", "killer", "overwriter", "gbwriter", "sleeper", "hog", "importer", "solexec",
                       "patcher", "framer", "equal", "constant", "exiter", "mallory", "staller"}
    for honest in ("alice", "overwriter", "gbwriter", "sleeper", "mallory"):
        assert by[honest]["points"] == ex.max_points, (honest, by[honest])
    assert by["alice"]["problems"] == [] and by["alice"]["flags"] == []
    assert batch["elapsed"] < 240


def test_killing_the_grader_from_a_cell_only_stops_that_submission(batch):
    r = batch["by"]["killer"]
    # Its own process died, not the grader; the cell is skipped on a fresh run and the rest is graded.
    assert r["points"] == get_exercise("ex01").max_points and "skipped" in r["problems"][0], r


def test_a_submission_cannot_touch_other_files_or_outlive_grading(batch):
    _need_namespaces(batch["by"]["alice"])
    assert hashlib.sha256(batch["alice"].read_bytes()).hexdigest() == batch["alice_sha"]
    assert not (batch["subs"] / "zed.ipynb").exists()
    db = sqlite3.connect(str(batch["book"]))
    assert db.execute("SELECT count(*) FROM submissions").fetchone()[0] == 15
    rows = list(csv.DictReader(batch["csv"].open(encoding="utf-8")))
    assert len(rows) == 15 and "hacked" not in batch["book"].read_bytes()[:100].decode("latin-1")
    assert _processes_with(b"sleep\x00313") == []


def test_memory_is_limited(batch):
    r = batch["by"]["hog"]
    assert r["points"] == get_exercise("ex01").max_points
    assert any("MemoryError" in p for p in r["problems"]), r["problems"]


def test_references_solutions_and_the_grading_code_are_out_of_reach(batch):
    _need_namespaces(batch["by"]["alice"])
    for who in ("importer", "solexec", "patcher"):
        assert batch["by"][who]["points"] == 0, (who, batch["by"][who]["checks"])


def test_frames_and_hostile_eq_earn_no_more_than_an_honest_constant(batch):
    by = batch["by"]
    honest_constant = _points(by["constant"], "xm_state_string")
    assert honest_constant < get_exercise("ex01").points_for("xm_state_string")
    assert _points(by["framer"], "xm_state_string") == honest_constant
    assert _points(by["equal"], "xm_state_string") == honest_constant
    assert _points(by["equal"], "hypercall_allowed") == 0
    assert _points(by["framer"], "hypercall_allowed") == get_exercise("ex01").points_for("hypercall_allowed")


def test_systemexit_and_keyboardinterrupt_cost_one_check_each(batch):
    r = {c["name"]: c for c in batch["by"]["exiter"]["checks"]}
    ex = get_exercise("ex01")
    assert _points(batch["by"]["exiter"], "xm_state_string") == ex.points_for("xm_state_string")
    assert r["hc_domu_mmu_update"]["status"] == "pass"
    assert r["hc_domu_dom0_op"]["status"] == "error" and "SystemExit" in r["hc_domu_dom0_op"]["message"]
    assert r["hc_table"]["status"] in ("error", "fail")


def test_a_wrong_exercise_notebook_changes_only_its_owners_row(batch):
    rows = {row["student"]: row for row in csv.DictReader(batch["csv"].open(encoding="utf-8"))}
    ex = get_exercise("ex01")
    assert {row["max_total"] for row in rows.values()} == {str(ex.max_points)}
    assert "ex09" in rows["mallory"]["problems"]
    assert rows["alice"]["problems"] == ""


def test_the_time_limit_covers_the_checks(batch):
    r = batch["by"]["staller"]
    assert _points(r, "xm_state_string") == get_exercise("ex01").points_for("xm_state_string")
    assert {c["status"] for c in r["checks"] if c["function"] == "hypercall_allowed"} <= {"timeout", "error"}
    assert r["seconds"] < 90


def test_class_report_shows_the_distribution_and_the_most_failed_checks(batch, tmp_path):
    from xenlab.grading.class_report import summary, write
    import nbformat as nbf
    data = summary(batch["book"])["ex01"]
    assert data["students"] == 15 and data["max"] == get_exercise("ex01").max_points
    assert sum(n for _, n in data["histogram"]) == 15
    full = dict(data["histogram"])[data["max"]]
    assert full == sum(r["points"] == data["max"] for r in batch["by"].values())
    # hc_table fails for importer, solexec, patcher, equal, exiter, staller at least
    worst = {check: n for check, _, n, _ in data["failing"]}
    assert worst and max(worst.values()) >= 6
    write(batch["book"], tmp_path / "r.html", tmp_path / "r.ipynb")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<svg" in page and "ex01" in page and "15 students" in page
    report_nb = nbf.read(str(tmp_path / "r.ipynb"), 4)
    nbf.validate(report_nb)
    from nbclient import NotebookClient
    NotebookClient(report_nb, timeout=120, kernel_name="python3").execute()      # runs, plots
    assert "15 students" in "".join(o.get("text", "") for c in report_nb.cells for o in c.get("outputs", []))


def test_a_grader_killed_mid_batch_resumes_without_regrading(tmp_path):
    subs = tmp_path / "subs"
    sol = _solution()
    for s in ("s1", "s2", "s3", "s4"):
        write(sol, subs / s / "ex01_domain_states.ipynb")
    book = tmp_path / "book.sqlite"
    cmd = [sys.executable, "-m", "xenlab.cli", "grade", str(subs), "--exercise", "ex01", "--gradebook", str(book),
           "--jobs", "1", "--json"]
    env = {**os.environ, "XENLAB_LANG": "en"}
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and done < 1:
        time.sleep(0.2)
        if book.exists():
            try:
                done = sqlite3.connect(str(book)).execute("SELECT count(*) FROM submissions").fetchone()[0]
            except sqlite3.Error:
                pass
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    first = dict(sqlite3.connect(str(book)).execute("SELECT student, graded_at FROM submissions").fetchall())
    assert 1 <= len(first) < 4
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    after = dict(sqlite3.connect(str(book)).execute("SELECT student, graded_at FROM submissions").fetchall())
    assert set(after) == {"s1", "s2", "s3", "s4"}
    assert all(after[s] == first[s] for s in first)          # not graded again
    points = sqlite3.connect(str(book)).execute("SELECT DISTINCT points FROM submissions").fetchall()
    assert points == [(get_exercise("ex01").max_points,)]


def test_calling_the_models_own_implementation_is_flagged_not_penalised(tmp_path):
    nb = nbformat.read(str(ROOT / "solutions" / "en" / "ex09_front_ring.ipynb"), 4)
    body = ("from xenlab.xen.public.io.ring import SharedRing, FrontRing\n"
            "s = SharedRing(front.nr_ents, entry_size=8)\n"
            "s.req_prod, s.req_event = front.sring.req_prod, front.sring.req_event\n"
            "s.rsp_prod, s.rsp_event = front.sring.rsp_prod, front.sring.rsp_event\n"
            "m = FrontRing(s)\nm.req_prod_pvt, m.rsp_cons = front.req_prod_pvt, front.rsp_cons\n"
            "notify = m.push_requests_and_check_notify()\nfront.sring.req_prod = s.req_prod\nreturn notify")
    sub = write(with_function_replaced(nb, "push_requests_and_check_notify", body), tmp_path / "cc" / "ex09.ipynb")
    from xenlab.grading.grader import grade_notebook
    report = grade_notebook(sub, lang="en", timeout_scale=0.5)
    assert report["points"] == get_exercise("ex09").max_points
    assert report["flags"] == ["push_requests_and_check_notify: called the model's own "
                               "xenlab/xen/public/io/ring.py:push_requests_and_check_notify"]


def test_a_submission_cannot_point_the_graders_objects_at_files(tmp_path):
    nb = nbformat.read(str(ROOT / "solutions" / "en" / "ex10_blkback.ipynb"), 4)
    body = f"be.image = {str(CHECKS_FILE)!r}\nreturn be.read_sectors(0, 1)"
    sub = write(with_function_replaced(nb, "handle_request", body), tmp_path / "eve" / "ex10.ipynb")
    from xenlab.grading.grader import grade_notebook
    report = grade_notebook(sub, lang="en", timeout_scale=0.5)
    assert report["points"] == 0
    assert all("cannot be set from a submission" in c["message"] for c in report["checks"]), report["checks"]


def _probe_files(_):
    out = {}
    for p in (ROOT / "zzz-judge-probe", Path("/tmp/zzz-judge-probe")):
        try:
            p.write_text("x")
            p.unlink()
            out[str(p)] = "written"
        except OSError:
            out[str(p)] = "refused"
    out["checks"] = sorted(os.listdir(ROOT / "xenlab" / "grading" / "checks"))
    out["solutions"] = sorted(os.listdir(ROOT / "solutions"))
    return out


def test_the_judge_that_runs_checks_can_write_only_its_own_tmp():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from xenlab.grading.grader import _judge_init
    if os.geteuid() != 0 and os.environ.get("XENLAB_REQUIRE_SANDBOX") != "1":
        pytest.skip("the judge is confined only when grading as root")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"), initializer=_judge_init,
                             initargs=([],)) as pool:
        seen = pool.submit(_probe_files, 0).result()
    assert seen[str(ROOT / "zzz-judge-probe")] == "refused" and seen["/tmp/zzz-judge-probe"] == "written"
    assert seen["checks"] == [] and seen["solutions"] == []
    assert (ROOT / "xenlab" / "grading" / "checks" / "ex01_domain_states.py").exists()   # only in the judge


@pytest.mark.parametrize("data", [{"r": 1}, {"x": 1}, {"d": [[[1], 2]]}, {"b": "***"}, {"t": 5},
                                  {"d": [[1, 2, 3]]}, {"s": [[1]]}])
def test_the_wire_refuses_anything_but_plain_data(data):
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_the_wire_gives_plain_builtins():
    class Sneaky(int):
        def __eq__(self, other):
            return True
    sent = wire.encode([Sneaky(3), ("a", b"\x00"), {1: {2, 3}}])
    got = wire.decode(sent)
    assert got == [3, ("a", b"\x00"), {1: {2, 3}}] and type(got[0]) is int
    with pytest.raises(wire.WireError):
        wire.encode(object())


def test_the_channel_carries_what_checks_pass_in_the_current_style():
    """Named tuples and namespaces keep their field names, lists are edited in place, model objects are
    proxies with public methods, and a student object never reaches the grader."""
    import json as _json
    from collections import namedtuple
    from types import SimpleNamespace
    from xenlab.grading.remote import RemoteFunction, Session
    from xenlab.grading.sandbox import Sandbox, hidden_paths
    from xenlab.xen.public.io.ring import FrontRing, SharedRing

    code = ("def f(nt, ns, lst, front):\n"
            "    lst.append(nt.b + ns.x)\n    lst[0] = 'first'\n    ns.y = 'set by student'\n"
            "    front.sring.req_prod = front.req_prod_pvt\n"
            "    return (nt.a, ns.x, front.full(), len(lst))\n"
            "class Yes:\n    def __eq__(self, o):\n        return True\n"
            "def g():\n    return Yes()\n")
    nb = {"cells": [{"cell_type": "code", "source": code, "metadata": {}, "outputs": [], "execution_count": None}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    box = Sandbox(_json.dumps(nb).encode(), {"functions": ["f", "g"], "cell_timeout": 10, "notebook_timeout": 20},
                  hide=hidden_paths())
    session = Session(box, startup_timeout=30, notebook_timeout=20, cell_timeout=10)
    try:
        assert session.ready is not None and session.ready["defined"] == {"f": "callable", "g": "callable"}
        Pair = namedtuple("Pair", "a b", module="xenlab.grading.checks.ex99_example")   # as if a check defined it
        ns, lst = SimpleNamespace(x=5), ["zero"]
        s = SharedRing(8, entry_size=8)
        front = FrontRing(s)
        front.req_prod_pvt = 3
        f = RemoteFunction(lambda: session, "f", lambda: 5.0)
        got = f(Pair(1, 2), ns, lst, front)
        assert got == (1, 5, False, 2) and type(got) is tuple
        assert lst == ["first", 7] and ns.y == "set by student" and s.req_prod == 3
        with pytest.raises(Exception) as info:
            RemoteFunction(lambda: session, "g", lambda: 5.0)()
        assert "not plain data" in str(info.value)
    finally:
        session.close()
