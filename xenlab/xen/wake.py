"""Sleep, wake and runstates: the part of schedule.c every other part of Xen calls.

Models X@RELEASE-3.0.0:xen/common/schedule.c (vcpu_sleep_nosync, vcpu_wake, the runstate accounting)
and xen/include/xen/sched.h (vcpu_unblock, an inline there). Event delivery (xen/event.py) wakes a
blocked vcpu through these; the schedule softirq and the scheduling hypercalls (xen/schedule.py) sit
above both, as schedule.c includes event.h in Xen and event.h only needs sched.h's inlines.
"""
from __future__ import annotations

from xenlab.xen.domain import RUNSTATE_blocked, RUNSTATE_offline, RUNSTATE_runnable, RUNSTATE_running


# -- runstates ---------------------------------------------------------------------------------------
def vcpu_runstate_change(v, new_state: int, now: int) -> None:
    delta = now - v.state_entry_time
    if delta < 0:
        raise AssertionError(f"{v.label}: runstate time went backwards")
    v.runstate_time[v.runstate] += delta
    if v.runstate == RUNSTATE_running:
        v.cpu_time += delta
    v.runstate = new_state
    v.state_entry_time = now


def vcpu_cpu_time(v, now: int) -> int:
    """CPU time in ns including the current run: the domain virtual time of the lecture."""
    return v.cpu_time + (now - v.state_entry_time if v.runstate == RUNSTATE_running else 0)


def _not_running_state(v) -> int:
    """The state a descheduled vcpu enters (X@3.0.4-branched:xen/common/schedule.c:587-591): blocked if
    it blocked itself (_VCPUF_blocked, which dominates), else runnable if it may run, else offline
    (paused, down, its domain shut down: "a 'catch all' state", public/vcpu.h)."""
    if v.blocked:
        return RUNSTATE_blocked
    return RUNSTATE_runnable if v.runnable() else RUNSTATE_offline


# -- sleep and wake ------------------------------------------------------------------------------------
def vcpu_sleep_nosync(machine, v) -> None:
    if v.runnable():
        return
    if v.runstate == RUNSTATE_runnable:                 # waiting for a CPU, now may not run: offline
        vcpu_runstate_change(v, RUNSTATE_offline, machine.now)
    machine.scheduler.sleep(v)
    if machine.trace.active:
        machine.trace.emit("SCHED", "sleep", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor)


def vcpu_wake(machine, v) -> None:
    if not v.runnable():
        # Still may not run: a blocked vcpu whose _VCPUF_blocked was cleared (it is paused or down)
        # is offline now (3.0.4 vcpu_wake).
        if not v.blocked and v.runstate == RUNSTATE_blocked:
            vcpu_runstate_change(v, RUNSTATE_offline, machine.now)
        return
    if v.runstate in (RUNSTATE_blocked, RUNSTATE_offline):
        vcpu_runstate_change(v, RUNSTATE_runnable, machine.now)
    machine.scheduler.wake(v)
    if machine.trace.active:
        machine.trace.emit("SCHED", "wake", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor)


def vcpu_unblock(machine, v) -> None:
    """Clear _VPF_blocked and wake (called when an event becomes pending for a blocked vcpu)."""
    if v.blocked:
        v.blocked = False
        vcpu_wake(machine, v)
