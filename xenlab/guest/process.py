"""A process's address space, built through Xen in batches.

Mirrors what XenLinux 3.0 does when a process is created, runs and exits
(X@RELEASE-3.0.0:linux-2.6-xen-sparse/arch/xen/i386/mm/pgtable.c pgd_alloc/pgd_ctor, mm_pin, mm_unpin;
include/asm-xen/asm-i386/mmu_context.h switch_mm):

- a new root: an L2 (2-level), or an L3 with its own L2 under slot 3 (PAE: Xen keeps private
  mappings in that L2, so XenLinux never shares it between roots). The kernel's entries above
  PAGE_OFFSET are copied into it, so both roots point at the *same* kernel L1s, each of which gains a
  type reference when the new root is validated;
- the user pages are mapped, and every new table page is made read-only in the direct map, with
  batched ``mmu_update`` (up to 2048 requests per call). While the root is not yet a page table
  these are plain writes to the guest's own pages; Xen checks all of it once, when
  ``MMUEXT_PIN_L2_TABLE`` (``PIN_L3`` under PAE) validates the whole tree;
- ``switch_to`` loads the root with ``MMUEXT_NEW_BASEPTR`` (and back to the kernel's);
- exit switches away, unpins the root (Xen drops every reference the tree held), makes the table
  pages writable again and returns all the process's pages to the kernel's free list.

Simplifications:
- Processes are address spaces only: no scheduler, files or signals; they run on vcpu 0.
- A process's demand-zero regions (``add_vma``) are faulted in by ``GuestMM.touch`` while it is current.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xenlab.hw.memory import PAGE_SHIFT
from xenlab.hw.paging import _PAGE_PRESENT, walk
from xenlab.xen.public.arch_x86_32 import HYPERVISOR_VIRT_START
from xenlab.xen.public import xen as X
from xenlab.xen.public.memory import mmu_update_t

# The first L2 slot of Xen's area, which a guest's L2 may not map (from HYPERVISOR_VIRT_START: 1008
# without PAE, 428 in the PAE L2 that covers the top GiB).
L2_PAGETABLE_FIRST_XEN_SLOT = {"2level": HYPERVISOR_VIRT_START["2level"] >> 22,
                               "pae": (HYPERVISOR_VIRT_START["pae"] >> 21) & 511}

USER_BASE = 0x08048000            # where an i386 ELF executable's text starts


@dataclass(eq=False)
class Process:
    """One user address space of a PV guest: its root table, its table pages and its user pages."""
    mm: object                    # the kernel's GuestMM
    pid: int
    root_pfn: int
    tables: list = field(default_factory=list)       # pfns of its own table pages (root included)
    pages: dict = field(default_factory=dict)        # va -> pfn of the user pages it owns
    vmas: list = field(default_factory=list)         # demand-zero regions (start, end, writable)
    build_calls: int = 0          # mmu_update hypercalls the build took
    build_updates: int = 0        # requests in them
    exited: bool = False

    def __repr__(self) -> str:
        state = "exited" if self.exited else ("current" if self.mm.current is self else "not running")
        return (f"<Process {self.pid} of d{self.mm.d.domain_id}: root pfn {self.root_pfn:#x}, "
                f"{len(self.tables)} table pages, {len(self.pages)} user pages, {state}>")

    @property
    def root_mfn(self) -> int:
        return self.mm.mfn(self.root_pfn)

    def translate(self, va: int, access: str = "r", user: bool = False) -> int:
        """The machine address ``va`` reaches in this address space (read from its tables)."""
        m = self.mm.machine
        return walk(m.memory, self.root_mfn << PAGE_SHIFT, int(va), access, m.paging, user=user, set_ad=False)[0]

    def map_pages(self, va: int, pfns, writable: bool = True) -> int:
        """Map guest pages ``pfns`` from ``va`` on, in batches. Returns the mmu_update calls made."""
        return map_pages(self.mm, self, va, pfns, writable)

    def add_vma(self, start: int, size: int, writable: bool = True) -> None:
        _check_user_va(self.mm, start)
        self.vmas.append((start, start + size, writable))

    def switch_to(self) -> None:
        switch_to(self.mm, self)

    def exit(self) -> None:
        exit_process(self.mm, self)


def _check_user_va(mm, va: int) -> int:
    va = mm._check_va(va)
    if va >= 0xC0000000:
        raise ValueError(f"va {va:#x}: a process maps its own pages below PAGE_OFFSET 0xc0000000")
    return va


def _copy_kernel_entries(mm, src_ma: int, dst_ma: int, slots: range, reqs: list, pending: dict) -> None:
    """pgd_ctor: the kernel's directory entries, copied so that both roots share the kernel's L1s."""
    for slot in slots:
        e = mm.machine.memory.read(src_ma + slot * mm.esize, mm.esize)
        if e & _PAGE_PRESENT:
            reqs.append(mmu_update_t(dst_ma + slot * mm.esize, e))
            pending[dst_ma + slot * mm.esize] = e


def _queue_maps(mm, proc: Process, va: int, pfns, writable: bool, reqs: list, pending: dict) -> None:
    for i, pfn in enumerate(pfns):
        page = _check_user_va(mm, va + (i << PAGE_SHIFT))
        mm._check_pfn(pfn)
        ptr = mm._l1_for(page, True, proc.root_pfn, reqs, pending)
        reqs.append(mmu_update_t(ptr, mm.pte(pfn, writable, user=True)))


def new_process(mm, pages: int, base: int, writable: bool = True, shared=()) -> Process:
    """pgd_alloc + exec + mm_pin: build the tree in batches, then pin (Xen validates it once).
    ``pages`` fresh pages from ``base``, then the existing pages ``shared`` (read-only, not freed
    at exit: shared memory, say the page cache)."""
    if mm.root_pfn is None:
        raise ValueError("the kernel has not built its own page tables yet (GuestMM.boot)")
    base = _check_user_va(mm, base)
    before = set(mm.pt_pfns)
    reqs, pending = [], {}
    root = mm._new_table(reqs)
    root_ma = mm.mfn(root) << PAGE_SHIFT
    kroot_ma = mm.mfn(mm.root_pfn) << PAGE_SHIFT
    if mm.mode == "2level":
        _copy_kernel_entries(mm, kroot_ma, root_ma, range(0xC0000000 >> 22, L2_PAGETABLE_FIRST_XEN_SLOT["2level"]),
                             reqs, pending)
    else:
        l2 = mm._new_table(reqs)                     # this root's own L2 for slot 3 (never shared)
        kl2_ma = mm.machine.memory.read_u64(kroot_ma + 3 * 8) & 0xFFFFFF000
        _copy_kernel_entries(mm, kl2_ma, mm.mfn(l2) << PAGE_SHIFT, range(L2_PAGETABLE_FIRST_XEN_SLOT["pae"]),
                             reqs, pending)
        reqs.append(mmu_update_t(root_ma + 3 * 8, mm.mfn(l2) << PAGE_SHIFT | _PAGE_PRESENT))
        pending[root_ma + 3 * 8] = mm.mfn(l2) << PAGE_SHIFT | _PAGE_PRESENT
    proc = Process(mm, mm.next_pid, root)
    user = [mm._take_pfn() for _ in range(pages)]
    for pfn in user:
        mm.machine.memory.clear_frame(mm.mfn(pfn))               # fresh, zeroed pages
    _queue_maps(mm, proc, base, user, writable, reqs, pending)
    _queue_maps(mm, proc, base + (pages << PAGE_SHIFT), list(shared), False, reqs, pending)
    proc.build_calls, proc.build_updates = mm.mmu_update(reqs), len(reqs)
    mm.mmuext(X.MMUEXT_PIN_L2_TABLE if mm.mode == "2level" else X.MMUEXT_PIN_L3_TABLE, mfn=mm.mfn(root))
    proc.tables = sorted(mm.pt_pfns - before)
    proc.pages = {base + (i << PAGE_SHIFT): pfn for i, pfn in enumerate(user)}
    mm.processes[proc.pid] = proc
    mm.next_pid += 1
    if mm.machine.trace.active:
        mm.machine.trace.emit("MEM", "new_process", domid=mm.d.domain_id, pid=proc.pid, root_mfn=proc.root_mfn,
                              tables=len(proc.tables), pages=pages, updates=len(reqs), calls=proc.build_calls)
    return proc


def map_pages(mm, proc: Process, va: int, pfns, writable: bool = True) -> int:
    """More mappings in a live (pinned) process: Xen now checks each entry as it is written."""
    _live(mm, proc)
    before = set(mm.pt_pfns)
    reqs, pending = [], {}
    _queue_maps(mm, proc, va, list(pfns), writable, reqs, pending)
    calls = mm.mmu_update(reqs)
    proc.tables = sorted(set(proc.tables) | (mm.pt_pfns - before))
    if mm.current is proc:
        mm.mmuext(X.MMUEXT_TLB_FLUSH_LOCAL)
    return calls


def switch_to(mm, proc: Process | None) -> None:
    if proc is not None:
        _live(mm, proc)
    root = mm.root_pfn if proc is None else proc.root_pfn
    mm.mmuext(X.MMUEXT_NEW_BASEPTR, mfn=mm.mfn(root))
    mm.current = proc


def exit_process(mm, proc: Process) -> None:
    """exit_mmap + pgd_free: leave the address space, unpin it, give its pages back."""
    _live(mm, proc)
    if mm.current is proc:
        switch_to(mm, None)
    mm.mmuext(X.MMUEXT_UNPIN_TABLE, mfn=proc.root_mfn)         # Xen drops the whole tree's references
    reqs = [mmu_update_t(mm._l1_for(0xC0000000 + (pfn << PAGE_SHIFT), False), mm.pte(pfn, True))
            for pfn in proc.tables if pfn < mm.lowmem_pages]       # make_page_writable
    if reqs:
        mm.mmu_update(reqs)
    mm.pt_pfns -= set(proc.tables)
    mm.free_pfns.extend(sorted(set(proc.tables) | set(proc.pages.values()), reverse=True))
    proc.exited = True
    del mm.processes[proc.pid]
    if mm.machine.trace.active:
        mm.machine.trace.emit("MEM", "exit_process", domid=mm.d.domain_id, pid=proc.pid)


def _live(mm, proc: Process) -> None:
    if proc.exited or mm.processes.get(proc.pid) is not proc:
        raise ValueError(f"process {proc.pid} has exited")
