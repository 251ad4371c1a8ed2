"""do_dom0_op: the privileged calls the toolstack makes (X@RELEASE-3.0.0:xen/common/dom0_ops.c).

The toolstack (xend, xm) runs in dom0 and drives Xen only through these calls: create a domain,
set its limits, pause, unpause, destroy, read its info. A domU calling dom0_op gets -EPERM before
its argument is even looked at (the table entry is marked privileged).
"""
from __future__ import annotations

import dataclasses

from xenlab.xen.hypercall import hypercall, is_int
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import errno as E
from xenlab.xen.public.xen import DOMID_FIRST_RESERVED


def getdomaininfo_flags(d, current) -> int:
    flags = 0
    if d.is_dying:
        flags |= D.DOMFLAGS_DYING
    if d.is_shutdown:
        flags |= D.DOMFLAGS_SHUTDOWN | ((d.shutdown_code or 0) << D.DOMFLAGS_SHUTDOWNSHIFT)
    if d.pause_count:
        flags |= D.DOMFLAGS_PAUSED
    # The caller is running right now (it is making this call), which is why xm shows Domain-0 as r.
    running = any(v.is_running for v in d.vcpus) or d is current.domain
    if running:
        flags |= D.DOMFLAGS_RUNNING
    elif d.vcpus and all(v.blocked for v in d.vcpus):        # every vcpu has _VPF_blocked
        flags |= D.DOMFLAGS_BLOCKED
    cpu = next((v.processor for v in d.vcpus if v.is_running), d.vcpus[0].processor if d.vcpus else 0)
    return flags | (cpu << D.DOMFLAGS_CPUSHIFT)


_NEEDS = {
    D.DOM0_CREATEDOMAIN: ("domain",), D.DOM0_GETDOMAININFO: ("domain",),
    D.DOM0_SCHEDCTL: ("sched_id", "direction", "params"), D.DOM0_READCONSOLE: ("clear",),
    D.DOM0_DESTROYDOMAIN: ("domain",), D.DOM0_PAUSEDOMAIN: ("domain",), D.DOM0_UNPAUSEDOMAIN: ("domain",),
    D.DOM0_SETDOMAINMAXMEM: ("domain", "max_memkb"), D.DOM0_MAX_VCPUS: ("domain", "max"),
    D.DOM0_ADJUSTDOM: ("domain", "sched_id", "direction", "params"),
    D.DOM0_SHADOW_CONTROL: ("domain", "op"),
}


@hypercall("dom0_op", privileged=True)
def do_dom0_op(current, op: D.dom0_op) -> int:
    machine = current.domain.machine
    if not isinstance(op, D.dom0_op):
        return -E.EFAULT
    if op.interface_version != D.DOM0_INTERFACE_VERSION:
        return -E.EACCES
    u = op.u
    cmd = op.cmd
    # The union member must be the one this command reads (the model's stand-in for C reading the
    # union's bytes as its own struct): missing fields -EFAULT; an int field that is no whole
    # number -EINVAL (see xen/hypercall.py).
    if not all(hasattr(u, f) for f in _NEEDS.get(cmd, ())):
        return -E.EFAULT
    if dataclasses.is_dataclass(u) and not all(is_int(getattr(u, f.name)) for f in dataclasses.fields(u)
                                               if f.type in ("int", int)):
        return -E.EINVAL
    if cmd == D.DOM0_CREATEDOMAIN:
        # A wanted id in 1..DOMID_FIRST_RESERVED-1 must be free (-EINVAL); 0 or a reserved id means
        # "pick one" (the rover in 3.0's dom0_ops.c).
        wanted = u.domain if 0 < u.domain < DOMID_FIRST_RESERVED else None
        if wanted is not None and wanted in machine.domains:
            return -E.EINVAL
        d = machine.domain_create_empty(wanted)
        if d is None:
            return -E.ENOMEM
        u.domain = d.domain_id
        return 0
    if cmd == D.DOM0_GETDOMAININFO:
        candidates = sorted(i for i in machine.domains if i >= u.domain)
        if not candidates:
            return -E.ESRCH
        d = machine.domains[candidates[0]]
        u.domain = d.domain_id
        u.flags = getdomaininfo_flags(d, current)
        u.tot_pages, u.max_pages = d.tot_pages, d.max_pages
        u.shared_info_frame = d.shared_info_mfn
        u.cpu_time = d.cpu_time
        u.nr_online_vcpus = sum(1 for v in d.vcpus if not v.down)
        u.max_vcpu_id = len(d.vcpus) - 1
        return 0
    if cmd == D.DOM0_PHYSINFO:
        u.cpu_khz = machine.cpus[0].tsc_hz // 1000
        u.total_pages = machine.memory.nr_frames
        u.free_pages = machine.frame_table.free_frames
        u.threads_per_core, u.cores_per_socket = 1, len(machine.cpus)
        u.hw_cap = ["hvm"] if machine.hvm else []
        return 0
    if cmd == D.DOM0_SCHED_ID:
        u.sched_id = machine.scheduler.sched_id
        return 0
    if cmd == D.DOM0_SCHEDCTL:
        if u.sched_id != machine.scheduler.sched_id:
            return -E.EINVAL                  # sched_ctl: the call names another scheduler
        if u.direction == D.SCHED_INFO_PUT:
            return machine.scheduler.sched_ctl(dict(u.params))
        u.params = machine.scheduler.get_ctl()
        return 0
    if cmd == D.DOM0_READCONSOLE:
        u.buffer = "".join(machine.console_ring)
        u.count = len(u.buffer)
        if u.clear:
            machine.console_ring.clear()
        return 0
    # The rest act on one existing domain.
    d = machine.domains.get(getattr(u, "domain", None))
    if d is None:
        return -E.ESRCH
    if cmd == D.DOM0_DESTROYDOMAIN:
        if d is current.domain:
            return -E.EINVAL
        machine.domain_destroy(d)
        return 0
    if cmd == D.DOM0_PAUSEDOMAIN:
        if d is current.domain:
            return -E.EINVAL
        machine.domain_pause_by_systemcontroller(d)
        return 0
    if cmd == D.DOM0_UNPAUSEDOMAIN:
        if d is current.domain or not d.pause_count:
            return -E.EINVAL
        machine.domain_unpause_by_systemcontroller(d)
        return 0
    if cmd == D.DOM0_SETDOMAINMAXMEM:
        if not 0 <= u.max_memkb < 1 << 32:             # an unsigned long
            return -E.EINVAL
        d.max_pages = u.max_memkb // 4
        return 0
    if cmd == D.DOM0_MAX_VCPUS:
        if not 1 <= u.max <= 32 or d.vcpus:
            return -E.EINVAL
        machine.alloc_vcpus(d, u.max)
        return 0
    if cmd == D.DOM0_ADJUSTDOM:
        if u.sched_id != machine.scheduler.sched_id:
            return -E.EINVAL                  # sched_adjdom: the call names another scheduler
        if u.direction == D.SCHED_INFO_PUT:
            return machine.scheduler.adjust(d, dict(u.params))
        u.params = machine.scheduler.get_params(d)
        return 0
    if cmd == D.DOM0_SHADOW_CONTROL:
        from xenlab.xen.shadow import shadow_mode_control    # log-dirty mode for live migration
        return shadow_mode_control(d, u, current)
    return -E.ENOSYS
