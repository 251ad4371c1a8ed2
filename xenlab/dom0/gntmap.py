"""Where dom0's back ends map a guest's grants, and how they touch the pages: through dom0's own
page tables.

3.0.0's blkback and netback reserve a range of dom0 virtual addresses for grant mappings
(``mmap_vstart``: X@RELEASE-3.0.0:linux-2.6-xen-sparse/drivers/xen/blkback/blkback.c,
``MMAP_VADDR(pending_idx, seg)``; netback.c likewise) and pass each slot's address as ``host_addr``
of GNTTABOP_map_grant_ref with GNTMAP_host_map, so Xen writes the PTE there
(xen/xen/gnttab.py ``create_grant_host_mapping``); the unmap passes the same address and Xen clears
it. The back end then reads and writes the guest's data at that virtual address: the CPU walks
dom0's page tables (hw/paging.py), so a read-only grant cannot be written and an unmapped slot
cannot be read.

Simplifications:
- One window (``GNTMAP_BASE``, 1024 pages) for all of dom0's back ends, in dom0's kernel address
  space; the L1 tables under it are made once, through Xen, when a slot is first used.
- Accesses go through a page walk each time (no TLB), so Xen's missing TLB flush after an unmap
  cannot leave a stale translation behind.
"""
from __future__ import annotations

from xenlab.hw.paging import PageFault, walk
from xenlab.xen.public import grant_table as G

PAGE_SIZE = 4096
GNTMAP_BASE = 0x50000000            # dom0 virtual addresses of grant mappings (mmap_vstart)
GNTMAP_PAGES = 1024


class _Slots:
    def __init__(self):
        self.free = list(range(GNTMAP_PAGES - 1, -1, -1))
        self.by_handle: dict[int, int] = {}          # grant handle -> slot
        self.ready: set[int] = set()                 # slots whose L1 exists


def _slots(machine) -> _Slots:
    k = machine.dom0.kernel
    s = getattr(k, "gntmap_slots", None)
    if s is None:
        s = k.gntmap_slots = _Slots()
    return s


def _va(slot: int) -> int:
    return GNTMAP_BASE + (slot << 12)


def map_grant_refs(machine, ops: list) -> int:
    """GNTTABOP_map_grant_ref for ``ops`` (GnttabMapGrantRef with GNTMAP_host_map) from dom0, each at
    a free slot of the window; slots of failed ops go back. Returns the hypercall's rc."""
    s = _slots(machine)
    taken = []
    mm = machine.dom0.kernel.mm
    for op in ops:
        if not s.free:
            op.host_addr = 0xFFFFF000                 # no slot: Xen will refuse it (GNTST_general_error)
            taken.append(None)
            continue
        slot = s.free.pop()
        if slot not in s.ready:
            mm.l1_entry_address(_va(slot), create=True)      # the L1 under the slot, made through Xen
            s.ready.add(slot)
        op.host_addr = _va(slot)
        taken.append(slot)
    rc = machine.dom0.hypercall("grant_table_op", G.GNTTABOP_map_grant_ref, ops, len(ops))
    for op, slot in zip(ops, taken):
        if slot is None:
            continue
        if rc == 0 and op.status == G.GNTST_okay:
            s.by_handle[op.handle] = slot
        else:
            s.free.append(slot)
    return rc


def unmap_grant_refs(machine, handles: list[int]) -> list:
    """GNTTABOP_unmap_grant_ref of ``handles`` at the addresses they were mapped at; returns the ops."""
    s = _slots(machine)
    ops = [G.GnttabUnmapGrantRef(handle=h, host_addr=_va(s.by_handle[h]) if h in s.by_handle else 0)
           for h in handles]
    if ops:
        machine.dom0.hypercall("grant_table_op", G.GNTTABOP_unmap_grant_ref, ops, len(ops))
    for op in ops:
        if op.status == G.GNTST_okay and op.handle in s.by_handle:
            s.free.append(s.by_handle.pop(op.handle))
    return ops


class MappedGrant:
    """A granted page as the back end sees it: the dom0 virtual address Xen mapped it at."""

    def __init__(self, machine, handle: int, va: int):
        self.machine, self.handle, self.va = machine, handle, va

    def _ma(self, offset: int, length: int, access: str) -> int:
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0 \
                or offset + length > PAGE_SIZE:
            raise PermissionError(f"access {offset}+{length} outside the granted page")
        if _slots(self.machine).by_handle.get(self.handle) != (self.va - GNTMAP_BASE) >> 12:
            raise PermissionError(f"d0: handle {self.handle} is not mapped")
        m = self.machine
        try:
            ma, _ = walk(m.memory, m.dom0.vcpus[0].cr3, self.va, access, m.paging, set_ad=False)
        except PageFault as exc:
            raise PermissionError(f"d0: {self.va:#x} (handle {self.handle}): {exc}") from None
        return ma + offset

    @property
    def maddr(self) -> int:
        """The machine address dom0's page tables map the slot to (what a ring is read at)."""
        return self._ma(0, 0, "r")

    @property
    def frame(self) -> int:
        return self.maddr >> 12

    @property
    def writable(self) -> bool:
        try:
            self._ma(0, 0, "w")
        except PermissionError:
            return False
        return True

    def read(self, offset: int, length: int) -> bytes:
        return self.machine.memory.read_bytes(self._ma(offset, length, "r"), length)

    def write(self, offset: int, data: bytes) -> None:
        data = bytes(data)
        if not self.writable:
            raise PermissionError(f"d0: handle {self.handle} is mapped read-only")
        self.machine.memory.write_bytes(self._ma(offset, len(data), "w"), data)

    def __repr__(self) -> str:
        return f"<MappedGrant handle {self.handle} at d0 va {self.va:#x}>"


def page(machine, handle: int) -> MappedGrant:
    """The mapping of ``handle`` (PermissionError on access if it is not mapped)."""
    slot = _slots(machine).by_handle.get(handle)
    return MappedGrant(machine, handle, _va(slot) if slot is not None else GNTMAP_BASE - PAGE_SIZE)

