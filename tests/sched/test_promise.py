"""What a scheduler promises (sched.promise): each domain capped at its demand, the rest by the policy's rule."""
import pytest

import xenlab
from sched_helpers import MS, machine_with
from xenlab.guest.workload import compute_fraction, cpu_bound, idle, interactive, io_bound, periodic
from xenlab.xen.sched import SharePool, fill_pools, promise
from xenlab.xen.sched.rrobin import RoundRobin


def test_compute_fraction_of_the_workloads():
    assert compute_fraction(cpu_bound()) == 1.0
    assert compute_fraction(idle()) == 0.0
    assert compute_fraction(interactive(2 * MS, 18 * MS)) == pytest.approx(0.1)
    assert compute_fraction(periodic(20 * MS, 5 * MS)) == pytest.approx(0.25)
    # io_bound: 0.2 ms of work, then 64 sectors from blkback's disk: 50 us + 64 x 10 us = 0.69 ms.
    assert compute_fraction(io_bound()) == pytest.approx(0.2 / 0.89)
    assert compute_fraction(io_bound(dev=None)) == pytest.approx(0.2 / 0.89)
    assert compute_fraction(xenlab.guest.workload.Program("w", (("compute", 1), ("block",)))) is None


def test_fill_pools_caps_at_demand_and_hands_the_rest_on_by_weight():
    pool = SharePool(1.0, {}, {1: 1, 2: 1, 3: 2}, {1: 1.0, 2: 1.0, 3: 1.0}, {1: 1, 2: 1, 3: 1})
    # All CPU-bound: 1:1:2.
    assert fill_pools([pool], {}) == pytest.approx({1: 0.25, 2: 0.25, 3: 0.5})
    # Domain 1 wants 10%: the other 15% of its entitlement goes to 2 and 3 in their ratio 1:2.
    assert fill_pools([pool], {1: 0.1}) == pytest.approx({1: 0.1, 2: 0.3, 3: 0.6})
    # Nobody gets more than it asks for, even if the CPU stays idle.
    assert fill_pools([pool], {1: 0.1, 2: 0.1, 3: 0.1}) == pytest.approx({1: 0.1, 2: 0.1, 3: 0.1})


def test_reservations_are_capped_at_demand_and_slack_goes_only_to_extra_time_domains():
    pool = SharePool(1.0, {1: 0.5, 2: 0.2, 3: 0.0}, {2: 1, 3: 3}, {1: 1.0, 2: 1.0, 3: 1.0}, {1: 1, 2: 1, 3: 1})
    # 1 reserves 50% but uses 30%: the 20% it leaves goes to the extra-time domains 2 and 3, by weight.
    got = fill_pools([pool], {1: 0.3})
    assert got == pytest.approx({1: 0.3, 2: 0.2 + 0.5 / 4, 3: 0.5 * 3 / 4})


def test_credit_promise_caps_an_io_domain_at_its_demand():
    io = io_bound(dev=None)
    m, (a, b, c), _ = machine_with("credit", [("a", None, {}), ("b", None, {"weight": 512}), ("io", io, {})])
    demand = {d.domain_id: compute_fraction(d.kernel.program) for d in (a, b, c)}
    p = promise(m.scheduler, [a, b, c], demand)
    want = 0.2 / 0.89
    assert p.kind == "demand"
    assert p.shares[c.domain_id] == pytest.approx(want)
    assert p.shares[a.domain_id] == pytest.approx((1 - want) / 3)              # the rest 1:2 by weight
    assert p.shares[b.domain_id] == pytest.approx((1 - want) * 2 / 3)
    # Without demand: the entitlement of three CPU-bound domains, 1:2:1.
    assert m.scheduler.promised_shares([a, b, c]) == pytest.approx(
        {a.domain_id: 0.25, b.domain_id: 0.5, c.domain_id: 0.25})


def test_sedf_promise_reservation_and_extraweight():
    be = {"period": 0, "slice": 0, "extratime": 1}
    m, doms, _ = machine_with("sedf", [
        ("video", periodic(20 * MS, 3 * MS), {"sched_params": {"period": 20 * MS, "slice": 5 * MS, "extratime": 0}}),
        ("be1", None, {"sched_params": {**be, "weight": 1}}), ("be3", None, {"sched_params": {**be, "weight": 3}})])
    video, be1, be3 = doms
    p = promise(m.scheduler, doms, {video.domain_id: 0.15})
    # video reserves 25% and uses 15%; the other 85% goes 1:3 to the best-effort domains.
    assert p.shares == pytest.approx({video.domain_id: 0.15, be1.domain_id: 0.85 / 4, be3.domain_id: 0.85 * 3 / 4})


@pytest.mark.parametrize("sched", ["rrobin", "bvt", "atropos", "sedf", "credit", "credit2", "rtds"])
def test_cpu_bound_promise_is_the_entitlement(sched):
    m, doms, _ = machine_with(sched, [("a", None, {}), ("b", None, {}), ("c", None, {})], cpus=2)
    p = promise(m.scheduler, doms, {d.domain_id: 1.0 for d in doms})
    assert p.kind == "demand"
    assert p.shares == pytest.approx(m.scheduler.promised_shares(doms))


def test_a_scheduler_without_a_known_rule_promises_the_cpu_bound_entitlement(monkeypatch):
    class Mine(RoundRobin):                         # a student's scheduler: no share_pools of its own
        opt_name = "mine_promise_test"

        def share_pools(self, domains):
            return None
    from xenlab.xen.sched import SCHEDULERS
    monkeypatch.setitem(SCHEDULERS, Mine.opt_name, Mine)
    m, doms, _ = machine_with("mine_promise_test", [("a", None, {}), ("io", io_bound(dev=None), {})])
    p = promise(m.scheduler, doms, {doms[1].domain_id: 0.2})
    assert p.kind == "cpu-bound" and p.shares == pytest.approx({d.domain_id: 0.5 for d in doms})
