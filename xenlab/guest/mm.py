"""The PV guest kernel's memory code: page tables built and changed only through Xen.

Mirrors what XenLinux does (X@RELEASE-3.0.0:linux-2.6-xen-sparse/arch/xen/i386/mm/ init.c,
pgtable.c, hypervisor.c; drivers/xen/balloon/balloon.c): at boot it maps all its RAM at
PAGE_OFFSET (0xC0000000) with batched ``mmu_update`` (up to 2048 requests per call, as the SOSP'03
paper batches), mapping its own page-table pages read-only, pins the root and switches CR3 with
``MMUEXT_NEW_BASEPTR``. Before a fresh page becomes a page table it is made read-only in the direct
map (``make_page_readonly``), or Xen would refuse to validate it. The kernel reads its tables
directly (``translate``) but every write is a hypercall. It keeps its own P2M (``d.p2m``).

Simplifications:
- No processes: ``add_vma`` registers a demand-zero region in the one address space, and ``touch``
  plays the part of an access that faults, is bounced through Xen, and is fixed by the guest.
- Page-table pages are never freed back to the pool; fresh pages are zeroed by the guest through
  its direct mapping (a plain memory write, checked to be a page it may write).
"""
from __future__ import annotations

from xenlab.hw.memory import PAGE_SHIFT
from xenlab.hw.paging import _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, PageFault, walk
from xenlab.hw.tlb import translate as tlb_translate
from xenlab.xen.mm_types import HYPERVISOR_VIRT_START, PGT_TYPE_KEY, PGT_count_mask, PGT_writable_page, vcpu_mm
from xenlab.xen.public import xen as X
from xenlab.xen.public.memory import (INVALID_P2M_ENTRY, XENMEM_decrease_reservation,
                                      XENMEM_increase_reservation, mmu_update_t, mmuext_op_t,
                                      xen_memory_reservation)
from xenlab.xen.public.xen import VI_ARCH_CR2, VCPU_INFO_SIZE

PAGE_OFFSET = 0xC0000000
MMU_BATCH = 2048                         # requests per mmu_update hypercall
_KERNEL = _PAGE_PRESENT | _PAGE_RW       # __PAGE_KERNEL without A/D
_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER    # _PAGE_TABLE: rights are decided in the L1


class GuestMMError(RuntimeError):
    """The guest kernel asked Xen for something and was refused (a kernel bug: it would BUG())."""


class GuestMM:
    """Page tables of one PV domain (vcpu 0's address space)."""

    def __init__(self, d, batch: int = MMU_BATCH):
        self.d, self.machine, self.mode = d, d.machine, d.machine.paging
        self.esize = 4 if self.mode == "2level" else 8
        self.batch = batch
        self.free_pfns = list(range(len(d.p2m) - 1, 2, -1))   # pfn 0 start_info, 1 console, 2 xenstore
        self.pt_pfns: set[int] = set()
        self.ballooned: list[int] = []
        self.vmas: list[tuple[int, int, bool]] = []
        self.root_pfn: int | None = None
        self.faults = 0
        self.lowmem_pages = min(len(d.p2m), (HYPERVISOR_VIRT_START[self.mode] - PAGE_OFFSET) >> PAGE_SHIFT)

    def __repr__(self) -> str:
        root = "none" if self.root_pfn is None else f"pfn {self.root_pfn:#x}"
        return (f"<GuestMM d{self.d.domain_id} {self.mode} root {root}, {len(self.pt_pfns)} table pages, "
                f"{len(self.free_pfns)} free pfns, {len(self.ballooned)} ballooned>")

    # -- small helpers ------------------------------------------------------------------------
    @property
    def v(self):
        return self.d.vcpus[0]

    def mfn(self, pfn: int) -> int:
        return self.d.p2m[pfn]

    def pte(self, pfn: int, writable: bool, user: bool = False) -> int:
        return self.mfn(pfn) << PAGE_SHIFT | _PAGE_PRESENT | (_PAGE_RW if writable else 0) | (_PAGE_USER if user else 0)

    def _call(self, name, *args) -> int:
        rc = self.d.hypercall(name, *args)
        if rc < 0:
            raise GuestMMError(f"{name} failed with {rc}: {getattr(self.machine, 'mm_last_error', '')}")
        return rc

    def mmu_update(self, reqs) -> int:
        """Send requests in batches of ``self.batch``; returns the number of hypercalls."""
        calls = 0
        for i in range(0, len(reqs), self.batch):
            self._call("mmu_update", reqs[i:i + self.batch])
            calls += 1
        return calls

    def mmuext(self, cmd: int, **kw) -> None:
        self._call("mmuext_op", [mmuext_op_t(cmd, **kw)])

    def _take_pfn(self) -> int:
        if not self.free_pfns:
            raise GuestMMError("out of memory: no free pfn")
        return self.free_pfns.pop()

    def _new_table(self) -> int:
        """A zeroed page that Xen will accept as a page table: read-only in the direct map first."""
        pfn = self._take_pfn()
        ti = int(self.machine.frame_table.type_info[self.mfn(pfn)])
        if ti & PGT_count_mask and ti & PGT_TYPE_KEY != PGT_writable_page:
            raise GuestMMError(f"pfn {pfn:#x} is not writable memory")
        self.machine.memory.clear_frame(self.mfn(pfn))          # memset through the direct map
        if self.root_pfn is not None and pfn < self.lowmem_pages:
            self._call("update_va_mapping", PAGE_OFFSET + (pfn << PAGE_SHIFT), self.pte(pfn, False),
                       X.UVMF_INVLPG)                           # make_page_readonly
        self.pt_pfns.add(pfn)
        return pfn

    @classmethod
    def from_restored(cls, d) -> "GuestMM":
        """The kernel's bookkeeping after a restore or migration: its tables are already in memory
        (re-pinned by the toolstack), so find the root from CR3 and the table pages by their type."""
        g = cls(d)
        m = d.machine
        g.root_pfn = int(m.m2p[d.vcpus[0].cr3 >> PAGE_SHIFT])
        table_types = (1, 2, 3)                          # PGT_l1/l2/l3_page_table >> 29
        g.pt_pfns = {pfn for pfn, mfn in enumerate(d.p2m)
                     if mfn != INVALID_P2M_ENTRY and (int(m.frame_table.type_info[mfn]) >> 29) in table_types
                     and int(m.frame_table.type_info[mfn]) & PGT_count_mask}
        g.ballooned = [pfn for pfn, mfn in enumerate(d.p2m) if mfn == INVALID_P2M_ENTRY]
        taken = g.pt_pfns | set(g.ballooned)
        g.free_pfns = [pfn for pfn in range(len(d.p2m) - 1, 2, -1) if pfn not in taken]
        return g

    # -- boot -----------------------------------------------------------------------------------
    def boot(self) -> int:
        """paging_init(): map lowmem at PAGE_OFFSET, pin, switch CR3. Returns mmu_update calls made."""
        per_l1 = 1024 if self.mode == "2level" else 512
        nr_l1 = -(-self.lowmem_pages // per_l1)
        root = self._new_table()
        l2s = {3: self._new_table()} if self.mode == "pae" else {}
        l1s = [self._new_table() for _ in range(nr_l1)]
        reqs = []
        for pfn in range(self.lowmem_pages):
            l1 = l1s[pfn // per_l1]
            reqs.append(mmu_update_t((self.mfn(l1) << PAGE_SHIFT) + (pfn % per_l1) * self.esize,
                                     self.pte(pfn, writable=pfn not in self.pt_pfns)))
        l2_of_kernel = root if self.mode == "2level" else l2s[3]
        first = (PAGE_OFFSET >> 22) if self.mode == "2level" else 0
        for i, l1 in enumerate(l1s):
            reqs.append(mmu_update_t((self.mfn(l2_of_kernel) << PAGE_SHIFT) + (first + i) * self.esize,
                                     self.mfn(l1) << PAGE_SHIFT | _TABLE))
        if self.mode == "pae":
            reqs.append(mmu_update_t((self.mfn(root) << PAGE_SHIFT) + 3 * 8, self.mfn(l2s[3]) << PAGE_SHIFT | 1))
        calls = self.mmu_update(reqs)
        self.mmuext(X.MMUEXT_PIN_L2_TABLE if self.mode == "2level" else X.MMUEXT_PIN_L3_TABLE, mfn=self.mfn(root))
        self.mmuext(X.MMUEXT_NEW_BASEPTR, mfn=self.mfn(root))
        self.root_pfn = root
        return calls

    # -- the guest-level API notebooks use ------------------------------------------------------
    def _l1_for(self, va: int, create: bool) -> int | None:
        """Machine address of the L1 entry for ``va``, creating missing tables through Xen."""
        root_ma = self.mfn(self.root_pfn) << PAGE_SHIFT
        mem = self.machine.memory
        if self.mode == "pae":
            l3e_ma = root_ma + (va >> 30) * 8
            l3e = mem.read_u64(l3e_ma)
            if not l3e & _PAGE_PRESENT:
                if not create:
                    return None
                l2 = self._new_table()
                self.mmu_update([mmu_update_t(l3e_ma, self.mfn(l2) << PAGE_SHIFT | 1)])
                l3e = mem.read_u64(l3e_ma)
            dir_ma = (l3e & 0xFFFFFF000) + ((va >> 21) & 511) * 8
        else:
            dir_ma = root_ma + (va >> 22) * 4
        pde = mem.read(dir_ma, self.esize)
        if not pde & _PAGE_PRESENT:
            if not create:
                return None
            l1 = self._new_table()
            self.mmu_update([mmu_update_t(dir_ma, self.mfn(l1) << PAGE_SHIFT | _TABLE)])
            pde = mem.read(dir_ma, self.esize)
        index = (va >> 12) & (1023 if self.mode == "2level" else 511)
        return (pde & 0xFFFFFF000 & ~0xFFF) + index * self.esize

    def _check_va(self, va: int) -> int:
        va = int(va)
        if va % 4096 or not 0 <= va < HYPERVISOR_VIRT_START[self.mode]:
            raise ValueError(f"va {va:#x} must be page-aligned and below HYPERVISOR_VIRT_START "
                             f"{HYPERVISOR_VIRT_START[self.mode]:#x}")
        return va

    def map_page(self, va: int, pfn: int, writable: bool = True, user: bool = True) -> int:
        """Map guest page ``pfn`` at ``va`` (set_pte through mmu_update). Returns the PTE written."""
        va = self._check_va(va)
        if not 0 <= pfn < len(self.d.p2m) or self.d.p2m[pfn] == INVALID_P2M_ENTRY:
            raise ValueError(f"pfn {pfn:#x} is not a populated page of d{self.d.domain_id}")
        ptr = self._l1_for(va, create=True)
        val = self.pte(pfn, writable, user)
        self.mmu_update([mmu_update_t(ptr, val)])
        self.mmuext(X.MMUEXT_INVLPG_LOCAL, linear_addr=va)
        return val

    def unmap_page(self, va: int) -> None:
        va = self._check_va(va)
        ptr = self._l1_for(va, create=False)
        if ptr is not None:
            self.mmu_update([mmu_update_t(ptr, 0)])
            self.mmuext(X.MMUEXT_INVLPG_LOCAL, linear_addr=va)

    def translate(self, va: int, access: str = "r", user: bool = False) -> int:
        """The machine address ``va`` reaches, reading the page tables directly (raises PageFault)."""
        return walk(self.machine.memory, self.v.cr3, int(va), access, self.mode, user=user, set_ad=False)[0]

    def pfn_to_mfn(self, pfn: int) -> int:
        return self.d.p2m[pfn]

    def mfn_to_pfn(self, mfn: int) -> int:
        return int(self.machine.m2p[mfn])                       # the read-only M2P window

    # -- demand paging ----------------------------------------------------------------------------
    def add_vma(self, start: int, size: int, writable: bool = True) -> None:
        self._check_va(start)
        self.vmas.append((start, start + size, writable))

    def touch(self, va: int, write: bool = False, user: bool = True) -> int:
        """An access by the running program through the MMU and its TLB. A fault goes to Xen,
        which writes CR2 into vcpu_info and bounces it to the guest's handler (do_page_fault)."""
        access = "w" if write else "r"
        tlb = vcpu_mm(self.v).tlb
        try:
            return tlb_translate(tlb, self.machine.memory, self.v.cr3, va, access, self.mode, user=user)
        except PageFault as pf:
            self._propagate(pf)
        self.do_page_fault(va, write)
        return tlb_translate(tlb, self.machine.memory, self.v.cr3, va, access, self.mode, user=user)

    def _propagate(self, pf: PageFault) -> None:
        # Xen 3.0's propagate_page_fault: CR2 into vcpu_info->arch.cr2, then the guest's vector 14.
        base = (self.d.shared_info_mfn << PAGE_SHIFT) + self.v.vcpu_id * VCPU_INFO_SIZE
        self.machine.memory.write_u32(base + VI_ARCH_CR2, pf.vaddr)
        self.faults += 1
        self.machine.trace.emit("MEM", "page_fault", domid=self.d.domain_id, vcpu=self.v.vcpu_id,
                                va=pf.vaddr, error_code=pf.error_code)

    def do_page_fault(self, va: int, write: bool) -> None:
        page = va & ~0xFFF
        for start, end, writable in self.vmas:
            if start <= va < end:
                if write and not writable:
                    break
                self.map_page(page, self._take_pfn(), writable=writable, user=True)
                return
        raise GuestMMError(f"segfault: no mapping for {va:#x} ({'write' if write else 'read'})")

    # -- balloon -------------------------------------------------------------------------------------
    def balloon_out(self, nr: int) -> int:
        """Give ``nr`` free pages back to Xen: unmap from the direct map, decrease_reservation."""
        pfns = [self._take_pfn() for _ in range(nr)]
        for pfn in pfns:
            if pfn < self.lowmem_pages:
                self._call("update_va_mapping", PAGE_OFFSET + (pfn << PAGE_SHIFT), 0, X.UVMF_INVLPG)
        res = xen_memory_reservation(extent_start=[self.mfn(p) for p in pfns], nr_extents=nr)
        done = self.d.hypercall("memory_op", XENMEM_decrease_reservation, res)
        for pfn in pfns[:max(done, 0)]:
            self.d.p2m[pfn] = INVALID_P2M_ENTRY
            self.ballooned.append(pfn)
        return done

    def balloon_in(self, nr: int) -> int:
        """Ask Xen for ``nr`` pages back (within max_pages) and fill ballooned pfns with them."""
        nr = min(nr, len(self.ballooned))
        res = xen_memory_reservation(extent_start=[], nr_extents=nr)
        got = self.d.hypercall("memory_op", XENMEM_increase_reservation, res)
        reqs = []
        for mfn in res.extent_start[:max(got, 0)]:
            pfn = self.ballooned.pop()
            self.d.p2m[pfn] = mfn
            reqs.append(mmu_update_t(mfn << PAGE_SHIFT | X.MMU_MACHPHYS_UPDATE, pfn))
            if pfn < self.lowmem_pages:
                reqs.append(mmu_update_t(self._l1_for(PAGE_OFFSET + (pfn << PAGE_SHIFT), True), self.pte(pfn, True)))
            self.free_pfns.append(pfn)
        if reqs:
            self.mmu_update(reqs)
        return got
