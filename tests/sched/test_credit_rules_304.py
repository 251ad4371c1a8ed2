"""Credit's edge cases, each as a worked example from X@3.0.4-branched:xen/common/sched_credit.c."""
import random

from sched_helpers import machine_with
from xenlab.xen.sched import credit as C


def xen_runq_sort(pris):
    """csched_runq_sort (sched_credit.c:777-816) on a doubly linked list, written from the C: walk the
    queue; an element with pri >= UNDER whose predecessor is not the last UNDER seen is unlinked and
    re-linked right after it. Returns the new order as indices into ``pris``."""
    HEAD = -1
    nxt = {HEAD: 0 if pris else HEAD}
    prv = {0: HEAD} if pris else {HEAD: HEAD}
    for i in range(len(pris)):
        nxt[i] = i + 1 if i + 1 < len(pris) else HEAD
        prv[i] = i - 1 if i else HEAD
    prv[HEAD] = len(pris) - 1 if pris else HEAD

    def unlink(e):
        nxt[prv[e]], prv[nxt[e]] = nxt[e], prv[e]

    def link_after(e, at):
        nxt[e], prv[e] = nxt[at], at
        prv[nxt[at]] = e
        nxt[at] = e

    elem, last_under = nxt[HEAD], HEAD
    while elem != HEAD:
        following = nxt[elem]
        if pris[elem] >= C.CSCHED_PRI_TS_UNDER:
            if prv[elem] != last_under:
                unlink(elem)
                link_after(elem, last_under)
            last_under = elem
        elem = following
    order, e = [], nxt[HEAD]
    while e != HEAD:
        order.append(e)
        e = nxt[e]
    return order


def _scheduler_with_vcpus(n):
    m, doms, _ = machine_with("credit", [(f"d{k}", None, {}) for k in range(n)])
    return m.scheduler, [d.vcpus[0].sched_priv for d in doms]


def test_runq_sort_does_not_move_boost_ahead_of_under():
    # Worked example: UNDER c, BOOST b, OVER a. Xen keeps c before b (both are ">= UNDER").
    sched, (a, b, c) = _scheduler_with_vcpus(3)
    a.pri, b.pri, c.pri = C.CSCHED_PRI_TS_OVER, C.CSCHED_PRI_TS_BOOST, C.CSCHED_PRI_TS_UNDER
    q = sched.pdata[0].runq
    q[:] = [c, b, a]
    sched.runq_sort += 1
    sched._runq_sort(0)
    assert q == [c, b, a]


def test_runq_sort_agrees_with_the_linked_list_walk_on_random_queues():
    sched, svcs = _scheduler_with_vcpus(4)
    rng = random.Random(304)
    pris = (C.CSCHED_PRI_TS_BOOST, C.CSCHED_PRI_TS_UNDER, C.CSCHED_PRI_TS_OVER)
    for _ in range(300):
        n = rng.randint(0, 4)
        chosen = rng.sample(svcs, n)
        for s in chosen:
            s.pri = rng.choice(pris)
        q = sched.pdata[0].runq
        q[:] = chosen
        sched.runq_sort += 1
        sched._runq_sort(0)
        assert q == [chosen[i] for i in xen_runq_sort([s.pri for s in chosen])]


def test_balance_forgotten_when_no_domain_is_active():
    # sched_credit.c:850-856: weight_total == 0 -> credit_balance = 0, return.
    sched, _ = _scheduler_with_vcpus(1)
    for svc in list(sched.active_sdom):
        for v in list(svc.active_vcpus):
            sched._deactivate(v)
    assert sched.weight_total == 0
    sched.credit_balance = -120
    sched.acct()
    assert sched.credit_balance == 0


def test_newly_active_domain_goes_to_the_head_of_the_active_list():
    # __csched_vcpu_acct_start: list_add (head), not list_add_tail.
    sched, (a, b) = _scheduler_with_vcpus(2)
    for sdom in list(sched.active_sdom):
        for v in list(sdom.active_vcpus):
            sched._deactivate(v)
    sched._activate(a)
    sched._activate(b)
    assert [s.domid for s in sched.active_sdom] == [b.sdom.domid, a.sdom.domid]
