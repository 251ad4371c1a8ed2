"""Exercises 05, 06 and 08 driving a live machine: the student's function takes Xen's (or the guest's) place.

Each ``*_sandbox`` builds two identical machines, plugs the student's function into one of them through
the model's sandbox hook and runs the same work on both:

- ex05 ``trap_sandbox(route)``: ``Domain.trap_route`` (xen/traps.py) routes the exceptions and
  ``int n`` of a process making system calls, faults and privileged instructions; the ring crossings
  of both runs side by side;
- ex06 ``evtchn_sandbox(set_pending, unmask)``: ``Domain.evtchn_logic`` (xen/event.py) sets the bits
  when dom0 sends on an interdomain channel, a masked port is unmasked, a timer ticks; events the guest
  kernel really handled, or that were lost, and the event-channel view of the domain;
- ex08 ``time_sandbox(system_time_ns)``: ``XenLinux.system_time_fn`` (guest/cpu.py) is the guest's
  clock; the four clocks sampled on both machines, the drift, and the clocks view.

The function is wrapped in ``viz.student.Guarded``: a stub, an exception, a loop or an answer of the
wrong shape is reported and Xen's own code does that step instead; nothing here raises because of the
student's code.
"""
from __future__ import annotations

from xenlab.i18n import t
from xenlab.i18n.narration import say
from xenlab.viz.student import Guarded

TIMEOUT_S = 1.0
MS = 1_000_000


def _guard(fn, check=None) -> Guarded:
    return Guarded(fn, TIMEOUT_S, check, not_written=t("viz.exercise.not_written"),
                   timed_out=t("viz.exercise.timeout", s=TIMEOUT_S))


def _status(name: str, g: Guarded) -> str:
    if g.problem is not None:
        return t("viz.sandbox.took_over", name=name, problem=g.problem, used=g.used, calls=g.calls)
    return t("viz.sandbox.used", name=name, n=g.calls)


def _mark(agree: bool) -> str:
    """'agree' or 'DIFFERS' in the current language, padded to one width."""
    return f"{t('viz.exercise.agree') if agree else t('viz.exercise.differs'):7s}"


def _machine(seed: int = 0, **kw):
    import xenlab
    return xenlab.Machine(memory_mb=64, seed=seed, **kw)


# -- ex05: trap routing ---------------------------------------------------------------------------------------
TRAP_WORKLOAD = [("syscall", 4), ("fault", 14, 0x0804A123), ("fault", 0), ("fpu",), ("insn", "cli", 3),
                 ("syscall", 1), ("compute", 1 * MS), ("block",)]
SOFT_PROBES = (3, 0x81)          # int $3 (DPL 3: allowed) and int $0x81 (no entry: #GP), from ring 3


def _check_route(value):
    if value is None:
        return None
    try:
        handler, rings = value
        handler, rings = int(handler), tuple(int(r) for r in rings)
    except Exception:  # noqa: BLE001
        return t("viz.sandbox.bad_route", value=repr(value))
    if not 0 <= handler <= 255 or len(rings) not in (2, 3) or rings[1:] not in ((1,), (0, 1)):
        return t("viz.sandbox.bad_rings", value=repr(value))
    return None


def _trap_run(route=None):
    """One machine, one domain running TRAP_WORKLOAD then the int n probes; its ring crossings."""
    import xenlab
    from xenlab.guest.cpu import pv_handle_trap
    from xenlab.xen import traps as T
    m = _machine()
    d = m.create_domain(xenlab.DomainConfig(name="ex05", memory=8, workload=list(TRAP_WORKLOAD)))
    d.trap_route = route
    with m.trace.record("HW") as evs:
        m.run_for(20 * MS)
        for vector in SOFT_PROBES:
            if d.is_crashed or d.is_shutdown:
                break
            _, frame = T.software_interrupt(d.vcpus[0], vector, from_ring=3)
            if frame is not None:
                pv_handle_trap(d.kernel, d.vcpus[0], frame)
    rows = []
    for e in evs:
        if e.domid == d.domain_id and e.name == "ring" and e["why"] not in ("iret", "event upcall"):
            vector = e.data.get("vector")
            rows.append((vector, tuple(e["path"]), e["why"]))
    return m, d, rows


def trap_sandbox(route) -> str:
    """The workload's exceptions and int n under Xen's routing and under ``route``: the ring crossings."""
    guard = _guard(route, _check_route)
    _, dx, xen = _trap_run(None)
    _, dy, yours = _trap_run(guard)
    out = [_status("route", guard), "",
           (f"{'':8s}{t('viz.sandbox.trap.xen_vector'):>12s} {t('viz.sandbox.trap.rings'):12s}   "
            f"{t('viz.sandbox.trap.yours_vector'):>14s} {t('viz.sandbox.trap.rings'):12s} {t('viz.sandbox.trap.why')}")]
    for i in range(max(len(xen), len(yours))):
        a = xen[i] if i < len(xen) else None
        b = yours[i] if i < len(yours) else None
        mark = _mark(bool(a and b and a[:2] == b[:2]))
        left = f"{a[0]!s:>12} {'->'.join(map(str, a[1])):12s}" if a else f"{'-':>12} {'':12s}"
        right = f"{b[0]!s:>14} {'->'.join(map(str, b[1])):12s} {say(b[2])}" if b else f"{'-':>14}"
        out.append(f"{mark} {left}   {right}")
    out.append("")
    out.append(t("viz.sandbox.trap.domains", xen=say(dx.state.value), yours=say(dy.state.value))
               + (t("viz.sandbox.trap.crashed") if dy.is_crashed and not dx.is_crashed else ""))
    return "\n".join(out)


# -- ex06: set-pending and unmask -----------------------------------------------------------------------
def _check_four(value):
    if not isinstance(value, (tuple, list)) or len(value) != 4:
        return t("viz.sandbox.bad_four", value=repr(value))
    try:
        [int(x) for x in value]
    except Exception as exc:  # noqa: BLE001
        return t("viz.sandbox.bad_result", value=repr(value), error=exc)
    return None


class StudentEvtchn:
    """``Domain.evtchn_logic`` made of the student's two functions (each guarded)."""

    def __init__(self, set_pending, unmask):
        self.set_pending = _guard(set_pending, _check_four)
        self.unmask = _guard(unmask, _check_four)


EVTCHN_WORKLOAD = [("compute", 1 * MS), ("block",), ("loop", 0, None)]   # wakes only for an event
# (label: viz.sandbox.evtchn.<label>, action)
EVTCHN_STEPS = (("send_quiet", "send"), ("send_again", "send"), ("mask", "mask"),
                ("send_masked", "send"), ("unmask", "unmask"), ("send_more", "send"))


def _evtchn_run(logic=None):
    """dom0 sends on an interdomain channel to a domain that blocks until an event: quiet, masked,
    unmasked. Per step: did set-pending/unmask kick the vcpu, did the guest's handler run, is the port
    still pending."""
    import xenlab
    from xenlab.xen import event as XE
    from xenlab.xen.public import event_channel as ev
    from xenlab.xen.public.xen import SI_EVTCHN_MASK
    m = _machine()
    d = m.create_domain(xenlab.DomainConfig(name="ex06", memory=8, workload=list(EVTCHN_WORKLOAD)))
    m.run_for(5 * MS)
    d.evtchn_logic = logic
    dom0 = m.domains[0]
    a = ev.evtchn_alloc_unbound(dom=0, remote_dom=d.domain_id)
    dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_alloc_unbound, a))
    b = ev.evtchn_bind_interdomain(remote_dom=0, remote_port=a.port)
    d.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_interdomain, b))
    port, steps = b.local_port, []
    m.run_for(5 * MS)
    with m.trace.record("EVTCHN") as evs:
        for label, action in EVTCHN_STEPS:
            before = len(evs)
            if action == "send":
                dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(a.port)))
            elif action == "mask":
                XE.test_and_set_bit(d, SI_EVTCHN_MASK, port)
            else:
                d.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_unmask, ev.evtchn_unmask(port)))
            m.run_for(5 * MS)
            got = [e for e in evs[before:] if e.domid == d.domain_id]
            handled = sum(port in e["ports"] for e in got if e.name == "upcall")
            kick = any(e.data.get("port") == port and e["outcome"] == "upcall"
                       for e in got if e.name in ("set_pending", "unmask"))
            steps.append((label, kick, handled, XE.port_is_pending(d, port)))
    return m, d, port, steps


def evtchn_sandbox(set_pending, unmask):
    """Both runs as text rows, and the event-channel view of the student's domain (or None)."""
    logic = StudentEvtchn(set_pending, unmask)
    _, _, _, xen = _evtchn_run(None)
    m, d, port, yours = _evtchn_run(logic)
    yn = {True: t("viz.sandbox.yes"), False: t("viz.sandbox.no")}
    head = [t(f"viz.sandbox.evtchn.{k}") for k in ("step", "xen_kick", "handled", "pending", "yours_kick")]
    w = [max(n, len(h)) for n, h in zip((20, 9, 7, 7, 11), head)]   # a longer translation widens its column
    lines = [_status("set_pending", logic.set_pending), _status("unmask", logic.unmask), "",
             t("viz.sandbox.evtchn.legend", name=d.name, port=port),
             (f"{'':8s}{head[0]:{w[0]}s} {head[1]:>{w[1]}s} {head[2]:>{w[2]}s} {head[3]:>{w[3]}s}   "
              f"{head[4]:>{w[4]}s} {head[2]:>{w[2]}s} {head[3]:>{w[3]}s}")]
    for (label, kx, hx, px), (_, ky, hy, py) in zip(xen, yours):
        mark = _mark((kx, hx, px) == (ky, hy, py))
        note = t("viz.sandbox.evtchn.lost") if py and not hy and not ky and not px else ""
        label = t(f"viz.sandbox.evtchn.{label}")
        lines.append(f"{mark} {label:{w[0]}s} {yn[kx]:>{w[1]}s} {hx:>{w[2]}d} {yn[px]:>{w[3]}s}   "
                     f"{yn[ky]:>{w[4]}s} {hy:>{w[2]}d} {yn[py]:>{w[3]}s}{note}")
    view = None
    try:
        from xenlab.viz.evtchn import EvtchnView
        view = EvtchnView(m, domid=d.domain_id)
    except Exception as exc:  # noqa: BLE001  (a widget library missing must not hide the table)
        lines.append(t("viz.sandbox.evtchn.no_view", error=f"{type(exc).__name__}: {exc}"))
    return "\n".join(lines), view


# -- ex08: the guest's clock ------------------------------------------------------------------------------------
def _check_ns(value):
    if isinstance(value, bool) or not isinstance(value, int):
        return t("viz.sandbox.bad_ns", value=repr(value))
    return None


def _time_run(fn=None, tsc_mhz: int = 2394):
    import xenlab
    from xenlab.viz.clocks import ClockRecorder
    m = _machine(tsc_mhz=tsc_mhz)
    m.create_domain(xenlab.DomainConfig(name="busy", memory=8, workload="cpu-bound"))
    d = m.create_domain(xenlab.DomainConfig(name="ex08", memory=8, workload="interactive"))
    d.kernel.system_time_fn = fn
    rec = ClockRecorder(m)
    rec.run(1_500 * MS, every_ns=250 * MS)
    return m, d, rec


def time_sandbox(system_time_ns, tsc_mhz: int = 2394):
    """The four clocks of domain ex08 with Xen's formula and with ``system_time_ns``; the clocks view."""
    guard = _guard(system_time_ns, _check_ns)
    _, dx, xen = _time_run(None, tsc_mhz)
    m, dy, yours = _time_run(guard, tsc_mhz)
    lines = [_status("system_time_ns", guard), "",
             t("viz.sandbox.time.title", mhz=tsc_mhz),
             (f"{'':8s}{t('viz.sandbox.time.model'):>15s} {t('viz.sandbox.time.xen'):>16s} "
              f"{t('viz.sandbox.time.yours'):>16s} {t('viz.sandbox.time.diff'):>12s}")]
    for (now, sx), (_, sy) in zip(xen.samples, yours.samples):
        a, b = sx[dx.domain_id]["system_ns"], sy[dy.domain_id]["system_ns"]
        lines.append(f"{_mark(a == b)} {now / MS:15.1f} {a:16d} {b:16d} {b - a:12d}")
    view = None
    try:
        from xenlab.viz.clocks import ClocksView
        view = ClocksView(m, run_ns=50 * MS)
    except Exception as exc:  # noqa: BLE001
        lines.append(t("viz.sandbox.time.no_view", error=f"{type(exc).__name__}: {exc}"))
    return "\n".join(lines), view


__all__ = ["StudentEvtchn", "evtchn_sandbox", "time_sandbox", "trap_sandbox"]
