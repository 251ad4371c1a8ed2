"""x86 paging as the MMU does it: 2-level (10/10/12) and PAE (2/9/9/12) walks in machine memory.

The walk follows the Intel SDM vol. 3A ch. 4 (32-bit and PAE paging). Entry formats and flag names
are Xen's (``X@RELEASE-3.0.0:xen/include/asm-x86/page.h``, ``x86_32/page-2level.h``, ``page-3level.h``);
page-fault error-code bits use Xen's ``PFEC_*`` names (``asm-x86/processor.h``). Tables are read from
the real bytes of a ``MachineMemory`` (little-endian 32-bit entries without PAE, 64-bit with PAE), so
the walk a student does by hand on a hexdump gives the same answer.

Rules modelled: user (U/S) and write (R/W) rights are the AND over all levels; CR0.WP is on (Xen
forces it), so even supervisor writes to read-only pages fault; with PAE, NX at any level forbids
fetches (EFER.NXE on); a page-directory entry with PS maps a 4 MiB (2-level) or 2 MiB (PAE) page
(Xen forbids guests from creating one, see xen/mm.py, but the hardware honours it); reserved bits
give a fault with RSVD set; a successful scalar walk sets ACCESSED on every entry used and DIRTY on
the leaf for a write.

Simplifications:
- CR4.PSE is on, no PSE-36: in 2-level mode a 4 MiB PDE's bits 13-21 are reserved.
- PAE MAXPHYADDR is 36 bits (64 GiB); bits 36-62 of PAE entries are reserved.
- A PAE PDPTE is read on every walk (hardware caches the four PDPTEs at CR3 load); a reserved bit
  in one gives #PF with RSVD here, where real hardware gives #GP when CR3 is loaded.
- A/D bits are set only when the whole walk succeeds; ``walk_many`` never sets them (bulk mode is
  a read-only inspection, used by widgets and benchmarks).
- PWT/PCD/PAT/G are decoded but have no caching effect; G matters only to the TLB (hw/tlb.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .faults import TRAP_page_fault, X86Fault
from .memory import MachineMemory, MemoryAccessError

# -- PTE flags (Xen's names; the same low 12 bits in both formats) ------------------------------
_PAGE_PRESENT = 0x001
_PAGE_RW = 0x002
_PAGE_USER = 0x004
_PAGE_PWT = 0x008
_PAGE_PCD = 0x010
_PAGE_ACCESSED = 0x020
_PAGE_DIRTY = 0x040
_PAGE_PAT = 0x080          # in an L1 entry
_PAGE_PSE = 0x080          # in an L2 entry: a 4 MiB / 2 MiB page
_PAGE_GLOBAL = 0x100
_PAGE_AVAIL0 = 0x200
_PAGE_AVAIL1 = 0x400
_PAGE_AVAIL2 = 0x800
_PAGE_AVAIL = 0xE00
_PAGE_NX = 1 << 63        # PAE only

FLAG_NAMES = ((_PAGE_PRESENT, "P"), (_PAGE_RW, "RW"), (_PAGE_USER, "US"), (_PAGE_PWT, "PWT"),
              (_PAGE_PCD, "PCD"), (_PAGE_ACCESSED, "A"), (_PAGE_DIRTY, "D"), (_PAGE_PSE, "PS"),
              (_PAGE_GLOBAL, "G"), (_PAGE_NX, "NX"))

# -- page-fault error code (Xen's PFEC_* names) ---------------------------------------------------
PFEC_page_present = 1 << 0     # 1: protection violation, 0: entry not present
PFEC_write_access = 1 << 1
PFEC_user_mode = 1 << 2
PFEC_reserved_bit = 1 << 3
PFEC_insn_fetch = 1 << 4       # only reported with PAE + NXE (SDM 4.7)

PAE_MAXPHYADDR = 36
_PAE_ADDR = ((1 << PAE_MAXPHYADDR) - 1) & ~0xFFF                  # bits 12..35
_PAE_RSVD = ((1 << 63) - 1) & ~((1 << PAE_MAXPHYADDR) - 1)       # bits 36..62


@dataclass(frozen=True)
class Level:
    """One level of a walk: which address bits index it and what its entries may hold."""

    name: str             # Xen's level name: L3 (PDPT), L2 (page directory), L1 (page table)
    shift: int            # l{N}_table_offset(va) = (va >> shift) & (entries - 1)
    entries: int
    addr_mask: int        # bits of an entry that address the next table (or the 4 KiB frame)
    rsvd: int             # must-be-zero bits when present
    large_mask: int = 0   # PS allowed here: frame bits of the large page (0 = PS not special)
    large_rsvd: int = 0   # extra must-be-zero bits of a large-page entry
    rights: bool = True   # RW/US/NX count (a PAE PDPTE has none)


LEVELS = {
    "2level": (Level("L2", 22, 1024, 0xFFFFF000, 0, large_mask=0xFFC00000, large_rsvd=0x3FE000),
               Level("L1", 12, 1024, 0xFFFFF000, 0)),
    "pae": (Level("L3", 30, 4, _PAE_ADDR, _PAE_RSVD | 1 << 63 | 0x1E6, rights=False),
            Level("L2", 21, 512, _PAE_ADDR, _PAE_RSVD, large_mask=_PAE_ADDR & ~0x1FFFFF,
                  large_rsvd=0x1FE000),
            Level("L1", 12, 512, _PAE_ADDR, _PAE_RSVD)),
}
ENTRY_SIZE = {"2level": 4, "pae": 8}
CR3_ALIGN = {"2level": 4096, "pae": 32}      # PAE CR3 points at a 32-byte aligned 4-entry PDPT


def check_mode(mode: str) -> tuple[Level, ...]:
    if mode not in LEVELS:
        raise ValueError(f"paging mode must be one of {sorted(LEVELS)}, not {mode!r}")
    return LEVELS[mode]


def table_offsets(vaddr: int, mode: str = "2level") -> tuple[int, ...]:
    """The index used at each level, top first: (l2, l1) or (l3, l2, l1)."""
    return tuple((vaddr >> lv.shift) & (lv.entries - 1) for lv in check_mode(mode))


def decode_flags(entry: int) -> str:
    return " ".join(name for bit, name in FLAG_NAMES if entry & bit) or "-"


def describe_pfec(code: int) -> str:
    """'protection, write, user' style reading of a page-fault error code."""
    parts = ["protection" if code & PFEC_page_present else "not-present",
             "write" if code & PFEC_write_access else "read",
             "user" if code & PFEC_user_mode else "supervisor"]
    if code & PFEC_reserved_bit:
        parts.append("reserved-bit")
    if code & PFEC_insn_fetch:
        parts.append("instruction-fetch")
    return ", ".join(parts)


@dataclass(frozen=True)
class WalkStep:
    """One table visited: where it is, which slot was used, what the slot held."""

    level: str
    table: int            # machine address of the table
    index: int
    entry_maddr: int
    entry: int

    @property
    def flags(self) -> str:
        return decode_flags(self.entry)

    def __repr__(self) -> str:
        return (f"{self.level} table {self.table:#x}[{self.index:#x}] @ {self.entry_maddr:#x} = "
                f"{self.entry:#x} ({self.flags})")


class PageFault(X86Fault):
    """#PF: ``vaddr`` (what CR2 would hold) and the error code; ``steps`` the walk up to the fault."""

    vector = TRAP_page_fault
    mnemonic = "#PF"

    def __init__(self, vaddr: int, error_code: int, steps: tuple = (), reason: str = ""):
        self.vaddr = int(vaddr)
        self.steps = tuple(steps)
        super().__init__(error_code, reason)

    def __str__(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return (f"#PF at {self.vaddr:#010x}, error code {self.error_code:#x} "
                f"({describe_pfec(self.error_code)}){why}")


def access_bits(access: str, user: bool, mode: str) -> int:
    """The W/U/I error-code bits an access would report."""
    if access not in ("r", "w", "x"):
        raise ValueError(f"access must be 'r', 'w' or 'x', not {access!r}")
    bits = PFEC_user_mode if user else 0
    if access == "w":
        bits |= PFEC_write_access
    elif access == "x" and mode == "pae":
        bits |= PFEC_insn_fetch
    return bits


def _check_root(cr3: int, mode: str) -> int:
    cr3 = int(cr3)
    if cr3 < 0 or cr3 % CR3_ALIGN[mode] or cr3 >= 1 << 32:
        raise ValueError(f"cr3 {cr3:#x} must be a {CR3_ALIGN[mode]}-byte aligned 32-bit machine address")
    return cr3


def _check_va(vaddr: int) -> int:
    vaddr = int(vaddr)
    if not 0 <= vaddr < 1 << 32:
        raise ValueError(f"virtual address {vaddr:#x} is not a 32-bit address")
    return vaddr


def walk(memory: MachineMemory, cr3: int, vaddr: int, access: str = "r", mode: str = "2level",
         *, user: bool = False, set_ad: bool = True) -> tuple[int, list[WalkStep]]:
    """Translate ``vaddr`` as the MMU would; return ``(maddr, steps)`` or raise ``PageFault``.

    ``user`` is a CPL-3 access (ring 1, where a PV kernel runs, is supervisor)."""
    levels, esize = check_mode(mode), ENTRY_SIZE[mode]
    table, vaddr = _check_root(cr3, mode), _check_va(vaddr)
    acc = access_bits(access, user, mode)
    steps: list[WalkStep] = []
    rw = us = True
    nx = False
    for depth, lv in enumerate(levels):
        index = (vaddr >> lv.shift) & (lv.entries - 1)
        ea = table + index * esize
        entry = memory.read(ea, esize)
        steps.append(WalkStep(lv.name, table, index, ea, entry))
        if not entry & _PAGE_PRESENT:
            raise PageFault(vaddr, acc, steps, f"{lv.name} entry not present")
        large = bool(lv.large_mask and entry & _PAGE_PSE)
        if entry & (lv.rsvd | (lv.large_rsvd if large else 0)):
            raise PageFault(vaddr, acc | PFEC_page_present | PFEC_reserved_bit, steps,
                            f"reserved bit set in {lv.name} entry")
        if lv.rights:
            rw, us, nx = rw and bool(entry & _PAGE_RW), us and bool(entry & _PAGE_USER), nx or bool(entry >> 63)
        if large or depth == len(levels) - 1:
            mask = lv.large_mask if large else lv.addr_mask
            maddr = (entry & mask) | (vaddr & ((1 << lv.shift) - 1))
            break
        table = entry & lv.addr_mask
    why = ("write to a read-only page" if access == "w" and not rw else
           "user access to a supervisor page" if user and not us else
           "instruction fetch from an NX page" if access == "x" and nx and mode == "pae" else None)
    if why:
        raise PageFault(vaddr, acc | PFEC_page_present, steps, why)
    if set_ad:
        _set_accessed_dirty(memory, levels, steps, esize, access == "w")
    return maddr, steps


def _set_accessed_dirty(memory, levels, steps, esize, write):
    for lv, st in zip(levels, steps):
        if not lv.rights:
            continue                      # a PAE PDPTE has no A bit
        new = st.entry | _PAGE_ACCESSED
        if write and st is steps[-1]:
            new |= _PAGE_DIRTY            # only the leaf (PTE or large PDE) records dirtiness
        if new != st.entry:
            memory.write(st.entry_maddr, esize, new)


def _s64(mask: int) -> int:
    """A 64-bit mask as a signed int64 (bit 63, NX, becomes the sign bit)."""
    return mask - (1 << 64) if mask >= 1 << 63 else mask


def walk_many(memory: MachineMemory, cr3: int, vaddrs, mode: str = "2level", access: str = "r",
              *, user: bool = False, errors: bool = False):
    """Translate many addresses at once with numpy. Returns an int64 array of machine addresses,
    -1 where the access faults; with ``errors=True`` also an int16 array of page-fault error codes
    (-1 where there was no fault). Never sets A/D bits (a read-only bulk inspection)."""
    levels, esize = check_mode(mode), ENTRY_SIZE[mode]
    root = _check_root(cr3, mode)
    va = np.asarray(vaddrs)
    if va.ndim != 1 or (va.size and (va.min() < 0 or va.max() >= 1 << 32)):
        raise ValueError("vaddrs must be a 1-D array of 32-bit addresses")
    va = va.astype(np.int64)
    acc = access_bits(access, user, mode)
    # Everything runs in int64: a 64-bit PAE entry is read as signed, so NX is the sign bit.
    entries = memory.data.view("<u4" if esize == 4 else "<i8")
    eshift = 2 if esize == 4 else 3
    n = va.size
    out = np.full(n, -1, dtype=np.int64)
    pfec = np.full(n, -1, dtype=np.int16)
    pos = np.arange(n)                                   # which inputs are still being walked
    table = np.int64(root)
    rw = us = np.True_                                  # rights so far, aligned with pos
    nx = np.False_
    for depth, lv in enumerate(levels):
        v = va if depth == 0 else va[pos]
        ea = table + ((v >> lv.shift) & (lv.entries - 1)) * esize
        if ea.size and int(ea.max()) + esize > memory.size:
            raise MemoryAccessError(f"{lv.name} entry at {int(ea.max()):#x} is outside physical memory")
        e = entries[ea >> eshift].astype(np.int64, copy=False)
        present = (e & _PAGE_PRESENT) != 0
        rsvd = (e & _s64(lv.rsvd)) != 0
        large = present & ((e & _PAGE_PSE) != 0) if lv.large_mask else None
        if large is not None:
            rsvd |= large & ((e & lv.large_rsvd) != 0)
        rsvd &= present
        pfec[pos[~present]] = acc
        pfec[pos[rsvd]] = acc | PFEC_page_present | PFEC_reserved_bit
        ok = present & ~rsvd
        if lv.rights:
            rw, us, nx = rw & ((e & _PAGE_RW) != 0), us & ((e & _PAGE_USER) != 0), nx | (e < 0)
        leaf = ok if depth == len(levels) - 1 else (ok & large if large is not None else None)
        if leaf is not None and leaf.any():
            lp, le, lva = pos[leaf], e[leaf], v[leaf]
            if depth == len(levels) - 1:
                maddr = (le & lv.addr_mask) | (lva & 0xFFF)
            else:
                maddr = (le & lv.large_mask) | (lva & ((1 << lv.shift) - 1))
            bad = np.zeros(lp.size, bool)
            if access == "w":
                bad |= ~np.broadcast_to(rw, e.shape)[leaf]
            if user:
                bad |= ~np.broadcast_to(us, e.shape)[leaf]
            if access == "x" and mode == "pae":
                bad |= np.broadcast_to(nx, e.shape)[leaf]
            out[lp[~bad]] = maddr[~bad]
            pfec[lp[bad]] = acc | PFEC_page_present
        go = ok & ~leaf if leaf is not None else ok
        pos, table = pos[go], e[go] & lv.addr_mask
        if lv.rights:
            rw, us, nx = rw[go], us[go], nx[go]
    return (out, pfec) if errors else out
