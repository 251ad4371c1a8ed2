"""Live migration: log-dirty mode, each pre-copy stop rule, the writable working set, determinism."""
import hashlib

import numpy as np
import pytest

import xenlab
from xenlab.guest.p2m import read_start_info
from xenlab.toolstack import migrate as M
from xenlab.toolstack.save import (DEF_MAX_ITERS, MAX_MBIT_RATE, Link, next_rate, precopy_should_stop,
                                   scan_order)
from xenlab.toolstack.domain_config import DomainConfig
from xenlab.xen.page_alloc import PGT_l1_page_table, PGT_l2_page_table, PGT_type_mask
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.shadow import bitmap_buffer, bitmap_to_bools

MS = 1_000_000


def dirtying(rate, wss):
    return [("dirty", rate, wss), ("compute", 5 * MS), ("loop", 1, None)] if rate else "idle"


def pair(rate, wss, memory=16, seed=1):
    a = xenlab.Machine(seed=seed, memory_mb=96)
    b = xenlab.Machine(seed=seed + 1, memory_mb=96)
    d = a.create_domain(DomainConfig(name="g", memory=memory, workload=dirtying(rate, wss)))
    a.run_for(50 * MS)
    return a, b, d


def test_log_dirty_bitmap_through_dom0_op():
    a, _, d = pair(2000, 100)
    op = D.dom0_shadow_control(domain=d.domain_id, op=D.DOM0_SHADOW_CONTROL_OP_PEEK)
    assert a.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_SHADOW_CONTROL, op)) == -22      # not enabled: -EINVAL
    op.op = D.DOM0_SHADOW_CONTROL_OP_ENABLE_LOGDIRTY
    assert a.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_SHADOW_CONTROL, op)) == 0
    a.run_for(20 * MS)                                         # 40 writes into a 100-page working set
    n = len(d.p2m)
    clean = D.dom0_shadow_control(domain=d.domain_id, op=D.DOM0_SHADOW_CONTROL_OP_CLEAN, pages=n,
                                  dirty_bitmap=bitmap_buffer(n))
    assert a.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_SHADOW_CONTROL, clean)) == 0
    dirty = bitmap_to_bools(clean.dirty_bitmap, n)
    first = d.vcpus[0].guest.dirty.first_pfn
    assert dirty.sum() == clean.stats.dirty_count == 40
    assert dirty[first:first + 40].all()
    peek = D.dom0_shadow_control(domain=d.domain_id, op=D.DOM0_SHADOW_CONTROL_OP_PEEK, pages=n,
                                 dirty_bitmap=bitmap_buffer(n))
    a.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_SHADOW_CONTROL, peek))
    assert not bitmap_to_bools(peek.dirty_bitmap, n).any()                 # CLEAN cleared it
    self_op = D.dom0_shadow_control(domain=0, op=D.DOM0_SHADOW_CONTROL_OP_OFF)
    assert a.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_SHADOW_CONTROL, self_op)) == -22   # not on yourself
    assert d.hypercall("dom0_op", D.dom0_op(D.DOM0_SHADOW_CONTROL, op)) == -1               # domU: -EPERM


def test_stop_rule_oracle():
    assert precopy_should_stop(3, 900, 800, 0, 5000, 4096, MAX_MBIT_RATE) == "rate"
    assert precopy_should_stop(3, 900, 800, 0, 5000, 4096, 400) is None
    assert precopy_should_stop(DEF_MAX_ITERS, 900, 900, 0, 5000, 4096, 100) == "iterations"
    assert precopy_should_stop(4, 30, 40, 19, 5000, 4096, 100) == "few pages"
    assert precopy_should_stop(4, 30, 40, 20, 5000, 4096, 100) is None
    assert precopy_should_stop(4, 900, 900, 0, 3 * 4096 + 1, 4096, 100) == "factor"
    assert next_rate(100, 1000, 100 * MS) == 377          # 1000 pages in 100 ms = 327 Mb/s, + 50
    assert next_rate(100, 10, 100 * MS) == 100 and next_rate(400, 10_000, 10 * MS) == MAX_MBIT_RATE
    assert Link(100).ns_for(100 * 1024) == 7_812_500       # RATE_TO_BTU: a 100 KiB burst at 100 Mb/s
    order = scan_order(5000)
    assert sorted(order.tolist()) == list(range(5000)) and order[1] != 1


@pytest.mark.parametrize("rate,wss,kw,reason", [
    (0, 0, {}, "few pages"),                                  # idle: iteration 2 has nothing to send
    (20000, 1500, {}, "rate"),                                # faster than 500 Mb/s can follow
    (3400, 300, {"adaptive": False}, "iterations"),           # steady 300 pages a round, 30 rounds
    (6000, 3500, {"adaptive": False}, "factor"),              # more than 3x memory sent
])
def test_each_stop_rule_is_reached(rate, wss, kw, reason):
    a, b, d = pair(rate, wss)
    r = M.migrate(a, d, b, **kw)
    assert r.save.stop_reason == reason
    its = r.iterations
    assert its[0].sent + its[0].skipped == len(d.p2m) - (0 if rate else 0) or reason != "few pages"
    assert its[-1].last and all(not i.last for i in its[:-1])
    if reason == "iterations":
        assert len(its) == DEF_MAX_ITERS + 1
    if reason == "factor":
        assert sum(i.sent for i in its[:-1]) > 3 * len(d.p2m)
    if reason == "rate":
        assert its[-2].rate_mbit == MAX_MBIT_RATE
    assert b.domain_by_name("g") is not None and a.domain_by_name("g") is None


def test_migrated_memory_is_identical():
    a, b, d = pair(4000, 800)
    ti = a.frame_table.type_info[np.asarray(d.p2m)] & PGT_type_mask
    page_tables = set(np.flatnonzero((ti == PGT_l1_page_table) | (ti == PGT_l2_page_table)).tolist())
    snap = {}

    def at_suspend(ev):
        if ev.name == "shutdown":
            snap["mem"] = a.memory.data.reshape(-1, 4096)[np.asarray(d.p2m)].copy()
            snap["m2p"] = a.m2p.copy()
    a.trace.subscribe(at_suspend, classes=("DOM",))
    r = M.migrate(a, d, b)
    new = b.domains[r.new_domid]
    after = b.memory.data.reshape(-1, 4096)[np.asarray(new.p2m)]
    differ = np.flatnonzero((after != snap["mem"]).any(axis=1)).tolist()
    # what the guest had when it was suspended; dom0 still writes the console/xenstore rings' consumer
    # indices (pfns 1, 2) after that, and restore patches start_info (pfn 0). The guest's P2M array
    # (start_info's mfn_list) holds machine frames: it is rewritten for the new host, entry for entry.
    info = read_start_info(new)
    first = (info.mfn_list - 0xC0000000) >> 12
    p2m_pages = set(range(first, first + -(-info.nr_pages * 4 // 4096)))
    words = after[sorted(p2m_pages)].view(np.uint32).reshape(-1)[:info.nr_pages]
    assert np.array_equal(words, np.asarray(new.p2m, dtype=np.uint32))
    assert set(differ) <= {0, 1, 2} | page_tables | p2m_pages
    for pfn in set(differ) & page_tables:                    # canonicalised: same pfns, new frames
        old = snap["mem"][pfn].view(np.uint32)
        new_ = after[pfn].view(np.uint32)
        present = (old & 1) != 0
        assert np.array_equal(b.m2p[new_[present] >> 12], snap["m2p"][old[present] >> 12])
        assert np.array_equal(new_ & 0xFFF, old & 0xFFF)
    assert new.vcpus[0].guest.dirty.count > 0


def test_higher_dirty_rate_more_rounds_and_longer_downtime():
    """NSDI'05 §4: the writable working set decides what is left for the stop-and-copy."""
    reports = []
    for rate in (500, 4000, 12000):
        a, b, d = pair(rate, 2000)
        reports.append(M.migrate(a, d, b))
    final = [r.iterations[-1].sent for r in reports]
    downtime = [r.downtime_ns for r in reports]
    rounds = [len(r.iterations) for r in reports]
    total = [r.total_sent for r in reports]
    assert final == sorted(final) and final[0] < final[-1]
    assert downtime == sorted(downtime) and downtime[-1] > 5 * downtime[0]
    assert total == sorted(total)
    assert rounds[1] >= rounds[0]


def test_stop_and_copy_downtime_is_the_whole_copy():
    a, b, d = pair(4000, 800)
    r = M.migrate(a, d, b, live=False)
    assert len(r.iterations) == 1 and r.total_ns - 10_000 < r.downtime_ns <= r.total_ns   # all but the header
    a2, b2, d2 = pair(4000, 800)
    live = M.migrate(a2, d2, b2)
    assert live.downtime_ns * 20 < r.downtime_ns


def _digest(r, machine):
    new = machine.domains[r.new_domid]
    mem = machine.memory.data.reshape(-1, 4096)[np.asarray(new.p2m)]
    return (r.pages_per_iteration, r.downtime_ns, r.total_ns, hashlib.sha256(mem.tobytes()).hexdigest())


def test_deterministic():
    runs = []
    for _ in range(2):
        a, b, d = pair(6000, 1500)
        runs.append(_digest(M.migrate(a, d, b), b))
    assert runs[0] == runs[1]


def test_xm_migrate_to_a_registered_host():
    a, b, d = pair(3000, 500)
    M.hosts["hostB"] = b
    try:
        res = xenlab.xm(a, "migrate g hostB -l")
        assert "Total pages sent=" in res.text and f"{res.report.downtime_ns / 1e6:.1f} ms" in res.text
        assert res.rows[0]["iteration"] == 1 and res.rows[-1]["last"]
        with pytest.raises(xenlab.XmError, match="no such host"):
            xenlab.xm(b, "migrate g nowhere -l")
    finally:
        M.hosts.pop("hostB")
    assert "g" in xenlab.xm(b, "list").text and "g " not in xenlab.xm(a, "list").text


def test_300_as_built_never_stops_for_the_rate_and_sends_at_wire_speed():
    # X@RELEASE-3.0.0:tools/libxc/xc_linux_save.c:173,254-258: without ADAPTIVE_SAVE, RATE_IS_MAX() is 0
    # and ratewrite() is write(): the clause `(sent_this_iter > sent_last_iter) && RATE_IS_MAX()` is dead.
    from xenlab.toolstack.save import (MAX_MBIT_RATE, WIRE_MBIT, precopy_should_stop,
                                       precopy_should_stop_300)
    args = dict(iteration=3, sent_this_iter=900, sent_last_iter=800, skip_this_iter=0, total_sent=5000,
                max_pfn=4096, rate_mbit=MAX_MBIT_RATE)
    assert precopy_should_stop(**args) == "rate"
    assert precopy_should_stop_300(**args) is None
    assert precopy_should_stop_300(**{**args, "iteration": 29}) == "iterations"
    assert precopy_should_stop_300(**{**args, "sent_this_iter": 30, "skip_this_iter": 19}) == "few pages"
    assert precopy_should_stop_300(**{**args, "total_sent": 3 * 4096 + 1}) == "factor"
    import xenlab
    from xenlab.toolstack import migrate as M
    for algorithm in ("adaptive", "3.0.0"):
        a, b = xenlab.Machine(seed=1, memory_mb=96), xenlab.Machine(seed=2, memory_mb=96)
        w = [("dirty", 15000, 1500), ("compute", 5_000_000), ("loop", 1, None)]
        d = a.create_domain(xenlab.DomainConfig(name="g", memory=16, workload=w))
        a.run_for(50_000_000)
        r = M.migrate(a, d, b, live=True, algorithm=algorithm)
        rates = {it.rate_mbit for it in r.save.iterations}
        if algorithm == "3.0.0":
            assert rates == {WIRE_MBIT} and r.save.stop_reason != "rate"
        else:
            assert max(rates) == MAX_MBIT_RATE and r.save.stop_reason == "rate"
