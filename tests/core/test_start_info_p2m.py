"""start_info's mfn_list, pt_base and nr_pt_frames, and the guest's P2M array in its own memory
(X@RELEASE-3.0.0:xen/arch/x86/domain_build.c:255-300, 639-667; tools/libxc/xc_linux_build.c:438-470,
552-640). Oracles: worked examples of the builders' layout rules, the raw bytes of guest memory read
through the bootstrap page tables, and the M2P table."""
import pytest

import xenlab
from xenlab.guest.p2m import read_start_info
from xenlab.hw.paging import walk
from xenlab.xen.page_alloc import PGT_l2_page_table, PGT_l3_page_table, PGT_pinned, PGT_type_mask

VIRT_BASE = 0xC0000000


def machine(paging):
    m = xenlab.Machine(seed=3, memory_mb=256, paging=paging)           # dom0 gets 64 MiB (256 // 4)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16))
    return m, d


# Worked examples. 16 MiB domU: 4096 pfns, a P2M of 4096 * 4 bytes = 4 pages at pfns 3-6 (after
# start_info 0, console 1, xenstore 2), tables from pfn 7. 2-level: the root and one L1 (pfns 0-8 fit in
# one 4 MiB L1) = 2 frames, the loops' minimum. PAE: L3, the L2 of 0xC0000000 and one L1 = 3.
# 64 MiB dom0: 16384 pfns, a P2M of 16 pages at pfns 3-18, tables from pfn 19; 2 and 3 frames.
@pytest.mark.parametrize("paging,frames", [("2level", 2), ("pae", 3)])
def test_start_info_fields_follow_the_builders_layout(paging, frames):
    m, d = machine(paging)
    si = read_start_info(d)
    assert (si.nr_pages, si.mfn_list, si.pt_base, si.nr_pt_frames) == (4096, VIRT_BASE + 3 * 4096,
                                                                       VIRT_BASE + 7 * 4096, frames)
    s0 = read_start_info(m.dom0)
    assert (s0.nr_pages, s0.mfn_list, s0.pt_base, s0.nr_pt_frames) == (16384, VIRT_BASE + 3 * 4096,
                                                                       VIRT_BASE + 19 * 4096, frames)


@pytest.mark.parametrize("paging", ["2level", "pae"])
def test_the_p2m_array_in_guest_memory_is_the_inverse_of_the_m2p(paging):
    m, d = machine(paging)
    si = read_start_info(d)
    boot_root = d.p2m[(si.pt_base - VIRT_BASE) >> 12] << 12
    esize = 4
    words = []
    for pfn in range(si.nr_pages):                                      # through the bootstrap tables
        if pfn % 1024 == 0:
            page = walk(m.memory, boot_root, si.mfn_list + pfn * esize, "r", paging, set_ad=False)[0]
        words.append(int.from_bytes(m.memory.read_bytes(page + 4 * (pfn % 1024), 4), "little"))
    assert all(int(m.m2p[mfn]) == pfn for pfn, mfn in enumerate(words))
    assert len(set(words)) == si.nr_pages


@pytest.mark.parametrize("paging,root_type", [("2level", PGT_l2_page_table), ("pae", PGT_l3_page_table)])
def test_bootstrap_tables_are_pinned_and_mapped_read_only(paging, root_type):
    m, d = machine(paging)
    si = read_start_info(d)
    first = (si.pt_base - VIRT_BASE) >> 12
    root = d.p2m[first]
    ti = int(m.frame_table.type_info[root])
    assert ti & PGT_type_mask == root_type and ti & PGT_pinned
    for pfn in range(first, first + si.nr_pt_frames):                  # read-only in the bootstrap map
        with pytest.raises(Exception):
            walk(m.memory, root << 12, VIRT_BASE + (pfn << 12), "w", paging, set_ad=False)
        assert walk(m.memory, root << 12, VIRT_BASE + (pfn << 12), "r", paging, set_ad=False)[0] == d.p2m[pfn] << 12
    # start_info itself is mapped writable at virt_base
    assert walk(m.memory, root << 12, VIRT_BASE, "w", paging, set_ad=False)[0] == d.start_info_mfn << 12
    # ... and the kernel never hands out these pages
    mm = d.kernel.mm
    assert min(mm.free_pfns) > first + si.nr_pt_frames and set(range(first, first + si.nr_pt_frames)) <= mm.pt_pfns
    assert mm.root_pfn == first + si.nr_pt_frames           # the kernel's own root: the first page after them


def test_the_kernel_uses_its_own_array_not_xens_bookkeeping():
    m, d = machine("2level")
    truth = list(d.p2m)
    d.p2m[:] = [0xDEAD] * len(d.p2m)                                   # Xen's record, poisoned
    mm = d.kernel.mm
    pfn = mm.alloc_pfn()
    mm.map_page(0x40000000, pfn, writable=True, user=False)
    assert mm.translate(0x40000000) == truth[pfn] << 12
    assert mm.mfn(pfn) == truth[pfn] and list(d.kernel.p2m) == truth


def test_balloon_updates_the_array_in_memory_and_xen_follows():
    m, d = machine("2level")
    mm = d.kernel.mm
    si = read_start_info(d)
    array_ma = [d.p2m[3 + i] << 12 for i in range(4)]                  # the array's frames (pfns 3-6)

    def raw(pfn):
        return int.from_bytes(m.memory.read_bytes(array_ma[pfn // 1024] + 4 * (pfn % 1024), 4), "little")
    before = {p: raw(p) for p in range(si.nr_pages)}
    assert mm.balloon_out(8) == 8
    gone = list(mm.ballooned)
    assert all(raw(p) == 0xFFFFFFFF for p in gone)                       # INVALID_P2M_ENTRY in its memory
    assert all(d.p2m[p] == 0xFFFFFFFF for p in gone)                     # Xen saw decrease_reservation
    assert all(int(m.m2p[before[p]]) == 0xFFFFFFFF for p in gone)
    assert mm.balloon_in(8) == 8
    for p in gone:
        mfn = raw(p)
        assert mfn != 0xFFFFFFFF and int(m.m2p[mfn]) == p and d.p2m[p] == mfn   # MMU_MACHPHYS_UPDATE


@pytest.mark.parametrize("paging", ["2level", "pae"])
def test_restore_writes_the_new_frames_into_the_guests_own_array(paging):
    """xc_linux_restore's "memcpy(live_p2m, p2m, P2M_SIZE)": after a restore the array at mfn_list,
    read through the restored guest's own page tables (CR3), names the new frames, each the inverse of
    the M2P; the guest kernel's P2M reads the same words."""
    import io

    from xenlab.toolstack.restore import restore_domain
    from xenlab.toolstack.save import save_domain
    m, d = machine(paging)
    m.run_for(20_000_000)
    old = list(d.p2m)
    buf = io.BytesIO()
    save_domain(m, d, buf)
    buf.seek(0)
    r, _ = restore_domain(m, buf)
    si = read_start_info(r)
    cr3 = r.vcpus[0].cr3
    words = []
    for pfn in range(si.nr_pages):
        if pfn % 1024 == 0:
            page = walk(m.memory, cr3, si.mfn_list + pfn * 4, "r", paging, set_ad=False)[0]
        words.append(int.from_bytes(m.memory.read_bytes(page + 4 * (pfn % 1024), 4), "little"))
    assert all(int(m.m2p[mfn]) == pfn for pfn, mfn in enumerate(words))
    assert words != old[:len(words)]                     # new frames: the saved domain's were freed
    assert [r.kernel.mm.mfn(pfn) for pfn in range(0, si.nr_pages, 97)] == words[::97]
