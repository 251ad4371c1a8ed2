"""Event channels (X@RELEASE-3.0.0:xen/common/event_channel.c; EVTCHNOP_unmask from 3.0.2).

Each domain has up to NR_EVENT_CHANNELS ports (1024 on x86_32) in buckets of 128. A port is free,
reserved (port 0), unbound (waiting for a named remote domain), interdomain, bound to a physical IRQ,
to a virtual IRQ, or to an inter-processor interrupt. ``send`` on an interdomain port makes the
*remote* port pending; the lecture's "hardware interrupts turned into events" are the VIRQ and PIRQ
bindings: Xen takes the interrupt and sets a pending bit instead.

Simplifications:
- Buckets are not allocated lazily (no -ENOMEM): all 1024 ports exist from domain creation.
- PIRQs are numbers routed by the model's devices; there is no IO-APIC.
"""
from __future__ import annotations

from dataclasses import dataclass

from xenlab.xen.event import (evtchn_set_pending, evtchn_unmask_port, port_is_pending,
                              test_and_set_bit, vcpu_info_read)
from xenlab.xen.hypercall import hypercall
from xenlab.xen.public import errno as E
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.xen import DOMID_SELF, NR_EVENT_CHANNELS, NR_VIRQS, SI_EVTCHN_PENDING

# Internal channel states (X@RELEASE-3.0.0:xen/include/xen/sched.h).
ECS_FREE = 0
ECS_RESERVED = 1
ECS_UNBOUND = 2
ECS_INTERDOMAIN = 3
ECS_PIRQ = 4
ECS_VIRQ = 5
ECS_IPI = 6
ECS_NAMES = ("free", "reserved", "unbound", "interdomain", "pirq", "virq", "ipi")
EVTCHNS_PER_BUCKET = 128
NR_PIRQS = 256                    # NR_IRQS on x86 in 3.0: pirq numbers 0..255


@dataclass
class Evtchn:
    """struct evtchn."""
    state: int = ECS_FREE
    notify_vcpu_id: int = 0
    remote_domid: int = 0         # unbound: who may bind; interdomain: the peer
    remote_port: int = 0          # interdomain
    pirq: int = 0
    virq: int = 0

    def describe(self) -> str:
        s = ECS_NAMES[self.state]
        if self.state == ECS_UNBOUND:
            return f"{s} (for d{self.remote_domid})"
        if self.state == ECS_INTERDOMAIN:
            return f"{s} <-> d{self.remote_domid}:{self.remote_port}"
        if self.state == ECS_VIRQ:
            return f"virq {self.virq} -> vcpu{self.notify_vcpu_id}"
        if self.state == ECS_PIRQ:
            return f"pirq {self.pirq}"
        if self.state == ECS_IPI:
            return f"ipi -> vcpu{self.notify_vcpu_id}"
        return s


def evtchn_init(d) -> None:
    d.evtchn = [Evtchn() for _ in range(NR_EVENT_CHANNELS)]
    d.evtchn[0].state = ECS_RESERVED            # port 0 is never handed out
    d.pirq_to_evtchn = {}


def evtchn_destroy(d) -> None:
    for port in range(1, NR_EVENT_CHANNELS):
        if d.evtchn[port].state not in (ECS_FREE, ECS_RESERVED):
            _close(d, port)


def get_free_port(d) -> int:
    for port, chn in enumerate(d.evtchn):
        if chn.state == ECS_FREE:
            return port
    return -E.ENOSPC


def _lookup(current, domid: int):
    machine = current.domain.machine
    if domid == DOMID_SELF:
        return current.domain
    return machine.domains.get(domid)


def _port_ok(d, port: int) -> bool:
    return isinstance(port, int) and 0 <= port < NR_EVENT_CHANNELS


# -- operations ------------------------------------------------------------------------------------------
def evtchn_alloc_unbound(current, a: ev.evtchn_alloc_unbound) -> int:
    if a.dom != DOMID_SELF and not current.domain.is_privileged:
        return -E.EPERM
    d = _lookup(current, a.dom)
    if d is None:
        return -E.ESRCH
    port = get_free_port(d)
    if port < 0:
        return port
    chn = d.evtchn[port]
    chn.state = ECS_UNBOUND
    chn.remote_domid = current.domain.domain_id if a.remote_dom == DOMID_SELF else a.remote_dom
    a.port = port
    return 0


def evtchn_bind_interdomain(current, a: ev.evtchn_bind_interdomain) -> int:
    ld = current.domain
    rd = _lookup(current, a.remote_dom)
    if rd is None:
        return -E.ESRCH
    # Xen takes the local port first, so a full table gives -ENOSPC before the remote checks.
    lport = get_free_port(ld)
    if lport < 0:
        return lport
    if not _port_ok(rd, a.remote_port):
        return -E.EINVAL
    rchn = rd.evtchn[a.remote_port]
    if rchn.state != ECS_UNBOUND or rchn.remote_domid != ld.domain_id:
        return -E.EINVAL
    lchn = ld.evtchn[lport]
    lchn.state, lchn.remote_domid, lchn.remote_port = ECS_INTERDOMAIN, rd.domain_id, a.remote_port
    rchn.state, rchn.remote_domid, rchn.remote_port = ECS_INTERDOMAIN, ld.domain_id, lport
    # Set the local end pending at once: it may have missed notifications while unbound.
    evtchn_set_pending(ld.vcpus[lchn.notify_vcpu_id], lport)
    a.local_port = lport
    return 0


def evtchn_bind_virq(current, a: ev.evtchn_bind_virq) -> int:
    d = current.domain
    if not 0 <= a.virq < NR_VIRQS:
        return -E.EINVAL
    if not 0 <= a.vcpu < len(d.vcpus):
        return -E.ENOENT
    v = d.vcpus[a.vcpu]
    if v.virq_to_evtchn[a.virq] != 0:
        return -E.EEXIST
    port = get_free_port(d)
    if port < 0:
        return port
    chn = d.evtchn[port]
    chn.state, chn.virq, chn.notify_vcpu_id = ECS_VIRQ, a.virq, a.vcpu
    v.virq_to_evtchn[a.virq] = port
    a.port = port
    return 0


def evtchn_bind_ipi(current, a: ev.evtchn_bind_ipi) -> int:
    d = current.domain
    if not 0 <= a.vcpu < len(d.vcpus):
        return -E.ENOENT
    port = get_free_port(d)
    if port < 0:
        return port
    chn = d.evtchn[port]
    chn.state, chn.notify_vcpu_id = ECS_IPI, a.vcpu
    a.port = port
    return 0


def evtchn_bind_pirq(current, a: ev.evtchn_bind_pirq) -> int:
    d = current.domain
    if not isinstance(a.pirq, int) or not 0 <= a.pirq < NR_PIRQS:
        return -E.EINVAL
    if not d.is_privileged:                  # irq_access_permitted(): only dom0 owns physical IRQs
        return -E.EPERM
    if a.pirq in d.pirq_to_evtchn:
        return -E.EEXIST
    port = get_free_port(d)
    if port < 0:
        return port
    chn = d.evtchn[port]
    chn.state, chn.pirq = ECS_PIRQ, a.pirq
    d.pirq_to_evtchn[a.pirq] = port
    a.port = port
    return 0


def send_guest_pirq(d, pirq: int) -> bool:
    """A physical interrupt routed to ``d`` as an event (do_IRQ -> __do_IRQ_guest -> send_guest_pirq).

    Returns False when no port is bound to the pirq (Xen then leaves the line masked).
    """
    port = d.pirq_to_evtchn.get(pirq, 0)
    if port == 0:
        return False
    d.machine.trace.emit("EVTCHN", "pirq", domid=d.domain_id, pirq=pirq, port=port)
    evtchn_set_pending(d.vcpus[d.evtchn[port].notify_vcpu_id], port)
    return True


def _close(d, port: int) -> int:
    chn = d.evtchn[port]
    if chn.state in (ECS_FREE, ECS_RESERVED):
        return -E.EINVAL
    if chn.state == ECS_VIRQ:
        d.vcpus[chn.notify_vcpu_id].virq_to_evtchn[chn.virq] = 0
    elif chn.state == ECS_PIRQ:
        d.pirq_to_evtchn.pop(chn.pirq, None)
    elif chn.state == ECS_INTERDOMAIN:
        rd = d.machine.domains.get(chn.remote_domid)
        if rd is not None and not rd.is_dying:
            rchn = rd.evtchn[chn.remote_port]
            # The remote end goes back to UNBOUND, waiting for a new connection from us.
            rchn.state, rchn.remote_domid, rchn.remote_port = ECS_UNBOUND, d.domain_id, 0
    d.evtchn[port] = Evtchn()
    return 0


def evtchn_close(current, a: ev.evtchn_close) -> int:
    d = current.domain
    if not _port_ok(d, a.port):
        return -E.EINVAL
    return _close(d, a.port)


def evtchn_send(current, a: ev.evtchn_send) -> int:
    ld = current.domain
    if not _port_ok(ld, a.port):
        return -E.EINVAL
    chn = ld.evtchn[a.port]
    if chn.state == ECS_INTERDOMAIN:
        rd = ld.machine.domains[chn.remote_domid]
        rchn = rd.evtchn[chn.remote_port]
        evtchn_set_pending(rd.vcpus[rchn.notify_vcpu_id], chn.remote_port)
        return 0
    if chn.state == ECS_IPI:
        evtchn_set_pending(ld.vcpus[chn.notify_vcpu_id], a.port)
        return 0
    if chn.state == ECS_UNBOUND:
        return 0                    # silently dropped
    return -E.EINVAL


def evtchn_status(current, a: ev.evtchn_status) -> int:
    if a.dom != DOMID_SELF and not current.domain.is_privileged:
        return -E.EPERM
    d = _lookup(current, a.dom)
    if d is None:
        return -E.ESRCH
    if not _port_ok(d, a.port):
        return -E.EINVAL
    chn = d.evtchn[a.port]
    a.vcpu = chn.notify_vcpu_id
    if chn.state in (ECS_FREE, ECS_RESERVED):
        a.status, a.u = ev.EVTCHNSTAT_closed, {}
    elif chn.state == ECS_UNBOUND:
        a.status, a.u = ev.EVTCHNSTAT_unbound, {"dom": chn.remote_domid}
    elif chn.state == ECS_INTERDOMAIN:
        a.status, a.u = ev.EVTCHNSTAT_interdomain, {"dom": chn.remote_domid, "port": chn.remote_port}
    elif chn.state == ECS_PIRQ:
        a.status, a.u = ev.EVTCHNSTAT_pirq, {"pirq": chn.pirq}
    elif chn.state == ECS_VIRQ:
        a.status, a.u = ev.EVTCHNSTAT_virq, {"virq": chn.virq}
    else:
        a.status, a.u = ev.EVTCHNSTAT_ipi, {}
    return 0


def evtchn_bind_vcpu(current, a: ev.evtchn_bind_vcpu) -> int:
    d = current.domain
    if not 0 <= a.vcpu < len(d.vcpus):
        return -E.ENOENT
    if not _port_ok(d, a.port):
        return -E.EINVAL
    chn = d.evtchn[a.port]
    if chn.state in (ECS_UNBOUND, ECS_INTERDOMAIN, ECS_PIRQ):
        chn.notify_vcpu_id = a.vcpu
        return 0
    return -E.EINVAL


def evtchn_unmask(current, a: ev.evtchn_unmask) -> int:
    """Clear the mask; if the port is pending, re-raise the selector and upcall as set_pending would."""
    d = current.domain
    if not _port_ok(d, a.port):
        return -E.EINVAL
    evtchn_unmask_port(d.vcpus[d.evtchn[a.port].notify_vcpu_id], a.port)
    return 0


_OPS = {
    ev.EVTCHNOP_bind_interdomain: (ev.evtchn_bind_interdomain, evtchn_bind_interdomain),
    ev.EVTCHNOP_bind_virq: (ev.evtchn_bind_virq, evtchn_bind_virq),
    ev.EVTCHNOP_bind_pirq: (ev.evtchn_bind_pirq, evtchn_bind_pirq),
    ev.EVTCHNOP_close: (ev.evtchn_close, evtchn_close),
    ev.EVTCHNOP_send: (ev.evtchn_send, evtchn_send),
    ev.EVTCHNOP_status: (ev.evtchn_status, evtchn_status),
    ev.EVTCHNOP_alloc_unbound: (ev.evtchn_alloc_unbound, evtchn_alloc_unbound),
    ev.EVTCHNOP_bind_ipi: (ev.evtchn_bind_ipi, evtchn_bind_ipi),
    ev.EVTCHNOP_bind_vcpu: (ev.evtchn_bind_vcpu, evtchn_bind_vcpu),
    ev.EVTCHNOP_unmask: (ev.evtchn_unmask, evtchn_unmask),
}


@hypercall("event_channel_op")
def do_event_channel_op(current, op, arg=None) -> int:
    """3.0.0 form ``event_channel_op(evtchn_op(cmd, u))`` or 3.0.3+ form ``event_channel_op(cmd, arg)``."""
    from dataclasses import fields

    from xenlab.xen.hypercall import is_int
    if isinstance(op, ev.evtchn_op):
        cmd, arg = op.cmd, op.u
    else:
        cmd = op
    if not is_int(cmd) or cmd not in _OPS:
        return -E.ENOSYS
    struct, fn = _OPS[cmd]
    if not isinstance(arg, struct):
        return -E.EFAULT
    # Every field of an evtchn_* struct is a C integer (domid_t, evtchn_port_t, uint32_t): a value
    # that is no whole number cannot be in it (see xen/hypercall.py). Out-of-range whole numbers are
    # the operations' to refuse, with their unsigned meaning.
    if not all(is_int(getattr(arg, f.name)) for f in fields(arg) if f.type in ("int", int)):
        return -E.EINVAL
    rc = fn(current, arg)
    trace = current.domain.machine.trace
    if trace.active:
        trace.emit("EVTCHN", ev_name(cmd), domid=current.domid, vcpu=current.vcpu_id, arg=arg, rc=rc)
    return rc


EVTCHNOP_NAMES = {v: k[len("EVTCHNOP_"):] for k, v in vars(ev).items() if k.startswith("EVTCHNOP_")}


def ev_name(cmd: int) -> str:
    return EVTCHNOP_NAMES[cmd]


def dump_evtchn(d) -> str:
    lines = [f"Event channels of domain {d.domain_id} ({d.name}):"]
    for port, chn in enumerate(d.evtchn):
        if chn.state != ECS_FREE:
            flags = ("P" if port_is_pending(d, port) else "-") + ("M" if test_bit_mask(d, port) else "-")
            lines.append(f"  port {port:4d} {flags} {chn.describe()}")
    return "\n".join(lines)


def test_bit_mask(d, port: int) -> bool:
    from xenlab.xen.event import port_is_masked
    return port_is_masked(d, port)


__all__ = ["evtchn_init", "evtchn_destroy", "do_event_channel_op", "Evtchn", "dump_evtchn", "send_guest_pirq",
           "test_and_set_bit", "vcpu_info_read", "SI_EVTCHN_PENDING"]
