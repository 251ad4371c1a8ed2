"""Which segment descriptors a PV guest may install: check_descriptor, set_gdt, update_descriptor.

Models X@RELEASE-3.0.0:xen/arch/x86/x86_32/mm.c (check_descriptor) and xen/arch/x86/mm.c (do_set_gdt,
do_update_descriptor, alloc_segdesc_page). The guest kernel runs in ring 1, so Xen refuses any
descriptor that would give ring 0 to the guest (DPL 0), any system descriptor except a call gate that
leads to guest code, and any segment that would reach Xen's area at the top of the address space:
a base inside it is refused; a limit that reaches into it is cut back to GUEST_SEGMENT_MAX_ADDR.

Simplifications:
- The LDT is recorded by ``MMUEXT_SET_LDT`` (xen/mm.py) but its pages are not shadow-mapped on demand.
- ``supervisor_mode_kernel`` (ring-0 guests) is not modelled.
"""
from __future__ import annotations

from dataclasses import dataclass

from xenlab.hw.memory import PAGE_SHIFT, PAGE_SIZE
from xenlab.hw.segments import DescriptorTable, decode
from xenlab.xen.hypercall import hypercall, is_int
from xenlab.xen.public import errno as E

FIRST_RESERVED_GDT_PAGE = 14
FIRST_RESERVED_GDT_ENTRY = FIRST_RESERVED_GDT_PAGE * 512      # 7168
GUEST_KERNEL_RPL = 1
FLAT_KERNEL_CS = 0xE019                                       # FLAT_RING1_CS
# GUEST_SEGMENT_MAX_ADDR = RO_MPT_VIRT_END: the end of the guest-readable M2P window.
GUEST_SEGMENT_MAX_ADDR = {"2level": 0xFC400000, "pae": 0xF6800000}

# Bits of the high word ``b`` (Xen's _SEGMENT_* names).
_SEGMENT_TYPE = 0xF << 8
_SEGMENT_EC = 1 << 10          # expand-down (data) / conforming (code)
_SEGMENT_CODE = 1 << 11
_SEGMENT_S = 1 << 12
_SEGMENT_DPL = 3 << 13
_SEGMENT_P = 1 << 15
_SEGMENT_G = 1 << 23


def VALID_SEL(sel: int) -> bool:  # noqa: N802 - Xen's macro name
    """An LDT selector, or a GDT index below Xen's reserved entries, with RPL 1."""
    return ((sel >> 3) < FIRST_RESERVED_GDT_ENTRY or bool(sel & 4)) and (sel & 3) == GUEST_KERNEL_RPL


def VALID_CODESEL(sel: int) -> bool:  # noqa: N802
    return sel == FLAT_KERNEL_CS or VALID_SEL(sel)


@dataclass(frozen=True)
class DescriptorVerdict:
    ok: bool
    raw: int                    # the descriptor as Xen would store it (limit possibly truncated)
    rule: str                   # the rule that decided, for the segment inspector

    def __bool__(self) -> bool:
        return self.ok


def check_descriptor(raw: int, mode: str = "2level") -> DescriptorVerdict:
    """Xen's check on one 8-byte descriptor (as a u64). Returns the verdict and the stored value."""
    a, b = raw & 0xFFFFFFFF, (raw >> 32) & 0xFFFFFFFF
    if not b & _SEGMENT_P:
        return DescriptorVerdict(True, raw, "not present: always faults, so harmless")
    if not b & _SEGMENT_DPL:
        return DescriptorVerdict(False, raw, "DPL 0 refused: ring 0 belongs to Xen")
    if not b & _SEGMENT_S:
        if b & _SEGMENT_TYPE != 0xC << 8:
            return DescriptorVerdict(False, raw, "system descriptor other than a call gate refused")
        if not VALID_CODESEL(a >> 16):
            return DescriptorVerdict(False, raw, f"call gate to selector {a >> 16:#x}: not guest code")
        if b & 0xE0:
            return DescriptorVerdict(False, raw, "call gate reserved bits set")
        return DescriptorVerdict(True, raw, "call gate to guest code")
    top = GUEST_SEGMENT_MAX_ADDR[mode]
    base = (b & 0xFF000000) | (b & 0xFF) << 16 | a >> 16
    if base >= top - PAGE_SIZE:
        return DescriptorVerdict(False, raw, f"base {base:#x} within a page of Xen's area ({top:#x})")
    # Size in bytes, in 32-bit arithmetic as the C code on x86_32 (G=1, limit 0xfffff wraps to 0).
    size = ((b & 0xF0000) | (a & 0xFFFF)) + 1
    if b & _SEGMENT_G:
        size = (size << 12) & 0xFFFFFFFF
    if b & (_SEGMENT_CODE | _SEGMENT_EC) == _SEGMENT_EC:       # data, expand-down
        if (base + size) & 0xFFFFFFFF > base:
            return _truncate(a, b, (-(base & ~0xFFF)) & 0xFFFFFFFF, "expand-down segment would wrap into Xen's area")
    elif (base + size) & 0xFFFFFFFF <= base or base + size > top:
        return _truncate(a, b, top - base, f"limit truncated to end at {top:#x}")
    return DescriptorVerdict(True, raw, "segment stays below Xen's area")


def _truncate(a: int, b: int, size: int, why: str) -> DescriptorVerdict:
    if not b & _SEGMENT_G:
        return DescriptorVerdict(False, b << 32 | a, "byte-granular segment reaching Xen's area refused")
    limit = ((size >> 12) - 1) & 0xFFFFF
    a = (a & ~0xFFFF) | (limit & 0xFFFF)
    b = (b & ~0xF0000) | (limit & 0xF0000)
    return DescriptorVerdict(True, b << 32 | a, why)


def alloc_segdesc_page(machine, mfn: int) -> bool:
    """Validate (and truncate in place) all 512 descriptors of a page becoming GDT/LDT type."""
    mem = machine.memory
    for i in range(PAGE_SIZE // 8):
        ma = (mfn << PAGE_SHIFT) + 8 * i
        raw = mem.read_u64(ma)
        if raw == 0:
            continue
        verdict = check_descriptor(raw, machine.paging)
        if not verdict:
            from xenlab.xen.mm_types import mm_log
            mm_log(machine, f"Bad descriptor {i} in mfn {mfn:#x}: {verdict.rule}")
            return False
        if verdict.raw != raw:
            mem.write_u64(ma, verdict.raw)
    return True


# -- hypercalls ---------------------------------------------------------------------------------------
@hypercall("set_gdt")
def do_set_gdt(current, frame_list, entries: int) -> int:
    """Install a new GDT of ``entries`` descriptors held in the frames of ``frame_list``."""
    from xenlab.xen.mm_types import PGT_gdt_page, get_page_and_type, put_page_and_type, vcpu_mm
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
    from xenlab.xen.mm_types import (PGT_gdt_page, PGT_ldt_page, PGT_type_mask, PGT_writable_page,
                                     get_page, get_page_type, put_page, put_page_type)
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
    from xenlab.xen.mm_types import vcpu_mm, xen_gdt_mfn
    machine, mm = v.domain.machine, vcpu_mm(v)
    frames = list(mm.gdt_frames)
    filler = xen_gdt_mfn(machine, blank=True)
    frames += [filler] * (FIRST_RESERVED_GDT_PAGE - len(frames))
    return DescriptorTable(machine.memory, frames + [xen_gdt_mfn(machine)], FIRST_RESERVED_GDT_ENTRY + 512)


def describe(raw: int, mode: str = "2level") -> str:
    v = check_descriptor(raw, mode)
    return f"{decode(raw)!r}: {'accepted' if v else 'refused'} ({v.rule})"
