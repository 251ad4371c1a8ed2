"""BVT's wake-up goes to the head of the run queue and wins an evt tie (X@RELEASE-2.0.0:sched_bvt.c:234, :399)."""
from sched_helpers import machine_with


def xen_bvt_scan(evts):
    """The run-queue scan of bvt_do_schedule (sched_bvt.c:393-415), from the C: index of the winner."""
    best, best_evt = None, 2**32 - 1
    for i, evt in enumerate(evts):
        if evt < best_evt:
            best, best_evt = i, evt
    return best


def test_woken_domain_is_queued_at_the_head_and_wins_the_tie():
    m, (a, b), _ = machine_with("bvt", [("a", "idle", {}), ("b", "idle", {})])
    m.run(1_000_000)
    sched = m.scheduler
    va, vb = a.vcpus[0], b.vcpus[0]
    ia, ib = va.sched_priv, vb.sched_priv
    q = sched.pdata[0].runq
    q.clear()
    sched.pdata[0].svt = 500
    ia.avt = ib.avt = 500
    ia.evt = ia.calc_evt()
    q.append(ia)                        # a waits in the queue; b is asleep
    sched.wake(vb)                      # b wakes with the same evt
    assert ib.evt == ia.evt
    assert q[0] is ib
    winner = sched.pick(q)[0]
    assert winner is q[xen_bvt_scan([i.evt for i in q])] is ib
