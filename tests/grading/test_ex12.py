"""Exercise 12: the reference answers agree with the cost model (lmbench's rows, the predicted Figure 3),
get full marks in-process; stubs get zero; typical mistakes lose their function's points."""
import pytest

from xenlab.grading.checks import ex12_perf_model as E12
from xenlab.grading.runner import run_checks
from xenlab.i18n import t
from xenlab.perf import costs, predict


def stub(*args):
    raise NotImplementedError("stub")


NS = {"mechanism_price": E12.reference_price, "relative_score": E12.reference_score}


def test_reference_price_is_the_calibrations_mechanism_for_a_one_mechanism_row():
    # a context switch on Xen is two hypercalls and nothing else: the row gives the hypercall's price
    assert E12.reference_price(0.77, 1.97, 2) == pytest.approx(0.6)
    model = costs.calibrate()["x_hyp"]
    assert E12.reference_price(0.77, 1.97, 2) == pytest.approx(model, rel=0.05)


@pytest.mark.parametrize("seed", [0, 7])
def test_reference_gets_full_marks_and_stub_zero(seed):
    results = run_checks("ex12", NS, hidden=True, seed=seed, lang="en")
    assert all(r["status"] == "pass" for r in results), results
    results = run_checks("ex12", {k: stub for k in NS}, hidden=True, seed=seed)
    assert sum(r["points"] for r in results) == 0


def _lost(ns):
    results = run_checks("ex12", ns, hidden=True, seed=3, lang="en")
    return {r["name"] for r in results if r["status"] != "pass"}, {r["function"] for r in results if r["status"] != "pass"}


def test_typical_mistakes_are_caught():
    def inverted(mix, nat, plat, compute):                   # time on P over time on L
        return 1 / E12.reference_score(mix, nat, plat, compute)

    def no_compute(mix, nat, plat, compute):                 # forgets the user-mode work
        return E12.reference_score(mix, nat, plat, 0.0)

    def extra_only(mix, nat, plat, compute):                 # divides native time by the extra time only
        t_l = compute + sum(n * nat[op] for op, n in mix.items())
        return t_l / (t_l + sum(n * (plat[op] - nat[op]) for op, n in mix.items()) * 2)

    def not_divided(native, platform, times):                # the whole difference, not per mechanism
        return platform - native

    def ratio(native, platform, times):                      # a slowdown factor instead of a price
        return platform / native

    for fn in (inverted, no_compute, extra_only):
        names, funcs = _lost(dict(NS, relative_score=fn))
        assert funcs == {"relative_score"} and names, fn.__name__
    for fn in (not_divided, ratio):
        names, funcs = _lost(dict(NS, mechanism_price=fn))
        assert funcs == {"mechanism_price"} and names, fn.__name__


def test_the_student_score_plugs_into_the_chart():
    from xenlab import perf
    from xenlab.viz.perf_model import student_inputs
    t3 = perf.lmbench("table3_processes_us")
    price, score, model, notes = student_inputs(E12.reference_price, E12.reference_score, t3)
    assert price == pytest.approx(24.25) and not notes
    assert score == pytest.approx(model)                     # the student's formula is the model's
    assert model != predict.predict()["OSDB-OLTP"][3]        # the student's ptrace price moved the bar
    price, score, model, notes = student_inputs(stub, stub, t3)
    assert price is None and score is None
    assert notes == "; ".join(t("perf.ex12.not_written", fn=f) for f in ("mechanism_price", "relative_score"))
