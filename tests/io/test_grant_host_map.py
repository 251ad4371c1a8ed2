"""GNTTABOP_map_grant_ref with GNTMAP_host_map writes the PTE at host_addr in the mapper's page tables,
unmap clears it (X@RELEASE-3.0.0:xen/common/grant_table.c __gnttab_map_grant_ref /
__gnttab_unmap_grant_ref; xen/arch/x86/mm.c create_grant_va_mapping / destroy_grant_va_mapping),
and dom0's back ends read and write guest data through those mappings (dom0/gntmap.py)."""
import pytest

import xenlab
from xenlab.dom0 import gntmap
from xenlab.guest.gnttab import guest_grants
from xenlab.hw.paging import walk
from xenlab.xen import gnttab
from xenlab.xen.public import grant_table as G


@pytest.fixture(params=["2level", "pae"])
def env(request):
    m = xenlab.Machine(memory_mb=64, seed=5, paging=request.param)
    g = m.create_domain(xenlab.DomainConfig(name="g", memory=8))
    return m, g


def _pte(m, va):
    """dom0's L1 entry for va, read as the MMU reads it (raw bytes of dom0's page table)."""
    ma = m.dom0.kernel.mm.l1_entry_address(va)
    return m.memory.read(ma, 4 if m.paging == "2level" else 8)


def _grant(g, pfn, readonly=False):
    return guest_grants(g.kernel).grant_foreign_access(0, g.p2m[pfn], readonly=readonly)


def test_map_writes_the_pte_and_unmap_clears_it(env):
    m, g = env
    frame = g.p2m[40]
    ref = _grant(g, 40)
    op = G.GnttabMapGrantRef(flags=G.GNTMAP_host_map, ref=ref, dom=g.domain_id)
    assert gntmap.map_grant_refs(m, [op]) == 0 and op.status == G.GNTST_okay
    va = op.host_addr
    pte = _pte(m, va)
    # l1e_from_pfn(frame, GRANT_PTE_FLAGS) | _PAGE_RW: present, accessed, dirty, AVAIL2, writable.
    assert pte == (frame << 12) | 0x1 | 0x2 | 0x20 | 0x40 | 0x800
    assert walk(m.memory, m.dom0.vcpus[0].cr3, va, "w", m.paging, set_ad=False)[0] == frame << 12
    page = gntmap.page(m, op.handle)
    page.write(8, b"from dom0")
    assert m.memory.read_bytes((frame << 12) + 8, 9) == b"from dom0"         # the guest's own frame
    (u,) = gntmap.unmap_grant_refs(m, [op.handle])
    assert u.status == G.GNTST_okay and _pte(m, va) == 0
    with pytest.raises(PermissionError):
        page.read(0, 4)


def test_read_only_grant_maps_without_rw_and_cannot_be_written(env):
    m, g = env
    ref = _grant(g, 41, readonly=True)
    op = G.GnttabMapGrantRef(flags=G.GNTMAP_host_map | G.GNTMAP_readonly, ref=ref, dom=g.domain_id)
    gntmap.map_grant_refs(m, [op])
    assert op.status == G.GNTST_okay and not _pte(m, op.host_addr) & 0x2
    page = gntmap.page(m, op.handle)
    assert page.read(0, 16) == m.memory.read_bytes(g.p2m[41] << 12, 16)
    with pytest.raises(PermissionError, match="read-only"):
        page.write(0, b"x")


def test_bad_host_addr_is_general_error_and_changes_nothing(env):
    m, g = env
    ref = _grant(g, 42)
    frame = g.p2m[42]
    gt0 = m.dom0.grant_table if getattr(m.dom0, "grant_table", None) else None
    free0 = len(gt0.maptrack_free) if gt0 else None
    count0 = int(m.frame_table.count_info[frame])
    flags0 = gnttab.read_entry(g, ref).flags
    for bad in (0x00400000,          # no L1 maps it in dom0
                0xFC000000 if m.paging == "2level" else 0xF5800000,     # Xen's own area
                1 << 40, -4096):
        op = G.GnttabMapGrantRef(flags=G.GNTMAP_host_map, ref=ref, dom=g.domain_id, host_addr=bad)
        assert m.dom0.hypercall("grant_table_op", G.GNTTABOP_map_grant_ref, [op], 1) == 0
        assert op.status == G.GNTST_general_error
        assert int(m.frame_table.count_info[frame]) == count0
        assert gnttab.read_entry(g, ref).flags == flags0                     # no GTF_reading/writing left
        assert ref not in gnttab.grant_table(g).active                      # the pin was undone
    if free0 is not None:
        assert len(m.dom0.grant_table.maptrack_free) == free0


def test_the_mappings_reference_keeps_the_frame_alive(env):
    """The guest gives the granted page back to Xen while dom0 maps it: the frame stays allocated (no
    other domain can get it) until dom0 unmaps it; then it is freed."""
    m, g = env
    frame = g.p2m[43]
    ref = _grant(g, 43)
    op = G.GnttabMapGrantRef(flags=G.GNTMAP_host_map, ref=ref, dom=g.domain_id)
    gntmap.map_grant_refs(m, [op])
    from xenlab.guest.pages import unmap_direct
    from xenlab.xen.public import memory as M
    unmap_direct(g.kernel, 43)
    res = M.xen_memory_reservation(extent_start=[frame], nr_extents=1)
    assert g.hypercall("memory_op", M.XENMEM_decrease_reservation, res) == 1
    from xenlab.xen.page_alloc import FREE
    assert int(m.frame_table.count_info[frame]) & 0xFFFF > 0             # still referenced ...
    assert int(m.frame_table.owner[frame]) == g.domain_id                # ... and still g's, not free
    gntmap.page(m, op.handle).write(0, b"still here")
    gntmap.unmap_grant_refs(m, [op.handle])
    assert int(m.frame_table.count_info[frame]) & 0xFFFF == 0            # the last reference went
    assert int(m.frame_table.owner[frame]) == FREE                       # and the frame with it


def test_overwriting_the_grant_pte_keeps_counts_balanced_and_unmap_then_fails(env):
    """dom0 replacing the grant PTE with mmu_update drops only the entry's own reference; the grant
    stays pinned, and the unmap finds no mapping of the frame there: GNTST_general_error."""
    from xenlab.xen.public.memory import mmu_update_t
    m, g = env
    frame = g.p2m[44]
    ref = _grant(g, 44)
    count0 = int(m.frame_table.count_info[frame])
    op = G.GnttabMapGrantRef(flags=G.GNTMAP_host_map, ref=ref, dom=g.domain_id)
    gntmap.map_grant_refs(m, [op])
    assert int(m.frame_table.count_info[frame]) == count0 + 2            # the pin's and the entry's
    ptr = m.dom0.kernel.mm.l1_entry_address(op.host_addr)
    assert m.dom0.hypercall("mmu_update", [mmu_update_t(ptr, 0)], 1) == 0
    assert int(m.frame_table.count_info[frame]) == count0 + 1            # the pin's remains
    (u,) = gntmap.unmap_grant_refs(m, [op.handle])
    assert u.status == G.GNTST_general_error
    assert gnttab.grant_table(g).active[ref].pin == gnttab.GNTPIN_hstw_inc
