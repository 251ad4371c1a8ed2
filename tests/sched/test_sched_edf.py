"""Atropos (2.0) and SEDF (3.0): reservations met every period, slack only to extra-time domains."""
import pytest

import xenlab

from sched_helpers import MS, S, machine_with, share
from xenlab.guest.workload import Program, interactive
from xenlab.xen.public import errno as E
from xenlab.xen.sched import atropos as A
from xenlab.xen.sched import sedf as SE
from xenlab.sched_lab import window_times

RESERVED = {
    "atropos": ({"period": 20 * MS, "slice": 5 * MS, "latency": 20 * MS, "xtratime": 0},
                {"period": 40 * MS, "slice": 10 * MS, "latency": 40 * MS, "xtratime": 0}),
    "sedf": ({"period": 20 * MS, "slice": 5 * MS, "extratime": 0},
             {"period": 40 * MS, "slice": 10 * MS, "extratime": 0}),
}


def _deadline(sched, d):
    inf = d.vcpus[0].sched_priv
    return inf.deadline if sched == "atropos" else inf.deadl_abs


@pytest.mark.parametrize("sched", ["atropos", "sedf"])
def test_fitting_reservations_get_their_slice_every_period_and_slack_goes_to_extra_time(sched):
    # Sum of slice/period = 0.25 + 0.25 <= 1: EDF meets every reservation; the rest is slack.
    pa, pb = RESERVED[sched]
    m, (a, b, c), rec = machine_with(sched, [("a", None, {"sched_params": pa}), ("b", None, {"sched_params": pb}),
                                             ("besteffort", None, {})])
    m.run(2 * S)
    intervals = rec.all_intervals()
    for d, p in ((a, pa), (b, pb)):
        start = _deadline(sched, d) % p["period"]        # the domain's own period boundaries
        count = (2 * S - start) // p["period"]
        got = window_times(intervals, d.domain_id, start, p["period"], count)
        assert set(got[1:]) == {p["slice"]}              # exactly its slice: no less, and no slack
    assert share(c, 2) == pytest.approx(0.5, abs=0.01)    # all the slack, to the extra-time domain


@pytest.mark.parametrize("sched", ["atropos", "sedf"])
def test_without_extra_time_domains_the_slack_is_idle(sched):
    pa, pb = RESERVED[sched]
    m, (a, b), _ = machine_with(sched, [("a", None, {"sched_params": pa}), ("b", None, {"sched_params": pb})])
    m.run(1 * S)
    assert share(a, 1) == pytest.approx(0.25, abs=0.01) and share(b, 1) == pytest.approx(0.25, abs=0.01)


def test_atropos_defaults():
    m, (a,), _ = machine_with("atropos", [("a", "idle", {})])
    assert m.scheduler.get_params(m.dom0) == {"period": 20 * MS, "slice": 15 * MS, "latency": 5 * MS, "xtratime": 1}
    assert m.scheduler.get_params(a) == {"period": 10 * S, "slice": 10 * MS, "latency": 10 * S, "xtratime": 1}
    assert A.BESTEFFORT_QUANTUM == 5 * MS


def test_atropos_long_block_scales_period_then_doubles_back():
    # Long block: period = latency (10 ms), slice = 20 / (40 / 10) = 5 ms; then 20/10, then 40/20.
    prog = Program("sleeper", (("sleep", 100 * MS), ("compute", 10 * S)))
    p = {"period": 40 * MS, "slice": 20 * MS, "latency": 10 * MS, "xtratime": 0}
    m, (a,), rec = machine_with("atropos", [("a", prog, {"sched_params": p})])
    m.run(300 * MS)
    seen = [(d[5]["period"], d[5]["slice"]) for d in rec.decisions if d[2] == a.domain_id and d[0] >= 100 * MS]
    assert seen[:4] == [(10 * MS, 5 * MS), (20 * MS, 10 * MS), (40 * MS, 20 * MS), (40 * MS, 20 * MS)]


def test_atropos_short_block_waits_as_unblocked():
    m, (a,), _ = machine_with("atropos", [("a", "idle", {"sched_params": {"period": 100 * MS, "slice": 50 * MS,
                                                                          "latency": 50 * MS, "xtratime": 0}})])
    m.run(10 * MS)
    inf = a.vcpus[0].sched_priv
    inf.deadline, inf.remain = m.now + 50 * MS, 7 * MS
    from xenlab.xen.schedule import vcpu_unblock
    a.vcpus[0].blocked = True
    with m.trace.record("SCHED") as events:
        vcpu_unblock(m, a.vcpus[0])
    ev = next(e for e in events if e.name == "atropos_unblock")
    assert ev["block"] == "short" and inf.state == A.ATROPOS_TASK_UNBLOCKED
    assert inf in m.scheduler.pdata[0].waitq


def test_atropos_adjust_validation():
    m, (a,), _ = machine_with("atropos", [("a", "idle", {})])
    s = m.scheduler
    assert s.adjust(a, {"period": 20 * MS, "slice": 5 * MS, "latency": 30 * MS}) == -E.EINVAL   # latency > period
    assert s.adjust(a, {"period": 20 * MS, "slice": 5 * MS, "latency": 0}) == -E.EINVAL
    assert s.adjust(a, {"period": 20 * MS, "slice": 25 * MS, "latency": 5 * MS}) == -E.EINVAL   # slice > period
    assert s.adjust(a, {"period": 20 * MS, "slice": 5 * MS, "latency": 5 * MS, "xtratime": 0}) == 0


def test_sedf_defaults():
    m, (a,), _ = machine_with("sedf", [("a", "idle", {})])
    assert m.scheduler.get_params(m.dom0) == {"period": 20 * MS, "slice": 15 * MS, "latency": 0, "extratime": 1,
                                              "weight": 0}
    assert m.scheduler.get_params(a) == {"period": 100 * MS, "slice": 0, "latency": 0, "extratime": 1, "weight": 0}
    assert (SE.EXTRA_QUANTUM, SE.WEIGHT_PERIOD, SE.WEIGHT_SAFETY) == (500_000, 100 * MS, 5 * MS)


def test_sedf_adjdom_rules():
    m, (a, b, c), _ = machine_with("sedf", [("a", "idle", {}), ("b", "idle", {}), ("c", "idle", {})])
    s = m.scheduler
    assert s.adjust(a, {"period": 0, "slice": 0, "weight": 0}) == -E.EINVAL
    assert s.adjust(a, {"period": 10 * MS, "slice": 20 * MS, "weight": 0}) == -E.EINVAL
    # weight + extratime, no period: extratime only, with that extraweight.
    assert s.adjust(c, {"period": 0, "slice": 0, "extratime": 1, "weight": 3}) == 0
    inf = c.vcpus[0].sched_priv
    assert (inf.extraweight, inf.weight, inf.slice, inf.period) == (3, 0, 0, 100 * MS)
    # weight without extratime: real-time weighted. dom0 reserves 15/20 -> 75 ms of each 100 ms, so
    # slices are w x (100 - 5 - 75) ms / (2 + 3): 8 ms and 12 ms.
    assert s.adjust(a, {"period": 0, "slice": 0, "extratime": 0, "weight": 2}) == 0
    assert s.adjust(b, {"period": 0, "slice": 0, "extratime": 0, "weight": 3}) == 0
    assert (a.vcpus[0].sched_priv.slice, b.vcpus[0].sched_priv.slice) == (8 * MS, 12 * MS)
    assert a.vcpus[0].sched_priv.period == 100 * MS


def test_sedf_extraweight_shares_the_slack():
    m, (a, b), _ = machine_with("sedf", [("a", None, {}), ("b", None, {"sched_params": {"period": 0, "weight": 3}})])
    m.run(1 * S)
    assert share(a, 1) / share(b, 1) == pytest.approx(1 / 3, rel=0.03)


def test_sedf_short_block_earns_a_penalty_turn():
    # Blocking inside its period forfeits the rest of it; the loss buys a turn on the penalty queue.
    p = {"period": 20 * MS, "slice": 10 * MS, "extratime": 1}
    m, (a, h), rec = machine_with("sedf", [("a", interactive(2 * MS, 3 * MS), {"sched_params": p}),
                                           ("hog", None, {})])
    with m.trace.record("SCHED") as events:
        m.run(500 * MS)
    assert any(e.name == "sedf_unblock" and e["block"] == "short" for e in events)
    assert any(d[5] and d[5].get("queue") == "penalty" for d in rec.decisions if d[2] == a.domain_id)


def test_sedf_dom0_extraweight_0_domus_1_and_dom0_scored_by_utilisation():
    # sedf_add_task (X@RELEASE-3.0.0:xen/common/sched_sedf.c:366-380): dom0's info is memset to 0, so its
    # extraweight is 0 and desched_extra_dom scores it (period << 10) / slice = (20 ms << 10) / 15 ms;
    # a domU gets extraweight 1 and the score (1 << 17) / 1.
    m = xenlab.Machine(sched="sedf", seed=0, memory_mb=128)
    d = m.create_domain(xenlab.DomainConfig(name="u", memory=16))
    d0, du = m.dom0.vcpus[0].sched_priv, d.vcpus[0].sched_priv
    assert (d0.extraweight, du.extraweight) == (0, 1)
    sched = m.scheduler
    expected = {id(d0): 1365, id(du): 131072}      # (20,000,000 << 10) // 15,000,000 and (1 << 17) // 1
    for inf in (d0, du):                         # an extra-time turn ends: desched_extra_dom rescores it
        inf.status |= SE.EXTRA_RUN_UTIL
        if not sched._extraq_on(inf, SE.EXTRA_UTIL_Q):
            sched._extraq_add_sort_update(inf, SE.EXTRA_UTIL_Q, 0)
        sched._desched_extra(m.now, inf)
        assert inf.score[SE.EXTRA_UTIL_Q] == expected[id(inf)]
