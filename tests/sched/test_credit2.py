"""Credit2 (X@master:xen/common/sched/credit2.c; xen-facts 9f): weights, resets, slices, cap, xl."""
import pytest

from sched_helpers import MS, S, machine_with, share
from xenlab.guest.workload import interactive, periodic
from xenlab.toolstack import XmError, xm
from xenlab.xen.public import errno as E
from xenlab.xen.sched import credit2 as C2
from xenlab.sched_lab import wake_latencies

US = 1_000


def test_constants_are_xens():
    assert C2.CSCHED2_CREDIT_INIT == 10 * MS and C2.CSCHED2_MIN_TIMER == 500 * US
    assert C2.CSCHED2_MAX_TIMER == 10 * MS and C2.CSCHED2_CARRYOVER_MAX == C2.CSCHED2_MIN_TIMER
    assert C2.CSCHED2_MIGRATE_RESIST == 500 * US and C2.CSCHED2_BDGT_REPL_PERIOD == 10 * MS
    assert C2.CSCHED2_DEFAULT_WEIGHT == 256 and C2.SCHED_DEFAULT_RATELIMIT_US == 1000
    assert C2.Credit2.sched_id == 6                                 # XEN_SCHEDULER_CREDIT2 (H:domctl.h)


def test_weights_256_512_give_1_to_2_over_10s():
    # Rule: burn = time x max_weight / weight, and every reset gives everyone the same CREDIT_INIT.
    m, (a, b), _ = machine_with("credit2", [("a", None, {"weight": 256}), ("b", None, {"weight": 512})])
    m.run(10 * S)
    sa, sb = share(a, 10), share(b, 10)
    assert sa + sb == pytest.approx(1.0, abs=0.001)
    assert sa / sb == pytest.approx(0.5, rel=0.02)


def test_burn_is_scaled_by_max_weight_over_weight():
    m, (a, b), _ = machine_with("credit2", [("a", "idle", {"weight": 256}), ("b", "idle", {"weight": 512})])
    s = m.scheduler
    ua, ub = a.vcpus[0].sched_priv, b.vcpus[0].sched_priv
    assert s.rqd.max_weight == 512
    assert s.t2c(1 * MS, ub) == 1 * MS                  # the heaviest burns 1 credit per ns
    assert s.t2c(1 * MS, ua) == 2 * MS                  # half the weight burns twice as fast
    assert s.c2t(2 * MS, ua) == 1 * MS


def _three_units():
    m, doms, _ = machine_with("credit2", [(n, "idle", {}) for n in "abc"])
    return m.scheduler, [d.vcpus[0].sched_priv for d in doms], m


def test_reset_hand_worked():
    # snext a at -200 us: m = 1. Everyone gets 10 ms, nobody keeps more than 10 ms + 500 us.
    s, (a, b, c), m = _three_units()
    a.credit, b.credit, c.credit = -200 * US, 3 * MS, 9 * MS
    s._reset_credit(m.now, a)
    assert (a.credit, b.credit, c.credit) == (9800 * US, 10500 * US, 10500 * US)
    # snext deep in debt (-25 ms): m = 1 + 25 // 10 = 3, so everyone gets 30 ms, still clipped.
    a.credit, b.credit, c.credit = -25 * MS, -1 * MS, 0
    s._reset_credit(m.now, a)
    assert (a.credit, b.credit, c.credit) == (5 * MS, 10500 * US, 10500 * US)


def test_reset_happens_when_the_next_unit_has_no_credit_and_sleepers_get_it_too():
    m, (a, b, i), rec = machine_with("credit2", [("a", None, {}), ("b", None, {}),
                                                 ("i", interactive(1 * MS, 40 * MS), {})])
    with m.trace.record("SCHED") as events:
        m.run(500 * MS)
    resets = [e for e in events if e.name == "credit2_reset"]
    assert len(resets) >= 20
    for e in resets:                          # one pCPU: nobody else is running, so exactly:
        assert list(e["after"]) == [min(y + e["m"] * C2.CSCHED2_CREDIT_INIT, 10500 * US) for y in e["before"]]
    picks = [d for d in rec.decisions if d[5] and "reset" in d[5]]
    assert picks and all(d[5]["credit"] > 0 for d in picks)       # the reset unit then has credit


def test_runq_sorted_by_credit_fifo_on_ties():
    s, (a, b, c), _ = _three_units()
    s.rqd.runq.clear()
    a.credit, b.credit, c.credit = 1 * MS, 5 * MS, 1 * MS
    for u in (a, b, c):
        s._runq_insert(u)
    assert s.rqd.runq == [b, a, c]


def test_slice_is_credit_difference_within_min_and_max_timer():
    s, (a, b, c), m = _three_units()
    s.rqd.runq.clear()
    s.ratelimit_us = 0
    b.credit = 4 * MS
    s._runq_insert(b)
    a.credit = 7 * MS
    assert s._runtime(0, a, m.now) == 3 * MS                         # until a's credit meets b's
    a.credit = 4 * MS + 100 * US
    assert s._runtime(0, a, m.now) == C2.CSCHED2_MIN_TIMER            # never below 500 us
    b.credit, a.credit = -5 * MS, 30 * MS
    assert s._runtime(0, a, m.now) == C2.CSCHED2_MAX_TIMER            # never above 10 ms
    s.ratelimit_us = 1000
    a.credit = 4 * MS + 100 * US
    b.credit = 4 * MS
    assert s._runtime(0, a, m.now) == 1 * MS                          # nor below the rate limit


def test_sleeper_wakes_with_more_credit_and_runs_within_the_ratelimit():
    m, (h1, h2, i), rec = machine_with("credit2", [("h1", None, {}), ("h2", None, {}),
                                                   ("i", interactive(1 * MS, 20 * MS), {})])
    m.run(2 * S)
    lat = wake_latencies(rec.wakes, rec.all_intervals())[i.domain_id]
    assert len(lat) > 50 and max(lat) <= 1 * MS                       # sched_ratelimit_us = 1000
    assert share(i, 2) == pytest.approx(1 / 21, abs=0.005)            # it gets all it asks for


def test_cap_25_limits_a_lone_domain():
    # Rule: budget = cap x 10 ms / 100 per 10 ms replenishment period.
    m, (a,), _ = machine_with("credit2", [("a", None, {"cap": 25})])
    m.run(2 * S)
    assert 0.24 <= share(a, 2) <= 0.26


def test_two_pcpus_three_hogs_each_near_two_thirds():
    m, doms, rec = machine_with("credit2", [(f"h{k}", None, {}) for k in range(3)], cpus=2)
    m.run(3 * S)
    for d in doms:
        assert share(d, 3) == pytest.approx(2 / 3, abs=0.02)
    assert len({i.pcpu for i in rec.all_intervals() if i.domid == doms[0].domain_id}) == 2   # one run queue


def test_adjust_errors_and_unchanged_values():
    m, (a,), _ = machine_with("credit2", [("a", "idle", {})])
    s = m.scheduler
    assert s.adjust(a, {"weight": 70000}) == -E.EINVAL
    assert s.adjust(a, {"cap": 101}) == -E.EINVAL                     # cap > 100 x nr_vcpus
    assert s.adjust(a, {"mcu_adv": 3}) == -E.EINVAL
    assert s.adjust(a, {"weight": 512, "cap": 30}) == 0
    assert s.adjust(a, {"weight": 0}) == 0                            # 0: leave the weight unchanged
    assert s.get_params(a) == {"weight": 512, "cap": 30}
    assert s.sched_ctl({"ratelimit_us": 50}) == -E.EINVAL             # XEN_SYSCTL_SCHED_RATELIMIT_MIN 100
    assert s.sched_ctl({"ratelimit_us": 500001}) == -E.EINVAL
    assert s.sched_ctl({"ratelimit_us": 0}) == 0 and s.get_ctl() == {"ratelimit_us": 0}


def test_same_seed_same_schedule_decision_by_decision():
    def decisions(seed):
        m, _, rec = machine_with("credit2", [("a", None, {"weight": 512}), ("i", interactive(1 * MS, 7 * MS), {}),
                                             ("p", periodic(30 * MS, 5 * MS), {})], cpus=2, seed=seed)
        m.run(500 * MS)
        return rec.decisions
    first = decisions(3)
    assert len(first) > 20 and first == decisions(3)


def test_xl_sched_credit2():
    m, (a,), _ = machine_with("credit2", [("a", "idle", {})])
    out = xm(m, "sched-credit2 -d a").text.splitlines()
    assert out[0].split() == ["Name", "ID", "Weight", "Cap"] and out[1].split() == ["a", "1", "256", "0"]
    assert xm(m, "sched-credit2 -d a -w 512 -c 50").text == ""
    assert m.scheduler.get_params(a) == {"weight": 512, "cap": 50}
    assert xm(m, "sched-credit2").text.startswith("Cpupool Pool-0: ratelimit=1000us")
    with pytest.raises(XmError, match="22, 'Invalid argument'"):
        xm(m, "sched-credit2 -d a -c 200")
    with pytest.raises(XmError, match="valid range is from 1 to 65535"):
        xm(m, "sched-credit2 -d a -w 0")
