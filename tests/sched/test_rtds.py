"""RTDS (X@master:xen/common/sched/rt.c; xen-facts 9f): budgets per period, global EDF, extratime, xl."""
import pytest

from sched_helpers import MS, S, machine_with, share
from xenlab.guest.workload import interactive, periodic
from xenlab.toolstack import XmError, xm
from xenlab.xen.public import errno as E
from xenlab.xen.sched import rtds as R
from xenlab.sched_lab import window_times


def rt(period_us, budget_us, extratime=0):
    return {"sched_params": {"period": period_us, "budget": budget_us, "extratime": extratime}}


def per_period(m, rec, d, count):
    """CPU time of ``d`` in each of its next ``count`` periods, from a period start (a deadline) on."""
    svc = d.vcpus[0].sched_priv
    start = svc.cur_deadline
    m.run(start + count * svc.period)
    return window_times(rec.all_intervals(), d.domain_id, start, svc.period, count)


def _quiet_dom0(m):
    assert m.scheduler.adjust(m.dom0, {"period": 10000, "budget": 500}) == 0


def test_constants_are_xens():
    assert (R.RTDS_DEFAULT_PERIOD, R.RTDS_DEFAULT_BUDGET) == (10 * MS, 4 * MS)
    assert R.RTDS_MIN_PERIOD == R.RTDS_MIN_BUDGET == 10_000
    assert R.XEN_DOMCTL_SCHEDRT_extra == 1 and R.RTDS.sched_id == 8          # H:domctl.h


def test_defaults_10000_4000():
    m, (a,), _ = machine_with("rtds", [("a", "idle", {})])
    p = m.scheduler.get_params(a)
    assert (p["period"], p["budget"]) == (10000, 4000)


def test_fitting_budgets_are_received_every_period_and_no_more_on_one_pcpu():
    # sum(budget/period) = 0.2 + 0.6 + 0.1 + dom0 0.05 <= 1: EDF on one pCPU meets every deadline.
    m, (a, b, c), rec = machine_with("rtds", [("a", None, rt(10000, 2000)), ("b", None, rt(5000, 3000)),
                                              ("c", None, rt(20000, 2000))])
    _quiet_dom0(m)
    m.run(100 * MS)
    for d, budget in ((a, 2 * MS), (b, 3 * MS), (c, 2 * MS)):
        got = per_period(m, rec, d, 20)
        assert got == [budget] * 20, d.name
    assert share(a, m.now / S) == pytest.approx(0.2, abs=0.01)


def test_unused_budget_is_discarded_at_the_period_start():
    m, (a,), _ = machine_with("rtds", [("a", "idle", rt(10000, 4000))])
    s, svc = m.scheduler, a.vcpus[0].sched_priv
    svc.cur_budget, d0 = 1 * MS, svc.cur_deadline
    s._update_deadline(d0, svc)
    assert svc.cur_budget == 4 * MS and svc.cur_deadline == d0 + 10 * MS      # not 5 ms: no carry-over
    s._update_deadline(d0 + 35 * MS, svc)                                    # woke 3.5 periods late
    assert svc.cur_deadline == d0 + 40 * MS                                  # stays on its period grid


def test_extratime_gets_the_spare_time_at_lowest_priority():
    # a (no extratime) keeps exactly its budget; x (extratime) gets its budget plus what is left.
    m, (a, x), rec = machine_with("rtds", [("a", None, rt(10000, 3000)), ("x", None, rt(10000, 2000, 1))])
    _quiet_dom0(m)
    m.run(100 * MS)
    assert per_period(m, rec, a, 20) == [3 * MS] * 20
    got = per_period(m, rec, x, 20)
    assert min(got) >= 2 * MS and sum(got) / 20 > 6 * MS
    levels = [d[5]["priority_level"] for d in rec.decisions if d[2] == x.domain_id and d[5]]
    assert max(levels) >= 1                                    # ran beyond its budget, one level down


def test_without_extratime_a_hog_gets_only_its_budget():
    m, (a,), rec = machine_with("rtds", [("a", None, rt(10000, 2500))])
    m.run(20 * MS)                           # a new budget applies from the next period start, as in Xen
    assert per_period(m, rec, a, 50) == [2500_000] * 50
    assert share(a, m.now / S) == pytest.approx(0.25, abs=0.01)


def test_earliest_deadline_first_preempts_at_each_period_start():
    # b (2 ms period, 500 us budget) has the earlier deadline whenever its period starts.
    m, (a, b), rec = machine_with("rtds", [("a", None, rt(10000, 6000)), ("b", None, rt(2000, 500))])
    _quiet_dom0(m)
    m.run(200 * MS)
    starts = [i.start for i in rec.all_intervals() if i.domid == b.domain_id and i.start >= 50 * MS]
    assert len(starts) > 50 and all(t % (2 * MS) == 0 for t in starts)
    assert per_period(m, rec, b, 25) == [500_000] * 25
    assert per_period(m, rec, a, 5) == [6 * MS] * 5
    for d in rec.decisions:                                   # every pick reports its deadline
        if d[2] in (a.domain_id, b.domain_id):
            assert d[5]["deadline"] > d[0]


def test_runq_order_priority_level_then_deadline():
    m, (a, b, c), _ = machine_with("rtds", [(n, "idle", {}) for n in "abc"])
    s = m.scheduler
    ua, ub, uc = (d.vcpus[0].sched_priv for d in (a, b, c))
    s.runq.clear()
    ua.cur_deadline, ub.cur_deadline, uc.cur_deadline = 30, 20, 10
    uc.priority_level = 1                                      # extratime: behind all level-0 units
    for u in (ua, ub, uc):
        s._runq_insert(u)
    assert s.runq == [ub, ua, uc]


def test_global_edf_on_two_pcpus():
    # 3 x 4/10 on 2 pCPUs: total 1.2 <= 2 - 1 x 0.4, inside global EDF's bound; vcpus move between pCPUs.
    m, doms, rec = machine_with("rtds", [(f"h{k}", None, rt(10000, 4000)) for k in range(3)], cpus=2)
    _quiet_dom0(m)
    m.run(100 * MS)
    for d in doms:
        assert per_period(m, rec, d, 20) == [4 * MS] * 20
    pcpus = {i.pcpu for d in doms for i in rec.all_intervals() if i.domid == d.domain_id}
    assert pcpus == {0, 1}


def test_parameters_refused_with_einval():
    m, (a,), _ = machine_with("rtds", [("a", "idle", {"vcpus": 2})])
    s = m.scheduler
    assert s.adjust(a, {"period": 9, "budget": 9}) == -E.EINVAL                # below RTDS_MIN_PERIOD
    assert s.adjust(a, {"period": 100, "budget": 9}) == -E.EINVAL              # below RTDS_MIN_BUDGET
    assert s.adjust(a, {"period": 100, "budget": 101}) == -E.EINVAL            # budget > period
    assert s.adjust(a, {"slice": 5}) == -E.EINVAL
    assert s.adjust(a, {"vcpus": [{"vcpuid": 2, "period": 100, "budget": 50}]}) == -E.EINVAL
    assert s.adjust(a, {"vcpus": [{"vcpuid": 0, "period": 100, "budget": 50},
                                  {"vcpuid": 1, "period": 100, "budget": 500}]}) == -E.EINVAL
    assert s.get_params(a)["vcpus"][0]["period"] == 10000                      # nothing half-applied
    assert s.adjust(a, {"period": 10, "budget": 10}) == 0                      # the minimum itself is fine
    assert s.adjust(a, {"vcpus": [{"vcpuid": 1, "period": 20000, "budget": 5000, "extratime": 0}]}) == 0
    v = s.get_params(a)["vcpus"]
    assert v[0] == {"vcpuid": 0, "period": 10, "budget": 10, "extratime": 1}
    assert v[1] == {"vcpuid": 1, "period": 20000, "budget": 5000, "extratime": 0}


def test_same_seed_same_schedule_decision_by_decision():
    def decisions(seed):
        m, _, rec = machine_with("rtds", [("a", None, {}), ("i", interactive(1 * MS, 7 * MS), {}),
                                          ("p", periodic(30 * MS, 5 * MS), rt(30000, 6000))], cpus=2, seed=seed)
        m.run(500 * MS)
        return rec.decisions
    first = decisions(3)
    assert len(first) > 20 and first == decisions(3)


def test_xl_sched_rtds():
    m, (a,), _ = machine_with("rtds", [("a", "idle", {"vcpus": 2})])
    out = xm(m, "sched-rtds -d a").text.splitlines()
    assert out[1].split() == ["a", "1", "10000", "4000", "yes"]
    assert xm(m, "sched-rtds -d a -v 1 -p 20000 -b 5000 -e 0").text == ""
    rows = xm(m, "sched-rtds -d a -v all").text.splitlines()
    assert rows[0].split()[:5] == ["Name", "ID", "VCPU", "Period", "Budget"]
    assert rows[2].split() == ["a", "1", "1", "20000", "5000", "no"]
    with pytest.raises(XmError, match="22, 'Invalid argument'"):
        xm(m, "sched-rtds -d a -p 100 -b 200")
    with pytest.raises(XmError, match="period and budget"):
        xm(m, "sched-rtds -d a -p 100")
