"""privcmd: dom0's kernel driver through which the tools map another domain's frames.

Models X@RELEASE-3.0.0:linux-2.6-xen-sparse/drivers/xen/privcmd/privcmd.c (IOCTL_PRIVCMD_MMAPBATCH)
as libxc's ``xc_map_foreign_batch`` (tools/libxc/xc_linux.c) uses it: dom0 asks Xen, with a privileged
``mmu_update`` whose ``foreigndom`` is the other domain, to write page-table entries in dom0's own
tables that point at that domain's machine frames. Xen checks each entry as it checks any PTE
(get_page_from_l1e: the frame must belong to the foreign domain; a writable entry needs a frame of
writable type, so a guest's page-table pages can only be mapped read-only) and takes a reference on
the frame for as long as the entry exists. The tools then read and write the frames through dom0's
virtual addresses: the CPU walks dom0's page tables (hw/paging.py), nothing reads Xen's tables.
A frame Xen refuses is marked in the caller's list with 0xF0000000, as privcmd does, and the rest of
the batch is still mapped.

Also here: the read-only machine-to-phys table every PV kernel can read (XenLinux's
``machine_to_phys_mapping`` at RO_MPT_VIRT_START), which xc_linux_save maps with ``xc_map_m2p``.

Simplifications:
- The mappings live in dom0's kernel address space at ``PRIVCMD_BASE`` (16 MiB below PAGE_OFFSET,
  where a tool process's mmap would be), not in a separate process; the walk reads the entries
  directly instead of through a TLB, so no INVLPG is needed after an unmap.
- ``machphys`` returns a read-only view of Xen's M2P array instead of mapping its frames.
"""
from __future__ import annotations

import numpy as np

from xenlab.hw.paging import walk_many
from xenlab.xen.public.memory import mmu_update_t

PAGE_SIZE = 4096
PRIVCMD_BASE = 0x40000000           # dom0 virtual addresses of foreign mappings
PRIVCMD_PAGES = 4096                # 16 MiB of window
MMAPBATCH_ERROR = 0xF0000000        # privcmd marks a frame it could not map with these top bits
_PRESENT, _RW = 0x1, 0x2


class PrivcmdError(RuntimeError):
    """The mapping window is full or an address is not mapped (a bug in the tool, not Xen's refusal)."""


class _Window:
    """Which pages of the window are in use, and the L1 entry (machine address) behind each page."""

    def __init__(self):
        self.used = np.zeros(PRIVCMD_PAGES, dtype=bool)
        self.ptes = np.full(PRIVCMD_PAGES, -1, dtype=np.int64)

    def take(self, n: int) -> int:
        free = ~self.used
        run = 0
        for i, ok in enumerate(free):           # first fit
            run = run + 1 if ok else 0
            if run == n:
                first = i - n + 1
                self.used[first:i + 1] = True
                return first
        raise PrivcmdError(f"privcmd: no room for {n} pages in the mapping window")


def _window(machine) -> _Window:
    k = machine.dom0.kernel
    w = getattr(k, "privcmd_window", None)
    if w is None:
        w = k.privcmd_window = _Window()
    return w


class ForeignMapping:
    """``n`` pages of domain ``domid`` mapped at dom0 virtual address ``va``; ``err`` marks refusals."""

    def __init__(self, machine, domid: int, mfns, writable: bool):
        self.machine, self.domid, self.writable = machine, domid, writable
        self.mfns = [int(m) for m in mfns]
        self.n = len(self.mfns)
        win = _window(machine)
        self.first = win.take(self.n) if self.n else 0
        self.va = PRIVCMD_BASE + (self.first << 12)
        mm = machine.dom0.kernel.mm
        for i in range(self.first, self.first + self.n):
            if win.ptes[i] < 0:
                win.ptes[i] = mm.l1_entry_address(PRIVCMD_BASE + (i << 12), create=True)
        self.ptes = win.ptes[self.first:self.first + self.n].copy()
        self.err = np.zeros(self.n, dtype=bool)
        flags = _PRESENT | (_RW if writable else 0)
        reqs = [mmu_update_t(int(p), (m << 12) | flags) for p, m in zip(self.ptes, self.mfns)]
        start = 0
        while start < self.n:                   # a refused entry stops Xen's loop: go on after it
            done = [0]
            rc = machine.dom0.hypercall("mmu_update", reqs[start:], self.n - start, done, domid)
            if rc == 0:
                break
            self.err[start + done[0]] = True
            start += done[0] + 1
        self.mapped = ~self.err

    def marked(self) -> list[int]:
        """The caller's frame list as privcmd leaves it: refused frames carry MMAPBATCH_ERROR."""
        return [m | MMAPBATCH_ERROR if e else m for m, e in zip(self.mfns, self.err)]

    def _maddrs(self, access: str) -> np.ndarray:
        m = self.machine
        vas = self.va + (np.arange(self.n, dtype=np.int64) << 12)
        return walk_many(m.memory, m.dom0.vcpus[0].cr3, vas, m.paging, access)

    def read_pages(self) -> np.ndarray:
        """Every mapped page's bytes, read through dom0's page tables (refused ones read as zeros)."""
        ma = self._maddrs("r")
        out = np.zeros((self.n, PAGE_SIZE), dtype=np.uint8)
        ok = ma >= 0
        out[ok] = self.machine.memory.data.reshape(-1, PAGE_SIZE)[ma[ok] >> 12]
        return out

    def read(self, index: int, offset: int, length: int) -> bytes:
        return self.read_pages()[index, offset:offset + length].tobytes()

    def write_pages(self, indices, pages: np.ndarray) -> None:
        """Write whole pages at ``indices`` through dom0's (writable) mappings."""
        ma = self._maddrs("w")[np.asarray(indices, dtype=np.int64)]
        if (ma < 0).any():
            raise PrivcmdError("privcmd: write through a page that is not mapped writable")
        self.machine.memory.data.reshape(-1, PAGE_SIZE)[ma >> 12] = pages

    def write(self, index: int, offset: int, data: bytes) -> None:
        page = self.read_pages()[index].copy()
        page[offset:offset + len(data)] = np.frombuffer(bytes(data), dtype=np.uint8)
        self.write_pages([index], page[None, :])

    def unmap(self) -> None:
        """munmap: clear the entries (Xen drops its references on the frames) and free the window."""
        if self.n == 0:
            return
        reqs = [mmu_update_t(int(p), 0) for p, ok in zip(self.ptes, self.mapped) if ok]
        if reqs:
            self.machine.dom0.hypercall("mmu_update", reqs, len(reqs))
        _window(self.machine).used[self.first:self.first + self.n] = False
        self.n = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.unmap()


def mmapbatch(machine, domid: int, mfns, writable: bool = False) -> ForeignMapping:
    """IOCTL_PRIVCMD_MMAPBATCH: map ``mfns`` of ``domid`` into dom0 (read-only unless ``writable``)."""
    return ForeignMapping(machine, domid, mfns, writable)


def machphys(machine) -> np.ndarray:
    """The machine-to-phys table as a PV kernel sees it: read-only."""
    view = machine.m2p.view()
    view.flags.writeable = False
    return view
