"""Raising events: evtchn_set_pending and VIRQ delivery (X@RELEASE-3.0.0:xen/include/xen/event.h).

Pending and mask bits live in the domain's real shared_info frame (2-level ABI: a per-vcpu selector
word ``evtchn_pending_sel`` whose bit i covers word i of ``evtchn_pending``). Xen sets them in a
strict order so that a guest never misses an edge and never gets an upcall for a masked port:

1. test-and-set the port's pending bit; if it was already set, stop (no new edge);
2. if the port is masked, stop (the guest will look when it unmasks);
3. test-and-set the selector bit for the port's word; if it was already set, stop;
4. test-and-set ``evtchn_upcall_pending``; if it was newly set, kick the vcpu (evtchn_notify).
   This is the facts sheet's "set evtchn_upcall_pending and kick": Xen test_and_sets it, kicks on 0->1.

Unmasking (EVTCHNOP_unmask, or the guest itself in 3.0.0) repeats steps 3-4 for a pending port,
so an edge that arrived while the port was masked is delivered then. A vcpu blocked in
SCHEDOP_poll on the port is woken whatever the mask says (3.0.2+).

Sandbox (exercise 06): when ``d.evtchn_logic`` is set, the bit work of set-pending and unmask for
that domain is done by its ``set_pending(pending, mask, sel, upcall, port) -> (pending, sel, upcall,
kick)`` and ``unmask(pending, mask, sel, upcall, port) -> (mask, sel, upcall, kick)``, on integers
read from and written back to the real shared_info frame (bit ``port`` of ``pending``/``mask``, bit
``port // 32`` of ``sel``); a kick notifies the vcpu as Xen's would. Returning NotImplemented leaves
that call to Xen's own code.
"""
from __future__ import annotations

from xenlab.xen.public.xen import (BITS_PER_LONG, NR_EVENT_CHANNELS, SI_EVTCHN_MASK, SI_EVTCHN_PENDING,
                                   VI_EVTCHN_PENDING_SEL, VI_EVTCHN_UPCALL_PENDING, VIRQ_TIMER)
from xenlab.xen.public.shared import (VI_FIELDS, shared_info_base, vcpu_info_addr,  # noqa: F401  (re-exported)
                                      vcpu_info_read, vcpu_info_write)
from xenlab.xen.time import update_dom_time
from xenlab.xen.wake import vcpu_unblock

_VI_FIELDS = VI_FIELDS


def _bit(d, base: int, port: int) -> tuple[int, int]:
    word_addr = shared_info_base(d) + base + (port // BITS_PER_LONG) * 4
    return word_addr, 1 << (port % BITS_PER_LONG)


def test_and_set_bit(d, base: int, port: int) -> bool:
    mem = d.machine.memory
    addr, mask = _bit(d, base, port)
    word = mem.read_u32(addr)
    mem.write_u32(addr, word | mask)
    return bool(word & mask)


def test_and_clear_bit(d, base: int, port: int) -> bool:
    mem = d.machine.memory
    addr, mask = _bit(d, base, port)
    word = mem.read_u32(addr)
    mem.write_u32(addr, word & ~mask & 0xFFFFFFFF)
    return bool(word & mask)


def test_bit(d, base: int, port: int) -> bool:
    addr, mask = _bit(d, base, port)
    return bool(d.machine.memory.read_u32(addr) & mask)


def port_is_pending(d, port: int) -> bool:
    return test_bit(d, SI_EVTCHN_PENDING, port)


def port_is_masked(d, port: int) -> bool:
    return test_bit(d, SI_EVTCHN_MASK, port)


def local_events_need_delivery(v) -> bool:
    return bool(vcpu_info_read(v, "evtchn_upcall_pending")) and not vcpu_info_read(v, "evtchn_upcall_mask")


def evtchn_set_pending(v, port: int) -> None:
    """Mark ``port`` of v's domain pending and notify v, in Xen's strict order (3.0 event.h).

    Returns nothing, as in Xen; the trace event's ``outcome`` says at which step it stopped.
    """
    d = v.domain
    machine = d.machine
    outcome = None if d.evtchn_logic is None else _logic_set_pending(v, port)
    if outcome is not None:
        pass                                                        # the sandbox's logic did it
    elif test_and_set_bit(d, SI_EVTCHN_PENDING, port):              # 1. no new edge
        outcome = "already pending"
    elif port_is_masked(d, port):                                   # 2. edge kept in pending only
        outcome = "masked"
    elif _test_and_set_sel(v, port // BITS_PER_LONG):                # 3. selector already raised
        outcome = "selector already set"
    elif _test_and_set_upcall_pending(v):                           # 4. upcall already pending
        outcome = "upcall already pending"
    else:
        outcome = "upcall"
    if machine.trace.active:
        machine.trace.emit("EVTCHN", "set_pending", domid=d.domain_id, vcpu=v.vcpu_id, port=port,
                           outcome=outcome)
    if outcome == "upcall":
        vcpu_mark_events_pending(v)
    _check_pollers(d, port)


def _test_and_set_sel(v, word: int) -> bool:
    mem = v.domain.machine.memory
    addr = vcpu_info_addr(v) + VI_EVTCHN_PENDING_SEL
    sel = mem.read_u32(addr)
    mem.write_u32(addr, sel | (1 << word))
    return bool(sel & (1 << word))


def _test_and_set_upcall_pending(v) -> bool:
    mem = v.domain.machine.memory
    addr = vcpu_info_addr(v) + VI_EVTCHN_UPCALL_PENDING
    old = mem.read_u8(addr)
    mem.write_u8(addr, 1)
    return bool(old)


def _check_pollers(d, port: int) -> None:
    """SCHEDOP_poll (3.0.2+): a vcpu polling this port wakes even if the port is masked."""
    for w in d.vcpus:
        if port in w.poll_ports:
            w.poll_ports = ()
            vcpu_unblock(d.machine, w)


def evtchn_unmask_port(v, port: int) -> bool:
    """The unmask rule shared by EVTCHNOP_unmask and the guest's own unmask_evtchn (3.0.0).

    Clear the mask bit; if the port is pending and its selector bit was clear, raise the selector
    and the upcall. Returns True when an upcall was newly raised.
    """
    d = v.domain
    if d.evtchn_logic is not None:
        kicked = _logic_unmask(v, port)
        if kicked is not None:
            return kicked
    kick = bool(test_and_clear_bit(d, SI_EVTCHN_MASK, port) and port_is_pending(d, port)
                and not _test_and_set_sel(v, port // BITS_PER_LONG)
                and not _test_and_set_upcall_pending(v))
    if d.machine.trace.active:
        d.machine.trace.emit("EVTCHN", "unmask", domid=d.domain_id, vcpu=v.vcpu_id, port=port,
                             outcome="upcall" if kick else "no upcall")
    if kick:
        vcpu_mark_events_pending(v)
    return kick


# -- the exercise-06 sandbox: the same steps done by d.evtchn_logic on integers ---------------------------
def _bitmap(d, base: int) -> int:
    mem, addr = d.machine.memory, shared_info_base(d) + base
    return sum(mem.read_u32(addr + 4 * w) << (BITS_PER_LONG * w) for w in range(NR_EVENT_CHANNELS // BITS_PER_LONG))


def _write_bitmap(d, base: int, old: int, new: int) -> None:
    """Write back the words of ``new`` that differ from ``old`` (bits beyond the last port are dropped)."""
    mem, addr = d.machine.memory, shared_info_base(d) + base
    for w in range(NR_EVENT_CHANNELS // BITS_PER_LONG):
        word = (new >> (BITS_PER_LONG * w)) & 0xFFFFFFFF
        if word != (old >> (BITS_PER_LONG * w)) & 0xFFFFFFFF:
            mem.write_u32(addr + 4 * w, word)


def _logic_state(v) -> tuple[int, int, int, int]:
    d = v.domain
    return (_bitmap(d, SI_EVTCHN_PENDING), _bitmap(d, SI_EVTCHN_MASK),
            vcpu_info_read(v, "evtchn_pending_sel"), vcpu_info_read(v, "evtchn_upcall_pending"))


def _logic_set_pending(v, port: int) -> str | None:
    """set_pending by d.evtchn_logic; the trace outcome, or None when it left the call to Xen."""
    pending, mask, sel, upcall = _logic_state(v)
    got = v.domain.evtchn_logic.set_pending(pending, mask, sel, upcall, port)
    if got is NotImplemented:
        return None
    new_pending, new_sel, new_upcall, kick = (int(x) for x in got)
    _write_bitmap(v.domain, SI_EVTCHN_PENDING, pending, new_pending)
    vcpu_info_write(v, "evtchn_pending_sel", new_sel & 0xFFFFFFFF)
    vcpu_info_write(v, "evtchn_upcall_pending", 1 if new_upcall else 0)
    return "upcall" if kick else "no kick (evtchn_logic)"


def _logic_unmask(v, port: int) -> bool | None:
    """unmask by d.evtchn_logic, kicking the vcpu if it says so; None when it left the call to Xen."""
    pending, mask, sel, upcall = _logic_state(v)
    got = v.domain.evtchn_logic.unmask(pending, mask, sel, upcall, port)
    if got is NotImplemented:
        return None
    new_mask, new_sel, new_upcall, kick = (int(x) for x in got)
    _write_bitmap(v.domain, SI_EVTCHN_MASK, mask, new_mask)
    vcpu_info_write(v, "evtchn_pending_sel", new_sel & 0xFFFFFFFF)
    vcpu_info_write(v, "evtchn_upcall_pending", 1 if new_upcall else 0)
    if v.domain.machine.trace.active:
        v.domain.machine.trace.emit("EVTCHN", "unmask", domid=v.domid, vcpu=v.vcpu_id, port=port,
                                    outcome="upcall" if kick else "no kick (evtchn_logic)")
    if kick:
        vcpu_mark_events_pending(v)
    return bool(kick)


def vcpu_mark_events_pending(v) -> None:
    """evtchn_notify(): wake a blocked (or polling) vcpu; a running one takes the upcall on return."""
    machine = v.domain.machine
    v.poll_ports = ()
    vcpu_unblock(machine, v)
    if v.guest is not None:
        v.guest.events_pending()


def send_guest_vcpu_virq(v, virq: int) -> None:
    if virq == VIRQ_TIMER:
        update_dom_time(v)            # 3.0 t_timer_fn: refresh the time base, then the tick
    port = v.virq_to_evtchn[virq]
    if port == 0:
        return                      # not bound: Xen drops the VIRQ
    evtchn_set_pending(v, port)


def send_guest_global_virq(d, virq: int) -> None:
    """Global VIRQs (CONSOLE, DOM_EXC ...) go to the vcpu the port is bound to, vcpu 0 by default."""
    if d is None or not d.vcpus:
        return
    port = d.vcpus[0].virq_to_evtchn[virq]
    if port == 0:
        return
    target = getattr(d, "evtchn", None)
    v = d.vcpus[target[port].notify_vcpu_id] if target is not None else d.vcpus[0]
    evtchn_set_pending(v, port)
