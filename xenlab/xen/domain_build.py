"""Building a domain: memory, start_info, shared_info, console page.

Dom0 is built by Xen itself at boot (X@RELEASE-3.0.0:xen/arch/x86/domain_build.c, construct_dom0);
a domU is built by the toolstack's libxc builder (tools/libxc/xc_linux_build.c) from dom0. Both give
the guest: ``nr_pages`` frames with matching M2P entries, a start_info page, the shared_info page,
(domU) a console ring page, and (``build_bootstrap``) what a PV kernel starts from:

- the **P2M array** (``phys_to_machine_mapping``): one 32-bit MFN per pfn, laid out in the guest's own
  pages; start_info's ``mfn_list`` is its virtual address;
- the **bootstrap page tables**: a root and the L1s (PAE: an L3, the L2 of slot 3 and the L1s) that map
  the start of the guest's memory at virt_base 0xC0000000 (start_info, console, xenstore, the P2M
  array and the tables themselves, these read-only), pinned and loaded in vcpu 0's CR3; start_info's
  ``pt_base`` is the root's virtual address and ``nr_pt_frames`` the number of table frames.

The guest kernel reads its P2M from that array through those mappings (guest/p2m.py) and then builds
its own page tables (guest/mm.py) through validated hypercalls. ``d.p2m`` is Xen's own bookkeeping of
the same mapping (kept by populate_physmap, MMU_MACHPHYS_UPDATE and decrease_reservation); the guest
never reads it.

Simplifications:
- The builder allocates frames directly from Xen's heap instead of through populate_physmap.
- No kernel image is loaded: the guest kernel is a Python model (guest/), so pfns are all RAM.
- Page layout: pfn 0 start_info, pfn 1 console ring, pfn 2 xenstore page, then the P2M array, then the
  bootstrap tables; the rest is the kernel's. (construct_dom0 puts kernel, P2M, start_info, tables,
  stack in that order.)
- The bootstrap tables map only those pages, not up to the next 4 MiB boundary plus 512 KiB of padding
  as 3.0.0 does: the model's kernel takes the pages above for its own tables, and a page mapped
  writable cannot become a table.
- One rule for both builders (xc_linux_build's): 2-level, a root and the L1s; PAE, an L3, the one L2 at
  0xC0000000 and the L1s (construct_dom0's PAE dom0 gets all four L2s).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from xenlab.hw.memory import PAGE_SHIFT, PAGE_SIZE
from xenlab.hw.paging import _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER
from xenlab.xen.mm import ROOT_TYPE, new_guest_cr3
from xenlab.xen.mm_types import get_page_and_type
from xenlab.xen.page_alloc import OutOfMemory, PGC_allocated, PGT_pinned, PGT_validated, PGT_writable_page
from xenlab.xen.public.xen import SIF_INITDOMAIN, SIF_PRIVILEGED, start_info

START_INFO_PFN = 0
CONSOLE_PFN = 1
STORE_PFN = 2
P2M_PFN = 3                       # first pfn of the P2M array (vphysmap_start)
M2P_INVALID = 0xFFFFFFFF
VIRT_BASE = 0xC0000000            # the kernel's dsi.v_start (__PAGE_OFFSET of XenLinux)
P2M_ENTRY = 4                     # sizeof(unsigned long) on x86_32
_L1_PROT = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED
_L2_PROT = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_USER
_L3_PROT = _PAGE_PRESENT                          # xc_linux_build's L3_PROT for PAE


def share_xen_page_with_guest(machine, d) -> int:
    """Allocate the shared_info page: a Xen-heap frame the guest may map writable."""
    mfn = machine.frame_table.alloc(d.domain_id, 1)[0]
    machine.frame_table.type_info[mfn] = PGT_writable_page | PGT_validated | 1
    machine.frame_table.count_info[mfn] = PGC_allocated | 2     # the allocation + Xen's own mapping
    machine.xen_heap_frames.add(mfn)
    machine.memory.clear_frame(mfn)
    return mfn


def populate_physmap(machine, d, nr_pages: int) -> list[int]:
    """Give ``d`` nr_pages new frames, appended to its P2M, with M2P entries written by Xen."""
    if d.tot_pages + nr_pages > d.max_pages:
        raise OutOfMemory(f"domain {d.domain_id}: {d.tot_pages}+{nr_pages} pages exceeds max_pages {d.max_pages}")
    mfns = machine.frame_table.alloc(d.domain_id, nr_pages)
    first = len(d.p2m)
    d.p2m.extend(mfns)
    for i, mfn in enumerate(mfns):
        machine.m2p[mfn] = first + i
    d.tot_pages += nr_pages
    return mfns


def write_start_info(machine, d, info: start_info) -> None:
    machine.memory.write_bytes(d.start_info_mfn << 12, info.pack())


def build_domain(machine, d, nr_pages: int) -> start_info:
    """Populate memory and write start_info; returns the start_info written."""
    populate_physmap(machine, d, nr_pages)
    d.start_info_mfn = d.p2m[START_INFO_PFN]
    d.console_mfn = d.p2m[CONSOLE_PFN] if d.domain_id != 0 else -1
    d.store_mfn = d.p2m[STORE_PFN] if d.domain_id != 0 else -1
    flags = (SIF_PRIVILEGED | SIF_INITDOMAIN) if d.domain_id == 0 else 0
    info = start_info(
        magic="xen-3.0-x86_32p" if machine.paging == "pae" else "xen-3.0-x86_32",
        nr_pages=nr_pages, shared_info=d.shared_info_mfn << 12, flags=flags,
        console_mfn=max(d.console_mfn, 0), cmd_line=d.config.cmdline)
    write_start_info(machine, d, info)
    # The builder gives vcpu 0 its context (construct_dom0; xc_linux_build's DOM0_SETDOMAININFO): the
    # other vcpus stay down until the guest's own VCPUOP_initialise/VCPUOP_up (xen/vcpu.py). The model's
    # HVM builder starts all of an HVM domain's vcpus itself (an unmodified kernel cannot ask).
    for v in d.vcpus:
        if v.vcpu_id == 0 or d.kind == "hvm":
            v.initialised, v.down = True, False
    return info


def bootstrap_layout(nr_pages: int, mode: str) -> tuple[int, int, int]:
    """(first pfn of the P2M array, its pages, nr_pt_frames) for a guest of ``nr_pages``.

    nr_pt_frames grows from 2 until the tables cover every page up to their own end, as the loops of
    construct_dom0 and xc_linux_build do: 2-level, 1 root + one L1 per 4 MiB; PAE, 1 L3 + 1 L2 + one L1
    per 2 MiB."""
    p2m_pages = -(-nr_pages * P2M_ENTRY // PAGE_SIZE)
    per_l1, fixed = (1024, 1) if mode == "2level" else (512, 2)
    nr_pt = 2
    while fixed + -(-(P2M_PFN + p2m_pages + nr_pt) // per_l1) > nr_pt:
        nr_pt += 1
    return P2M_PFN, p2m_pages, nr_pt


def build_bootstrap(machine, d) -> start_info:
    """The builder's last steps for a PV kernel: write the P2M array into the guest's pages, build and
    pin the bootstrap page tables, load them in vcpu 0's CR3, and fill start_info's ``mfn_list``,
    ``pt_base`` and ``nr_pt_frames`` (domain_build.c:639-667; xc_linux_build.c:552-640).
    Returns the start_info written."""
    mem, mode = machine.memory, machine.paging
    nr_pages = len(d.p2m)
    first, p2m_pages, nr_pt = bootstrap_layout(nr_pages, mode)
    pt_first = first + p2m_pages
    if pt_first + nr_pt > nr_pages:
        raise OutOfMemory(f"domain {d.domain_id}: {nr_pages} pages cannot hold its P2M and bootstrap tables")
    # The P2M array: ((unsigned long *)vphysmap_start)[pfn] = mfn.
    p2m = np.asarray(d.p2m, dtype=np.uint32).tobytes()
    for i in range(p2m_pages):
        chunk = p2m[i * PAGE_SIZE:(i + 1) * PAGE_SIZE]
        mem.clear_frame(d.p2m[first + i])
        mem.write_bytes(d.p2m[first + i] << PAGE_SHIFT, chunk)
    # The tables: frames pt_first.. in order root, [PAE: the L2 of slot 3], then the L1s.
    tables = [d.p2m[pt_first + i] for i in range(nr_pt)]
    for mfn in tables:
        mem.clear_frame(mfn)
    mapped = pt_first + nr_pt
    if mode == "2level":
        root, l1s, esize, per_l1 = tables[0], tables[1:], 4, 1024
        for i, l1 in enumerate(l1s):
            mem.write((root << PAGE_SHIFT) + 4 * ((VIRT_BASE >> 22) + i), 4, l1 << PAGE_SHIFT | _L2_PROT)
    else:
        root, l2, l1s, esize, per_l1 = tables[0], tables[1], tables[2:], 8, 512
        mem.write((root << PAGE_SHIFT) + 8 * (VIRT_BASE >> 30), 8, l2 << PAGE_SHIFT | _L3_PROT)
        for i, l1 in enumerate(l1s):
            mem.write((l2 << PAGE_SHIFT) + 8 * (((VIRT_BASE >> 21) & 511) + i), 8, l1 << PAGE_SHIFT | _L2_PROT)
    for pfn in range(mapped):
        flags = _L1_PROT & ~_PAGE_RW if pfn >= pt_first else _L1_PROT     # the tables read-only
        mem.write((l1s[pfn // per_l1] << PAGE_SHIFT) + esize * (pfn % per_l1), esize, d.p2m[pfn] << PAGE_SHIFT | flags)
    # Validate and pin the root (the builder's MMUEXT_PIN_L2/L3_TABLE), then install it as CR3.
    ft = machine.frame_table
    if not get_page_and_type(machine, root, d, ROOT_TYPE[mode]):
        raise AssertionError(f"d{d.domain_id}: the bootstrap tables failed validation: "
                             f"{getattr(machine, 'mm_last_error', '')}")
    ft.type_info[root] |= PGT_pinned
    if not new_guest_cr3(d.vcpus[0], root):
        raise AssertionError(f"d{d.domain_id}: cannot load the bootstrap tables in CR3")
    info = start_info.unpack(mem.read_bytes(d.start_info_mfn << PAGE_SHIFT, 80 + 1024))
    info = replace(info, mfn_list=VIRT_BASE + (first << PAGE_SHIFT), pt_base=VIRT_BASE + (pt_first << PAGE_SHIFT),
                   nr_pt_frames=nr_pt)
    write_start_info(machine, d, info)
    machine.trace.emit("DOM", "bootstrap", domid=d.domain_id, mfn_list=info.mfn_list, pt_base=info.pt_base,
                       nr_pt_frames=nr_pt)
    return info
