"""memory_op: a domain gives frames back to Xen or asks for more (the balloon), within max_pages.

Models X@RELEASE-3.0.0:xen/common/memory.c (increase_reservation, decrease_reservation,
populate_physmap from 3.0.2, do_memory_op). A PV guest keeps its own P2M (pfn -> mfn) and tells
Xen about M2P changes with MMU_MACHPHYS_UPDATE; ``increase_reservation`` only hands out MFNs,
``populate_physmap`` also records the M2P entries for the gpfns the guest names. A frame given back
stays owned until its last reference (a mapping the guest forgot) goes; then it is freed.

Hostile arguments: the reservation's fields are C ``unsigned int`` (nr_extents, extent_order,
address_bits), ``domid_t`` and ``xen_pfn_t`` entries; a value they cannot hold (negative, too wide,
not an int) is refused with -EINVAL before anything happens (see xen/hypercall.py). An extent order
above Xen's MAX_ORDER (20) cannot be allocated ("Could not allocate order=..": the call returns the
extents done so far); an unprivileged caller asking for order > 0 gets 0 (3.0: only I/O-capable
domains may allocate multi-page extents). populate_physmap reads the extent's gpfn *before*
allocating, so a bad gpfn stops the call with nothing allocated and nothing leaked.

Simplifications:
- Extents of order > 0 (only for I/O-capable domains, i.e. dom0 here) are not contiguous.
- decrease_reservation of an order above 31 walks at most to the end of machine memory (C's
  ``1 << extent_order`` is undefined there; Xen stops at the first frame out of range anyway).
- No ``address_bits`` DMA zone: any value from 31 up is accepted, below 31 is -ENOMEM as in Xen.
"""
from __future__ import annotations

from xenlab.xen.hypercall import hypercall, is_uint
from xenlab.xen.mm_types import (p2m_note, PGC_allocated, PGT_pinned, get_page, mm_log, put_page,
                                 put_page_and_type)
from xenlab.xen.page_alloc import OutOfMemory
from xenlab.xen.public import errno as E
from xenlab.xen.public import memory as M
from xenlab.xen.public.xen import DOMID_SELF


def _target(current, domid: int):
    d = current.domain
    if domid == DOMID_SELF:
        return d, 0
    if not d.is_privileged:
        return None, -E.EPERM
    t = d.machine.domains.get(domid)
    return (t, 0) if t is not None else (None, -E.ESRCH)


MAX_ORDER = 20                  # xen/common/page_alloc.c: the largest buddy order


def increase_reservation(machine, d, res: M.xen_memory_reservation, populate: bool, caller=None) -> int:
    if res.extent_order and not (caller or d).is_privileged:
        return 0                                     # multipage_allocation_permitted(current->domain)
    if res.extent_order > MAX_ORDER:                 # alloc_domheap_pages: order > MAX_ORDER -> NULL
        mm_log(machine, f"Could not allocate order={res.extent_order} extent: id={d.domain_id}")
        return 0
    n = 1 << res.extent_order
    for i in range(res.nr_extents):
        gpfn = None
        if populate:                                 # __copy_from_guest_offset(&gpfn, ...) first
            gpfn = res.extent_start[i] if i < len(res.extent_start) else None
            if not is_uint(gpfn, 32):
                mm_log(machine, f"populate_physmap: extent {i} has no valid gpfn ({gpfn!r})")
                return i
        if d.is_dying or d.tot_pages + n > d.max_pages:
            mm_log(machine, f"Could not allocate order={res.extent_order} extent: id={d.domain_id} "
                            f"({d.tot_pages} of {d.max_pages})")
            return i
        try:
            mfns = machine.frame_table.alloc(d.domain_id, n)
        except OutOfMemory:
            return i
        for m in mfns:
            machine.memory.clear_frame(m)
        d.tot_pages += n
        if populate:
            for j, m in enumerate(mfns):
                machine.m2p[m] = (int(gpfn) + j) & 0xFFFFFFFF
        if i < len(res.extent_start):
            res.extent_start[i] = mfns[0]
        else:
            res.extent_start.append(mfns[0])
        if machine.trace.active:
            machine.trace.emit("MEM", "increase_reservation", domid=d.domain_id, mfns=mfns)
    return res.nr_extents


def decrease_reservation(machine, d, res: M.xen_memory_reservation) -> int:
    n = 1 << min(res.extent_order, 32)
    for i in range(res.nr_extents):
        first = res.extent_start[i]
        if not is_uint(first, 32):                   # __get_user(mpfn, &extent_list[i]) fails
            mm_log(machine, f"decrease_reservation: extent {i} is not a frame number ({first!r})")
            return i
        first = int(first)
        for mfn in range(first, min(first + n, machine.frame_table.nr_frames + 1)):
            if not 0 <= mfn < machine.frame_table.nr_frames:
                mm_log(machine, f"Domain {d.domain_id} page number {mfn:#x} out of range")
                return i
            if not get_page(machine, mfn, d):
                mm_log(machine, f"Bad page free for domain {d.domain_id}: mfn {mfn:#x}")
                return i
            ft = machine.frame_table
            if int(ft.type_info[mfn]) & PGT_pinned:
                ft.type_info[mfn] = int(ft.type_info[mfn]) & ~PGT_pinned
                put_page_and_type(machine, mfn)
            if int(ft.count_info[mfn]) & PGC_allocated:
                ft.count_info[mfn] = int(ft.count_info[mfn]) & ~PGC_allocated
                put_page(machine, mfn)
            gpfn = int(machine.m2p[mfn])
            if 0 <= gpfn < len(d.p2m) and d.p2m[gpfn] == mfn:
                p2m_note(d, gpfn, M.INVALID_P2M_ENTRY)
            machine.m2p[mfn] = M.INVALID_M2P_ENTRY
            if machine.trace.active:
                machine.trace.emit("MEM", "decrease_reservation", domid=d.domain_id, mfn=mfn)
            put_page(machine, mfn)                   # frees it unless someone still maps it
    return res.nr_extents


@hypercall("memory_op")
def do_memory_op(current, cmd: int, arg=None) -> int:
    machine = current.domain.machine
    if cmd in (M.XENMEM_increase_reservation, M.XENMEM_decrease_reservation, M.XENMEM_populate_physmap):
        if not isinstance(arg, M.xen_memory_reservation) or not isinstance(arg.extent_start, list):
            return -E.EFAULT
        if not (is_uint(arg.nr_extents, 32) and is_uint(arg.extent_order, 32) and is_uint(arg.address_bits, 32)
                and is_uint(arg.domid, 16)):
            return -E.EINVAL                         # a field its C type cannot hold
        if cmd != M.XENMEM_increase_reservation and len(arg.extent_start) < arg.nr_extents:
            return -E.EFAULT
        if arg.address_bits and arg.address_bits < 31:
            return -E.ENOMEM
        d, rc = _target(current, arg.domid)
        if d is None:
            return rc
        if cmd == M.XENMEM_decrease_reservation:
            return decrease_reservation(machine, d, arg)
        return increase_reservation(machine, d, arg, populate=cmd == M.XENMEM_populate_physmap,
                                    caller=current.domain)
    if cmd == M.XENMEM_maximum_ram_page:
        return machine.frame_table.nr_frames
    if cmd in (M.XENMEM_current_reservation, M.XENMEM_maximum_reservation):
        if arg is not None and not is_uint(arg, 16):
            return -E.EFAULT                         # get_user(domid, (domid_t *)arg)
        d, rc = _target(current, DOMID_SELF if arg is None else arg)
        if d is None:
            return rc
        return d.tot_pages if cmd == M.XENMEM_current_reservation else d.max_pages
    return -E.ENOSYS
