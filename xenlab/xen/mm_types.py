"""Page types and reference counts: why a page table can never be mapped writable.

Models the system described in the header comment of X@RELEASE-3.0.0:xen/arch/x86/mm.c: every frame
has a general reference count (``count_info``) and a type with a type count (``type_info``), in the
frame table of xen/page_alloc.py. ``get_page`` takes a reference only on a frame the domain owns;
``get_page_type`` lets a frame change type only when its type count is zero, and validates a
page-table page (every entry) the first time it takes a page-table type. A writable mapping holds a
``PGT_writable_page`` type reference, so a frame in use as L1/L2/L3/GDT cannot be mapped writable, and
a frame with writable mappings cannot become a page table.

Simplifications:
- Linear (recursive) page tables are refused; no I/O memory mappings; no writable-pagetable assist.
- PAE: the L2 in L3 slot 3 carries ``PGT_pae_xen_l2`` (modern Xen's flag; 3.0 used the PGT_va bits)
  so it cannot also be used from another slot; its slots from 0xF5800000 are Xen's.
- Xen's private slots in a guest L2 (from L2_PAGETABLE_FIRST_XEN_SLOT: 1008 non-PAE, 428 in the
  PAE L2 under L3 slot 3) are zeroed on validation instead of filled: no idle_pg_table entries for
  Xen's code and heap, no linear page-table self-map, no per-domain (GDT/LDT) area, no read-only M2P
  mapping. The M2P is ``machine.m2p`` (readable through ``machine_to_phys``); Xen's GDT and the
  guest's descriptor frames are found through ``vcpu_mm``, not through a mapping.
- L1 tables are validated and released in bulk with numpy; the result equals the per-entry loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xenlab.hw.memory import PAGE_SHIFT, PAGE_SIZE
from xenlab.xen.public.memory import INVALID_P2M_ENTRY
from xenlab.hw.paging import _PAGE_PRESENT, _PAGE_RW
from xenlab.hw.tlb import TLB
from xenlab.xen.page_alloc import (PGC_allocated, PGC_count_mask, PGT_count_mask, PGT_gdt_page,  # noqa: F401
                                   PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_ldt_page,
                                   PGT_none, PGT_pinned, PGT_type_mask, PGT_validated, PGT_writable_page)
from xenlab.xen.public.xen import DOMID_XEN
from xenlab.xen.x86_32_mm import check_descriptor

PGT_pae_xen_l2 = 1 << 26                     # see Simplifications
PGT_TYPE_KEY = PGT_type_mask | PGT_pae_xen_l2
M2P_INVALID = 0xFFFFFFFF

from xenlab.xen.public.arch_x86_32 import HYPERVISOR_VIRT_START, MACH2PHYS_VIRT_START  # noqa: E402,F401
MACH2PHYS_VIRT_END = {"2level": 0xFC400000, "pae": 0xF6800000}
L2_PAGETABLE_FIRST_XEN_SLOT = {"2level": 0xFC000000 >> 22, "pae": (0xF5800000 >> 21) & 511}  # 1008, 428
ENTRY_SIZE = {"2level": 4, "pae": 8}
ENTRIES = {"2level": 1024, "pae": 512}
# Must-be-zero flags in Xen's "flag space" (get_pte_flags: bits 0-11, and PTE bits 52-63 as 12-23).
_PAGE_NX_FLAG = 1 << 23
BASE_DISALLOW_MASK = {"2level": 0xFFFFF180, "pae": 0xFFFFF180 & ~_PAGE_NX_FLAG}   # PSE/PAT, GLOBAL
L1_DISALLOW_MASK = L2_DISALLOW_MASK = BASE_DISALLOW_MASK
L3_DISALLOW_MASK = 0xFFFFF1E6
_PADDR_MASK = {"2level": 0xFFFFF000, "pae": ((1 << 44) - 1) & ~0xFFF}            # PADDR_BITS 44


def pte_flags(e: int, mode: str) -> int:
    return e & 0xFFF if mode == "2level" else ((e >> 40) & ~0xFFF) | (e & 0xFFF)


def pte_mfn(e: int, mode: str) -> int:
    return (e & _PADDR_MASK[mode]) >> PAGE_SHIFT


@dataclass
class VcpuMM:
    """The memory parts of struct arch_vcpu: page-table root, GDT, LDT and (see mm.py) a TLB."""
    guest_table: int = 0                 # mfn of the root table (0: none yet)
    gdt_frames: list = field(default_factory=list)
    gdt_ents: int = 0
    ldt_base: int = 0
    ldt_ents: int = 0
    tlb: TLB = field(default_factory=TLB)


def p2m_note(d, pfn: int, mfn: int) -> None:
    """Xen's own record of ``d``'s pfn -> mfn (``d.p2m``), for the toolstack's and the model's
    bookkeeping; kept where Xen learns of a change (MMU_MACHPHYS_UPDATE, decrease_reservation, a
    grant transfer). The guest keeps its real P2M in its own memory and never reads this one."""
    if d is None or pfn < 0:
        return
    if pfn >= len(d.p2m):
        # a domain being filled by a restorer learns its pfns only from these updates; bounded by the
        # domain's allowance, so a hostile pfn cannot grow the record without limit
        if pfn >= max(getattr(d, "max_pages", 0), len(d.p2m)):
            return
        d.p2m.extend([INVALID_P2M_ENTRY] * (pfn + 1 - len(d.p2m)))
    d.p2m[pfn] = int(mfn)


def vcpu_mm(v) -> VcpuMM:
    mm = getattr(v, "mm", None)
    if mm is None:
        mm = v.mm = VcpuMM()
        v.cr3 = 0
    return mm


def mm_log(machine, msg: str) -> None:
    """MEM_LOG: why Xen refused; kept for the student (``machine.mm_last_error``) and traced."""
    machine.mm_last_error = msg
    if machine.trace.active:
        machine.trace.emit("MEM", "mm_log", msg=msg)


def xen_gdt_mfn(machine, blank: bool = False) -> int:
    """Xen's reserved GDT page (FLAT_RING1/3 CS/DS at entries 7171..7174), or a blank Xen page."""
    key = "_xen_blank_gdt_mfn" if blank else "_xen_gdt_mfn"
    mfn = getattr(machine, key, None)
    if mfn is None:
        from xenlab.hw.segments import SegmentDescriptor
        mfn = machine.frame_table.alloc(DOMID_XEN, 1)[0]
        machine.memory.clear_frame(mfn)
        if not blank:
            for i, (dpl, code) in enumerate(((1, True), (1, False), (3, True), (3, False))):
                machine.memory.write_u64((mfn << PAGE_SHIFT) + 8 * (3 + i), SegmentDescriptor.flat(dpl, code).encode())
        setattr(machine, key, mfn)
    return mfn


# -- general references ----------------------------------------------------------------------------
def get_page(machine, mfn: int, d) -> bool:
    """Take a general reference: only on an allocated frame owned by ``d``."""
    ft = machine.frame_table
    if not 0 <= mfn < ft.nr_frames:
        mm_log(machine, f"mfn {mfn:#x} is not RAM")
        return False
    ci = int(ft.count_info[mfn])
    count = ci & PGC_count_mask
    if count == 0 or count == PGC_count_mask or int(ft.owner[mfn]) != d.domain_id:
        mm_log(machine, f"Error mfn {mfn:#x}: rd={d.domain_id}, od={int(ft.owner[mfn])}, caf={ci:#010x}, "
                        f"taf={int(ft.type_info[mfn]):#010x} (not the caller's frame)")
        return False
    ft.count_info[mfn] = ci + 1
    return True


def put_page(machine, mfn: int) -> None:
    ft = machine.frame_table
    ci = int(ft.count_info[mfn])
    if ci & PGC_count_mask == 0:
        raise AssertionError(f"put_page on mfn {mfn:#x} with no references")
    ft.count_info[mfn] = ci - 1
    if (ci - 1) & PGC_count_mask == 0:
        free_domheap_page(machine, mfn)


def free_domheap_page(machine, mfn: int) -> None:
    """The last reference went: the frame returns to Xen's heap (its owner loses a page)."""
    d = machine.domains.get(int(machine.frame_table.owner[mfn]))
    machine.m2p[mfn] = M2P_INVALID
    xenheap = mfn in machine.xen_heap_frames
    machine.xen_heap_frames.discard(mfn)
    machine.frame_table.free([mfn], machine.memory)
    if d is not None and not xenheap:             # tot_pages counts domain-heap pages only
        d.tot_pages -= 1
    if machine.trace.active and not (d is not None and d.is_dying):
        machine.trace.emit("MEM", "free_page", domid=None if d is None else d.domain_id, mfn=mfn)
    if d is not None and d.is_dying:
        d.put_domain()                             # its last page: put_domain -> destruct


def free_domheap_pages(machine, mfns) -> None:
    """free_domheap_page for many frames of one dying domain at once (relinquish_memory)."""
    mfns = np.asarray(mfns, dtype=np.int64)
    if mfns.size == 0:
        return
    ft = machine.frame_table
    d = machine.domains.get(int(ft.owner[mfns[0]]))
    machine.m2p[mfns] = M2P_INVALID
    ft.free(mfns.tolist(), machine.memory)
    if d is not None:
        d.tot_pages -= int(mfns.size)


# -- type references ---------------------------------------------------------------------------------
def get_page_type(machine, mfn: int, type_: int) -> bool:
    """Take a type reference; change type only at count 0; validate a page table on first use."""
    ft = machine.frame_table
    x = int(ft.type_info[mfn])
    if (x & PGT_count_mask) == PGT_count_mask:
        mm_log(machine, f"Type count overflow on mfn {mfn:#x}")
        return False
    if x & PGT_count_mask == 0:
        if x & PGT_TYPE_KEY != type_:
            flush_all_tlbs(machine)            # a stale mapping of the old type may be cached
            x = type_ | (PGT_validated if type_ in (PGT_writable_page, PGT_none) else 0)
    elif x & PGT_TYPE_KEY != type_:
        mm_log(machine, f"Bad type (saw {x:#010x} != exp {type_:#010x}) for mfn {mfn:#x}")
        return False
    elif not x & PGT_validated:
        mm_log(machine, f"mfn {mfn:#x} is being validated (a table that refers to itself?)")
        return False
    ft.type_info[mfn] = x + 1
    if not x & PGT_validated:
        if not alloc_page_type(machine, mfn, type_):
            mm_log(machine, f"Error while validating mfn {mfn:#x} for type {type_:#010x}. "
                            + getattr(machine, "mm_last_error", ""))
            ft.type_info[mfn] = 0              # we held the only type reference
            return False
        ft.type_info[mfn] = int(ft.type_info[mfn]) | PGT_validated
    return True


def put_page_type(machine, mfn: int) -> None:
    ft = machine.frame_table
    x = int(ft.type_info[mfn])
    if x & PGT_count_mask == 0:
        raise AssertionError(f"put_page_type on mfn {mfn:#x} with type count 0")
    if (x & PGT_count_mask) == 1 and (x & PGT_type_mask) in PT_TYPES and x & PGT_validated:
        # The last use of a page table: unvalidate, then drop what its entries referenced.
        ft.type_info[mfn] = x & ~PGT_validated
        free_page_type(machine, mfn, x & PGT_TYPE_KEY)
        x &= ~PGT_validated
    ft.type_info[mfn] = x - 1


def get_page_and_type(machine, mfn: int, d, type_: int) -> bool:
    if not get_page(machine, mfn, d):
        return False
    if not get_page_type(machine, mfn, type_):
        put_page(machine, mfn)
        return False
    return True


def put_page_and_type(machine, mfn: int) -> None:
    put_page_type(machine, mfn)
    put_page(machine, mfn)


PT_TYPES = (PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table)


# -- validation of page-table pages --------------------------------------------------------------------
def _entries(machine, mfn: int) -> np.ndarray:
    mode = machine.paging
    return machine.memory.frame(mfn).view("<u4" if mode == "2level" else "<u8").astype(np.uint64)


def alloc_page_type(machine, mfn: int, type_: int) -> bool:
    t = type_ & PGT_type_mask
    if t == PGT_l1_page_table:
        return alloc_l1_table(machine, mfn)
    if t == PGT_l2_page_table:
        return alloc_l2_table(machine, mfn, type_)
    if t == PGT_l3_page_table:
        return machine.paging == "pae" and alloc_l3_table(machine, mfn)
    if t in (PGT_gdt_page, PGT_ldt_page):
        return alloc_segdesc_page(machine, mfn)
    mm_log(machine, f"Bad type in alloc_page_type {type_:#010x}")
    return False


def free_page_type(machine, mfn: int, type_: int) -> None:
    t = type_ & PGT_type_mask
    if t == PGT_l1_page_table:
        _l1_refs(machine, mfn, -1)
        return
    mode, esize = machine.paging, ENTRY_SIZE[machine.paging]
    base = mfn << PAGE_SHIFT
    for i in _guest_slots(machine, t, type_):
        e = machine.memory.read(base + i * esize, esize)
        if e & _PAGE_PRESENT:
            put_page_and_type(machine, pte_mfn(e, mode))


def _guest_slots(machine, t: int, type_: int) -> range:
    mode = machine.paging
    if t == PGT_l3_page_table:
        return range(4)
    if mode == "2level" or type_ & PGT_pae_xen_l2:
        return range(L2_PAGETABLE_FIRST_XEN_SLOT[mode])
    return range(ENTRIES[mode])


def _l1_refs(machine, mfn: int, sign: int) -> bool:
    """Take (sign=+1, after checking every entry as get_page_from_l1e would) or drop (-1) the
    references of every present entry of L1 ``mfn``, in bulk."""
    mode, ft = machine.paging, machine.frame_table
    e = _entries(machine, mfn)
    e = e[(e & np.uint64(_PAGE_PRESENT)) != 0]
    if e.size == 0:
        return True
    targets = (e & np.uint64(_PADDR_MASK[mode])) >> np.uint64(PAGE_SHIFT)
    rw = (e & np.uint64(_PAGE_RW)) != 0
    if sign > 0:
        flags = (e & np.uint64(0xFFF)) if mode == "2level" else \
            ((e >> np.uint64(40)) & ~np.uint64(0xFFF)) | (e & np.uint64(0xFFF))
        bad = (flags & np.uint64(L1_DISALLOW_MASK[mode])) != 0
        if bad.any():
            mm_log(machine, f"Bad L1 flags {int(flags[bad][0]):#x} in mfn {mfn:#x}")
            return False
        if (targets >= ft.nr_frames).any():
            mm_log(machine, f"L1 in mfn {mfn:#x} maps a frame that is not RAM")
            return False
    targets = targets.astype(np.int64)
    uniq, counts = np.unique(targets, return_counts=True)
    w_uniq, w_counts = np.unique(targets[rw], return_counts=True)
    if sign > 0:
        owner = int(ft.owner[mfn])
        ci = ft.count_info[uniq].astype(np.int64) & PGC_count_mask
        not_ours = (ft.owner[uniq] != owner) | (ci == 0) | (ci + counts > PGC_count_mask)
        if not_ours.any():
            bad = int(uniq[not_ours][0])
            mm_log(machine, f"Error mfn {bad:#x}: rd={owner}, od={int(ft.owner[bad])} (L1 in mfn {mfn:#x} "
                            "maps a frame its domain does not own)")
            return False
        ti = ft.type_info[w_uniq].astype(np.int64)
        tcount = ti & PGT_count_mask
        clash = ((tcount > 0) & ((ti & PGT_TYPE_KEY) != PGT_writable_page)) | (tcount + w_counts > PGT_count_mask)
        if clash.any():
            bad = int(w_uniq[clash][0])
            mm_log(machine, f"Bad type (saw {int(ft.type_info[bad]):#010x} != exp {PGT_writable_page:#010x}) "
                            f"for mfn {bad:#x}: a writable mapping of a page in use as {_tname(ft.type_info[bad])}")
            return False
        if ((tcount == 0) & ((ti & PGT_TYPE_KEY) != PGT_writable_page)).any():
            flush_all_tlbs(machine)
        ft.type_info[w_uniq] = np.where(tcount == 0, PGT_writable_page | PGT_validated | w_counts,
                                        ti + w_counts).astype(np.uint32)
        ft.count_info[uniq] += counts.astype(np.uint32)
        return True
    ft.type_info[w_uniq] -= w_counts.astype(np.uint32)
    ft.count_info[uniq] -= counts.astype(np.uint32)
    for gone in uniq[(ft.count_info[uniq] & PGC_count_mask) == 0].tolist():
        free_domheap_page(machine, gone)
    return True


def _tname(ti) -> str:
    from xenlab.xen.page_alloc import PGT_NAMES
    return PGT_NAMES[int(ti) & PGT_type_mask]


def alloc_l1_table(machine, mfn: int) -> bool:
    return _l1_refs(machine, mfn, +1)


def alloc_l2_table(machine, mfn: int, type_: int) -> bool:
    mode, esize = machine.paging, ENTRY_SIZE[machine.paging]
    base = mfn << PAGE_SHIFT
    slots = _guest_slots(machine, PGT_l2_page_table, type_)
    d = machine.domains[int(machine.frame_table.owner[mfn])]
    for i in slots:
        if not get_page_from_l2e(machine, machine.memory.read(base + i * esize, esize), d):
            for j in range(i):
                put_page_from_l2e(machine, machine.memory.read(base + j * esize, esize))
            return False
    for i in range(slots.stop, ENTRIES[mode]):
        machine.memory.write(base + i * esize, esize, 0)     # Xen's slots (see Simplifications)
    return True


def alloc_l3_table(machine, mfn: int) -> bool:
    base = mfn << PAGE_SHIFT
    d = machine.domains[int(machine.frame_table.owner[mfn])]
    if not machine.memory.read_u64(base + 3 * 8) & _PAGE_PRESENT:
        mm_log(machine, f"No L2 in slot 3 of L3 mfn {mfn:#x} (Xen's mappings live there)")
        return False
    for i in range(4):
        if not get_page_from_l3e(machine, machine.memory.read_u64(base + 8 * i), d, i):
            for j in range(i):
                put_page_from_l2e(machine, machine.memory.read_u64(base + 8 * j))
            return False
    # create_pae_xen_mappings (X@RELEASE-3.0.0:xen/arch/x86/mm.c:705-740): the slot-3 L2 holds Xen's
    # linear mappings of THIS L3, so it may not be shared: the reference just taken must be its only one.
    l2 = pte_mfn(machine.memory.read_u64(base + 3 * 8), "pae")
    if int(machine.frame_table.type_info[l2]) & PGT_count_mask != 1:
        mm_log(machine, "PAE L3 3rd slot is shared")
        for j in range(4):
            put_page_from_l2e(machine, machine.memory.read_u64(base + 8 * j))
        return False
    return True


# -- single entries ------------------------------------------------------------------------------------
def get_page_from_l1e(machine, e: int, d) -> bool:
    mode = machine.paging
    if not e & _PAGE_PRESENT:
        return True
    if pte_flags(e, mode) & L1_DISALLOW_MASK[mode]:
        mm_log(machine, f"Bad L1 flags {pte_flags(e, mode) & L1_DISALLOW_MASK[mode]:#x}")
        return False
    mfn = pte_mfn(e, mode)
    if e & _PAGE_RW:
        return get_page_and_type(machine, mfn, d, PGT_writable_page)
    return get_page(machine, mfn, d)


def put_page_from_l1e(machine, e: int) -> None:
    if e & _PAGE_PRESENT:
        mfn = pte_mfn(e, machine.paging)
        (put_page_and_type if e & _PAGE_RW else put_page)(machine, mfn)


def get_page_from_l2e(machine, e: int, d) -> bool:
    mode = machine.paging
    if not e & _PAGE_PRESENT:
        return True
    if pte_flags(e, mode) & L2_DISALLOW_MASK[mode]:
        mm_log(machine, f"Bad L2 flags {pte_flags(e, mode) & L2_DISALLOW_MASK[mode]:#x} (no superpages)")
        return False
    return get_page_and_type(machine, pte_mfn(e, mode), d, PGT_l1_page_table)


def put_page_from_l2e(machine, e: int) -> None:
    if e & _PAGE_PRESENT:
        put_page_and_type(machine, pte_mfn(e, machine.paging))


def get_page_from_l3e(machine, e: int, d, slot: int) -> bool:
    if not e & _PAGE_PRESENT:
        return True
    if pte_flags(e, "pae") & L3_DISALLOW_MASK:
        mm_log(machine, f"Bad L3 flags {pte_flags(e, 'pae') & L3_DISALLOW_MASK:#x}")
        return False
    t = PGT_l2_page_table | (PGT_pae_xen_l2 if slot == 3 else 0)
    return get_page_and_type(machine, pte_mfn(e, "pae"), d, t)


def flush_all_tlbs(machine) -> None:
    """flush_tlb_mask(all): every vcpu's TLB (see xen/mm.py for why TLBs are per vcpu)."""
    for d in machine.domains.values():
        for v in d.vcpus:
            mm = getattr(v, "mm", None)
            if mm is not None:
                mm.tlb.flush_all()


def alloc_segdesc_page(machine, mfn: int) -> bool:
    """mm.c: validate (and truncate in place) all 512 descriptors of a page becoming GDT/LDT type."""
    mem = machine.memory
    for i in range(PAGE_SIZE // 8):
        ma = (mfn << PAGE_SHIFT) + 8 * i
        raw = mem.read_u64(ma)
        if raw == 0:
            continue
        verdict = check_descriptor(raw, machine.paging)
        if not verdict:
            mm_log(machine, f"Bad descriptor {i} in mfn {mfn:#x}: {verdict.rule}")
            return False
        if verdict.raw != raw:
            mem.write_u64(ma, verdict.raw)
    return True
