"""The PV guest kernel's memory code: page tables built and changed only through Xen.

Mirrors what XenLinux does (X@RELEASE-3.0.0:linux-2.6-xen-sparse/arch/xen/i386/mm/ init.c,
pgtable.c, hypervisor.c; drivers/xen/balloon/balloon.c): at boot it maps all its RAM at
PAGE_OFFSET (0xC0000000) with batched ``mmu_update`` (up to 2048 requests per call, as the SOSP'03
paper batches), mapping its own page-table pages read-only, pins the root and switches CR3 with
``MMUEXT_NEW_BASEPTR``. Before a fresh page becomes a page table it is made read-only in the direct
map (``make_page_readonly``), or Xen would refuse to validate it. The kernel reads its tables
directly (``translate``) but every write is a hypercall. Its P2M is the array the builder left in its
own memory (start_info's ``mfn_list``, guest/p2m.py); the bootstrap page tables at ``pt_base`` stay
pinned and read-only, and the pages below them (start_info, console, xenstore, the P2M) are never
handed out.

Processes (guest/process.py): ``new_process`` builds a second address space in one batch, sharing the
kernel's L1s above PAGE_OFFSET; ``switch_to`` loads it with NEW_BASEPTR; ``exit_process`` unpins it.

A page fault (``touch``) is raised by the MMU, taken by Xen (xen/traps.py ``do_page_fault``: CR2 into
vcpu_info, a bounce frame to the handler the kernel registered with set_trap_table), and the kernel's
vector-14 handler (guest/cpu.py ``pv_handle_trap`` -> ``do_page_fault`` here) maps a zeroed page for a
demand-zero region (``add_vma``) with mmu_update, then returns with iret and the access is retried.

Simplifications:
- ``add_vma`` regions are demand-zero only: no files, no copy-on-write (a fault on a present page
  is a SIGSEGV, reported by ``touch`` as GuestMMError). The model covers vcpu 0's address space.
- Fresh pages are zeroed by the guest through its direct mapping (a plain memory write, checked to be
  a page it may write). The kernel's own page-table pages are never freed; a process's are, at exit.
- Kernel mappings are copied into a process's root when it is made; a kernel L1 added later is not
  propagated to existing processes (Linux's vmalloc_sync / pgd_list).
- Processes are not carried across save/restore: ``from_restored`` finds the root CR3 points at.
- The kernel's TLB is the one the model keeps per vcpu (``v.mm.tlb``): the hardware's, not Xen's data.
"""
from __future__ import annotations

import numpy as np

from xenlab.hw.memory import PAGE_SHIFT
from xenlab.hw.paging import _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, PageFault, walk
from xenlab.guest.p2m import PhysToMachine, read_start_info
from xenlab.hw import idt
from xenlab.hw.tlb import translate as tlb_translate
from xenlab.xen.public import xen as X
from xenlab.xen.public.arch_x86_32 import HYPERVISOR_VIRT_START
from xenlab.xen.public.memory import (INVALID_P2M_ENTRY, XENMEM_decrease_reservation,
                                      XENMEM_increase_reservation, mmu_update_t, mmuext_op_t,
                                      xen_memory_reservation)

PAGE_OFFSET = 0xC0000000
MMU_BATCH = 2048                         # requests per mmu_update hypercall
_KERNEL = _PAGE_PRESENT | _PAGE_RW       # __PAGE_KERNEL without A/D
_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER    # _PAGE_TABLE: rights are decided in the L1
_L3_PRESENT = _PAGE_PRESENT              # a PAE L3 entry may carry only P (L3_DISALLOW_MASK)
_ADDR = 0xFFFFFF000                      # frame bits of an entry (36-bit PAE addresses)
PF_PROT, PF_WRITE = 0x1, 0x2             # x86 #PF error-code bits 0 and 1


class GuestMMError(RuntimeError):
    """The guest kernel asked Xen for something and was refused (a kernel bug: it would BUG())."""


def kernel_stack_pfns(d, nr_pages: int | None = None) -> set[int]:
    """The pfns of each vcpu's 8 KiB ring-1 stack below KERNEL_STACK_TOP (stack_switch's kernel_sp):
    Xen writes exception frames there, so the kernel keeps them for that alone."""
    from xenlab.guest.layout import KERNEL_STACK_TOP, STACK_SIZE
    if nr_pages is None:
        nr_pages = read_start_info(d).nr_pages
    top = (KERNEL_STACK_TOP - PAGE_OFFSET) >> PAGE_SHIFT
    per = STACK_SIZE >> PAGE_SHIFT
    return {p for i in range(len(d.vcpus)) for p in range(top - per * (i + 1), top - per * i) if p < nr_pages}


def bootstrap_pfns(info) -> range:
    """The pfns of the builder's bootstrap page tables (start_info's pt_base, nr_pt_frames)."""
    if not info.pt_base:
        return range(0)
    first = (info.pt_base - PAGE_OFFSET) >> PAGE_SHIFT
    return range(first, first + info.nr_pt_frames)


class GuestMM:
    """Page tables of one PV domain (vcpu 0's address space)."""

    def __init__(self, d, batch: int = MMU_BATCH, p2m: PhysToMachine | None = None):
        self.d, self.machine, self.mode = d, d.machine, d.machine.paging
        self.esize = 4 if self.mode == "2level" else 8
        self.batch = batch
        info = read_start_info(d)
        self.p2m = p2m if p2m is not None else PhysToMachine.from_start_info(d)
        self.bootstrap = bootstrap_pfns(info)
        # Below first_free: start_info, console, xenstore, the P2M array, the bootstrap tables; the vcpus'
        # kernel stacks are never handed out either.
        self.first_free = max(3, self.bootstrap.stop)
        stacks = kernel_stack_pfns(d, len(self.p2m))
        self.free_pfns = [p for p in range(len(self.p2m) - 1, self.first_free - 1, -1) if p not in stacks]
        self.pt_pfns: set[int] = set(self.bootstrap)
        self.ballooned: list[int] = []
        self.vmas: list[tuple[int, int, bool]] = []
        self.root_pfn: int | None = None
        self.faults = 0
        self.current = None                  # the Process whose root CR3 holds (None: the kernel's)
        self.processes: dict[int, object] = {}
        self.next_pid = 1
        self.lowmem_pages = min(len(self.p2m), (HYPERVISOR_VIRT_START[self.mode] - PAGE_OFFSET) >> PAGE_SHIFT)

    def __repr__(self) -> str:
        root = "none" if self.root_pfn is None else f"pfn {self.root_pfn:#x}"
        return (f"<GuestMM d{self.d.domain_id} {self.mode} root {root}, {len(self.pt_pfns)} table pages, "
                f"{len(self.free_pfns)} free pfns, {len(self.ballooned)} ballooned>")

    # -- small helpers ------------------------------------------------------------------------
    @property
    def v(self):
        return self.d.vcpus[0]

    def mfn(self, pfn: int) -> int:
        return self.p2m[pfn]                  # pfn_to_mfn: the kernel's own array

    def pte(self, pfn: int, writable: bool, user: bool = False) -> int:
        return self.mfn(pfn) << PAGE_SHIFT | _PAGE_PRESENT | (_PAGE_RW if writable else 0) | (_PAGE_USER if user else 0)

    def _call(self, name, *args) -> int:
        rc = idt.hypercall(self.d.vcpus[0], name, *args)
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

    def _new_table(self, reqs: list | None = None) -> int:
        """A zeroed page that Xen will accept as a page table: read-only in the direct map first.
        With ``reqs`` the read-only update joins that batch as an mmu_update request instead of costing
        an update_va_mapping each (a model shortcut: XenLinux 3.0's pgd_walk makes one
        update_va_mapping per table page, no multicall, up to 3.0.4)."""
        pfn = self._take_pfn()
        self.machine.memory.clear_frame(self.mfn(pfn))          # memset through the direct map
        if self.root_pfn is not None and pfn < self.lowmem_pages:
            va = PAGE_OFFSET + (pfn << PAGE_SHIFT)
            if reqs is None:
                self._call("update_va_mapping", va, self.pte(pfn, False), X.UVMF_INVLPG)   # make_page_readonly
            else:
                reqs.append(mmu_update_t(self._l1_for(va, create=False), self.pte(pfn, False)))
        self.pt_pfns.add(pfn)
        return pfn

    @classmethod
    def from_restored(cls, d) -> "GuestMM":
        """The kernel's bookkeeping after a restore or migration: its tables are already in memory
        (re-pinned by the toolstack), so find the root from CR3 (through the M2P) and the table pages
        by walking its own tables below Xen's area, as the kernel reads them."""
        g = cls(d)
        m = d.machine
        # The array already holds the new host's frames: xc_linux_restore copied them in
        # ("memcpy(live_p2m, p2m, P2M_SIZE)", toolstack/restore.py _write_guest_p2m).
        g.root_pfn = int(m.m2p[d.vcpus[0].cr3 >> PAGE_SHIFT])
        g.pt_pfns = g._reachable_tables(g.root_pfn) | set(g.bootstrap)
        entries = g.p2m.array()
        g.ballooned = [int(p) for p in np.flatnonzero(entries == INVALID_P2M_ENTRY)]
        taken = g.pt_pfns | set(g.ballooned) | kernel_stack_pfns(d, len(g.p2m))
        g.free_pfns = [pfn for pfn in range(len(g.p2m) - 1, g.first_free - 1, -1) if pfn not in taken]
        return g

    def _reachable_tables(self, root_pfn: int) -> set[int]:
        """The pfns of the page-table pages reachable from ``root_pfn`` (the root, PAE's L2s, the L1s)
        through present entries for addresses below HYPERVISOR_VIRT_START."""
        mem, esize = self.machine.memory, self.esize
        top = HYPERVISOR_VIRT_START[self.mode]
        found = {root_pfn}
        if self.mode == "2level":
            tables, span = [(root_pfn, 1024)], 1 << 22
        else:
            tables, span = [], 1 << 21
            for i in range(4):
                e = mem.read((self.mfn(root_pfn) << PAGE_SHIFT) + 8 * i, 8)
                if e & _PAGE_PRESENT:
                    pfn = self.mfn_to_pfn((e & _ADDR) >> PAGE_SHIFT)
                    found.add(pfn)
                    tables.append((pfn, 512, i << 30))
        for table in tables:
            pfn, n = table[0], table[1]
            base = table[2] if len(table) > 2 else 0
            for i in range(n):
                if base + i * span >= top:
                    break
                e = mem.read((self.mfn(pfn) << PAGE_SHIFT) + esize * i, esize)
                if e & _PAGE_PRESENT:
                    found.add(self.mfn_to_pfn((e & _ADDR) >> PAGE_SHIFT))
        return found

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
    def alloc_pfn(self) -> int:
        """A free pseudo-physical page of this guest, taken off the kernel's free list (its contents
        are whatever was there; the frame is mapped writable in the direct map, like any kernel page)."""
        return self._take_pfn()

    def new_page_table(self) -> int:
        """A free page made ready to become a page table: zeroed and made read-only in the direct map
        (XenLinux's make_page_readonly), so that Xen will validate it. Returns its pfn."""
        return self._new_table()

    def l1_entry_address(self, va: int, create: bool = False) -> int | None:
        """The machine address of the L1 entry (PTE) that maps ``va`` in the kernel's tables: what the
        ``ptr`` of an ``mmu_update_t`` names (XenLinux: ``virt_to_machine(pte)``). With ``create`` a
        missing page table is made first, through Xen; without it, None when there is none."""
        return self._l1_for(va, create)

    def _l1_for(self, va: int, create: bool, root_pfn: int | None = None, reqs: list | None = None,
                pending: dict | None = None) -> int | None:
        """Machine address of the L1 entry for ``va`` in the tables under ``root_pfn`` (default the
        kernel's), creating missing tables through Xen: at once, or queued in ``reqs`` (then
        ``pending`` remembers the directory entries queued but not yet written)."""
        root_ma = self.mfn(self.root_pfn if root_pfn is None else root_pfn) << PAGE_SHIFT
        if self.mode == "pae":
            l3e = self._dir_entry(root_ma + (va >> 30) * 8, _L3_PRESENT, create, reqs, pending)
            if l3e is None:
                return None
            dir_ma = (l3e & _ADDR) + ((va >> 21) & 511) * 8
        else:
            dir_ma = root_ma + (va >> 22) * 4
        pde = self._dir_entry(dir_ma, _TABLE, create, reqs, pending)
        if pde is None:
            return None
        index = (va >> 12) & (1023 if self.mode == "2level" else 511)
        return (pde & _ADDR) + index * self.esize

    def _dir_entry(self, ma: int, flags: int, create: bool, reqs, pending) -> int | None:
        """The directory entry at ``ma`` (L3 or L2), with a fresh table hooked there if missing."""
        if pending is not None and ma in pending:
            return pending[ma]
        e = self.machine.memory.read(ma, self.esize)
        if e & _PAGE_PRESENT or not create:
            return e if e & _PAGE_PRESENT else None
        e = self.mfn(self._new_table(reqs)) << PAGE_SHIFT | flags
        if reqs is None:
            self.mmu_update([mmu_update_t(ma, e)])
            return self.machine.memory.read(ma, self.esize)
        reqs.append(mmu_update_t(ma, e))
        pending[ma] = e
        return e

    def _check_va(self, va: int) -> int:
        va = int(va)
        if va % 4096 or not 0 <= va < HYPERVISOR_VIRT_START[self.mode]:
            raise ValueError(f"va {va:#x} must be page-aligned and below HYPERVISOR_VIRT_START "
                             f"{HYPERVISOR_VIRT_START[self.mode]:#x}")
        return va

    def _check_pfn(self, pfn: int) -> int:
        if not 0 <= pfn < len(self.p2m) or self.p2m[pfn] == INVALID_P2M_ENTRY:
            raise ValueError(f"pfn {pfn:#x} is not a populated page of d{self.d.domain_id}")
        return pfn

    def map_page(self, va: int, pfn: int, writable: bool = True, user: bool = True, space=None) -> int:
        """Map guest page ``pfn`` at ``va`` (set_pte through mmu_update) in the kernel's address
        space, or in process ``space``. Returns the PTE written."""
        va = self._check_va(va)
        self._check_pfn(pfn)
        before = None if space is None else set(self.pt_pfns)
        ptr = self._l1_for(va, create=True, root_pfn=None if space is None else space.root_pfn)
        if space is not None and len(self.pt_pfns) > len(before):
            space.tables = sorted(set(space.tables) | (self.pt_pfns - before))   # freed at its exit
        val = self.pte(pfn, writable, user)
        self.mmu_update([mmu_update_t(ptr, val)])
        if space is None or space is self.current:      # only the live address space can be cached
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
        return self.p2m[pfn]

    def mfn_to_pfn(self, mfn: int) -> int:
        return int(self.machine.m2p[mfn])                       # the read-only M2P window

    # -- processes (guest/process.py) ------------------------------------------------------------------
    def new_process(self, pages: int = 0, base: int | None = None, writable: bool = True, shared=()):
        """fork + exec: a new address space with ``pages`` fresh user pages from ``base`` (then the
        existing pages ``shared``, read-only), built in batches of mmu_update and pinned. Returns the
        Process (not yet running: ``switch_to``)."""
        from xenlab.guest import process
        return process.new_process(self, pages, process.USER_BASE if base is None else base, writable, shared)

    def switch_to(self, proc=None) -> None:
        """switch_mm(): MMUEXT_NEW_BASEPTR to ``proc``'s root, or back to the kernel's (None)."""
        from xenlab.guest import process
        process.switch_to(self, proc)

    def exit_process(self, proc) -> None:
        from xenlab.guest import process
        process.exit_process(self, proc)

    # -- demand paging ----------------------------------------------------------------------------
    def add_vma(self, start: int, size: int, writable: bool = True) -> None:
        self._check_va(start)
        self.vmas.append((start, start + size, writable))

    def touch(self, va: int, write: bool = False, user: bool = True) -> int:
        """An access by the running program (ring 3, or the kernel in ring 1 with ``user=False``)
        through the MMU and its TLB; returns the machine address. A #PF enters Xen, which puts CR2 in
        vcpu_info and bounces to the kernel's vector-14 handler; the handler fixes the entry with
        mmu_update and returns with iret, and the access is retried. GuestMMError on a SIGSEGV."""
        from xenlab.guest.cpu import pv_handle_trap
        access = "w" if write else "r"
        tlb = self.v.mm.tlb                    # the CPU's TLB as this vcpu left it (one per vcpu here)
        try:
            return tlb_translate(tlb, self.machine.memory, self.v.cr3, va, access, self.mode, user=user)
        except PageFault as pf:
            fault = pf
        if getattr(self.d.kernel, "mm", None) is not self:
            raise GuestMMError("touch() needs the kernel's own GuestMM (domain.kernel.mm): its handler fixes faults")
        self.faults += 1
        frame = idt.page_fault(self.v, fault.vaddr, fault.error_code, from_ring=3 if user else 1)
        if frame is None:
            raise GuestMMError(f"d{self.d.domain_id} crashed: no page-fault handler registered")
        if not pv_handle_trap(self.d.kernel, self.v, frame):
            raise GuestMMError(f"segfault: no mapping for {va:#x} ({'write' if write else 'read'})")
        return tlb_translate(tlb, self.machine.memory, self.v.cr3, va, access, self.mode, user=user)

    def do_page_fault(self, address: int, error_code: int) -> bool:
        """The kernel's #PF handler (arch/i386/mm/fault.c), given CR2 as Xen saved it in vcpu_info:
        a not-present page of a demand-zero region of the current address space gets a zeroed page,
        mapped with mmu_update. Returns False for a bad access (the process would get SIGSEGV)."""
        space = self.current or self
        write = bool(error_code & PF_WRITE)
        if error_code & PF_PROT:
            return False                                 # a present page refused the access: no copy-on-write
        for start, end, writable in space.vmas:
            if start <= address < end:
                if write and not writable:
                    return False
                pfn = self._take_pfn()
                self.machine.memory.clear_frame(self.mfn(pfn))          # demand-zero
                page = address & ~0xFFF
                self.map_page(page, pfn, writable=writable, user=True, space=None if space is self else space)
                if space is not self:
                    space.pages[page] = pfn
                return True
        return False

    # -- balloon -------------------------------------------------------------------------------------
    def balloon_out(self, nr: int) -> int:
        """Give ``nr`` free pages back to Xen: unmap from the direct map, decrease_reservation."""
        pfns = [self._take_pfn() for _ in range(nr)]
        for pfn in pfns:
            if pfn < self.lowmem_pages:
                self._call("update_va_mapping", PAGE_OFFSET + (pfn << PAGE_SHIFT), 0, X.UVMF_INVLPG)
        res = xen_memory_reservation(extent_start=[self.mfn(p) for p in pfns], nr_extents=nr)
        done = idt.hypercall(self.d.vcpus[0], "memory_op", XENMEM_decrease_reservation, res)
        for pfn in pfns[:max(done, 0)]:
            self.p2m[pfn] = INVALID_P2M_ENTRY       # phys_to_machine_mapping[pfn] = INVALID
            self.ballooned.append(pfn)
        return done

    def balloon_in(self, nr: int) -> int:
        """Ask Xen for ``nr`` pages back (within max_pages) and fill ballooned pfns with them."""
        nr = min(nr, len(self.ballooned))
        res = xen_memory_reservation(extent_start=[], nr_extents=nr)
        got = idt.hypercall(self.d.vcpus[0], "memory_op", XENMEM_increase_reservation, res)
        reqs = []
        for mfn in res.extent_start[:max(got, 0)]:
            pfn = self.ballooned.pop()
            self.p2m[pfn] = mfn                     # set_phys_to_machine(pfn, mfn)
            reqs.append(mmu_update_t(mfn << PAGE_SHIFT | X.MMU_MACHPHYS_UPDATE, pfn))
            if pfn < self.lowmem_pages:
                reqs.append(mmu_update_t(self._l1_for(PAGE_OFFSET + (pfn << PAGE_SHIFT), True), self.pte(pfn, True)))
            self.free_pfns.append(pfn)
        if reqs:
            self.mmu_update(reqs)
        return got
