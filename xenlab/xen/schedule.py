"""Generic scheduling: sleep, wake, the schedule softirq, runstates, sched_op and set_timer_op.

Models X@RELEASE-3.0.0:xen/common/schedule.c. The policy (which vcpu next, for how long) belongs to
the pluggable scheduler (xen/sched/); this file does what every policy shares: runstate accounting,
the slice timer ``s_timer``, the context switch, and the guest-visible calls that block, yield,
shut down and arm the one-shot timer.

Simplifications:
- A context switch takes no simulated time (the CPU-chapter cost model charges hypercalls, traps
  and VM exits, not switches).
- SCHEDOP_poll's timeout is handled with the same one-shot timer as set_timer_op.
"""
from __future__ import annotations

from xenlab.xen.domain import RUNSTATE_NAMES, RUNSTATE_running
from xenlab.xen.event import local_events_need_delivery, port_is_pending, send_guest_vcpu_virq, vcpu_info_write
from xenlab.xen.hypercall import hypercall
from xenlab.xen.public import errno as E
from xenlab.xen.public.xen import (SCHEDOP_block, SCHEDOP_poll, SCHEDOP_shutdown, SCHEDOP_yield,
                                   SHUTDOWN_NAMES, VIRQ_TIMER, sched_poll, sched_shutdown)
from xenlab.xen.timer import PRIO_SCHED, PRIO_TICK
from xenlab.xen.time import update_dom_time
from xenlab.xen.wake import (_not_running_state, vcpu_cpu_time, vcpu_runstate_change,  # noqa: F401
                             vcpu_sleep_nosync, vcpu_unblock, vcpu_wake)


# -- the schedule softirq --------------------------------------------------------------------------------
def schedule(machine, cpu: int):
    """__enter_scheduler(): ask the policy for the next vcpu and switch to it. Returns (prev, next)."""
    now = machine.now
    pcpu = machine.cpus[cpu]
    prev = pcpu.curr
    s_timer = machine.s_timers[cpu]
    machine.timers.stop_timer(s_timer)
    ts = machine.scheduler.do_schedule(cpu, now)
    machine.stats["sched_decisions"] = machine.stats.get("sched_decisions", 0) + 1
    nxt = ts.vcpu
    if nxt is None or (not nxt.is_idle and not nxt.runnable()):
        raise AssertionError(f"scheduler {machine.scheduler.opt_name} picked a vcpu that cannot run: {nxt!r}")
    if ts.time >= 0:
        machine.timers.set_timer(s_timer, now + ts.time)
    if nxt is prev:
        if machine.trace.active:
            machine.trace.emit("SCHED", "continue", domid=nxt.domid, vcpu=nxt.vcpu_id, pcpu=cpu,
                               slice_ns=ts.time, reason=ts.reason, decision=ts.info)
        return prev, nxt
    if nxt.is_running:
        raise AssertionError(f"{nxt.label} is already running on cpu{nxt.processor}")
    # Switch out prev.
    if not prev.is_idle:
        if prev.guest is not None:
            prev.guest.switch_out(now)
        vcpu_runstate_change(prev, _not_running_state(prev), now)
        if machine.periodic_timers[cpu] is not None:
            machine.timers.stop_timer(machine.periodic_timers[cpu])
    prev.is_running = False
    # Switch in next.
    nxt.processor = cpu
    nxt.is_running = True
    nxt.nr_switches += 1
    pcpu.curr = nxt
    # Load the incoming address space: the vcpu's page-table root, or Xen's idle table (0 here).
    pcpu.cr3 = getattr(nxt, "cr3", 0) or 0
    if not nxt.is_idle:
        vcpu_runstate_change(nxt, RUNSTATE_running, now)
        pcpu.ring = 1 if nxt.domain.kind == "pv" else 0
        if machine.periodic_timers[cpu] is not None:
            machine.timers.set_timer(machine.periodic_timers[cpu], now + machine.periodic_period_ns)
    else:
        pcpu.ring = 0
    machine.stats["context_switches"] = machine.stats.get("context_switches", 0) + 1
    if machine.trace.active:          # labels and payload are built only when somebody listens
        machine.trace.emit("SCHED", "switch", domid=nxt.domid, vcpu=nxt.vcpu_id, pcpu=cpu,
                           prev=prev.label, next=nxt.label, slice_ns=ts.time, reason=ts.reason,
                           decision=ts.info,
                           prev_state=RUNSTATE_NAMES[prev.runstate] if not prev.is_idle else "idle")
    if not nxt.is_idle:
        update_dom_time(nxt)          # "ensure the domain has an up-to-date time base" (3.0 schedule.c)
    if not nxt.is_idle and nxt.guest is not None:
        nxt.guest.switch_in(now)
    return prev, nxt


def s_timer_fn(machine, cpu: int) -> None:
    machine.raise_schedule(cpu)


def periodic_timer_fn(machine, cpu: int) -> None:
    """3.0's t_timer: VIRQ_TIMER to the running vcpu every 10 ms."""
    v = machine.cpus[cpu].curr
    if v.is_idle:
        return
    machine.timers.set_timer(machine.periodic_timers[cpu], machine.now + machine.periodic_period_ns)
    send_guest_vcpu_virq(v, VIRQ_TIMER)


# -- guest-visible calls ---------------------------------------------------------------------------------
@hypercall("sched_op")
def do_sched_op(current, cmd: int, arg=None) -> int:
    machine = current.domain.machine
    if cmd == SCHEDOP_yield:
        machine.scheduler.yield_(current)
        machine.raise_schedule(current.processor)
        return 0
    if cmd == SCHEDOP_block:
        return do_block(current)
    if cmd == SCHEDOP_shutdown:
        if not isinstance(arg, sched_shutdown):
            return -E.EFAULT
        if not isinstance(arg.reason, int) or arg.reason not in SHUTDOWN_NAMES:
            return -E.EINVAL
        machine.domain_shutdown(current.domain, arg.reason)
        return 0
    if cmd == SCHEDOP_poll:
        return do_poll(current, arg)
    return -E.ENOSYS


def do_block(current) -> int:
    """Block until an event: re-enable events and test for pending ones atomically (no lost wake-up)."""
    machine = current.domain.machine
    vcpu_info_write(current, "evtchn_upcall_mask", 0)
    current.blocked = True
    if local_events_need_delivery(current):
        current.blocked = False
        return 0
    machine.trace.emit("SCHED", "block", domid=current.domid, vcpu=current.vcpu_id, pcpu=current.processor)
    vcpu_sleep_nosync(machine, current)
    return 0


def do_poll(current, arg) -> int:
    machine = current.domain.machine
    if not isinstance(arg, sched_poll):
        return -E.EFAULT
    from xenlab.xen.hypercall import is_int, is_uint
    d = current.domain
    # nr_ports is an unsigned int, timeout a uint64_t, ports a guest array of evtchn_port_t: values
    # those types cannot hold are refused (-EINVAL), a list shorter than nr_ports faults (-EFAULT).
    if not is_uint(arg.nr_ports, 32) or not is_uint(arg.timeout, 64):
        return -E.EINVAL
    if not isinstance(arg.ports, (list, tuple)):
        return -E.EFAULT
    if not d.is_privileged and arg.nr_ports > 128:
        return -E.EINVAL
    ports = list(arg.ports[: arg.nr_ports])
    if len(ports) < arg.nr_ports:
        return -E.EFAULT
    for p in ports:
        if not is_int(p) or p < 0 or p >= machine.nr_event_channels:
            return -E.EINVAL
        if port_is_pending(d, p):
            return 0
    current.poll_ports = tuple(ports)
    if arg.timeout:
        machine.timers.set_timer(current.singleshot_timer, arg.timeout)
    current.blocked = True
    vcpu_sleep_nosync(machine, current)
    return 0


@hypercall("set_timer_op", wide=("timeout",))
def do_set_timer_op(current, timeout: int) -> int:
    """Arm (absolute system time in ns) or, with 0, cancel the vcpu's one-shot timer."""
    machine = current.domain.machine
    if timeout == 0:
        machine.timers.stop_timer(current.singleshot_timer)
    else:
        machine.timers.set_timer(current.singleshot_timer, timeout)
    machine.trace.emit("TIME", "set_timer", domid=current.domid, vcpu=current.vcpu_id, timeout=timeout)
    return 0


def singleshot_timer_fn(v) -> None:
    v.poll_ports = ()
    send_guest_vcpu_virq(v, VIRQ_TIMER)


__all__ = ["schedule", "vcpu_wake", "vcpu_sleep_nosync", "vcpu_unblock", "vcpu_runstate_change",
           "vcpu_cpu_time", "do_sched_op", "do_set_timer_op", "PRIO_SCHED", "PRIO_TICK"]
