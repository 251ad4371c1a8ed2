"""do_dom0_op: the privileged calls the toolstack makes (X@RELEASE-3.0.0:xen/common/dom0_ops.c).

The toolstack (xend, xm) runs in dom0 and drives Xen only through these calls: create a domain,
set its limits, pause, unpause, destroy, read its info. A domU calling dom0_op gets -EPERM before
its argument is even looked at (the table entry is marked privileged).
"""
from __future__ import annotations

import dataclasses

from xenlab.xen import schedule as S
from xenlab.xen.hypercall import hypercall, is_int
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import errno as E
from xenlab.xen.public.arch_x86_32 import FLAT_KERNEL_CS, FLAT_KERNEL_DS, FLAT_KERNEL_SS
from xenlab.xen.public.xen import DOMID_FIRST_RESERVED, MAX_VIRT_CPUS


def getdomaininfo_flags(d, current) -> int:
    """DOMFLAGS_* as 3.0's getdomaininfo() sets them (X@RELEASE-3.0.0:xen/common/dom0_ops.c).

    Over the domain's online vcpus: BLOCKED only if every one is blocked, RUNNING if any one has
    VCPUF_running. The caller (a dom0 vcpu making this very hypercall) is running too. The model's
    scheduler does not place it, so it is put where it would be: on an idle physical CPU if there is
    one, else on its own CPU, whose vcpu is then, at this instant, preempted (runnable, not running).
    That is why at most one domain per physical CPU shows ``r`` and, on one CPU, only Domain-0 does
    (it is the one running ``xm``).
    """
    machine = current.domain.machine
    busy = {v.processor for dom in machine.domains.values() for v in dom.vcpus if v.is_running}
    idle = [c for c in range(len(machine.cpus)) if c not in busy]
    preempted_cpu = None if (idle or current.is_running) else current.processor

    def running(v) -> bool:
        return v is current or (v.is_running and v.processor != preempted_cpu)

    flags = D.DOMFLAGS_BLOCKED
    for v in d.vcpus:
        if v.down:
            continue
        if not v.blocked or v is current:
            flags &= ~D.DOMFLAGS_BLOCKED
        if running(v):
            flags |= D.DOMFLAGS_RUNNING
    if d.is_dying:
        flags |= D.DOMFLAGS_DYING
    if d.is_shutdown:
        flags |= D.DOMFLAGS_SHUTDOWN | ((d.shutdown_code or 0) << D.DOMFLAGS_SHUTDOWNSHIFT)
    if d.pause_count:
        flags |= D.DOMFLAGS_PAUSED
    cpu = next((v.processor for v in d.vcpus if running(v)), d.vcpus[0].processor if d.vcpus else 0)
    return flags | (cpu << D.DOMFLAGS_CPUSHIFT)


def _fill_domaininfo(d, u, current) -> None:
    """getdomaininfo (common/dom0_ops.c): one domain's record."""
    u.domain = d.domain_id
    u.flags = getdomaininfo_flags(d, current)
    u.tot_pages, u.max_pages = d.tot_pages, d.max_pages
    u.shared_info_frame = d.shared_info_mfn
    u.cpu_time = d.cpu_time
    u.nr_online_vcpus = sum(1 for v in d.vcpus if not v.down)
    u.max_vcpu_id = len(d.vcpus) - 1


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
        _fill_domaininfo(machine.domains[candidates[0]], u, current)
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
    if cmd in _TOOL_OPS:
        return _TOOL_OPS[cmd](machine, current, u)
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
        # dom0_ops.c:141-157: -EINVAL only for oneself (or a vcpu0 never initialised, which the model's
        # builder never leaves behind); unpausing a running domain returns 0.
        if d is current.domain:
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


# -- what xc_linux_save/restore, xentop and xm vcpu-pin ask for ---------------------------------------------
def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _vcpu_of(machine, u, missing: int):
    """find_domain_by_id + the vcpu range check shared by the per-vcpu calls: (vcpu, 0) or (None, -errno)."""
    d = machine.domains.get(getattr(u, "domain", None)) if _is_int(getattr(u, "domain", None)) else None
    if d is None:
        return None, -E.ESRCH
    vcpu = getattr(u, "vcpu", None)
    if not _is_int(vcpu) or not 0 <= vcpu < MAX_VIRT_CPUS:
        return None, -E.EINVAL
    if vcpu >= len(d.vcpus):
        return None, missing
    return d.vcpus[vcpu], 0


def _setdomaininfo(machine, current, u) -> int:
    """set_info_guest (common/domain.c:348): only a controller-paused domain; then arch_set_info_guest."""
    from xenlab.xen.public.vcpu import vcpu_guest_context
    from xenlab.xen.vcpu import arch_set_info_guest
    if not isinstance(u, D.dom0_setdomaininfo):
        return -E.EFAULT
    if not _is_int(u.domain) or u.domain not in machine.domains:
        return -E.ESRCH
    v, rc = _vcpu_of(machine, u, -E.EINVAL)
    if v is None:
        return rc
    if not v.domain.pause_count:
        return -E.EINVAL
    if not isinstance(u.ctxt, vcpu_guest_context):
        return -E.EFAULT
    return arch_set_info_guest(v, u.ctxt)


def _getvcpucontext(machine, current, u) -> int:
    """arch_getdomaininfo_ctxt: the vcpu's saved context, CR3 from its guest_table."""
    from xenlab.xen.public.vcpu import VGCF_IN_KERNEL, cpu_user_regs, vcpu_guest_context
    from xenlab.xen.traps import arch
    if not isinstance(u, D.dom0_getvcpucontext):
        return -E.EFAULT
    v, rc = _vcpu_of(machine, u, -E.ESRCH)
    if v is None:
        return rc
    if not isinstance(u.ctxt, vcpu_guest_context):
        return -E.EFAULT
    a = arch(v)
    c = u.ctxt
    c.flags = VGCF_IN_KERNEL
    c.user_regs = cpu_user_regs(cs=FLAT_KERNEL_CS, ss=FLAT_KERNEL_SS, ds=FLAT_KERNEL_DS, es=FLAT_KERNEL_DS,
                                eflags=0x200 | a.iopl << 12)
    d = v.domain
    if v.vcpu_id == 0 and d.is_shutdown and getattr(d, "shutdown_reason", None) == "suspend":
        c.user_regs.edx = d.start_info_mfn        # HYPERVISOR_suspend(srec): the record's MFN in EDX
    c.trap_ctxt = [t for t in a.trap_ctxt if t.address]
    mm = getattr(v, "mm", None)
    c.gdt_frames, c.gdt_ents = (list(mm.gdt_frames), mm.gdt_ents) if mm is not None else ([], 0)
    c.ldt_base, c.ldt_ents = (mm.ldt_base, mm.ldt_ents) if mm is not None else (0, 0)
    c.kernel_ss, c.kernel_sp = a.kernel_ss, a.kernel_sp
    c.ctrlreg = list(a.ctrlreg[:8])
    c.ctrlreg[3] = getattr(v, "cr3", 0) or 0
    c.event_callback_cs, c.event_callback_eip = a.event_callback_cs, a.event_callback_eip
    c.failsafe_callback_cs, c.failsafe_callback_eip = a.failsafe_callback_cs, a.failsafe_callback_eip
    c.vm_assist = getattr(v.domain, "vm_assist", 0)
    return 0


def _getvcpuinfo(machine, current, u) -> int:
    if not isinstance(u, D.dom0_getvcpuinfo):
        return -E.EFAULT
    v, rc = _vcpu_of(machine, u, -E.ESRCH)
    if v is None:
        return rc
    u.online, u.blocked, u.running = int(not v.down), int(v.blocked), int(v.is_running)
    u.cpu_time, u.cpu = v.cpu_time_now, v.processor
    u.cpumap = sum(1 << c for c in v.cpu_affinity) if v.cpu_affinity else D.CPUMAP_RUNANYWHERE
    return 0


def _pincpudomain(machine, current, u) -> int:
    """3.0.0: pin to the first cpu of the map (modulo the online cpus); the whole map stays the affinity."""
    if not isinstance(u, D.dom0_pincpudomain):
        return -E.EFAULT
    v, rc = _vcpu_of(machine, u, -E.EINVAL)
    if v is None:
        return rc
    if v is current or not _is_int(u.cpumap):
        return -E.EINVAL
    cpumap = u.cpumap & D.CPUMAP_RUNANYWHERE
    ncpus = len(machine.cpus)
    if cpumap == D.CPUMAP_RUNANYWHERE:
        v.cpu_affinity = None                          # clear _VCPUF_cpu_pinned
        return 0
    if cpumap == 0:
        return -E.EINVAL                               # find_first_set_bit(0) is undefined in Xen; refused here
    first = (cpumap & -cpumap).bit_length() - 1
    new_cpu = first % ncpus
    allowed = tuple(c for c in range(ncpus) if cpumap >> c & 1) or (new_cpu,)
    v.pause_count += 1                                 # vcpu_pause / vcpu_migrate_cpu / vcpu_unpause
    S.vcpu_sleep_nosync(machine, v)
    machine.do_softirqs()
    v.cpu_affinity = allowed
    v.processor = new_cpu
    v.pause_count -= 1
    if v.pause_count == 0:
        S.vcpu_wake(machine, v)
    return 0


def _getdomaininfolist(machine, current, u) -> int:
    if not isinstance(u, D.dom0_getdomaininfolist) or not isinstance(u.buffer, list) \
            or not _is_int(u.first_domain) or not _is_int(u.max_domains) or u.max_domains < 0:
        return -E.EFAULT
    n = 0
    for domid in sorted(machine.domains):
        if domid < u.first_domain:
            continue
        if n == u.max_domains:
            break
        info = D.dom0_getdomaininfo(domain=domid)
        _fill_domaininfo(machine.domains[domid], info, current)
        u.buffer.append(info)
        n += 1
    u.num_domains = n
    return 0


def _settime(machine, current, u) -> int:
    from xenlab.xen.time import do_settime
    if not isinstance(u, D.dom0_settime) or not all(_is_int(x) and x >= 0 for x in (u.secs, u.nsecs, u.system_time)):
        return -E.EFAULT
    do_settime(machine, u.secs & 0xFFFFFFFF, u.nsecs & 0xFFFFFFFF, u.system_time)
    return 0


def _getpageframeinfo(machine, current, u) -> int:
    """arch/x86/dom0_ops.c:200: the frame must belong to the domain (get_page), else -EINVAL."""
    from xenlab.xen.mm_types import (PGT_count_mask, PGT_l1_page_table, PGT_l2_page_table,
                                     PGT_l3_page_table, PGT_type_mask)
    if not isinstance(u, D.dom0_getpageframeinfo):
        return -E.EFAULT
    if not _is_int(u.pfn) or not 0 <= u.pfn < machine.memory.nr_frames or u.domain not in machine.domains:
        return -E.EINVAL
    ft = machine.frame_table
    if int(ft.owner[u.pfn]) != u.domain or int(ft.count_info[u.pfn]) == 0:
        return -E.EINVAL                               # get_page(page, d) failed
    ti = int(ft.type_info[u.pfn])
    u.type = D.NOTAB
    if ti & PGT_count_mask:
        u.type = {PGT_l1_page_table: D.L1TAB, PGT_l2_page_table: D.L2TAB,
                  PGT_l3_page_table: D.L3TAB}.get(ti & PGT_type_mask, D.NOTAB)
    return 0


def _getmemlist(machine, current, u) -> int:
    """arch/x86/dom0_ops.c:335: walk the domain's page_list (here: its frames in pfn order)."""
    if not isinstance(u, D.dom0_getmemlist):
        return -E.EFAULT
    d = machine.domains.get(u.domain) if _is_int(u.domain) else None
    if d is None:
        return -E.EINVAL
    if not _is_int(u.max_pfns) or u.max_pfns < 0 or not isinstance(u.buffer, list):
        return -E.EFAULT
    ft = machine.frame_table
    mfns = [int(m) for m in d.p2m if 0 <= int(m) < machine.memory.nr_frames and int(ft.owner[int(m)]) == d.domain_id]
    out = mfns[:u.max_pfns]
    u.buffer[:] = out
    u.num_pfns = len(out)
    return 0


def _getpageframeinfo2(machine, current, u) -> int:
    """arch/x86/dom0_ops.c:249 (3.0.0): tag each frame of ``array`` with its page-table type.

    -ESRCH for no such domain, -E2BIG above 1024 frames, -EINVAL when the array cannot be read or
    written (copy_from_user / copy_to_user failed). A frame that is not the domain's (or not a valid
    frame at all) comes back | XTAB; a type the frame had once but no longer holds still counts, as
    3.0.0 looks only at the type field (and PGT_pinned)."""
    from xenlab.xen.mm_types import PGC_count_mask, PGT_pinned, PGT_type_mask
    from xenlab.xen.page_alloc import PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_l4_page_table
    if not isinstance(u, D.dom0_getpageframeinfo2):
        return -E.EFAULT
    d = machine.domains.get(u.domain) if _is_int(u.domain) else None
    if d is None:
        return -E.ESRCH
    if not _is_int(u.num) or u.num < 0:
        return -E.EINVAL
    if u.num > 1024:
        return -E.E2BIG
    if not isinstance(u.array, list) or len(u.array) < u.num or not all(_is_int(x) and 0 <= x < 1 << 32
                                                                          for x in u.array[:u.num]):
        return -E.EINVAL
    ft, nr = machine.frame_table, machine.memory.nr_frames
    tags = {PGT_l1_page_table: D.L1TAB, PGT_l2_page_table: D.L2TAB, PGT_l3_page_table: D.L3TAB,
            PGT_l4_page_table: D.L4TAB}
    out = []
    for mfn in u.array[:u.num]:
        if mfn < nr and int(ft.owner[mfn]) == d.domain_id and int(ft.count_info[mfn]) & PGC_count_mask:   # get_page
            ti = int(ft.type_info[mfn])
            out.append(mfn | tags.get(ti & PGT_type_mask, 0) | (D.LPINTAB if ti & PGT_pinned else 0))
        else:
            out.append(mfn | D.XTAB)
    u.array[:u.num] = out
    return 0


def _builddomain(machine, current, u) -> int:
    """DOM0_XENLAB_BUILDDOMAIN (the model's, see public/dom0_ops.py): build a created, paused, still
    empty domain. -ESRCH no such domain; -EINVAL a bad page count, no vcpus yet, not paused, or
    already built (it has pages); -ENOMEM over max_pages or out of memory, with nothing kept."""
    from xenlab.xen.domain_build import build_domain
    from xenlab.xen.page_alloc import OutOfMemory
    if not isinstance(u, D.dom0_builddomain):
        return -E.EFAULT
    d = machine.domains.get(u.domain) if _is_int(u.domain) else None
    if d is None or d.domain_id == 0:
        return -E.ESRCH
    if not _is_int(u.nr_pages) or u.nr_pages <= 0 or not d.vcpus or not d.pause_count or d.tot_pages or d.p2m:
        return -E.EINVAL
    try:
        info = build_domain(machine, d, u.nr_pages)
    except OutOfMemory:
        return -E.ENOMEM
    u.start_info_mfn, u.console_mfn, u.store_mfn, u.info = d.start_info_mfn, d.console_mfn, d.store_mfn, info
    return 0


_TOOL_OPS = {D.DOM0_XENLAB_BUILDDOMAIN: _builddomain, D.DOM0_GETPAGEFRAMEINFO2: _getpageframeinfo2, D.DOM0_SETDOMAININFO: _setdomaininfo, D.DOM0_GETVCPUCONTEXT: _getvcpucontext,
             D.DOM0_GETVCPUINFO: _getvcpuinfo, D.DOM0_PINCPUDOMAIN: _pincpudomain,
             D.DOM0_GETDOMAININFOLIST: _getdomaininfolist, D.DOM0_SETTIME: _settime,
             D.DOM0_GETPAGEFRAMEINFO: _getpageframeinfo, D.DOM0_GETMEMLIST: _getmemlist}
