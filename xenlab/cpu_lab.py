"""Scenarios for the CPU chapter (05), built on the whole model.

They create machines and domains, so they live above the model (like sched_lab.py), not in guest/:
a guest kernel does not build machines.
"""
from __future__ import annotations

from xenlab.guest import switch_to as ST
from xenlab.hw.segments import SegmentDescriptor
from xenlab.machine import Machine
from xenlab.toolstack.domain_config import DomainConfig


def switch_example(nr_tls: int = 1, seed: int = 0, memory: int = 32):
    """The chapter-5 scenario: a paused domU whose task A used the FPU and whose next task B has
    ``nr_tls`` TLS descriptors (glibc's, Wine's ...) and called iopl(3). Returns (machine, domain)."""
    if not 0 <= nr_tls <= ST.GDT_ENTRY_TLS_ENTRIES:
        raise ValueError(f"nr_tls={nr_tls}: Linux has {ST.GDT_ENTRY_TLS_ENTRIES} TLS slots")
    m = Machine(seed=seed)
    d = m.create_domain(DomainConfig(name="app", memory=memory))
    d.pause()
    k, v = d.kernel, d.vcpus[0]
    a, b = ST.runqueue(k, v).tasks
    for slot in range(nr_tls):            # small byte-granular data segments of the process, DPL 3
        desc = SegmentDescriptor(base=0x0804F000 + 0x1000 * slot, limit=0xFFF, type=0x2, s=1, dpl=3, p=1, db=1, g=0)
        ST.set_thread_area(k, v, b, slot, desc)
    b.io_pl = 3
    a.used_fpu = True
    return m, d


__all__ = ["switch_example"]
