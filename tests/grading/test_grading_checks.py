"""The check machinery in-process (no kernel): reference answers pass, stubs fail, loops time out."""
import pytest

from xenlab.grading import all_exercises, get_exercise, variant_seed
from xenlab.grading.checks import ex01_domain_states as ex01
from xenlab.grading.notebook import check
from xenlab.grading.runner import run_checks
from xenlab.i18n import set_language


def reference_ns():
    return {"xm_state_string": ex01.reference_state_string,
            "hypercall_allowed": ex01.reference_hypercall_allowed,
            "HYPERCALLS_30": dict(ex01.HYPERCALLS_30_X86_32)}


def stub(*args, **kwargs):
    raise NotImplementedError("exercise ex01: stub")


def test_every_exercise_declares_points_on_its_functions():
    for ex in all_exercises().values():
        assert ex.checks, ex.id
        assert any(c.hidden for c in ex.checks) and any(not c.hidden for c in ex.checks)
        for fn in ex.functions:
            assert ex.points_for(fn) > 0, f"{ex.id}: no check on {fn}"
        assert sum(ex.points_for(fn) for fn in ex.functions) == ex.max_points


def test_reference_gets_full_marks():
    results = run_checks("ex01", reference_ns(), seed=123)
    assert [r["status"] for r in results] == ["pass"] * len(results)
    assert sum(r["points"] for r in results) == get_exercise("ex01").max_points == 11


def test_stubs_get_zero():
    results = run_checks("ex01", {"xm_state_string": stub, "hypercall_allowed": stub}, lang="en")
    assert sum(r["points"] for r in results) == 0
    assert all("not written yet" in r["message"] for r in results)


def test_missing_function_is_a_failure_with_a_message():
    results = run_checks("ex01", {}, lang="pl")
    assert all(r["status"] == "fail" for r in results)
    assert "nie jest zdefiniowana" in results[0]["message"]


@pytest.mark.parametrize("broken", ["xm_state_string", "hypercall_allowed"])
def test_one_broken_function_loses_exactly_its_points(broken):
    ns = reference_ns()
    ns[broken] = lambda *a: "wrong"
    results = run_checks("ex01", ns, seed=7)
    lost = {r["function"] for r in results if r["status"] != "pass"}
    assert lost == {broken}
    ex = get_exercise("ex01")
    assert sum(r["points"] for r in results) == ex.max_points - ex.points_for(broken)


def test_an_infinite_loop_is_reported_as_timeout():
    def looping(domid, name):
        while True:
            pass
    ns = reference_ns() | {"hypercall_allowed": looping}
    results = run_checks("ex01", ns, timeout_scale=0.02)  # 0.1 s per check
    timeouts = [r for r in results if r["status"] == "timeout"]
    assert {r["function"] for r in timeouts} == {"hypercall_allowed"}
    assert all(r["points"] == 0 for r in timeouts)


def test_a_loop_that_swallows_exceptions_is_still_stopped():
    def stubborn(*flags):
        while True:
            try:
                pass
            except Exception:
                pass
    results = run_checks("ex01", reference_ns() | {"xm_state_string": stubborn}, timeout_scale=0.02)
    assert {r["status"] for r in results if r["function"] == "xm_state_string"} == {"timeout"}


def test_an_exception_shows_message_before_traceback(capsys):
    def crashing(domid, name):
        return {}[name]
    set_language("en")
    try:
        check("ex01", namespace=reference_ns() | {"hypercall_allowed": crashing})
    finally:
        set_language("pl")
    out = capsys.readouterr().out
    assert "hypercall_allowed raised KeyError" in out
    assert out.index("raised KeyError") < out.index("Traceback")
    assert "grading/runner.py" not in out


def test_public_pass_mentions_hidden_checks_in_polish(capsys):
    set_language("pl")
    check("ex01", namespace=reference_ns())
    out = capsys.readouterr().out
    assert "Wszystkie jawne sprawdzenia zaliczone; 3 ukryte sprawdzenia zostaną uruchomione" in out
    assert "ukryte" not in out.split("Jawne sprawdzenia")[0]  # hidden checks are not listed


def test_public_messages_do_not_give_the_answer_away():
    wrong = reference_ns() | {"xm_state_string": lambda *f: "x" * 6,
                              "hypercall_allowed": lambda d, n: "maybe"}
    for r in run_checks("ex01", wrong, hidden=False, lang="en"):
        assert r["status"] == "fail"
        assert "r-----" not in r["message"] and "rbpscd" not in r["message"]


def test_variant_seed_is_stable_and_depends_on_student_and_exercise():
    assert variant_seed("alice", "ex01") == variant_seed("alice", "ex01")
    assert variant_seed("alice", "ex01") != variant_seed("bob", "ex01")
    assert variant_seed("alice", "ex01") != variant_seed("alice", "ex02")
    assert 0 <= variant_seed("alice", "ex01") < 2**32
