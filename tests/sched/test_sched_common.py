"""What every scheduler shares: registry, determinism, Round Robin's equal shares, the toolstack."""
import pytest

import xenlab
from sched_helpers import MS, S, machine_with, share
from xenlab.guest.workload import interactive, periodic
from xenlab.xen.sched import SCHEDULERS, Scheduler, TaskSlice, get_scheduler, register_scheduler

ALL = ["rrobin", "bvt", "atropos", "sedf", "credit", "credit2", "rtds"]


@pytest.mark.parametrize("sched", ALL)
def test_registered_and_bootable(sched):
    m = xenlab.Machine(sched=sched)
    assert m.scheduler.opt_name == sched
    assert any(f"({sched})" in line for line in m.console_ring if "Using scheduler" in line)
    assert m.scheduler.dump().startswith("Scheduler:")


def test_machine_defaults_to_credit():
    assert xenlab.Machine().scheduler.opt_name == "credit"


@pytest.mark.parametrize("sched", ALL)
def test_same_seed_same_schedule_decision_by_decision(sched):
    def decisions(seed):
        m, _, rec = machine_with(sched, [("a", None, {}), ("i", interactive(1 * MS, 7 * MS), {}),
                                         ("p", periodic(30 * MS, 5 * MS), {})], cpus=2, seed=seed)
        m.run(500 * MS)
        return rec.decisions
    first = decisions(3)
    assert len(first) > 20
    assert first == decisions(3)


def test_round_robin_equal_shares_within_one_slice():
    m, doms, _ = machine_with("rrobin", [(f"h{k}", None, {}) for k in range(3)])
    m.run(10 * S)
    times = [d.cpu_time for d in doms]
    assert max(times) - min(times) <= m.scheduler.rr_slice


def test_students_scheduler_plugs_into_machine():
    @register_scheduler
    class Fifo(Scheduler):
        name, opt_name, sched_id = "test FIFO", "test-fifo", 99

        def __init__(self, machine):
            super().__init__(machine)
            self.q = []

        def insert_vcpu(self, v):
            v.processor = 0

        def wake(self, v):
            if not v.is_running and v not in self.q:
                self.q.append(v)
                self.tickle(0)

        def sleep(self, v):
            if v in self.q:
                self.q.remove(v)
            elif v.is_running:
                self.tickle(0)

        def do_schedule(self, cpu, now):
            prev = self.curr(cpu)
            if not prev.is_idle and prev.runnable():
                self.q.append(prev)
            if self.q:
                return TaskSlice(self.q.pop(0), 10 * MS, "fifo")
            return TaskSlice(self.idle_vcpu(cpu), 10 * MS, "idle")
    try:
        m, (a, b), _ = machine_with("test-fifo", [("a", None, {}), ("b", None, {})])
        m.run(1 * S)
        assert share(a, 1) == pytest.approx(0.5, abs=0.02)
    finally:
        SCHEDULERS.pop("test-fifo", None)


def test_unknown_scheduler_lists_the_known_ones():
    with pytest.raises(ValueError, match="credit"):
        get_scheduler("nope")


def test_dom0_op_adjustdom_checks_the_scheduler_id():
    from xenlab.toolstack.xend import dom0_op
    from xenlab.xen.public import dom0_ops as D
    from xenlab.xen.public import errno as E
    m, (a,), _ = machine_with("credit", [("a", None, {})])
    put = D.dom0_adjustdom(a.domain_id, 4, D.SCHED_INFO_PUT, {"weight": 5})      # 4 = SEDF
    assert dom0_op(m, D.DOM0_ADJUSTDOM, put) == -E.EINVAL
    get = D.dom0_adjustdom(a.domain_id, 5, D.SCHED_INFO_GET)
    assert dom0_op(m, D.DOM0_ADJUSTDOM, get) == 0 and get.params == {"weight": 256, "cap": 0}


def test_config_weight_cap_and_sched_params_reach_the_scheduler():
    m, (a,), _ = machine_with("credit", [("a", None, {"weight": 512, "cap": 40})])
    assert m.scheduler.get_params(a) == {"weight": 512, "cap": 40}
    m, (b,), _ = machine_with("sedf", [("b", None, {"weight": 512, "sched_params": {"period": 30 * MS,
                                                                                  "slice": 3 * MS}})])
    # A weight with a period makes it real-time weighted: sedf_adjust_weights resets the period to 100 ms.
    assert m.scheduler.get_params(b)["period"] == 100 * MS and m.scheduler.get_params(b)["weight"] == 512
    with pytest.raises(xenlab.DomainCreateError, match="ADJUSTDOM"):
        machine_with("sedf", [("c", None, {"sched_params": {"period": 10 * MS, "slice": 20 * MS}})])
