"""Building a domain: memory, start_info, shared_info, console page.

Dom0 is built by Xen itself at boot (X@RELEASE-3.0.0:xen/arch/x86/domain_build.c, construct_dom0);
a domU is built by the toolstack's libxc builder (tools/libxc/xc_linux_build.c) from dom0. Both give
the guest: ``nr_pages`` frames with a P2M list (pfn -> mfn) and matching M2P entries, a start_info
page, the shared_info page, and (domU) a console ring page; the guest kernel then builds its own
page tables (guest/mm.py) through validated hypercalls.

Simplifications:
- The builder allocates frames directly from Xen's heap instead of through populate_physmap.
- No kernel image is loaded: the guest kernel is a Python model (guest/), so pfns are all RAM.
- Page layout: pfn 0 start_info, pfn 1 console ring, pfn 2 xenstore page; the rest is the kernel's.
"""
from __future__ import annotations

from xenlab.xen.page_alloc import OutOfMemory, PGC_allocated, PGT_validated, PGT_writable_page
from xenlab.xen.public.xen import SIF_INITDOMAIN, SIF_PRIVILEGED, start_info

START_INFO_PFN = 0
CONSOLE_PFN = 1
STORE_PFN = 2
M2P_INVALID = 0xFFFFFFFF


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
