"""The frame table and the domain heap allocator.

Models X@RELEASE-3.0.0:xen/common/page_alloc.c (alloc_domheap_pages, free_domheap_pages) and the
``struct page_info`` array of xen/include/asm-x86/mm.h: one entry per machine frame with its owner,
a general reference count (``count_info``) and a type with a type count (``type_info``), using Xen's
bit layout so xen/mm.py can implement get_page / get_page_type exactly as Xen does.

Simplifications:
- Xen's buddy allocator hands out contiguous runs and fragments only as domains come and go. To show
  the lecture's point (a guest owns non-contiguous machine pages) from the first domain on, the free
  list is laid out at boot as 64 KiB blocks (16 frames) in a seeded random order, so every domain gets
  short contiguous runs scattered over machine memory.
- No NUMA nodes, zones or scrubbing; freed frames are zeroed at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xenlab.xen.public.xen import DOMID_IO, DOMID_XEN

# count_info (3.0 x86_32): allocated flag and a 29-bit reference count.
PGC_allocated = 1 << 31
PGC_count_mask = (1 << 29) - 1

# type_info: type in bits 29-31, flags, and a 16-bit type count.
PGT_type_shift = 29
PGT_type_mask = 7 << PGT_type_shift
PGT_none = 0 << 29
PGT_l1_page_table = 1 << 29
PGT_l2_page_table = 2 << 29
PGT_l3_page_table = 3 << 29
PGT_l4_page_table = 4 << 29
PGT_gdt_page = 5 << 29
PGT_ldt_page = 6 << 29
PGT_writable_page = 7 << 29
PGT_validated = 1 << 28
PGT_pinned = 1 << 27
PGT_count_mask = (1 << 16) - 1

PGT_NAMES = {PGT_none: "none", PGT_l1_page_table: "l1", PGT_l2_page_table: "l2",
             PGT_l3_page_table: "l3", PGT_l4_page_table: "l4", PGT_gdt_page: "gdt",
             PGT_ldt_page: "ldt", PGT_writable_page: "writable"}

FREE = -1                      # owner of a free frame
BLOCK_FRAMES = 16              # 64 KiB allocation blocks (see Simplifications)


@dataclass(frozen=True)
class PageInfo:
    """A read-only snapshot of one frame-table entry (struct page_info)."""
    mfn: int
    owner: int | None          # domid, DOMID_XEN for Xen's own frames, None when free
    count: int                 # general reference count
    allocated: bool
    type: str                  # none, l1, l2, l3, l4, gdt, ldt, writable
    type_count: int
    validated: bool
    pinned: bool

    def __repr__(self) -> str:
        who = "free" if self.owner is None else ("xen" if self.owner == DOMID_XEN else f"d{self.owner}")
        flags = ("V" if self.validated else "-") + ("P" if self.pinned else "-")
        return (f"<mfn {self.mfn:#x} {who} count={self.count} type={self.type}:{self.type_count} {flags}>")


class OutOfMemory(Exception):
    """No free machine frames left (the hypercall layer turns it into -ENOMEM)."""


class FrameTable:
    def __init__(self, nr_frames: int, rng: np.random.Generator, xen_frames: int):
        self.nr_frames = nr_frames
        self.owner = np.full(nr_frames, FREE, dtype=np.int32)
        self.count_info = np.zeros(nr_frames, dtype=np.uint32)
        self.type_info = np.zeros(nr_frames, dtype=np.uint32)
        # Xen's own frames (text, heap, frame table, M2P) at the bottom of memory.
        self.owner[:xen_frames] = DOMID_XEN
        self.count_info[:xen_frames] = PGC_allocated | 1
        first_block = -(-xen_frames // BLOCK_FRAMES)
        self.owner[xen_frames:first_block * BLOCK_FRAMES] = DOMID_XEN
        blocks = np.arange(first_block, nr_frames // BLOCK_FRAMES)
        rng.shuffle(blocks)
        # The free list is popped from its end: build it so the first pop is blocks[0]'s lowest frame.
        order = (blocks[:, None] * BLOCK_FRAMES + np.arange(BLOCK_FRAMES)[None, :]).ravel()
        self._free: list[int] = order[::-1].tolist()

    # -- queries ----------------------------------------------------------------------------------
    def __getitem__(self, mfn: int) -> PageInfo:
        if not 0 <= mfn < self.nr_frames:
            raise ValueError(f"mfn {mfn:#x} is outside the frame table (0..{self.nr_frames - 1:#x})")
        owner = int(self.owner[mfn])
        ti = int(self.type_info[mfn])
        ci = int(self.count_info[mfn])
        return PageInfo(mfn, None if owner == FREE else owner, ci & PGC_count_mask, bool(ci & PGC_allocated),
                        PGT_NAMES[ti & PGT_type_mask], ti & PGT_count_mask,
                        bool(ti & PGT_validated), bool(ti & PGT_pinned))

    def __len__(self) -> int:
        return self.nr_frames

    @property
    def free_frames(self) -> int:
        return len(self._free)

    def frames_of(self, domid: int) -> np.ndarray:
        return np.flatnonzero(self.owner == domid)

    # -- allocation ---------------------------------------------------------------------------------
    def alloc(self, owner: int, n: int) -> list[int]:
        """Take ``n`` frames for ``owner``; each gets PGC_allocated and one reference (as Xen's)."""
        if n > len(self._free):
            raise OutOfMemory(f"{n} frames requested, {len(self._free)} free")
        mfns = [self._free.pop() for _ in range(n)]
        idx = np.asarray(mfns, dtype=np.int64)
        self.owner[idx] = owner
        self.count_info[idx] = PGC_allocated | 1
        self.type_info[idx] = 0
        return mfns

    def free(self, mfns, memory) -> None:
        """Return frames to the free list, scrubbed (zeroed) so no data leaks to the next owner."""
        for mfn in sorted(int(m) for m in mfns):
            if self.owner[mfn] == FREE:
                raise ValueError(f"double free of mfn {mfn:#x}")
            self.owner[mfn] = FREE
            self.count_info[mfn] = 0
            self.type_info[mfn] = 0
            memory.clear_frame(mfn)
            self._free.append(mfn)

    def is_io(self, mfn: int) -> bool:
        return int(self.owner[mfn]) == DOMID_IO
