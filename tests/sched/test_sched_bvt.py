"""BVT (X@RELEASE-2.0.0:xen/common/sched_bvt.c): virtual time, warp, wake rules, svt wrap-around."""
import pytest

from sched_helpers import MS, S, machine_with, share
from xenlab.guest.workload import interactive
from xenlab.xen.public import errno as E
from xenlab.xen.sched import bvt as B
from xenlab.sched_lab import wake_latencies


def test_shares_follow_inverse_mcu_advance():
    # avt grows by mcu_advance per MCU run and the lowest evt runs: share ~ 1/mcu_advance.
    m, doms, _ = machine_with("bvt", [(f"d{a}", None, {"sched_params": {"mcu_adv": a}}) for a in (10, 20, 40)])
    m.run(10 * S)
    want = [4 / 7, 2 / 7, 1 / 7]
    for d, w in zip(doms, want):
        assert share(d, 10) == pytest.approx(w, rel=0.01)


def test_avt_charged_in_whole_mcus():
    m, (a,), _ = machine_with("bvt", [("a", "idle", {"sched_params": {"mcu_adv": 7}})])
    inf = a.vcpus[0].sched_priv
    inf.avt, inf.lastschd = 1000, 0
    assert m.scheduler.calc_avt(inf, 250_000) == 1000 + 3 * 7          # 250 us = 3 started MCUs
    assert m.scheduler.calc_avt(inf, 200_000) == 1000 + 2 * 7


def _warp_run(warpback):
    params = {"mcu_adv": 40, "warpback": warpback, "warpvalue": 100000, "warpl": 100, "warpu": 1000}
    m, (a, b, i), rec = machine_with("bvt", [("a", None, {}), ("b", None, {}),
                                             ("inter", interactive(2 * MS, 10 * MS), {"sched_params": params})])
    with m.trace.record("SCHED") as events:
        m.run(2 * S)
    return m, i, rec, events


def test_warp_lowers_wake_latency_and_ends_after_warpl():
    _, i, rec0, _ = _warp_run(0)
    lat0 = wake_latencies(rec0.wakes, rec0.all_intervals())[i.domain_id]
    m, i, rec, events = _warp_run(1)
    unwarp = next(e for e in events if e.name == "unwarp" and e.domid == i.domain_id)
    pairs = zip(rec.wakes, wake_latencies(rec.wakes, rec.all_intervals())[i.domain_id])
    warped = [lat for (t, _, _), lat in pairs if t < unwarp.time]
    assert sorted(lat0)[len(lat0) // 2] >= 5 * MS                  # unwarped: it waits its turn
    assert warped and max(warped) == 0                             # warped: evt drops, runs at once
    # The warp ends once it has run warpl (100 ms) warped, and comes back after warpu (1000 ms).
    ran = sum(min(iv.end, unwarp.time) - iv.start for iv in rec.all_intervals()
              if iv.domid == i.domain_id and iv.start < unwarp.time)
    assert ran == 100 * MS
    rewarp = next(e for e in events if e.name == "warp" and e.domid == i.domain_id)
    assert rewarp.time == unwarp.time + 1000 * MS


def test_warpu_zero_stops_warping():
    params = {"warpback": 1, "warpvalue": 1000, "warpl": 10, "warpu": 0}
    m, (a,), _ = machine_with("bvt", [("a", None, {"sched_params": params})])
    m.run(100 * MS)
    inf = a.vcpus[0].sched_priv
    assert inf.warp == 0 and inf.warpback == 0


def test_wake_moves_avt_up_to_svt_and_new_domain_starts_at_svt():
    m, (a, b), _ = machine_with("bvt", [("a", None, {}), ("b", "idle", {})])
    m.run(500 * MS)
    svt = m.scheduler.pdata[0].svt
    assert svt > 0
    binf = b.vcpus[0].sched_priv
    assert binf.avt <= svt
    from xenlab.xen.schedule import vcpu_unblock
    vcpu_unblock(m, b.vcpus[0])
    assert binf.avt == svt and binf.evt == svt                     # sleeping earned no credit
    c = m.create_domain(__import__("xenlab").DomainConfig(name="c", memory=16, workload="idle"))
    assert c.vcpus[0].sched_priv.avt >= svt


def test_slices_ctx_allow_rules():
    m, (a,), rec = machine_with("bvt", [("a", None, {})])
    m.run(200 * MS)
    s = m.scheduler
    assert [d[5]["evt"] for d in rec.decisions if d[2] == a.domain_id][:1]
    # One runnable domain: 10 x ctx_allow.
    assert m.trace is not None
    with m.trace.record("SCHED") as events:
        m.run_for(200 * MS)
    slices = {e["slice_ns"] for e in events if e.name in ("switch", "continue") and e.domid == a.domain_id}
    assert slices == {10 * s.ctx_allow}
    assert s.sched_ctl({"ctx_allow": 2 * MS}) == 0 and s.ctx_allow == 2 * MS
    assert s.sched_ctl({"ctx_allow": 0}) == -E.EINVAL


def test_svt_wrap_around_keeps_order():
    m, (a, b), _ = machine_with("bvt", [("a", None, {}), ("b", None, {})])
    m.run(100 * MS)
    s = m.scheduler
    for d in m.domains.values():
        for v in d.vcpus:
            v.sched_priv.avt += 0xF0000000
            v.sched_priv.evt = v.sched_priv.calc_evt()
    s.pdata[0].svt += 0xF0000000
    before = a.vcpus[0].sched_priv.avt - b.vcpus[0].sched_priv.avt
    with m.trace.record("SCHED") as events:
        m.run_for(100 * MS)
    assert any(e.name == "svt_wrap" for e in events)
    assert s.pdata[0].svt < 0x20000000
    assert abs(a.vcpus[0].sched_priv.avt - b.vcpus[0].sched_priv.avt) <= abs(before) + 10 * 5 * 10 * 2
    m.run_for(1 * S)
    assert share(a, 1.2) == pytest.approx(share(b, 1.2), abs=0.02)


def test_adjust_validation():
    m, (a,), _ = machine_with("bvt", [("a", "idle", {})])
    s = m.scheduler
    assert s.adjust(a, {"mcu_adv": 0}) == -E.EINVAL
    assert s.adjust(a, {"warpl": -1}) == -E.EINVAL
    assert s.adjust(a, {"warpu": -5}) == -E.EINVAL
    assert s.adjust(a, {"weight": 256}) == -E.EINVAL
    assert s.adjust(a, {"mcu_adv": 5, "warpl": 20}) == 0
    assert s.get_params(a) == {"mcu_adv": 5, "warpback": 0, "warpvalue": 0, "warpl": 20, "warpu": 1000}
    assert (B.MCU, B.MCU_ADVANCE, B.CTX_ALLOW, B.WARPL_DEFAULT, B.WARPU_DEFAULT) == (
        100_000, 10, 5 * MS, 2000 * MS, 1000 * MS)
