"""Which segment descriptors a PV guest may install: check_descriptor, set_gdt, update_descriptor.

Models X@RELEASE-3.0.0:xen/arch/x86/x86_32/mm.c (check_descriptor: xen/x86_32_mm.py) and
xen/arch/x86/mm.c (do_set_gdt, do_update_descriptor here; alloc_segdesc_page in xen/mm_types.py,
which validates a page as it becomes GDT/LDT type). This module sits above both, as mm.c's hypercalls
do in Xen: the page-type code never imports it. The guest kernel runs in ring 1, so Xen refuses any
descriptor that would give ring 0 to the guest (DPL 0), any system descriptor except a call gate that
leads to guest code, and any segment that would reach Xen's area at the top of the address space:
a base inside it is refused; a limit that reaches into it is cut back to GUEST_SEGMENT_MAX_ADDR.

Simplifications:
- The LDT is recorded by ``MMUEXT_SET_LDT`` (xen/mm.py) but its pages are not shadow-mapped on demand.
- ``supervisor_mode_kernel`` (ring-0 guests) is not modelled.
"""
from __future__ import annotations

from xenlab.hw.memory import PAGE_SHIFT
from xenlab.hw.segments import DescriptorTable
from xenlab.xen.hypercall import hypercall, is_int
from xenlab.xen.public import errno as E
from xenlab.xen.mm_types import (PGT_gdt_page, PGT_ldt_page, PGT_type_mask, PGT_writable_page,
                                 alloc_segdesc_page, get_page, get_page_and_type, get_page_type, put_page,  # noqa: F401
                                 put_page_and_type, put_page_type, vcpu_mm, xen_gdt_mfn)
from xenlab.xen.x86_32_mm import (  # noqa: F401  (the rule itself, x86_32/mm.c; re-exported)
    FIRST_RESERVED_GDT_PAGE, FIRST_RESERVED_GDT_ENTRY, GUEST_KERNEL_RPL, FLAT_KERNEL_CS, GUEST_SEGMENT_MAX_ADDR, _SEGMENT_TYPE, _SEGMENT_EC, _SEGMENT_CODE, _SEGMENT_S, _SEGMENT_DPL, _SEGMENT_P, _SEGMENT_G, VALID_SEL, VALID_CODESEL, DescriptorVerdict, check_descriptor, _truncate, describe)

# -- hypercalls ---------------------------------------------------------------------------------------
@hypercall("set_gdt")
def do_set_gdt(current, frame_list, entries: int) -> int:
    """Install a new GDT of ``entries`` descriptors held in the frames of ``frame_list``."""
    machine, d = current.domain.machine, current.domain
    if not 0 <= entries <= FIRST_RESERVED_GDT_ENTRY:
        return -E.EINVAL
    nr_pages = -(-entries // 512)
    if not isinstance(frame_list, (list, tuple)):
        return -E.EFAULT                      # copy_from_guest of a bad pointer
    frames = list(frame_list)[:nr_pages]
    if len(frames) < nr_pages:
        return -E.EFAULT
    if not all(is_int(f) for f in frames):
        return -E.EINVAL
    frames = [int(f) for f in frames]
    for i, mfn in enumerate(frames):
        if not get_page_and_type(machine, mfn, d, PGT_gdt_page):
            for done in frames[:i]:
                put_page_and_type(machine, done)
            return -E.EINVAL
    mm = vcpu_mm(current)
    for old in mm.gdt_frames:                 # destroy_gdt: only after the new one is accepted
        put_page_and_type(machine, old)
    mm.gdt_frames, mm.gdt_ents = frames, entries
    machine.trace.emit("MEM", "set_gdt", domid=d.domain_id, vcpu=current.vcpu_id, frames=frames, entries=entries)
    return 0


@hypercall("update_descriptor", wide=("ma", "desc"))
def do_update_descriptor(current, ma: int, desc: int) -> int:
    """Write one descriptor at machine address ``ma`` after check_descriptor."""
    machine, d = current.domain.machine, current.domain
    mfn = ma >> PAGE_SHIFT
    if ma % 8 or not 0 <= mfn < machine.memory.nr_frames or not 0 <= desc < 1 << 64:
        return -E.EINVAL
    verdict = check_descriptor(desc, machine.paging)
    if not verdict:
        from xenlab.xen.mm_types import mm_log
        mm_log(machine, f"update_descriptor refused: {verdict.rule}")
        return -E.EINVAL
    if not get_page(machine, mfn, d):
        return -E.EINVAL
    t = int(machine.frame_table.type_info[mfn]) & PGT_type_mask
    want = t if t in (PGT_gdt_page, PGT_ldt_page) else PGT_writable_page
    if not get_page_type(machine, mfn, want):
        put_page(machine, mfn)
        return -E.EINVAL
    machine.memory.write_u64(ma, verdict.raw)
    put_page_type(machine, mfn)
    put_page(machine, mfn)
    machine.trace.emit("MEM", "update_descriptor", domid=d.domain_id, ma=ma, desc=verdict.raw, rule=verdict.rule)
    return 0


def vcpu_gdt_table(v) -> DescriptorTable:
    """The GDT the CPU would use for this vcpu: its frames, then Xen's reserved page at entry 7168."""
    machine, mm = v.domain.machine, vcpu_mm(v)
    frames = list(mm.gdt_frames)
    filler = xen_gdt_mfn(machine, blank=True)
    frames += [filler] * (FIRST_RESERVED_GDT_PAGE - len(frames))
    return DescriptorTable(machine.memory, frames + [xen_gdt_mfn(machine)], FIRST_RESERVED_GDT_ENTRY + 512)
