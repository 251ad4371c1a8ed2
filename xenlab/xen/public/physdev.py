"""physdev_op's interface: Xen's ``xen/include/public/physdev.h`` (X@RELEASE-3.0.0).

The command numbers and argument structures a guest kernel passes to ``physdev_op``; the handler is
xenlab/xen/physdev.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xenlab.xen.public.cstruct import CStruct, StructLayout

PHYSDEVOP_IRQ_UNMASK_NOTIFY = 4
PHYSDEVOP_irq_status_query = 5
PHYSDEVOP_set_iopl = 6
PHYSDEVOP_set_iobitmap = 7
PHYSDEVOP_apic_read = 8
PHYSDEVOP_apic_write = 9
PHYSDEVOP_ASSIGN_VECTOR = 10
XENIRQSTAT_needs_eoi = 1


@dataclass
class physdev_set_iopl(CStruct):
    """3.0.0's physdevop_set_iopl_t."""
    iopl: int = 0                  # IN
    LAYOUT: ClassVar = StructLayout("physdev_set_iopl", [("iopl", "uint32_t")])


@dataclass
class physdev_irq_status_query(CStruct):
    """3.0.0's physdevop_irq_status_query_t."""
    irq: int = 0                   # IN
    flags: int = 0                 # OUT
    LAYOUT: ClassVar = StructLayout("physdev_irq_status_query", [("irq", "uint32_t"), ("flags", "uint32_t")])


__all__ = ["PHYSDEVOP_irq_status_query", "PHYSDEVOP_set_iopl", "XENIRQSTAT_needs_eoi", "physdev_set_iopl",
           "physdev_irq_status_query"]
