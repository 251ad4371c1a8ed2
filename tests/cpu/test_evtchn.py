"""Event channels against xen-facts section 3: every error path, the set-pending order, unmask."""

from xenlab.xen import event as XE
from xenlab.xen.event import evtchn_set_pending, port_is_masked, port_is_pending, vcpu_info_read
from xenlab.xen.evtchn import ECS_FREE, ECS_INTERDOMAIN, ECS_RESERVED, ECS_UNBOUND, send_guest_pirq
from xenlab.xen.public import errno as E
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.xen import (DOMID_SELF, NR_EVENT_CHANNELS, NR_VIRQS, SI_EVTCHN_MASK, VIRQ_DEBUG,
                                   VIRQ_TIMER)


def op(d, cmd, arg, vcpu=0, compat=True):
    """Call event_channel_op in the 3.0.0 form (one evtchn_op) or the 3.0.3 form (cmd, arg)."""
    if compat:
        return d.hypercall("event_channel_op", ev.evtchn_op(cmd, arg), vcpu=vcpu)
    return d.hypercall("event_channel_op", cmd, arg, vcpu=vcpu)


def alloc(d, remote, dom=DOMID_SELF):
    a = ev.evtchn_alloc_unbound(dom=dom, remote_dom=remote)
    assert op(d, ev.EVTCHNOP_alloc_unbound, a) == 0
    return a.port


def connect(a, b):
    """b allocates a port for a; a binds to it. Returns (a_port, b_port)."""
    bp = alloc(b, a.domain_id)
    bind = ev.evtchn_bind_interdomain(remote_dom=b.domain_id, remote_port=bp)
    assert op(a, ev.EVTCHNOP_bind_interdomain, bind) == 0
    return bind.local_port, bp


def clear_pending(d, port):
    from xenlab.xen.public.xen import SI_EVTCHN_PENDING
    XE.test_and_clear_bit(d, SI_EVTCHN_PENDING, port)


def mask(d, port):
    XE.test_and_set_bit(d, SI_EVTCHN_MASK, port)


def reset_vcpu_info(v):
    from xenlab.xen.event import vcpu_info_write
    vcpu_info_write(v, "evtchn_upcall_pending", 0)
    vcpu_info_write(v, "evtchn_pending_sel", 0)


# -- port 0, allocation --------------------------------------------------------------------------------
def test_port0_reserved_and_lowest_free_port(two):
    m, a, b = two
    assert a.evtchn[0].state == ECS_RESERVED
    used = [p for p, c in enumerate(a.evtchn) if c.state != ECS_FREE]
    p = alloc(a, 0)
    assert p == min(set(range(1, 40)) - set(used))
    assert op(a, ev.EVTCHNOP_close, ev.evtchn_close(0)) == -E.EINVAL      # reserved
    assert op(a, ev.EVTCHNOP_send, ev.evtchn_send(0)) == -E.EINVAL


def test_enospc_when_table_full(two):
    m, a, b = two
    while True:
        x = ev.evtchn_alloc_unbound(remote_dom=0)
        rc = op(a, ev.EVTCHNOP_alloc_unbound, x)
        if rc:
            break
    assert rc == -E.ENOSPC
    assert x.port < NR_EVENT_CHANNELS
    # bind_interdomain takes the local port first: -ENOSPC even with a bad remote port.
    bad = ev.evtchn_bind_interdomain(remote_dom=b.domain_id, remote_port=99999)
    assert op(a, ev.EVTCHNOP_bind_interdomain, bad) == -E.ENOSPC


# -- alloc_unbound ------------------------------------------------------------------------------------------
def test_alloc_unbound_errors(two):
    m, a, b = two
    assert op(a, ev.EVTCHNOP_alloc_unbound, ev.evtchn_alloc_unbound(dom=b.domain_id, remote_dom=0)) == -E.EPERM
    assert op(a, ev.EVTCHNOP_alloc_unbound, ev.evtchn_alloc_unbound(dom=a.domain_id, remote_dom=0)) == -E.EPERM
    assert op(m.dom0, ev.EVTCHNOP_alloc_unbound, ev.evtchn_alloc_unbound(dom=77, remote_dom=0)) == -E.ESRCH
    x = ev.evtchn_alloc_unbound(dom=b.domain_id, remote_dom=0)          # dom0 may do it for b
    assert op(m.dom0, ev.EVTCHNOP_alloc_unbound, x) == 0
    assert b.evtchn[x.port].state == ECS_UNBOUND and b.evtchn[x.port].remote_domid == 0
    self_port = alloc(a, DOMID_SELF)
    assert a.evtchn[self_port].remote_domid == a.domain_id              # remote DOMID_SELF = caller


# -- bind_interdomain ---------------------------------------------------------------------------------------
def test_bind_interdomain_errors(two):
    m, a, b = two
    assert op(a, ev.EVTCHNOP_bind_interdomain, ev.evtchn_bind_interdomain(remote_dom=55, remote_port=1)) == -E.ESRCH
    bp_for_dom0 = alloc(b, 0)                                           # not meant for a
    assert op(a, ev.EVTCHNOP_bind_interdomain,
              ev.evtchn_bind_interdomain(remote_dom=b.domain_id, remote_port=bp_for_dom0)) == -E.EINVAL
    assert op(a, ev.EVTCHNOP_bind_interdomain,
              ev.evtchn_bind_interdomain(remote_dom=b.domain_id, remote_port=NR_EVENT_CHANNELS)) == -E.EINVAL
    assert op(a, ev.EVTCHNOP_bind_interdomain,
              ev.evtchn_bind_interdomain(remote_dom=b.domain_id, remote_port=0)) == -E.EINVAL     # reserved
    ap, bp = connect(a, b)
    # Already interdomain: binding again fails.
    assert op(a, ev.EVTCHNOP_bind_interdomain, ev.evtchn_bind_interdomain(remote_dom=b.domain_id,
                                                                         remote_port=bp)) == -E.EINVAL


def test_bind_interdomain_sets_local_pending_and_connects(two):
    m, a, b = two
    ap, bp = connect(a, b)
    assert a.evtchn[ap].state == b.evtchn[bp].state == ECS_INTERDOMAIN
    assert (a.evtchn[ap].remote_domid, a.evtchn[ap].remote_port) == (b.domain_id, bp)
    assert (b.evtchn[bp].remote_domid, b.evtchn[bp].remote_port) == (a.domain_id, ap)
    assert port_is_pending(a, ap)            # covers notifications lost while unbound
    assert not port_is_pending(b, bp)


# -- bind_virq / bind_ipi / bind_pirq -------------------------------------------------------------------------
def test_bind_virq_errors(two):
    m, a, b = two
    assert op(a, ev.EVTCHNOP_bind_virq, ev.evtchn_bind_virq(virq=NR_VIRQS, vcpu=0)) == -E.EINVAL
    assert op(a, ev.EVTCHNOP_bind_virq, ev.evtchn_bind_virq(virq=VIRQ_DEBUG, vcpu=5)) == -E.ENOENT
    assert op(a, ev.EVTCHNOP_bind_virq, ev.evtchn_bind_virq(virq=VIRQ_TIMER, vcpu=0)) == -E.EEXIST   # bound at boot
    x = ev.evtchn_bind_virq(virq=VIRQ_DEBUG, vcpu=0)
    assert op(a, ev.EVTCHNOP_bind_virq, x) == 0
    assert a.vcpus[0].virq_to_evtchn[VIRQ_DEBUG] == x.port
    # The binding is per vcpu: the same VIRQ on vcpu 1 of b is a different port.
    y0, y1 = ev.evtchn_bind_virq(virq=VIRQ_DEBUG, vcpu=0), ev.evtchn_bind_virq(virq=VIRQ_DEBUG, vcpu=1)
    assert op(b, ev.EVTCHNOP_bind_virq, y0) == 0 and op(b, ev.EVTCHNOP_bind_virq, y1) == 0
    assert y0.port != y1.port


def test_bind_ipi_and_pirq_errors(two):
    m, a, b = two
    assert op(a, ev.EVTCHNOP_bind_ipi, ev.evtchn_bind_ipi(vcpu=3)) == -E.ENOENT
    ipi = ev.evtchn_bind_ipi(vcpu=0)
    assert op(a, ev.EVTCHNOP_bind_ipi, ipi) == 0
    assert op(a, ev.EVTCHNOP_bind_pirq, ev.evtchn_bind_pirq(pirq=5)) == -E.EPERM      # not privileged
    assert op(m.dom0, ev.EVTCHNOP_bind_pirq, ev.evtchn_bind_pirq(pirq=256)) == -E.EINVAL
    p = ev.evtchn_bind_pirq(pirq=5)
    assert op(m.dom0, ev.EVTCHNOP_bind_pirq, p) == 0
    assert op(m.dom0, ev.EVTCHNOP_bind_pirq, ev.evtchn_bind_pirq(pirq=5)) == -E.EEXIST
    # A physical interrupt arrives as an event on dom0's port.
    assert send_guest_pirq(m.dom0, 5)
    assert port_is_pending(m.dom0, p.port)            # dom0 is blocked: the event waits for its upcall
    assert not send_guest_pirq(m.dom0, 6)


# -- close ------------------------------------------------------------------------------------------------------
def test_close_errors_and_remote_back_to_unbound(two):
    m, a, b = two
    assert op(a, ev.EVTCHNOP_close, ev.evtchn_close(NR_EVENT_CHANNELS)) == -E.EINVAL
    assert op(a, ev.EVTCHNOP_close, ev.evtchn_close(-1)) == -E.EINVAL
    free = next(p for p, c in enumerate(a.evtchn) if c.state == ECS_FREE)
    assert op(a, ev.EVTCHNOP_close, ev.evtchn_close(free)) == -E.EINVAL
    ap, bp = connect(a, b)
    assert op(a, ev.EVTCHNOP_close, ev.evtchn_close(ap)) == 0
    assert a.evtchn[ap].state == ECS_FREE
    assert b.evtchn[bp].state == ECS_UNBOUND and b.evtchn[bp].remote_domid == a.domain_id
    assert op(a, ev.EVTCHNOP_close, ev.evtchn_close(ap)) == -E.EINVAL         # already free
    # a may connect again to the same remote port.
    again = ev.evtchn_bind_interdomain(remote_dom=b.domain_id, remote_port=bp)
    assert op(a, ev.EVTCHNOP_bind_interdomain, again) == 0


def test_close_virq_unbinds(two):
    m, a, b = two
    x = ev.evtchn_bind_virq(virq=VIRQ_DEBUG, vcpu=0)
    op(a, ev.EVTCHNOP_bind_virq, x)
    assert op(a, ev.EVTCHNOP_close, ev.evtchn_close(x.port)) == 0
    assert a.vcpus[0].virq_to_evtchn[VIRQ_DEBUG] == 0
    assert op(a, ev.EVTCHNOP_bind_virq, ev.evtchn_bind_virq(virq=VIRQ_DEBUG, vcpu=0)) == 0


# -- send ---------------------------------------------------------------------------------------------------------
def test_send_rules(two):
    m, a, b = two
    ap, bp = connect(a, b)
    assert op(b, ev.EVTCHNOP_send, ev.evtchn_send(bp)) == 0
    assert port_is_pending(a, ap)
    unbound = alloc(a, b.domain_id)
    assert op(a, ev.EVTCHNOP_send, ev.evtchn_send(unbound)) == 0               # silently dropped
    assert not port_is_pending(a, unbound)
    virq = ev.evtchn_bind_virq(virq=VIRQ_DEBUG, vcpu=0)
    op(a, ev.EVTCHNOP_bind_virq, virq)
    assert op(a, ev.EVTCHNOP_send, ev.evtchn_send(virq.port)) == -E.EINVAL     # other states
    assert op(a, ev.EVTCHNOP_send, ev.evtchn_send(NR_EVENT_CHANNELS + 1)) == -E.EINVAL
    free = next(p for p, c in enumerate(a.evtchn) if c.state == ECS_FREE)
    assert op(a, ev.EVTCHNOP_send, ev.evtchn_send(free)) == -E.EINVAL
    ipi = ev.evtchn_bind_ipi(vcpu=1)
    op(b, ev.EVTCHNOP_bind_ipi, ipi)
    assert op(b, ev.EVTCHNOP_send, ev.evtchn_send(ipi.port)) == 0              # IPI: local port pending
    assert port_is_pending(b, ipi.port)


# -- status, bind_vcpu, unknown commands ---------------------------------------------------------------------------
def test_status(two):
    m, a, b = two
    assert op(a, ev.EVTCHNOP_status, ev.evtchn_status(dom=b.domain_id, port=1)) == -E.EPERM
    assert op(m.dom0, ev.EVTCHNOP_status, ev.evtchn_status(dom=99, port=1)) == -E.ESRCH
    assert op(a, ev.EVTCHNOP_status, ev.evtchn_status(port=NR_EVENT_CHANNELS)) == -E.EINVAL
    ap, bp = connect(a, b)
    s = ev.evtchn_status(port=ap)
    assert op(a, ev.EVTCHNOP_status, s) == 0
    assert (s.status, s.u) == (ev.EVTCHNSTAT_interdomain, {"dom": b.domain_id, "port": bp})
    s = ev.evtchn_status(port=0)
    assert op(a, ev.EVTCHNOP_status, s) == 0 and s.status == ev.EVTCHNSTAT_closed
    s = ev.evtchn_status(dom=a.domain_id, port=a.vcpus[0].virq_to_evtchn[VIRQ_TIMER])
    assert op(m.dom0, ev.EVTCHNOP_status, s) == 0
    assert (s.status, s.u, s.vcpu) == (ev.EVTCHNSTAT_virq, {"virq": VIRQ_TIMER}, 0)


def test_bind_vcpu_and_unknown(two):
    m, a, b = two
    ap, bp = connect(b, a)
    assert op(b, ev.EVTCHNOP_bind_vcpu, ev.evtchn_bind_vcpu(port=ap, vcpu=2)) == -E.ENOENT
    assert op(b, ev.EVTCHNOP_bind_vcpu, ev.evtchn_bind_vcpu(port=NR_EVENT_CHANNELS, vcpu=1)) == -E.EINVAL
    assert op(b, ev.EVTCHNOP_bind_vcpu, ev.evtchn_bind_vcpu(port=ap, vcpu=1)) == 0
    assert b.evtchn[ap].notify_vcpu_id == 1
    timer = b.vcpus[0].virq_to_evtchn[VIRQ_TIMER]
    assert op(b, ev.EVTCHNOP_bind_vcpu, ev.evtchn_bind_vcpu(port=timer, vcpu=1)) == -E.EINVAL   # VIRQ is fixed
    assert op(a, 42, ev.evtchn_send(1)) == -E.ENOSYS
    # Port 1 of a is interdomain (to dom0, made at domain creation): send sets the remote port pending
    # and returns 0, here through the 3.0.3 (cmd, arg) form.
    chn = a.evtchn[1]
    assert chn.state == ECS_INTERDOMAIN
    remote = m.domains[chn.remote_domid]
    clear_pending(remote, chn.remote_port)
    assert op(a, ev.EVTCHNOP_send, ev.evtchn_send(1), compat=False) == 0
    assert port_is_pending(remote, chn.remote_port)
    assert op(a, ev.EVTCHNOP_send, ev.evtchn_close(1)) == -E.EFAULT            # wrong struct
    assert op(a, ev.EVTCHNOP_unmask, ev.evtchn_unmask(NR_EVENT_CHANNELS)) == -E.EINVAL


# -- set-pending order and unmask ------------------------------------------------------------------------------------
def _quiet_port(m, d):
    """An IPI port on a paused domain, with pending/selector/upcall cleared."""
    ipi = ev.evtchn_bind_ipi(vcpu=0)
    assert op(d, ev.EVTCHNOP_bind_ipi, ipi) == 0
    d.pause()
    v = d.vcpus[0]
    reset_vcpu_info(v)
    return ipi.port, v


def test_set_pending_unmasked_raises_upcall(two):
    m, a, b = two
    port, v = _quiet_port(m, a)
    with m.trace.record("EVTCHN") as evs:
        evtchn_set_pending(v, port)
    assert port_is_pending(a, port)
    assert vcpu_info_read(v, "evtchn_pending_sel") == 1 << (port // 32)
    assert vcpu_info_read(v, "evtchn_upcall_pending") == 1
    assert evs[-1]["outcome"] == "upcall"
    evtchn_set_pending(v, port)                                    # step 1: no new edge
    with m.trace.record("EVTCHN") as evs:
        evtchn_set_pending(v, port)
    assert evs[-1]["outcome"] == "already pending"


def test_masked_port_no_upcall_then_unmask_delivers(two):
    m, a, b = two
    port, v = _quiet_port(m, a)
    mask(a, port)
    evtchn_set_pending(v, port)
    assert port_is_pending(a, port)                                # the bit is kept...
    assert vcpu_info_read(v, "evtchn_pending_sel") == 0            # ...but no selector
    assert vcpu_info_read(v, "evtchn_upcall_pending") == 0         # ...and no upcall
    assert op(a, ev.EVTCHNOP_unmask, ev.evtchn_unmask(port)) == 0
    assert not port_is_masked(a, port)
    assert vcpu_info_read(v, "evtchn_pending_sel") == 1 << (port // 32)
    assert vcpu_info_read(v, "evtchn_upcall_pending") == 1


def test_unmask_of_idle_port_does_nothing(two):
    m, a, b = two
    port, v = _quiet_port(m, a)
    mask(a, port)
    assert op(a, ev.EVTCHNOP_unmask, ev.evtchn_unmask(port)) == 0
    assert vcpu_info_read(v, "evtchn_upcall_pending") == 0
    # Unmasking a port that is not masked does not re-raise even if pending.
    evtchn_set_pending(v, port)
    reset_vcpu_info(v)
    assert op(a, ev.EVTCHNOP_unmask, ev.evtchn_unmask(port)) == 0
    assert vcpu_info_read(v, "evtchn_upcall_pending") == 0


def test_selector_already_set_no_second_kick(two):
    m, a, b = two
    port, v = _quiet_port(m, a)
    ipi2 = ev.evtchn_bind_ipi(vcpu=0)
    op(a, ev.EVTCHNOP_bind_ipi, ipi2)
    assert ipi2.port // 32 == port // 32
    evtchn_set_pending(v, port)
    with m.trace.record("EVTCHN") as evs:
        evtchn_set_pending(v, ipi2.port)
    assert evs[-1]["outcome"] == "selector already set"


def test_upcall_delivered_to_running_guest(m):
    import xenlab
    d = m.create_domain(xenlab.DomainConfig(name="w", memory=8, workload="cpu-bound"))
    m.run_for(1_000_000)
    assert d.vcpus[0].is_running
    seen = []
    ipi = ev.evtchn_bind_ipi(vcpu=0)
    op(d, ev.EVTCHNOP_bind_ipi, ipi)
    d.kernel.port_handlers[ipi.port] = lambda v, p: seen.append(p)
    op(d, ev.EVTCHNOP_send, ev.evtchn_send(ipi.port))
    assert seen == [ipi.port]
    assert not port_is_pending(d, ipi.port)                       # the guest cleared it while scanning
    assert vcpu_info_read(d.vcpus[0], "evtchn_upcall_mask") == 0  # and unmasked on the way out


def test_blocked_guest_wakes_on_event_and_poll_wakes_even_masked(two):
    m, a, b = two
    m.run_for(1_000_000)
    v = a.vcpus[0]
    assert v.blocked                                             # idle workload blocks
    ap, bp = connect(b, a)                                       # b's port ap pending, a's port bp
    op(b, ev.EVTCHNOP_send, ev.evtchn_send(ap))
    assert not v.blocked                                         # woken by the event
    m.run_for(1_000_000)
    assert v.blocked
    from xenlab.xen.public.xen import SCHEDOP_poll, sched_poll
    mask(a, bp)
    v.blocked = False
    assert a.hypercall("sched_op", SCHEDOP_poll, sched_poll([bp], 1)) == 0
    assert v.blocked and v.poll_ports == (bp,)
    op(b, ev.EVTCHNOP_send, ev.evtchn_send(ap))
    assert not v.blocked and v.poll_ports == ()                   # SCHEDOP_poll ignores the mask
    assert vcpu_info_read(v, "evtchn_upcall_pending") == 0 or port_is_masked(a, bp)
