"""xen/sched/plugged.py: Xen's BVT, Atropos and Credit with one step given as a function (exercise 07).

With the exercise's reference functions the schedule is Xen's, decision by decision; NotImplemented
and unusable answers leave the step to Xen (and are recorded); the variants run in the scheduler lab."""
import pytest

from xenlab.grading.checks import ex07_schedulers as R
from xenlab.viz.schedlab import default_domains, lab_key, simulate
from xenlab.xen.sched import get_scheduler
from xenlab.xen.sched.plugged import plug_scheduler

MS = 1_000_000


def _same(a, b, duration=400 * MS):
    ra, rb = simulate(a, default_domains(), duration), simulate(b, default_domains(), duration)
    return [d[:3] for d in ra.decisions] == [d[:3] for d in rb.decisions] and len(ra.decisions) > 20


@pytest.mark.parametrize("base, fns", [
    ("bvt", {"charge": R.ref_bvt_charge, "pick": R.ref_bvt_pick}),
    ("atropos", {"pick": R.ref_atropos_pick}),
    ("credit", {"acct": R.ref_credit_acct}),
])
def test_reference_functions_give_xens_schedule(base, fns):
    cls = plug_scheduler(base, f"test-{base}", **fns)
    assert cls.variant_of == base and lab_key(f"test-{base}") == base
    assert _same(base, f"test-{base}")
    assert cls.problems == []


def test_not_implemented_leaves_the_step_to_xen():
    ni = lambda *a: NotImplemented
    plug_scheduler("bvt", "test-bvt-ni", charge=ni, pick=ni)
    assert _same("bvt", "test-bvt-ni")


def test_unusable_answers_are_recorded_not_raised():
    cls = plug_scheduler("bvt", "test-bvt-bad", pick=lambda q, ctx: ("nobody", 0))
    assert _same("bvt", "test-bvt-bad")
    assert cls.problems and "not on the run queue" in cls.problems[0]
    cls = plug_scheduler("atropos", "test-at-bad", pick=lambda rq, wq, now, i: (None, 0, i))
    assert _same("atropos", "test-at-bad") and "positive" in cls.problems[0]
    cls = plug_scheduler("credit", "test-cr-bad", acct=lambda d, c: {})
    assert _same("credit", "test-cr-bad") and "per active vcpu" in cls.problems[0]


def test_a_different_pick_changes_the_schedule():
    def worst(runq, ctx_allow):                    # highest evt first: the opposite of BVT
        best = max(runq, key=lambda d: d["evt"])
        return best["name"], ctx_allow
    plug_scheduler("bvt", "test-bvt-worst", pick=worst)
    assert not _same("bvt", "test-bvt-worst")


def test_plug_scheduler_refuses_unknown_steps():
    with pytest.raises(ValueError, match="no step"):
        plug_scheduler("bvt", "test-x", acct=R.ref_credit_acct)
    with pytest.raises(ValueError, match="no pluggable"):
        plug_scheduler("sedf", "test-y", pick=R.ref_bvt_pick)
    plug_scheduler("bvt", "test-bvt-again", pick=R.ref_bvt_pick)
    cls = plug_scheduler("bvt", "test-bvt-again", charge=R.ref_bvt_charge)   # a cell run twice: replaced
    assert get_scheduler("test-bvt-again") is cls and set(cls.functions) == {"charge"}


def test_student_schedulers_in_the_lab():
    pytest.importorskip("bqplot")
    from xenlab.viz.ex07 import playground
    stub = lambda *a: (_ for _ in ()).throw(NotImplementedError)
    lab = playground(R.ref_rr, R.ref_bvt_charge, R.ref_bvt_pick, R.ref_atropos_pick, R.ref_credit_acct,
                     duration_ns=200 * MS)
    assert {"ex07-bvt", "ex07-atropos", "ex07-credit", "bvt"} <= set(lab.sched.options)
    lab.sched.value = "ex07-atropos"
    assert ("video", "period_ms") in lab.sliders and not lab.errors
    lab = playground(R.ref_rr, stub, stub, stub, stub, duration_ns=200 * MS)
    assert "ex07-credit" in lab.sched.options
