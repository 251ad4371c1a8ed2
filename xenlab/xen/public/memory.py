"""Guest-visible memory-management ABI: public/memory.h, plus the mmu_update / mmuext_op structs.

``XENMEM_*`` and ``struct xen_memory_reservation`` are X@RELEASE-3.0.0:xen/include/public/memory.h;
``struct mmu_update`` and ``struct mmuext_op`` are in xen.h in Xen (their command numbers are in
xenlab.xen.public.xen); they live here so that xen.py stays the lead's file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from xenlab.xen.public.cstruct import CStruct, StructLayout, UnionLayout

XENMEM_increase_reservation = 0
XENMEM_decrease_reservation = 1
XENMEM_maximum_ram_page = 2
XENMEM_current_reservation = 3
XENMEM_maximum_reservation = 4
XENMEM_machphys_mfn_list = 5
XENMEM_populate_physmap = 6          # 3.0.2+

INVALID_M2P_ENTRY = 0xFFFFFFFF       # ~0UL on x86_32
INVALID_P2M_ENTRY = 0xFFFFFFFF       # what the guest writes into its P2M for a ballooned pfn


@dataclass
class xen_memory_reservation:
    """IN extent_start (MFNs to release, or gpfns to populate), OUT extent_start (new MFNs)."""
    extent_start: list = field(default_factory=list)
    nr_extents: int = 0
    extent_order: int = 0
    address_bits: int = 0            # 0 = no restriction
    domid: int = 0x7FF0              # DOMID_SELF
    LAYOUT: ClassVar = StructLayout("xen_memory_reservation", [
        ("extent_start", "ptr"), ("nr_extents", "unsigned long"), ("extent_order", "unsigned int"),
        ("address_bits", "unsigned int"), ("domid", "domid_t")])


@dataclass
class mmu_update_t(CStruct):
    """struct mmu_update { uint64_t ptr; uint64_t val; }: the command is in ptr's low bits."""
    ptr: int
    val: int
    LAYOUT: ClassVar = StructLayout("mmu_update", [("ptr", "uint64_t"), ("val", "uint64_t")])


@dataclass
class mmuext_op_t:
    """struct mmuext_op { cmd; union { mfn; linear_addr } arg1; union { nr_ents; vcpumask } arg2; }."""
    cmd: int
    mfn: int = 0                     # arg1 for pin/unpin/new_baseptr
    linear_addr: int = 0             # arg1 for invlpg/set_ldt
    nr_ents: int = 0                 # arg2 for set_ldt
    vcpumask: int = 0                # arg2 for *_MULTI (a bitmap of vcpus)
    # In C the args are two unions, so the dataclass's four names share two words.
    LAYOUT: ClassVar = StructLayout("mmuext_op", [
        ("cmd", "unsigned int"),
        ("arg1", UnionLayout("mmuext_op.arg1", [("mfn", "unsigned long"), ("linear_addr", "unsigned long")])),
        ("arg2", UnionLayout("mmuext_op.arg2", [("nr_ents", "unsigned int"), ("vcpumask", "ptr")]))])
