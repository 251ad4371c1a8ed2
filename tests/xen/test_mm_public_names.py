"""The public names notebooks use for the guest kernel's page-table helpers (issue 12: no private names in
student cells): l1_entry_address, alloc_pfn, new_page_table. Oracle: the page walk over raw memory."""
import pytest

import xenlab
from xenlab.guest.mm import PAGE_OFFSET
from xenlab.hw.paging import walk
from xenlab.xen.public.memory import mmu_update_t


@pytest.fixture(params=["2level", "pae"])
def booted(request):
    m = xenlab.Machine(memory_mb=64, paging=request.param)
    d = m.create_domain(xenlab.DomainConfig(name="u", memory=8))
    d.pause()
    return m, d, d.kernel.mm


def test_l1_entry_address_names_the_entry_the_cpu_walks(booted):
    m, d, g = booted
    va = PAGE_OFFSET + (0x105 << 12)
    ptr = g.l1_entry_address(va)
    entry = m.memory.read(ptr, g.esize)
    assert entry >> 12 & 0xFFFFFF == d.p2m[0x105]                 # a machine frame, as the CPU needs
    maddr, _steps = walk(m.memory, d.vcpus[0].cr3, va, mode=g.mode, set_ad=False)
    assert maddr >> 12 == d.p2m[0x105]
    assert g.l1_entry_address(0x40000000) is None                 # no table there, and none made
    made = g.l1_entry_address(0x40000000, create=True)
    assert made is not None
    assert d.hypercall("mmu_update", [mmu_update_t(made, g.pte(200, True, True))]) == 0
    assert walk(m.memory, d.vcpus[0].cr3, 0x40000000, mode=g.mode, set_ad=False)[0] >> 12 == d.p2m[200]


def test_alloc_pfn_and_new_page_table(booted):
    m, d, g = booted
    a, b = g.alloc_pfn(), g.alloc_pfn()
    assert a != b and a not in g.free_pfns and b not in g.free_pfns
    table = g.new_page_table()
    assert table in g.pt_pfns
    # made read-only in the direct map first, so Xen accepts it as a page table
    entry = m.memory.read(g.l1_entry_address(PAGE_OFFSET + (table << 12)), g.esize)
    assert entry & 0x1 and not entry & 0x2
