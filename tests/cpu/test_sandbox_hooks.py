"""The exercise sandboxes: Domain.trap_route (xen/traps.py), Domain.evtchn_logic (xen/event.py) and
XenLinux.system_time_fn (guest/cpu.py). A hook that reproduces Xen's rule changes nothing; a hook
returning NotImplemented leaves the step to Xen; a different answer is what the machine does."""
import pytest

import xenlab
from xenlab.grading.checks.ex05_trap_routing import reference_route
from xenlab.grading.checks.ex06_evtchn_upcall import (
    reference_set_pending,
    reference_unmask,
)
from xenlab.guest.cpu import guest_system_time
from xenlab.guest.time import four_clocks
from xenlab.xen import event as XE
from xenlab.xen import traps as T
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.xen import SI_EVTCHN_MASK
from xenlab.xen.time import read_vcpu_time_info, scale_delta

MS = 1_000_000
WORKLOAD = [("syscall", 4), ("fault", 14, 0x0804A123), ("fault", 0), ("fpu",), ("insn", "cli", 3),
            ("syscall", 1), ("compute", MS), ("block",)]


def _rings(route):
    m = xenlab.Machine(memory_mb=64, seed=0)
    d = m.create_domain(xenlab.DomainConfig(name="t", memory=8, workload=list(WORKLOAD)))
    d.trap_route = route
    with m.trace.record("HW") as evs:
        m.run_for(20 * MS)
        outcomes = [T.software_interrupt(d.vcpus[0], n, from_ring=3)[0] for n in (3, 0x81)]
    return d, [(e.data.get("vector"), e["path"]) for e in evs if e.name == "ring" and e.domid == d.domain_id], outcomes


# -- ex05 ---------------------------------------------------------------------------------------------------
def test_trap_route_with_xens_rule_changes_nothing():
    _, xen, out_x = _rings(None)
    _, mine, out_m = _rings(reference_route)
    assert mine == xen and out_m == out_x == ["bounced", "gp"]
    assert ((0x80, (3, 1))) in xen and (14, (3, 0, 1)) in xen


def test_trap_route_not_implemented_leaves_it_to_xen():
    calls = []

    def hook(*args):
        calls.append(args)
        return NotImplemented
    _, xen, _ = _rings(None)
    _, mine, _ = _rings(hook)
    assert mine == xen and len(calls) >= 8
    table, vector, ring, software = calls[0]
    assert (vector, ring, software) == (0x80, 3, True) and table[0x80][1] and 14 in table


def test_trap_route_is_followed():
    # Everything through Xen: no direct int 0x80 gate any more.
    _, mine, out = _rings(lambda table, vector, ring, software: (vector, (ring, 0, 1)))
    assert (0x80, (3, 0, 1)) in mine and (0x80, (3, 1)) not in mine
    assert out[1] == "crash"                     # int $0x81 bounced to a vector with no handler
    # None crashes the domain at the first decision.
    d, mine, _ = _rings(lambda *a: None)
    assert d.is_crashed and (0x80, (3, 0)) in mine and (14, (3, 0, 1)) not in mine


def test_trap_route_bad_answer_is_refused():
    m = xenlab.Machine(memory_mb=64, seed=0)
    d = m.create_domain(xenlab.DomainConfig(name="t", memory=8))
    m.run_for(MS)
    d.trap_route = lambda *a: (0x80, (3, 2, 1))
    with pytest.raises(ValueError, match="trap_route returned"):
        T.software_interrupt(d.vcpus[0], 0x80, from_ring=3)


# -- ex06 ---------------------------------------------------------------------------------------------------
class Logic:
    def __init__(self, set_pending, unmask):
        self.set_pending, self.unmask = set_pending, unmask


def _channel(logic):
    m = xenlab.Machine(memory_mb=64, seed=0)
    d = m.create_domain(xenlab.DomainConfig(name="t", memory=8, workload=[("compute", MS), ("block",),
                                                                            ("loop", 0, None)]))
    m.run_for(5 * MS)
    d.evtchn_logic = logic
    a = ev.evtchn_alloc_unbound(dom=0, remote_dom=d.domain_id)
    m.domains[0].hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_alloc_unbound, a))
    b = ev.evtchn_bind_interdomain(remote_dom=0, remote_port=a.port)
    d.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_interdomain, b))
    m.run_for(5 * MS)
    return m, d, a.port, b.local_port


def _story(logic):
    """send, mask, send, unmask: (handled per step, pending afterwards)."""
    m, d, rport, port = _channel(logic)
    send = lambda: m.domains[0].hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(rport)))
    out = []
    with m.trace.record("EVTCHN") as evs:
        for action in ("send", "mask", "send", "unmask"):
            n = len(evs)
            if action == "send":
                send()
            elif action == "mask":
                XE.test_and_set_bit(d, SI_EVTCHN_MASK, port)
            else:
                d.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_unmask, ev.evtchn_unmask(port)))
            m.run_for(5 * MS)
            handled = sum(port in e["ports"] for e in evs[n:] if e.name == "upcall" and e.domid == d.domain_id)
            out.append((handled, XE.port_is_pending(d, port)))
    return out


def test_evtchn_logic_with_xens_rule_changes_nothing():
    xen = _story(None)
    assert xen == [(1, False), (0, False), (0, True), (1, False)]
    assert _story(Logic(reference_set_pending, reference_unmask)) == xen
    ni = lambda *a: NotImplemented
    assert _story(Logic(ni, ni)) == xen


def test_evtchn_logic_decides_delivery():
    # An unmask that never kicks: the event that arrived while masked stays pending, undelivered.
    lazy_unmask = lambda p, mask, s, u, port: (mask & ~(1 << port), s, u, False)
    assert _story(Logic(reference_set_pending, lazy_unmask))[-1] == (0, True)
    # A set_pending that forgets the selector: kicked, but the guest's scan finds nothing.
    no_sel = lambda p, mask, s, u, port: (p | 1 << port, s, 1, not u)
    assert _story(Logic(no_sel, reference_unmask))[0] == (0, True)


def test_evtchn_logic_sees_the_real_bits():
    seen = []

    def spy(pending, mask, sel, upcall, port):
        seen.append((pending, mask, sel, upcall, port))
        return reference_set_pending(pending, mask, sel, upcall, port)
    m, d, rport, port = _channel(Logic(spy, reference_unmask))
    XE.test_and_set_bit(d, SI_EVTCHN_MASK, port)
    m.domains[0].hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(rport)))
    pending, mask, _sel, _upcall, p = seen[-1]
    assert p == port and mask >> port & 1 and not pending >> port & 1
    assert XE.port_is_pending(d, port)                      # written back into shared_info


# -- ex08 ---------------------------------------------------------------------------------------------------
def _time_domain(fn):
    m = xenlab.Machine(memory_mb=64, seed=0, tsc_mhz=2394)
    d = m.create_domain(xenlab.DomainConfig(name="t", memory=8, workload="cpu-bound"))
    d.kernel.system_time_fn = fn
    m.run_for(1_300 * MS)
    return m, d


def test_system_time_fn_is_the_guests_clock():
    _, d = _time_domain(None)
    xen = guest_system_time(d.vcpus[0])
    formula = lambda tsc, st, ts, mul, shift: st + scale_delta(tsc - ts, shift, mul)
    assert guest_system_time(_time_domain(formula)[1].vcpus[0]) == xen
    assert guest_system_time(_time_domain(lambda *a: NotImplemented)[1].vcpus[0]) == xen
    _, d2 = _time_domain(lambda tsc, st, ts, mul, shift: st + ((tsc - ts) * mul >> 32))   # no shift
    t = read_vcpu_time_info(d2.vcpus[0])
    assert t["tsc_shift"] != 0 and guest_system_time(d2.vcpus[0]) != xen
    assert four_clocks(d2)["system_ns"] == guest_system_time(d2.vcpus[0])
