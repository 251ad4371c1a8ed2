"""A process's address space (guest/process.py) and a page fault's path through Xen (guest/mm.py
touch -> xen/traps.py do_page_fault -> the kernel's vector-14 handler -> mmu_update), against Xen
3.0's rules (xen-facts 5c, 5d, 6). The expected numbers are worked out by hand in the comments."""
import pytest

import xenlab
from xenlab.guest.mm import PAGE_OFFSET, GuestMMError
from xenlab.guest.process import USER_BASE, Process
from xenlab.hw.paging import PageFault, walk
from xenlab.xen import traps as T
from xenlab.xen.event import vcpu_info_read
from xenlab.xen.public.xen import VCPU_INFO_SIZE, VI_ARCH_CR2

from mm_invariants import check

PGT_L1, PGT_L2, PGT_L3, PGT_WRITABLE = 1, 2, 3, 7


def boot(mode, memory=8):
    m = xenlab.Machine(memory_mb=128, paging=mode)
    d = m.create_domain(xenlab.DomainConfig(name="u", memory=memory))
    return m, d, d.kernel.mm


def calls(d, before):
    return {k: n - before.get(k, 0) for k, n in d.hypercall_counts.items() if n != before.get(k, 0)}


# An 8 MiB guest has 2048 pages, all in lowmem: 2 kernel L1s (1024 entries) or 4 (PAE, 512 entries).
# new_process(300) maps USER_BASE 0x08048000 .. 0x08174000, inside one L1 in both modes
# (2-level: L2 slot 0x08048000 >> 22 = 32; PAE: L3 slot 0, L2 slot 0x08048000 >> 21 & 511 = 64).
# Requests: 2-level = root read-only (1) + 2 kernel entries + L1 read-only (1) + L1 hook (1) + 300 = 305;
# PAE = root RO + slot-3 L2 RO + 4 kernel entries + L3[3] + user L2 RO + L3[0] + L1 RO + L2 hook + 300 = 311.
@pytest.mark.parametrize("mode, kernel_l1s, updates", [("2level", 2, 305), ("pae", 4, 311)])
def test_new_process_is_built_in_one_batch_and_pinned(mode, kernel_l1s, updates):
    m, d, g = boot(mode)
    ft = m.frame_table
    kernel_l1 = sorted(g.pt_pfns)[-kernel_l1s:]            # boot took root (+ slot-3 L2), then the L1s
    assert all(ft[d.p2m[p]].type == "l1" and ft[d.p2m[p]].type_count == 1 for p in kernel_l1)
    before = dict(d.hypercall_counts)
    p = d.kernel.new_process(300)
    assert isinstance(p, Process) and (p.build_updates, p.build_calls) == (updates, 1)
    assert calls(d, before) == {"mmu_update": 1, "mmuext_op": 1}     # the batch, then PIN_L2/L3
    root = ft[p.root_mfn]
    assert (root.type, root.type_count, root.validated, root.pinned) == \
        ("l2" if mode == "2level" else "l3", 1, True, True)
    # Both roots now reference each kernel L1: its type count went from 1 to 2.
    assert [ft[d.p2m[q]].type_count for q in kernel_l1] == [2] * kernel_l1s
    user_l1 = p.tables[-1]
    assert (ft[d.p2m[user_l1]].type, ft[d.p2m[user_l1]].type_count, ft[d.p2m[user_l1]].validated) == ("l1", 1, True)
    first = p.pages[USER_BASE]
    assert ft[d.p2m[first]].type == "writable" and ft[d.p2m[first]].type_count == 2   # direct map + process
    check(m)


@pytest.mark.parametrize("mode, updates", [
    # 2-level: 8192 pages -> 8 kernel L1s; user slots 72 .. 72+5000 -> 5 L1s: 1 + 8 + 2*5 + 5000 = 5019
    ("2level", 5019),
    # PAE: 16 kernel L1s; 10 user L1s: 1 + 1 + 16 + 1 + 2 + 2*10 + 5000 = 5041
    ("pae", 5041)])
def test_big_process_takes_ceil_updates_over_2048_calls(mode, updates):
    m, d, _ = boot(mode, memory=32)
    before = dict(d.hypercall_counts)
    p = d.kernel.new_process(5000)
    assert (p.build_updates, p.build_calls) == (updates, 3)           # ceil(5019 / 2048) = 3 (and 5041)
    assert calls(d, before) == {"mmu_update": 3, "mmuext_op": 1}
    check(m)


@pytest.mark.parametrize("mode", ["2level", "pae"])
def test_process_translations_switch_and_exit(mode):
    m, d, g = boot(mode)
    ft, v = m.frame_table, d.vcpus[0]
    kernel_cr3 = v.cr3
    assert kernel_cr3 == d.p2m[g.root_pfn] << 12
    g.map_page(USER_BASE, 500)                             # the kernel's own address space maps pfn 500 there
    p = d.kernel.new_process(4)
    # User addresses: each root has its own mapping.
    assert p.translate(USER_BASE + 0x10) == d.p2m[p.pages[USER_BASE]] << 12 | 0x10
    assert g.translate(USER_BASE + 0x10) == d.p2m[500] << 12 | 0x10
    with pytest.raises(PageFault):
        g.translate(USER_BASE + 0x4000)                     # mapped only in the process
    # Kernel addresses: the same machine address through either root (shared kernel L1s).
    for pfn in (0, 1, 777, len(d.p2m) - 1):
        va = PAGE_OFFSET + (pfn << 12) + 0x123
        assert p.translate(va) == g.translate(va) == d.p2m[pfn] << 12 | 0x123
    # switch_mm: NEW_BASEPTR takes a root-type reference; the CPU now walks the process's tables.
    p.switch_to()
    assert v.cr3 == p.root_mfn << 12 and ft[p.root_mfn].type_count == 2 and g.current is p
    assert g.translate(USER_BASE) == d.p2m[p.pages[USER_BASE]] << 12
    g.switch_to(None)
    assert v.cr3 == kernel_cr3 and ft[p.root_mfn].type_count == 1 and g.current is None
    # A fault in the process while it runs is fixed in its own tables, not the kernel's.
    p.add_vma(0x40000000, 1 << 16)
    p.switch_to()
    ma = g.touch(0x40002008, write=True)
    assert p.translate(0x40002008) == ma and ma >> 12 == d.p2m[p.pages[0x40002000]]
    with pytest.raises(PageFault):
        walk(m.memory, kernel_cr3, 0x40002008, "r", mode, set_ad=False)     # not in the kernel's tables
    tables, pages = list(p.tables), sorted(p.pages.values())
    user = d.p2m[p.pages[USER_BASE]]
    kernel_l1 = g._l1_for(PAGE_OFFSET, False) >> 12       # the frame holding the entry for PAGE_OFFSET
    assert ft[kernel_l1].type_count == 2
    # Exit: back to the kernel's root, UNPIN: Xen drops every reference the tree held.
    p.exit()
    assert v.cr3 == kernel_cr3 and p.exited and p.pid not in g.processes
    for pfn in tables:                                      # writable again in the direct map, nothing else
        info = ft[d.p2m[pfn]]
        assert (info.type, info.type_count, info.pinned, info.validated, info.count) == \
            ("writable", 1, False, True, 2)
    assert ft[kernel_l1].type_count == 1                   # only the kernel's root refers to it now
    assert ft[user].type_count == 1                         # only the direct map
    assert set(tables) | set(pages) <= set(g.free_pfns) and not set(tables) & g.pt_pfns
    with pytest.raises(ValueError, match="exited"):
        p.switch_to()
    check(m)


# -- a page fault goes through Xen to the guest's handler ---------------------------------------------
@pytest.mark.parametrize("mode", ["2level", "pae"])
def test_page_fault_enters_xen_bounces_and_is_fixed_by_hypercall(mode):
    m, d, g = boot(mode)
    v = d.vcpus[0]
    g.add_vma(0x20000000, 1 << 16)
    g.touch(0x20000000)                                     # creates the L1 first
    va = 0x20005010
    with m.trace.record() as ev:
        ma = g.touch(va, write=True)
    names = [(e.cls, e.name) for e in ev if e.domid == d.domain_id]
    order = [("MEM", "page_fault"), ("HW", "trap"), ("HW", "bounce"), ("HW", "guest_handler"),
             ("PV", "hypercall")]
    at = [names.index(x) for x in order]
    assert at == sorted(at)                                 # Xen, bounce, handler, then the fixing hypercall
    trap = next(e for e in ev if e.name == "trap")
    assert (trap["vector"], trap["error_code"], trap["cr2"], trap["from_ring"]) == (14, 0x6, va, 3)
    bounce = next(e for e in ev if e.name == "bounce")
    assert bounce["eip"] == T.arch(v).trap_ctxt[14].address and bounce["masks_events"]
    fix = next(e for e in ev if e.name == "hypercall")
    assert fix["op"] == "mmu_update"
    assert [e["path"] for e in ev if e.name == "ring"] == [(3, 0, 1), (1, 3)]   # into Xen, to ring 1, iret
    # CR2 in vcpu_info (Xen 3.0's arch.cr2), read by the handler.
    assert vcpu_info_read(v, "arch.cr2") == va
    assert m.memory.read_u32((d.shared_info_mfn << 12) + v.vcpu_id * VCPU_INFO_SIZE + VI_ARCH_CR2) == va
    assert next(e for e in ev if e.name == "guest_handler")["cr2"] == va
    assert ma & 0xFFF == 0x10 and g.translate(va, "w", user=True) == ma and g.faults == 2
    assert d.kernel.cpu_stats[0]["#PF"] == 2


def test_bad_access_reaches_the_handler_and_is_a_segfault():
    m, d, g = boot("2level")
    g.add_vma(0x30000000, 1 << 12, writable=False)
    with m.trace.record() as ev, pytest.raises(GuestMMError, match="segfault"):
        g.touch(0x50000000)                                 # no region: the handler refuses
    assert [e.name for e in ev if e.name in ("trap", "guest_handler", "hypercall")] == ["trap", "guest_handler"]
    with pytest.raises(GuestMMError, match="segfault"):
        g.touch(0x30000000, write=True)                     # a write to a read-only region
    ma = g.touch(0x30000000)                                # a read maps a zeroed page read-only
    assert m.frame_table.owner[ma >> 12] == d.domain_id and m.memory.read_u32(ma) == 0
    with pytest.raises(GuestMMError, match="segfault"):
        g.touch(0x30000000, write=True)                     # present now: error code 0x7 (protection)
    assert vcpu_info_read(d.vcpus[0], "arch.cr2") == 0x30000000 and g.faults == 4
