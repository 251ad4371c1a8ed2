"""Pages a PV kernel's drivers take, give away and receive (drivers/xen/core, Xen 3.0).

A driver buffer is a free pfn of the kernel (taken from the kernel's page-table code, guest/mm.py,
when it has one, so both never hand out the same pfn). Page flipping needs two more things, done the
XenLinux way through hypercalls:

- giving a page away (netfront posting a flip buffer, netback before GNTTABOP_transfer): unmap it from
  the kernel's direct map (``update_va_mapping`` to 0), so that Xen sees no reference but the
  allocation; for netfront also ``XENMEM_decrease_reservation``;
- receiving one: put the new MFN at the pfn, ``MMU_MACHPHYS_UPDATE`` it, map it in the direct map;
  netback refills its own hole with ``XENMEM_increase_reservation``.

Simplifications:
- Without guest page tables (a kernel model with no ``mm``) the same bookkeeping is done directly on
  the P2M, the M2P and the frame table.
"""
from __future__ import annotations

from xenlab.hw import idt
from xenlab.hw.memory import PAGE_SHIFT
from xenlab.xen.public import xen as X

PAGE_OFFSET = 0xC0000000
INVALID = 0xFFFFFFFF


def _mm(kernel):
    mm = kernel.__dict__.get("mm")
    return mm if mm is not None and getattr(mm, "root_pfn", None) is not None else None


def take_page(kernel) -> int:
    mm = _mm(kernel)
    if mm is not None:
        return mm._take_pfn()
    free = kernel.__dict__.setdefault("free_pfns", list(range(3, len(kernel.d.p2m))))
    if not free:
        raise MemoryError(f"{kernel.d.name}: out of memory for I/O pages")
    return free.pop()


def put_page(kernel, pfn: int) -> None:
    mm = _mm(kernel)
    if mm is not None:
        mm.free_pfns.append(pfn)
    else:
        kernel.__dict__.setdefault("free_pfns", list(range(3, len(kernel.d.p2m)))).append(pfn)


def unmap_direct(kernel, pfn: int) -> None:
    """Drop the kernel's own mapping of pfn (and with it the frame's writable type reference)."""
    mm = _mm(kernel)
    if mm is not None and pfn < mm.lowmem_pages:
        kernel.hypercall(kernel.d.vcpus[0], "update_va_mapping", PAGE_OFFSET + (pfn << PAGE_SHIFT), 0,
                         X.UVMF_INVLPG)


def give_back(kernel, pfn: int) -> None:
    """decrease_reservation of one page: the pfn becomes a hole (INVALID in the P2M)."""
    d, m = kernel.d, kernel.d.machine
    mm = _mm(kernel)
    mfn = mm.p2m[pfn] if mm is not None else d.p2m[pfn]
    unmap_direct(kernel, pfn)
    if mm is not None:
        from xenlab.xen.public.memory import XENMEM_decrease_reservation, xen_memory_reservation
        idt.hypercall(d.vcpus[0], "memory_op", XENMEM_decrease_reservation, xen_memory_reservation(extent_start=[mfn], nr_extents=1))
        mm.p2m[pfn] = INVALID                      # the kernel's own P2M array
    else:
        m.m2p[mfn] = INVALID
        m.frame_table.free([mfn], m.memory)
        d.tot_pages -= 1
        d.p2m[pfn] = INVALID


def give_back_batch(kernel, pfns) -> list:
    """netfront's network_alloc_rx_buffers (X@RELEASE-3.0.0:linux-2.6-xen-sparse/drivers/xen/netfront/
    netfront.c:566-594): give a batch of pages back in ONE multicall, "zap PTEs and give away pages":
    an ``update_va_mapping(va, 0)`` entry per page (the last one flushing every vcpu's TLB:
    UVMF_TLB_FLUSH|UVMF_ALL), then ``memory_op(XENMEM_decrease_reservation)`` of all the frames.
    Returns the entries, each with its result. Without guest page tables, one page at a time."""
    from xenlab.xen.public.memory import XENMEM_decrease_reservation, xen_memory_reservation
    pfns = list(pfns)
    mm = _mm(kernel)
    if mm is None or not pfns:
        for pfn in pfns:
            give_back(kernel, pfn)
        return []
    d = kernel.d
    mfns = [mm.p2m[pfn] for pfn in pfns]                  # pfn_to_mfn: the kernel's own array
    mcl = [X.multicall_entry_t(X.__HYPERVISOR_update_va_mapping, [PAGE_OFFSET + (pfn << PAGE_SHIFT), 0, 0])
           for pfn in pfns if pfn < mm.lowmem_pages]
    if mcl:
        mcl[-1].args[2] = X.UVMF_TLB_FLUSH | X.UVMF_ALL      # after all PTEs are zapped, one flush
    for pfn in pfns:
        mm.p2m[pfn] = INVALID                               # set_phys_to_machine(pfn, INVALID_P2M_ENTRY)
    reservation = xen_memory_reservation(extent_start=mfns, nr_extents=len(mfns))
    mcl.append(X.multicall_entry_t(X.__HYPERVISOR_memory_op, [XENMEM_decrease_reservation, reservation]))
    kernel.hypercall(d.vcpus[0], "multicall", mcl, len(mcl))
    if mcl[-1].result != len(mfns):
        raise RuntimeError(f"{d.name}: unable to reduce memory reservation ({mcl[-1].result} of {len(mfns)})")
    return mcl


def take_foreign(kernel, pfn: int, mfn: int) -> None:
    """A page that arrived (by transfer or reservation) goes into hole ``pfn``."""
    d, m = kernel.d, kernel.d.machine
    mm = _mm(kernel)
    if mm is None:
        d.p2m[pfn] = mfn
        m.m2p[mfn] = pfn
        return
    mm.p2m[pfn] = mfn                              # the kernel's own P2M array
    from xenlab.xen.public.memory import mmu_update_t
    reqs = [mmu_update_t(mfn << PAGE_SHIFT | X.MMU_MACHPHYS_UPDATE, pfn)]
    if pfn < mm.lowmem_pages:
        reqs.append(mmu_update_t(mm._l1_for(PAGE_OFFSET + (pfn << PAGE_SHIFT), True), mm.pte(pfn, True)))
    mm.mmu_update(reqs)


def refill(kernel, pfn: int) -> bool:
    """increase_reservation of one page into hole ``pfn``; False if Xen had none to give."""
    d, m = kernel.d, kernel.d.machine
    if _mm(kernel) is not None:
        from xenlab.xen.public.memory import XENMEM_increase_reservation, xen_memory_reservation
        res = xen_memory_reservation(extent_start=[], nr_extents=1)
        if idt.hypercall(d.vcpus[0], "memory_op", XENMEM_increase_reservation, res) != 1:
            return False
        take_foreign(kernel, pfn, res.extent_start[0])
        return True
    new = m.frame_table.alloc(d.domain_id, 1)[0]
    d.tot_pages += 1
    take_foreign(kernel, pfn, new)
    return True
