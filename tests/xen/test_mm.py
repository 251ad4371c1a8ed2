"""Xen's memory rules, hand-worked: descriptor checks, refused updates and their errno, batches
that stop at the first bad request, and an independent raw-bytes walk of guest mappings."""
import importlib.util
import pathlib

import numpy as np
import pytest

import xenlab
from xenlab.guest.mm import PAGE_OFFSET, GuestMM, GuestMMError
from xenlab.xen.descriptor import check_descriptor
from xenlab.xen.public import errno as E
from xenlab.xen.public import xen as X
from xenlab.xen.public.memory import mmu_update_t, mmuext_op_t

_spec = importlib.util.spec_from_file_location(
    "hw_ref_walk", pathlib.Path(__file__).parents[1] / "hw" / "test_paging_walk.py")
_ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ref)


@pytest.fixture(params=["2level", "pae"])
def booted(request):
    m = xenlab.Machine(memory_mb=64, paging=request.param)
    d = m.create_domain(xenlab.DomainConfig(name="u", memory=8))
    g = d.kernel.mm                       # the kernel built its page tables at boot
    assert isinstance(g, GuestMM) and g.root_pfn is not None
    return m, d, g


def test_check_descriptor_rules():
    # Flat ring-1 code: limit 0xfffff pages reaches Xen's hole -> truncated to end at 0xFC400000:
    # new limit = (0xFC400000 >> 12) - 1 = 0xFC3FF, so a = 0x0000c3ff and b's limit nibble is 0xf.
    v = check_descriptor(0x00CFBA000000FFFF)
    assert v.ok and v.raw == 0x00CFBA000000C3FF
    v = check_descriptor(0x00CFBA000000FFFF, "pae")          # PAE: end at 0xF6800000 -> limit 0xF67FF
    assert v.ok and v.raw == 0x00CFBA00000067FF              # a[15:0] = 0x67ff, b[19:16] stays 0xf
    assert not check_descriptor(0x00CF9A000000FFFF)             # DPL 0
    assert check_descriptor(0xC010EC00E0191234)                 # call gate to FLAT_RING1_CS
    assert not check_descriptor(0xC010EC00E0081234)             # call gate to Xen's 0xe008
    assert not check_descriptor(0x0000E90000000067)             # a TSS
    assert check_descriptor(0xFC40B2000000FFFF)                 # base 0xFC000000: the RO M2P, readable
    assert not check_descriptor(0xFC40B2400000FFFF)             # base 0xFC400000: Xen's own area
    # base 0xFC3F0000, 1 MiB byte-granular (G=0): ends at 0xFC4F0000, inside Xen's area; without G
    # Xen cannot truncate, so it refuses. b = 0xFC | 0100 1111b=0x4F | 0xB2 | 0x3F, a = 0x0000ffff.
    assert not check_descriptor(0xFC4FB23F0000FFFF)
    # with G=1 it is truncated: (0xFC400000 - 0xFC3F0000) >> 12 = 16 pages, limit 15 = 0x0000f
    assert check_descriptor(0xFCCFB23F0000FFFF).raw == 0xFCC0B23F0000000F
    assert check_descriptor(0x00407A000000FFFF)                 # not present: harmless
    assert check_descriptor(0x0040B2000000FFFF)                 # 64 KiB at 0: untouched
    assert check_descriptor(0x0040B2000000FFFF).raw == 0x0040B2000000FFFF


def test_pae_truncation_by_hand():
    raw = check_descriptor(0x00CFBA000000FFFF, "pae").raw
    limit = (raw >> 32 & 0xF0000) | (raw & 0xFFFF)
    assert limit == (0xF6800000 >> 12) - 1 == 0xF67FF


def test_refusals_and_errno(booted):
    m, d, g = booted
    other = m.dom0.p2m[100]
    table = d.p2m[g.root_pfn]
    l1_ma = g._l1_for(0x08048000, create=True)
    def upd(val):
        return d.hypercall("mmu_update", [mmu_update_t(l1_ma, val)])
    assert upd(other << 12 | 1) == -E.EINVAL                       # another domain's frame
    assert upd(table << 12 | 3) == -E.EINVAL                       # a page table, writable
    assert upd(table << 12 | 1) == 0                               # ... read-only is fine
    assert upd(d.p2m[200] << 12 | 0x83) == -E.EINVAL               # PSE
    assert upd(d.p2m[200] << 12 | 0x103) == -E.EINVAL              # GLOBAL
    assert d.hypercall("update_va_mapping", m.hypervisor_virt_start, d.p2m[200] << 12 | 1, 0) == -E.EINVAL
    if m.paging == "2level":
        xen_slot = (table << 12) + 1008 * 4
        assert d.hypercall("mmu_update", [mmu_update_t(xen_slot, 0)]) == -E.EINVAL
        assert d.hypercall("mmuext_op", [mmuext_op_t(X.MMUEXT_PIN_L3_TABLE, mfn=table)]) == -E.EINVAL
    else:
        assert d.hypercall("mmuext_op", [mmuext_op_t(X.MMUEXT_PIN_L2_TABLE, mfn=table)]) == -E.EINVAL
    assert d.hypercall("mmuext_op", [mmuext_op_t(X.MMUEXT_PIN_L2_TABLE if m.paging == "2level"
                                                 else X.MMUEXT_PIN_L3_TABLE, mfn=table)]) == -E.EINVAL  # pinned
    # pfn 300 is a data page, mapped writable in the direct map (type writable, count 1): it cannot
    # take the root type, so new_guest_cr3 fails and CR3 stays where it was.
    assert 300 not in g.pt_pfns and m.frame_table[d.p2m[300]].type_count == 1
    cr3 = d.vcpus[0].cr3
    assert d.hypercall("mmuext_op", [mmuext_op_t(X.MMUEXT_NEW_BASEPTR, mfn=d.p2m[300])]) == -E.EINVAL
    assert d.vcpus[0].cr3 == cr3 == table << 12
    # 3.0's do_mmuext_op: an unknown command hits `default:` (okay = 0), and any failure is -EINVAL.
    assert d.hypercall("mmuext_op", [mmuext_op_t(99)]) == -E.EINVAL
    assert d.hypercall("mmuext_op", [mmuext_op_t(X.MMUEXT_FLUSH_CACHE)]) == -E.EINVAL       # not physdev-capable
    assert d.hypercall("mmuext_op", [mmuext_op_t(X.MMUEXT_REASSIGN_PAGE, mfn=d.p2m[300])]) == -E.EINVAL  # not priv
    assert m.dom0.hypercall("mmuext_op", [mmuext_op_t(X.MMUEXT_FLUSH_CACHE)]) == 0


def test_batch_stops_at_first_bad(booted):
    m, d, g = booted
    ptrs = [g._l1_for(0x08048000 + i * 4096, create=True) for i in range(3)]
    reqs = [mmu_update_t(ptrs[0], d.p2m[300] << 12 | 3), mmu_update_t(ptrs[1], m.dom0.p2m[5] << 12 | 1),
            mmu_update_t(ptrs[2], d.p2m[301] << 12 | 3)]
    done = [None]
    assert d.hypercall("mmu_update", reqs, 3, done) == -E.EINVAL and done == [1]
    assert g.translate(0x08048000) == d.p2m[300] << 12
    with pytest.raises(_ref.PageFault):
        g.translate(0x08049000)


def test_guest_mappings_match_independent_walk(booted):
    m, d, g = booted
    rng = np.random.default_rng(1)
    mode = m.paging
    vas = sorted(set((int(x) & ~0xFFF) for x in rng.integers(0x00400000, 0xBFFFF000, 60)))
    for va in vas:
        pfn = int(rng.integers(100, len(d.p2m)))
        g.map_page(va, pfn, writable=bool(rng.integers(0, 2)))
    vas += [PAGE_OFFSET + (int(p) << 12) for p in rng.integers(0, len(d.p2m), 40)]
    for va in vas:
        ref = _ref.ref_walk(m.memory, d.vcpus[0].cr3, va, mode, False, False, False)
        assert ref[0] == "ok" and ref[1] == g.translate(va)
        assert m.m2p[ref[1] >> 12] < len(d.p2m)                     # a frame of this guest
    g.unmap_page(vas[0])
    assert _ref.ref_walk(m.memory, d.vcpus[0].cr3, vas[0], mode, False, False, False)[0] == "pf"


def test_page_table_pages_are_read_only_in_direct_map(booted):
    m, d, g = booted
    for pfn in g.pt_pfns:
        with pytest.raises(_ref.PageFault, match="write to a read-only page"):
            _ref.walk(m.memory, d.vcpus[0].cr3, PAGE_OFFSET + (pfn << 12), "w", m.paging)
    with pytest.raises(GuestMMError):
        g.map_page(0x08000000, g.root_pfn, writable=True)
    with pytest.raises(ValueError):
        g.map_page(0x08000001, 5)
    with pytest.raises(ValueError):
        g.map_page(m.hypervisor_virt_start, 5)


def test_demand_fault_and_balloon(booted):
    m, d, g = booted
    g.add_vma(0x20000000, 1 << 16)
    assert g.touch(0x20000010, write=True) & 0xFFF == 0x10 and g.faults == 1
    pages = d.tot_pages
    assert g.balloon_out(4) == 4 and d.tot_pages == pages - 4
    assert g.balloon_in(4) == 4 and d.tot_pages == pages
    from xenlab.xen.public.memory import xen_memory_reservation
    assert d.tot_pages == d.max_pages                         # memory == maxmem: no room to grow
    assert d.hypercall("memory_op", 0, xen_memory_reservation(nr_extents=10)) == 0
