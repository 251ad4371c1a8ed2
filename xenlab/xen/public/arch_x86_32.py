"""Guest-visible x86_32 definitions (X@RELEASE-3.0.0:xen/include/public/arch-x86_32.h; H:arch-x86/xen-x86_32.h).

The flat segment selectors Xen provides to a PV guest, the ``trap_info`` entry of
``set_trap_table`` and the selector rules Xen applies to a guest-supplied code selector.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xenlab.xen.public.cstruct import CStruct, StructLayout

# Xen's own GDT page starts at entry 7168 (FIRST_RESERVED_GDT_PAGE 14 * 512 entries).
FIRST_RESERVED_GDT_PAGE = 14
FIRST_RESERVED_GDT_BYTE = FIRST_RESERVED_GDT_PAGE * 4096
FIRST_RESERVED_GDT_ENTRY = FIRST_RESERVED_GDT_BYTE // 8          # 7168

# Flat selectors (GDT index 259..262, RPL 1 for the kernel's, 3 for user's).
FLAT_RING1_CS = 0xE019
FLAT_RING1_DS = 0xE021
FLAT_RING1_SS = 0xE021
FLAT_RING3_CS = 0xE02B
FLAT_RING3_DS = 0xE033
FLAT_RING3_SS = 0xE033
FLAT_KERNEL_CS = FLAT_RING1_CS
FLAT_KERNEL_DS = FLAT_RING1_DS
FLAT_KERNEL_SS = FLAT_RING1_SS
FLAT_USER_CS = FLAT_RING3_CS
FLAT_USER_DS = FLAT_RING3_DS
FLAT_USER_SS = FLAT_RING3_SS

GUEST_KERNEL_RPL = 1            # i386: the guest kernel runs in ring 1 (x86_64: 3)

# Where Xen's area begins: the guest may map nothing from here up (arch-x86_32.h: 0xFC000000, and
# 0xF5800000 with CONFIG_X86_PAE); the read-only M2P table starts there (MACH2PHYS_VIRT_START).
HYPERVISOR_VIRT_START = {"2level": 0xFC000000, "pae": 0xF5800000}
MACH2PHYS_VIRT_START = HYPERVISOR_VIRT_START

# trap_info.flags: bits 0-1 DPL (who may raise the vector with `int n`), bit 2 "IF": mask events.
TI_DPL_MASK = 3
TI_IF_BIT = 4


def TI_GET_DPL(ti: "trap_info") -> int:  # noqa: N802 - Xen's macro name
    return ti.flags & TI_DPL_MASK


def TI_GET_IF(ti: "trap_info") -> int:  # noqa: N802
    return ti.flags & TI_IF_BIT


def TI_SET_DPL(ti: "trap_info", dpl: int) -> None:  # noqa: N802
    ti.flags |= dpl


def TI_SET_IF(ti: "trap_info", if_: int) -> None:  # noqa: N802
    ti.flags |= (1 if if_ else 0) << 2


@dataclass
class trap_info(CStruct):
    """struct trap_info { uint8 vector; uint8 flags; uint16 cs; unsigned long address; } (8 bytes)."""
    vector: int = 0
    flags: int = 0
    cs: int = 0
    address: int = 0
    LAYOUT: ClassVar = StructLayout("trap_info", [
        ("vector", "uint8_t"), ("flags", "uint8_t"), ("cs", "uint16_t"), ("address", "unsigned long")])

    def __repr__(self) -> str:
        return (f"trap_info(vector={self.vector:#x}, dpl={self.flags & 3}, IF={bool(self.flags & 4)}, "
                f"cs={self.cs:#x}, address={self.address:#x})")


def VALID_SEL(sel: int) -> bool:  # noqa: N802
    """LDT selector, or GDT index below Xen's reserved area; and RPL == GUEST_KERNEL_RPL."""
    ldt = bool(sel & 4)
    return (ldt or (sel >> 3) < FIRST_RESERVED_GDT_ENTRY) and (sel & 3) == GUEST_KERNEL_RPL


def VALID_CODESEL(sel: int) -> bool:  # noqa: N802
    """A code selector a guest may name: FLAT_KERNEL_CS or any VALID_SEL."""
    return sel == FLAT_KERNEL_CS or VALID_SEL(sel)


# struct arch_vcpu_info (x86_32): unsigned long cr2; unsigned long pad[5]  -> 24 bytes
ARCH_VCPU_INFO = StructLayout("arch_vcpu_info", [("cr2", "unsigned long"), ("pad", "unsigned long", 5)])
ARCH_VCPU_INFO_SIZE = 24
# struct arch_shared_info (x86_32, 3.0.0): the P2M's size and the frame listing its frame lists.
ARCH_SHARED_INFO = StructLayout("arch_shared_info", [
    ("max_pfn", "unsigned long"), ("pfn_to_mfn_frame_list_list", "unsigned long")])
# Trap vectors a guest registers (TRAP_* in X@RELEASE-3.0.0:xen/include/asm-x86/processor.h).
TRAP_divide_error = 0
TRAP_debug = 1
TRAP_nmi = 2
TRAP_int3 = 3
TRAP_overflow = 4
TRAP_bounds = 5
TRAP_invalid_op = 6
TRAP_no_device = 7
TRAP_double_fault = 8
TRAP_copro_seg = 9
TRAP_invalid_tss = 10
TRAP_no_segment = 11
TRAP_stack_error = 12
TRAP_gp_fault = 13
TRAP_page_fault = 14
TRAP_spurious_int = 15
TRAP_copro_error = 16
TRAP_alignment_check = 17
TRAP_machine_check = 18
TRAP_simd_error = 19
TRAP_NAMES = {0: "#DE", 1: "#DB", 2: "NMI", 3: "#BP", 4: "#OF", 5: "#BR", 6: "#UD", 7: "#NM", 8: "#DF",
              9: "#MF(seg)", 10: "#TS", 11: "#NP", 12: "#SS", 13: "#GP", 14: "#PF", 15: "spurious",
              16: "#MF", 17: "#AC", 18: "#MC", 19: "#XM", 0x80: "int 0x80", 0x82: "int 0x82"}
