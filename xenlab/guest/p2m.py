"""The kernel's P2M: ``phys_to_machine_mapping``, an array in its own memory.

A PV guest's pseudo-physical pages sit on machine frames anywhere in memory; the kernel keeps the
mapping pfn -> mfn itself. The domain builder lays the array out in the guest's own pages and tells
the kernel where with start_info's ``mfn_list`` (the array's virtual address; ``pt_base`` and
``nr_pt_frames`` say where the bootstrap page tables that map it are). XenLinux simply points
``phys_to_machine_mapping`` at it (linux-2.6-xen-sparse arch/i386/kernel/setup-xen.c:
``phys_to_machine_mapping = (unsigned long *)xen_start_info->mfn_list``), reads it in ``pfn_to_mfn``
and writes it when a page comes or goes (the balloon driver, netfront's page flipping, resume).

``PhysToMachine`` is that array: at boot it finds the machine frames behind ``mfn_list`` by walking
its bootstrap page tables (the CPU's view of the kernel's own mappings, hw/paging.py), then reads
and writes 32-bit entries in those frames. Nothing here reads Xen's own bookkeeping.

Simplifications:
- The frames of the array are looked up once at boot (the array's pages never move).
- The kernel knows where its start_info page is from the start of day (``d.start_info_mfn``: what
  ESI holds at the kernel's entry point, as a machine address rather than a virtual one).
"""
from __future__ import annotations

import numpy as np

from xenlab.hw.memory import PAGE_SHIFT, PAGE_SIZE
from xenlab.hw.paging import walk
from xenlab.xen.public.memory import INVALID_P2M_ENTRY
from xenlab.xen.public.xen import start_info

ENTRY = 4                               # sizeof(unsigned long) on x86_32
PER_PAGE = PAGE_SIZE // ENTRY           # 1024 entries per page of the array


def read_start_info(d) -> start_info:
    """The start_info page as the kernel finds it at boot."""
    return start_info.unpack(d.machine.memory.read_bytes(d.start_info_mfn << PAGE_SHIFT, 80 + 1024))


class PhysToMachine:
    """pfn -> mfn, stored in the guest's own pages (``frames``: the array's machine frames in order)."""

    def __init__(self, memory, frames: list[int], nr_pages: int, va: int = 0):
        self.memory = memory
        self.frames = [int(f) for f in frames]
        self.nr_pages = int(nr_pages)
        self.va = va                    # start_info.mfn_list

    @classmethod
    def from_start_info(cls, d, cr3: int | None = None) -> "PhysToMachine":
        """Find the array at start_info's ``mfn_list`` through the page tables in CR3 (the bootstrap
        tables at ``pt_base`` right after the builder)."""
        info = read_start_info(d)
        if not info.mfn_list:
            raise ValueError(f"d{d.domain_id}: start_info has no mfn_list (not a PV domain built with one)")
        machine = d.machine
        cr3 = d.vcpus[0].cr3 if cr3 is None else cr3
        pages = -(-info.nr_pages // PER_PAGE)
        frames = [walk(machine.memory, cr3, info.mfn_list + (i << PAGE_SHIFT), "r", machine.paging,
                       set_ad=False)[0] >> PAGE_SHIFT for i in range(pages)]
        return cls(machine.memory, frames, info.nr_pages, info.mfn_list)

    def __repr__(self) -> str:
        return f"<PhysToMachine {self.nr_pages} pfns at {self.va:#010x} in mfns {self.frames[:4]}...>"

    def __len__(self) -> int:
        return self.nr_pages

    def _addr(self, pfn: int) -> int:
        if not 0 <= pfn < self.nr_pages:
            raise IndexError(f"pfn {pfn:#x} is outside the P2M (0..{self.nr_pages - 1:#x})")
        return (self.frames[pfn // PER_PAGE] << PAGE_SHIFT) + ENTRY * (pfn % PER_PAGE)

    def __getitem__(self, pfn):
        if isinstance(pfn, slice):
            return self.array()[pfn].tolist()
        pfn = int(pfn)
        if pfn < 0:
            pfn += self.nr_pages
        return self.memory.read_u32(self._addr(pfn))

    def __setitem__(self, pfn: int, mfn: int) -> None:
        self.memory.write_u32(self._addr(int(pfn)), int(mfn) & 0xFFFFFFFF)

    def __iter__(self):
        return iter(self.array().tolist())

    def array(self) -> np.ndarray:
        """Every entry at once (an int64 copy), for bulk work."""
        words = self.memory.data.view(np.uint32)
        parts = [words[(f << PAGE_SHIFT) // ENTRY:((f << PAGE_SHIFT) // ENTRY) + PER_PAGE] for f in self.frames]
        return np.concatenate(parts)[:self.nr_pages].astype(np.int64) if parts else np.zeros(0, np.int64)

    def tolist(self) -> list[int]:
        return self.array().tolist()

    def invalid(self, pfn: int) -> bool:
        return self[pfn] == INVALID_P2M_ENTRY


__all__ = ["PhysToMachine", "read_start_info", "ENTRY", "PER_PAGE"]
