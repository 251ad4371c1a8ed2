"""check_descriptor: the rule on one segment descriptor a PV guest wants installed.

Models X@RELEASE-3.0.0:xen/arch/x86/x86_32/mm.c (check_descriptor, with the selector macros of
xen/include/asm-x86/desc.h). It is a pure function of the 8 descriptor bytes, below both the page-type
code that validates whole GDT/LDT pages (xen/mm_types.py ``alloc_segdesc_page``, in mm.c) and the
hypercalls that install descriptors (xen/descriptor.py), as in Xen where mm.c calls into x86_32/mm.c.
"""
from __future__ import annotations

from dataclasses import dataclass

from xenlab.hw.memory import PAGE_SIZE
from xenlab.hw.segments import decode

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


def describe(raw: int, mode: str = "2level") -> str:
    v = check_descriptor(raw, mode)
    return f"{decode(raw)!r}: {'accepted' if v else 'refused'} ({v.rule})"
