"""Credit (X@3.0.4-branched:xen/common/sched_credit.c): weights, caps, BOOST, SMP balance, accounting."""
import pytest

from sched_helpers import MS, S, machine_with, share
from xenlab.guest.workload import interactive
from xenlab.xen.public import errno as E
from xenlab.xen.sched import credit as C
from xenlab.sched_lab import wake_latencies


def test_weights_256_512_give_1_to_2_over_10s():
    # Rule: credit_fair = credit_total x weight / weight_total, so 512 earns twice what 256 earns.
    m, (a, b), _ = machine_with("credit", [("a", None, {"weight": 256}), ("b", None, {"weight": 512})])
    m.run(10 * S)
    sa, sb = share(a, 10), share(b, 10)
    assert sa + sb == pytest.approx(1.0, abs=0.001)
    assert sa / sb == pytest.approx(0.5, rel=0.02)
    assert sa == pytest.approx(1 / 3, rel=0.02)


def test_cap_25_limits_a_lone_domain_to_26_percent():
    # Rule: credit_cap = ceil(cap x 300 / 100) limits the peak; a capped vcpu in debt is parked.
    m, (a,), rec = machine_with("credit", [("a", None, {"cap": 25})])
    with m.trace.record("SCHED") as events:
        m.run(10 * S)
    assert 0.20 < share(a, 10) <= 0.26
    assert any(e.name == "park" for e in events) and any(e.name == "unpark" for e in events)


def test_waking_interactive_domain_is_boosted_and_runs_first():
    # Rule: a waking UNDER vcpu becomes BOOST and runq_tickle preempts an UNDER/OVER runner.
    m, (h1, h2, i), rec = machine_with("credit", [("hog1", None, {}), ("hog2", None, {}),
                                                  ("inter", interactive(1 * MS, 20 * MS), {})])
    m.run(2 * S)
    lat = wake_latencies(rec.wakes, rec.all_intervals())[i.domain_id]
    assert len(lat) > 50
    assert sorted(lat)[len(lat) // 2] == 0                      # preempts at the instant it wakes
    picks = [d for d in rec.decisions if d[2] == i.domain_id and d[6]]
    boosted = [d for d in picks if d[5] and d[5]["pri"] == "BOOST"]
    assert len(boosted) >= 0.9 * len(picks)


def test_two_pcpus_three_hogs_each_near_two_thirds():
    # Rule: an OVER (or idle) pCPU steals a strictly higher-priority vcpu from a busy peer.
    m, doms, _ = machine_with("credit", [(f"h{k}", None, {}) for k in range(3)], cpus=2)
    with m.trace.record("SCHED") as events:
        m.run(10 * S)
    for d in doms:
        assert share(d, 10) == pytest.approx(2 / 3, abs=0.03)
    assert any(e.name == "steal" for e in events)


def test_affinity_is_respected_by_placement_and_stealing():
    m, (a, b, c), rec = machine_with("credit", [("a", None, {"cpus": "1"}), ("b", None, {}), ("c", None, {})],
                                     cpus=2)
    m.run(2 * S)
    assert {i.pcpu for i in rec.all_intervals() if i.domid == a.domain_id} == {1}


def _sched_and_two_active(weights, caps=(0, 0)):
    m, doms, _ = machine_with("credit", [(f"d{k}", "idle", {"weight": w, "cap": c})
                                         for k, (w, c) in enumerate(zip(weights, caps))])
    s = m.scheduler
    for d in reversed(doms):           # list_add puts each newcomer at the head: the list reads d0, d1, ...
        s._activate(d.vcpus[0].sched_priv)
    return s, [d.vcpus[0].sched_priv for d in doms]


def test_accounting_hand_worked_weights():
    # 300 credits for 1 pCPU: ceil(300*256/768) = 100 and ceil(300*512/768) = 200.
    s, (a, b) = _sched_and_two_active((256, 512))
    s.acct()
    assert (a.credit, b.credit) == (100, 200)
    assert a.pri == b.pri == C.CSCHED_PRI_TS_UNDER


def test_accounting_hand_worked_cap_excess_goes_to_the_next_domain():
    # a: cap 10 -> credit_cap = ceil(10*300/100) = 30 < fair 150; excess (150-30)*512/256 = 240 is
    # added to credit_total, so b gets ceil(540*256/512) = 270.
    s, (a, b) = _sched_and_two_active((256, 256), (10, 0))
    s.acct()
    assert (a.credit, b.credit) == (30, 270)


def test_accounting_over_park_and_stop_earning():
    s, (a, b) = _sched_and_two_active((256, 256), (10, 0))
    a.credit = -400                        # far in debt with a cap: OVER, parked, floored at -300
    b.credit = 250                         # 250 + 150 > 300: stops earning, credit reset to 0
    s.acct()
    assert a.pri == C.CSCHED_PRI_TS_OVER and a.parked and a.credit == -300
    assert a.vcpu.pause_count == 1
    assert b.credit == 0 and not b.active and b.pri == C.CSCHED_PRI_TS_UNDER


def test_tick_burns_100_credits_and_unboosts():
    m, (a,), _ = machine_with("credit", [("a", None, {})])
    m.run(5 * MS)
    svc = a.vcpus[0].sched_priv
    svc.pri, before = C.CSCHED_PRI_TS_BOOST, svc.credit
    m.scheduler.tick(0)
    assert svc.credit == before - 100 and svc.pri == C.CSCHED_PRI_TS_UNDER and svc.active


def test_runq_order_boost_under_over_fifo():
    s, (a, b) = _sched_and_two_active((256, 256))
    class V:  # minimal stand-ins for queue-order checks
        pass
    items = []
    s._runq(0).clear()
    for pri in (C.CSCHED_PRI_TS_OVER, C.CSCHED_PRI_TS_UNDER, C.CSCHED_PRI_TS_OVER, C.CSCHED_PRI_TS_BOOST,
                C.CSCHED_PRI_TS_UNDER):
        svc = C.CschedVcpu(V(), a.sdom, pri=pri)
        s._runq_insert(0, svc)
        items.append(svc)
    q = s._runq(0)
    assert [x.pri for x in q] == [0, -1, -1, -2, -2]
    assert q[1] is items[1] and q[2] is items[4] and q[3] is items[0]      # FIFO inside one priority


def test_adjust_errors_and_unchanged_values():
    m, (a,), _ = machine_with("credit", [("a", None, {})])
    s = m.scheduler
    assert s.adjust(a, {"weight": 70000}) == -E.EINVAL
    assert s.adjust(a, {"cap": -1}) == -E.EINVAL
    assert s.adjust(a, {"mcu_adv": 3}) == -E.EINVAL
    assert s.adjust(a, {"weight": 512, "cap": 30}) == 0
    assert s.adjust(a, {"weight": 0, "cap": 0xFFFF}) == 0          # 0 / 0xFFFF: leave unchanged
    assert s.get_params(a) == {"weight": 512, "cap": 30}


def test_promised_shares_water_fill():
    m, (a, b, c), _ = machine_with("credit", [("a", None, {"weight": 256, "cap": 10}), ("b", None, {}),
                                              ("c", None, {"weight": 512})], cpus=2)
    p = m.scheduler.promised_shares([a, b, c])
    assert p[a.domain_id] == pytest.approx(0.10)
    assert p[c.domain_id] == pytest.approx(1.0)            # limited to one pCPU (one vcpu)
    assert p[b.domain_id] == pytest.approx(0.90)


def test_io_bound_domain_is_boosted_on_each_completion(tmp_path):
    # Rule: a vcpu that wakes UNDER becomes BOOST and preempts the CPU hogs (runq_tickle). An I/O-driven
    # domain wakes on every blkfront completion; it asks for about a fifth of the CPU, less than its
    # fair third, so it stays UNDER and every completion is a boosted wake-up with no wait.
    from xenlab.guest.workload import compute_fraction, io_bound
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(256 * 512))
    m, (h1, h2, io), rec = machine_with("credit", [("hog1", None, {}), ("hog2", None, {}),
                                                   ("io", "io-bound", {"disk": [f"file:{img},xvda,w"]})])
    assert io.kernel.program == io_bound(dev="xvda")            # the preset found the domain's disk
    m.run_for(100 * MS)                                         # boot: the disk connects through xenbus
    cpu0, t0 = io.cpu_time, m.now
    m.run_for(400 * MS)
    done = len(io.kernel.io_log)
    assert done > 400 and all(tok.status == 0 for _, _, tok in io.kernel.io_log)
    lat = wake_latencies(rec.wakes, rec.all_intervals())[io.domain_id]
    assert len(lat) >= done - 1 and max(lat) == 0               # in every completion it runs at once
    picks = [d for d in rec.decisions if d[2] == io.domain_id and d[6]]
    assert len(picks) >= done and all(d[5]["pri"] == "BOOST" for d in picks if d[5])
    share_io = (io.cpu_time - cpu0) / (m.now - t0)
    assert share_io == pytest.approx(compute_fraction(io.kernel.program), rel=0.02)   # gets all it asks for
    assert share(h1, 0.5) > share_io and share(h2, 0.5) > share_io


def test_io_bound_preset_without_a_disk_sleeps_for_the_device():
    from xenlab.guest.workload import device_time_ns
    m, (_, io), rec = machine_with("credit", [("hog", None, {}), ("io", "io-bound", {})])
    prog = io.kernel.program
    assert "no disk" in prog.name and ("sleep", device_time_ns(64)) in prog.ops
    m.run(200 * MS)
    lat = wake_latencies(rec.wakes, rec.all_intervals())[io.domain_id]
    assert len(lat) > 100 and sorted(lat)[len(lat) // 2] == 0
