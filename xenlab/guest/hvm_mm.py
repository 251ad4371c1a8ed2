"""The unmodified (HVM) kernel's page tables: written by the guest itself, in guest-physical memory.

The counterpart of guest/mm.py for a hardware-assisted guest. The kernel does what Linux does on
bare metal: at boot, with paging still off, it fills its tables with plain stores (entries hold
guest-physical frame numbers, since this is all the memory it knows), then loads CR3 and turns
paging on. From then on each page-table change is an ordinary store into a table page, which Xen
has write-protected in the shadow (xen/shadow_pt.py): each one is a VM exit that Xen emulates.
``hvm_mm(d)`` gives a domain's instance, booted on first use.

Simplifications:
- One address space (vcpu 0), as in guest/mm.py; page-table pages come from the top of the pfns.
- With paging off the guest's stores go straight to its memory (Xen's P2M places them), no exit.
- The kernel reads its own tables directly (after the first access their shadow entries exist, so
  real reads would not exit either); only stores go through the MMU and the shadow.
"""
from __future__ import annotations

from xenlab.hw.memory import PAGE_SHIFT
from xenlab.hw.paging import _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, check_mode
from xenlab.hw import vmx

PAGE_OFFSET = 0xC0000000
FIRST_FREE_PFN = 16                      # below: the builder's pages and the BIOS area


class HVMGuestMM:
    def __init__(self, d, lowmem_pages: int | None = None):
        self.d, self.machine, self.mode = d, d.machine, d.machine.paging
        self.esize = 4 if self.mode == "2level" else 8
        self.per_table = 1024 if self.mode == "2level" else 512
        self.free_pfns = list(range(FIRST_FREE_PFN, len(d.p2m)))[::-1]
        self.lowmem_pages = min(len(d.p2m), lowmem_pages or len(d.p2m))
        self.root_pfn: int | None = None
        self.vmas: list[tuple[int, int, bool]] = []
        self.faults = 0

    def __repr__(self) -> str:
        return (f"<HVMGuestMM d{self.d.domain_id} {self.mode} root gfn {self.root_pfn}, "
                f"{len(self.free_pfns)} free pfns>")

    @property
    def v(self):
        return self.d.vcpus[0]

    def _take_pfn(self) -> int:
        if not self.free_pfns:
            raise RuntimeError("out of memory: no free pfn")
        return self.free_pfns.pop()

    def _phys_write(self, gpa: int, value: int) -> None:
        self.machine.memory.write(vmx.guest_phys(self.d, gpa), self.esize, value)

    def pte(self, pfn: int, writable: bool, user: bool = False) -> int:
        """An entry as the guest writes it: a guest-physical frame number and flags."""
        return pfn << PAGE_SHIFT | _PAGE_PRESENT | (_PAGE_RW if writable else 0) | (_PAGE_USER if user else 0)

    # -- boot: paging off, plain stores ---------------------------------------------------------------
    def boot(self) -> None:
        levels = check_mode(self.mode)
        root = self._zeroed_phys()
        l2 = self._zeroed_phys() if len(levels) == 3 else root
        if len(levels) == 3:
            self._phys_write((root << PAGE_SHIFT) + 3 * 8, l2 << PAGE_SHIFT | _PAGE_PRESENT)
        first = (PAGE_OFFSET >> levels[-2].shift) & (levels[-2].entries - 1)
        for i in range(-(-self.lowmem_pages // self.per_table)):
            l1 = self._zeroed_phys()
            self._phys_write((l2 << PAGE_SHIFT) + (first + i) * self.esize, self.pte(l1, True))
            for j in range(min(self.per_table, self.lowmem_pages - i * self.per_table)):
                self._phys_write((l1 << PAGE_SHIFT) + j * self.esize, self.pte(i * self.per_table + j, True))
        self.root_pfn = root
        vmx.load_cr3(self.v, root << PAGE_SHIFT)           # mov %eax, %cr3: the first VM exit

    def _zeroed_phys(self) -> int:
        pfn = self._take_pfn()
        self.machine.memory.clear_frame(vmx.guest_phys(self.d, pfn << PAGE_SHIFT) >> PAGE_SHIFT)
        return pfn

    # -- after boot: every table write is a store through the MMU --------------------------------------
    def store(self, va: int, value: int, size: int | None = None) -> str:
        """A store by the kernel; returns how it went ("native", "filled", "emulated", "fault")."""
        return vmx.guest_access(self.v, va, "w", value, size or self.esize)[0]

    def _direct(self, pfn: int) -> int:
        if pfn >= self.lowmem_pages:
            raise ValueError(f"pfn {pfn:#x} is not in the kernel's direct map")
        return PAGE_OFFSET + (pfn << PAGE_SHIFT)

    def _l1_entry_va(self, va: int) -> int:
        """Virtual address (in the direct map) of the L1 entry for ``va``, creating tables if needed."""
        levels = check_mode(self.mode)
        gfn = self.root_pfn
        for depth, lv in enumerate(levels[:-1]):
            index = (va >> lv.shift) & (lv.entries - 1)
            e = self.machine.memory.read(vmx.guest_phys(self.d, (gfn << PAGE_SHIFT) + index * self.esize), self.esize)
            if not e & _PAGE_PRESENT:
                table = self._take_pfn()
                self.store(self._direct(table), 0)             # memset(page, 0): one store per page
                self.machine.memory.clear_frame(vmx.guest_phys(self.d, table << PAGE_SHIFT) >> PAGE_SHIFT)
                e = (table << PAGE_SHIFT | _PAGE_PRESENT) if not lv.rights else self.pte(table, True, True)
                self.store(self._direct(gfn) + index * self.esize, e)
            gfn = (e & 0xFFFFFF000) >> PAGE_SHIFT
        return self._direct(gfn) + ((va >> 12) & (self.per_table - 1)) * self.esize

    def set_pte(self, va: int, val: int) -> str:
        return self.store(self._l1_entry_va(va), val)

    def map_page(self, va: int, pfn: int, writable: bool = True, user: bool = True) -> int:
        """Map guest page ``pfn`` at ``va`` with one store into the L1 (a trapped, emulated write)."""
        if va % 4096 or not 0 <= pfn < len(self.d.p2m):
            raise ValueError(f"va {va:#x} must be page-aligned and pfn {pfn:#x} one of d{self.d.domain_id}'s")
        val = self.pte(pfn, writable, user)
        self.set_pte(va, val)
        return val

    def unmap_page(self, va: int) -> None:
        self.set_pte(va, 0)
        vmx.invlpg(self.v, va)

    def translate(self, va: int, access: str = "r", user: bool = False) -> int | None:
        """The machine address the CPU reaches through the shadow (may fill it); None on a guest fault."""
        return vmx.guest_access(self.v, va, access, None, 4, user)[1]

    # -- demand paging -------------------------------------------------------------------------------
    def add_vma(self, start: int, size: int, writable: bool = True) -> None:
        self.vmas.append((start, start + size, writable))

    def touch(self, va: int, write: bool = False, user: bool = True) -> int:
        """An access by a program; a #PF Xen injects goes to the kernel's handler, which maps a page."""
        access = "w" if write else "r"
        got = vmx.guest_access(self.v, va, access, None, 4, user)
        if got[0] == "fault":
            self.faults += 1
            for start, end, writable in self.vmas:
                if start <= va < end and (writable or not write):
                    self.map_page(va & ~0xFFF, self._take_pfn(), writable=writable, user=True)
                    break
            else:
                raise RuntimeError(f"segfault at {va:#x}")
            got = vmx.guest_access(self.v, va, access, None, 4, user)
        return got[1]


def hvm_mm(d, lowmem_pages: int | None = None) -> HVMGuestMM:
    """The HVM kernel's page-table code, booted (tables written, CR3 loaded) on first use."""
    mm = getattr(d.kernel, "hvm_mm", None)
    if mm is None:
        if d.kind != "hvm":
            raise ValueError(f"d{d.domain_id} is paravirtualised: use d.kernel.mm")
        mm = d.kernel.hvm_mm = HVMGuestMM(d, lowmem_pages)
        mm.boot()
    return mm
