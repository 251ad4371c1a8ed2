"""A translation lookaside buffer: one per physical CPU, keyed by virtual page number.

The TLB is why Xen's ``mmuext_op`` has ``TLB_FLUSH_LOCAL`` and ``INVLPG_LOCAL`` and why
``update_va_mapping`` takes ``UVMF_TLB_FLUSH`` / ``UVMF_INVLPG`` (``X@RELEASE-3.0.0:xen/arch/x86/mm.c``):
the MMU caches translations, and after a page-table entry changes the old translation stays usable
until somebody flushes it. This model keeps that stale entry visible on purpose; it is a lesson.

Semantics (Intel SDM vol. 3A 4.10): ``flush()`` is a CR3 reload (drops every entry except global
ones), ``flush_all()`` also drops global entries (toggling CR4.PGE), ``invlpg(va)`` drops the entry
for one page whatever its G bit. A full TLB evicts deterministically (FIFO or LRU).

Simplifications:
- One entry covers one 4 KiB page; a 4 MiB / 2 MiB page is cached one 4 KiB piece at a time.
- No separate instruction/data TLBs, no paging-structure caches, no PCIDs/ASIDs.
- ``translate`` uses a hit only if its cached rights allow the access, otherwise it walks again
  (real CPUs may raise a fault from a stale restrictive entry; either behaviour is allowed).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from .memory import PAGE_SHIFT, PAGE_SIZE
from .paging import _PAGE_DIRTY, _PAGE_GLOBAL, _PAGE_NX, _PAGE_RW, _PAGE_USER, walk


@dataclass(frozen=True)
class TLBEntry:
    vpn: int              # virtual page number (va >> 12)
    mfn: int              # machine frame the page was translated to
    flags: int            # rights of the whole walk: RW/US only if every level allowed them, NX, D, G

    @property
    def is_global(self) -> bool:
        return bool(self.flags & _PAGE_GLOBAL)

    def allows(self, access: str, user: bool) -> bool:
        if access == "w" and not (self.flags & _PAGE_RW and self.flags & _PAGE_DIRTY):
            return False          # a first write must walk to set the D bit
        if user and not self.flags & _PAGE_USER:
            return False
        return not (access == "x" and self.flags & _PAGE_NX)

    def __repr__(self) -> str:
        bits = "".join(c for bit, c in ((_PAGE_RW, "W"), (_PAGE_USER, "U"), (_PAGE_DIRTY, "D"),
                                        (_PAGE_GLOBAL, "G"), (_PAGE_NX, "X")) if self.flags & bit)
        return f"{self.vpn << PAGE_SHIFT:#010x} -> mfn {self.mfn:#x} [{bits or '-'}]"


@dataclass
class TLB:
    """``capacity`` entries, replaced in ``policy`` order ("fifo" or "lru")."""

    capacity: int = 64
    policy: str = "lru"
    entries: OrderedDict = field(default_factory=OrderedDict)     # vpn -> TLBEntry, oldest first
    hits: int = 0
    misses: int = 0
    flushes: int = 0

    def __post_init__(self):
        if self.capacity < 1 or self.policy not in ("fifo", "lru"):
            raise ValueError(f"need capacity >= 1 and policy 'fifo' or 'lru', got {self.capacity}, {self.policy!r}")

    def lookup(self, va: int) -> TLBEntry | None:
        """The cached entry for ``va``'s page, or None (a miss). Counts hits and misses."""
        vpn = int(va) >> PAGE_SHIFT
        e = self.entries.get(vpn)
        if e is None:
            self.misses += 1
            return None
        self.hits += 1
        if self.policy == "lru":
            self.entries.move_to_end(vpn)
        return e

    def fill(self, va: int, mfn: int, flags: int) -> TLBEntry:
        """Cache a translation (after a successful walk), evicting the oldest entry if full."""
        vpn = int(va) >> PAGE_SHIFT
        self.entries.pop(vpn, None)
        if len(self.entries) >= self.capacity:
            self.entries.popitem(last=False)
        e = self.entries[vpn] = TLBEntry(vpn, int(mfn), int(flags))
        return e

    def flush(self) -> int:
        """A CR3 write: drop all non-global entries. Returns how many were dropped."""
        keep = [(v, e) for v, e in self.entries.items() if e.is_global]
        dropped = len(self.entries) - len(keep)
        self.entries = OrderedDict(keep)
        self.flushes += 1
        return dropped

    def flush_all(self) -> int:
        dropped = len(self.entries)
        self.entries.clear()
        self.flushes += 1
        return dropped

    def invlpg(self, va: int) -> bool:
        """Drop the entry for ``va``'s page (global or not). True if there was one."""
        return self.entries.pop(int(va) >> PAGE_SHIFT, None) is not None

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        rows = "\n  ".join(repr(e) for e in self.entries.values())
        return (f"<TLB {len(self.entries)}/{self.capacity} {self.policy} hits={self.hits} "
                f"misses={self.misses}{chr(10) + '  ' + rows if rows else ''}>")


def translate(tlb: TLB, memory, cr3: int, va: int, access: str = "r", mode: str = "2level",
              *, user: bool = False) -> int:
    """What the MMU does on every access: use the TLB if it can, else walk and fill it.

    A hit uses the cached frame even if the page tables have changed since (the stale entry)."""
    e = tlb.lookup(va)
    if e is not None and e.allows(access, user):
        return (e.mfn << PAGE_SHIFT) | (int(va) & (PAGE_SIZE - 1))
    maddr, steps = walk(memory, cr3, va, access, mode, user=user)
    leaf = memory.read(steps[-1].entry_maddr, 8 if mode == "pae" else 4)   # after A/D were set
    rights = _PAGE_RW | _PAGE_USER
    for st in steps:
        if not (mode == "pae" and st.level == "L3"):   # the PDPTE carries no rights
            rights &= st.entry | ~(_PAGE_RW | _PAGE_USER)
    nx = _PAGE_NX if any(st.entry >> 63 for st in steps) else 0
    tlb.fill(va, maddr >> PAGE_SHIFT, rights | nx | (leaf & (_PAGE_DIRTY | _PAGE_GLOBAL)))
    return maddr
