"""The exercises of issue 12 in-process (no kernel): each reference scores full marks, a stub zero, and
the typical mistakes are caught; the references agree with the live model they are about."""
import pytest

from xenlab.grading import get_exercise
from xenlab.grading.checks import ex02_crossings as ex02
from xenlab.grading.checks import ex04c_p2m_balloon as ex04c
from xenlab.grading.checks import ex06_evtchn_upcall as ex06
from xenlab.grading.checks import ex06b_missed_upcall as ex06b
from xenlab.grading.checks import ex09_front_ring as ex09
from xenlab.grading.checks import ex09b_lost_wakeup as ex09b
from xenlab.grading.checks import ex11_netback_rx as ex11
from xenlab.grading.checks import ex13_xentop as ex13
from xenlab.grading.runner import run_checks

M32 = 0xFFFF_FFFF

REFERENCES = {
    "ex02": {"crossing_kind": ex02.reference_kind, "ring_path": ex02.reference_path},
    "ex04c": {"balloon_out": ex04c.reference_balloon_out, "balloon_in": ex04c.reference_balloon_in},
    "ex06b": {"set_pending": ex06.reference_set_pending},
    "ex09b": {"push_requests_and_check_notify": ex09.reference_push,
              "final_check_for_responses": ex09.reference_final_check},
    "ex11": {"owners": ex11.reference_owners, "flip_tables": ex11.reference_flip_tables},
    "ex13": {"xentop_state": ex13.reference_state, "cpu_percent": ex13.reference_cpu_percent},
}


def stub(*args, **kwargs):
    raise NotImplementedError("stub")


def points(ex_id, ns, seed=11):
    results = run_checks(ex_id, ns, seed=seed)
    return sum(r["points"] for r in results), {r["function"] for r in results if r["status"] != "pass"}


@pytest.mark.parametrize("ex_id", sorted(REFERENCES))
@pytest.mark.parametrize("seed", [1, 2])
def test_reference_full_marks(ex_id, seed):
    got, lost = points(ex_id, REFERENCES[ex_id], seed)
    assert lost == set() and got == get_exercise(ex_id).max_points


@pytest.mark.parametrize("ex_id", sorted(REFERENCES))
def test_stub_scores_zero(ex_id):
    assert points(ex_id, {fn: stub for fn in REFERENCES[ex_id]})[0] == 0


def caught(ex_id, function, wrong):
    """The mistake loses points on `function` and only there."""
    got, lost = points(ex_id, REFERENCES[ex_id] | {function: wrong})
    return lost == {function} and got < get_exercise(ex_id).max_points


# -- ex02 --------------------------------------------------------------------------------------------------
def test_ex02_mistakes():
    # "instead of system calls there are hypercalls": the lecture's shorthand taken literally
    assert caught("ex02", "crossing_kind", lambda op: "hypercall" if op == "app_syscall" else ex02.reference_kind(op))
    # cli is a privileged instruction natively, but a PV kernel only writes evtchn_upcall_mask
    assert caught("ex02", "crossing_kind",
                  lambda op: "hypercall" if op == "kernel_disable_events" else ex02.reference_kind(op))
    # a system call through Xen (as on x86_64 or with an IF-flagged int80)
    assert caught("ex02", "ring_path", lambda op: (3, 0, 1) if op == "app_syscall" else ex02.reference_path(op))
    # a page fault delivered straight to the guest kernel
    assert caught("ex02", "ring_path", lambda op: (3, 1) if op == "app_page_fault" else ex02.reference_path(op))


def test_ex02_table_agrees_with_the_live_trace():
    from xenlab.viz.ex_live import TRACE_OPS, kernel_mix_crossings
    seen = kernel_mix_crossings(rounds=1)
    assert set(seen) == {op for op, _, _ in TRACE_OPS}
    for op, (count, path) in seen.items():
        assert count >= 1 and path == ex02.reference_path(op), op


# -- ex13 --------------------------------------------------------------------------------------------------
def test_ex13_mistakes():
    from xenlab.grading.checks.ex01_domain_states import reference_state_string
    from xenlab.xen.public import dom0_ops as D

    def xm_order(flags):             # exercise 01's order r b p s c d, no crash distinction
        sd = bool(flags & D.DOMFLAGS_SHUTDOWN)
        return reference_state_string(flags & D.DOMFLAGS_RUNNING, flags & D.DOMFLAGS_BLOCKED,
                                      flags & D.DOMFLAGS_PAUSED, sd, False, flags & D.DOMFLAGS_DYING)
    assert caught("ex13", "xentop_state", xm_order)

    def no_crash(flags):             # the reason ignored: a crash shows as 's'
        return ex13.reference_state(flags & ~(0xFF << D.DOMFLAGS_SHUTDOWNSHIFT))
    assert caught("ex13", "xentop_state", no_crash)

    def units(before, after):        # ns divided by ns: a fraction, not a percentage
        return (after[1] - before[1]) / (after[0] - before[0])
    assert caught("ex13", "cpu_percent", units)

    def per_machine(before, after):  # divided by the number of CPUs (2 here), as some tools do
        return ex13.reference_cpu_percent(before, after) / 2
    assert caught("ex13", "cpu_percent", per_machine)


def test_ex13_reference_agrees_with_the_model_xentop():
    from xenlab.toolstack.xentop import domain_row, sample
    from xenlab.viz.ex_live import xentop_machine
    m = xentop_machine()
    before = sample(m)
    m.run_for(200_000_000)
    after = sample(m)
    states = set()
    for domid, dom in after.domains.items():
        row = domain_row(after, before, dom)
        old = before.domains[domid]
        assert ex13.reference_state(dom.flags) == row["state"]
        assert ex13.reference_cpu_percent((before.time_ns, old.cpu_ns), (after.time_ns, dom.cpu_ns)) == \
            pytest.approx(row["cpu_pct"])
        states.add(row["state"])
    # the machine shows running, blocked, paused and crashed domains (each letter exercised)
    assert {"-----r", "--b---", "----p-"} <= states and any("c" in s for s in states)
    # a worked example: a whole CPU for one second is 100.0
    assert ex13.reference_cpu_percent((0, 0), (10**9, 10**9)) == 100.0


# -- ex04c -------------------------------------------------------------------------------------------------
def test_ex04c_mistakes():
    def pfns_not_mfns(p2m, pfns, decrease):
        done = decrease(list(pfns))
        for p in pfns[:max(done, 0)]:
            p2m[p] = ex04c.INVALID
        return list(pfns[:max(done, 0)])
    assert caught("ex04c", "balloon_out", pfns_not_mfns)

    def invalidate_first(p2m, pfns, decrease):
        for p in pfns:
            p2m[p] = ex04c.INVALID
        decrease([p2m[p] for p in pfns])
        return list(pfns)
    assert caught("ex04c", "balloon_out", invalidate_first)

    def all_holes(p2m, pfns, decrease):      # ignores how many Xen really took
        decrease([p2m[p] for p in pfns])
        for p in pfns:
            p2m[p] = ex04c.INVALID
        return list(pfns)
    assert caught("ex04c", "balloon_out", all_holes)

    def no_m2p(p2m, holes, increase, mmu_update):
        mfns = increase(len(holes))
        for p, m in zip(holes, mfns):
            p2m[p] = m
        return list(holes[:len(mfns)])
    assert caught("ex04c", "balloon_in", no_m2p)

    def normal_update(p2m, holes, increase, mmu_update):   # forgot MMU_MACHPHYS_UPDATE in ptr
        mfns = increase(len(holes))
        for p, m in zip(holes, mfns):
            p2m[p] = m
        mmu_update([(m << 12, p) for p, m in zip(holes, mfns)])
        return list(holes[:len(mfns)])
    assert caught("ex04c", "balloon_in", normal_update)

    def fills_all(p2m, holes, increase, mmu_update):      # assumes Xen gave every page
        mfns = increase(len(holes))
        reqs = []
        for i, p in enumerate(holes):
            m = mfns[i % len(mfns)] if mfns else 0
            p2m[p] = m
            reqs.append((m << 12 | 1, p))
        mmu_update(reqs)
        return list(holes)
    assert caught("ex04c", "balloon_in", fills_all)


def test_ex04c_reference_keeps_a_live_domain_consistent():
    from xenlab.i18n import t
    from xenlab.viz.ex_live import balloon_run
    out = balloon_run(ex04c.reference_balloon_out, ex04c.reference_balloon_in, pages=32)
    assert out.splitlines()[-1] == t("ex.ex04c.verdict_ok")

    def no_m2p(p2m, holes, increase, mmu_update):
        mfns = increase(len(holes))
        for p, m in zip(holes, mfns):
            p2m[p] = m
        return list(holes)
    assert balloon_run(ex04c.reference_balloon_out, no_m2p, pages=32).splitlines()[-1] == t("ex.ex04c.verdict_bad")


# -- ex11 --------------------------------------------------------------------------------------------------
def test_ex11_mistakes():
    # copying moves the frame like a flip
    assert caught("ex11", "owners", lambda mode, step: ex11.reference_owners("flip", step))
    # the guest keeps its buffer frame while flipping
    assert caught("ex11", "owners",
                  lambda mode, step: ex11.reference_owners(mode, step) | ({"B": "guest"} if mode == "flip" else {}))
    # netback never refills its hole
    assert caught("ex11", "owners",
                  lambda mode, step: ex11.reference_owners(mode, step) | {"R": "xen"})
    # the buffer's pfn keeps its old frame; M2P untouched
    assert caught("ex11", "flip_tables", lambda bp, dp, B, S, R: {"guest_p2m": {bp: B}, "dom0_p2m": {dp: R},
                                                                   "m2p": {S: bp, R: dp}})
    # S's M2P entry left at dom0's pfn
    assert caught("ex11", "flip_tables", lambda bp, dp, B, S, R: {"guest_p2m": {bp: S}, "dom0_p2m": {dp: R},
                                                                   "m2p": {B: ex11.INVALID, S: dp, R: dp}})


@pytest.mark.parametrize("mode", ["flip", "copy"])
def test_ex11_reference_agrees_with_the_live_model(mode):
    from xenlab.viz.ex_live import _rx_once
    run = _rx_once(mode)
    for step in ("refilled", "received"):
        assert run[step] == ex11.reference_owners(mode, step)
    if mode == "flip":
        f = run["frames"]
        assert len({f["B"], f["S"], f["R"]}) == 3
        want = ex11.reference_flip_tables(run["buf_pfn"], run["dom0_pfn"], f["B"], f["S"], f["R"])
        assert run["guest_p2m"] == want["guest_p2m"] and run["dom0_p2m"] == want["dom0_p2m"]
        assert run["m2p"] == want["m2p"]
    else:
        assert run["frames"]["R"] is None and run["guest_p2m"] == {run["buf_pfn"]: run["frames"]["B"]}


# -- the debugging labs -------------------------------------------------------------------------------------
def test_lab09b_the_colleagues_code_is_caught_and_shows_its_symptoms():
    from xenlab.i18n import set_language
    from xenlab.viz.ex_live import disk_lab, race_lab
    assert caught("ex09b", "push_requests_and_check_notify", ex09b.buggy_push)
    assert caught("ex09b", "final_check_for_responses", ex09b.buggy_final_check)
    set_language("en")
    try:
        assert "I/O completed: 4 of 4" in disk_lab(ex09.reference_push, ex09.reference_final_check)
        hung = disk_lab(ex09b.buggy_push, ex09.reference_final_check)
        assert "did not complete" in hung and "of 4" in hung and "4 of 4" not in hung
        assert "a lost wake-up" in race_lab(ex09b.buggy_final_check)
        assert "a lost wake-up" not in race_lab(ex09.reference_final_check)
    finally:
        set_language("pl")


def test_lab06b_the_colleagues_code_is_caught_and_loses_events():
    from xenlab.viz.sandbox import StudentEvtchn, _evtchn_run
    assert caught("ex06b", "set_pending", ex06b.buggy_set_pending)
    _, _, _, xen = _evtchn_run(None)
    _, _, _, bad = _evtchn_run(StudentEvtchn(ex06b.buggy_set_pending, None))
    _, _, _, good = _evtchn_run(StudentEvtchn(ex06.reference_set_pending, None))
    assert good == xen
    # some event stays pending although nobody was notified and no handler ran for it
    assert any(pending and not kick and not handled for _, kick, handled, pending in bad)
