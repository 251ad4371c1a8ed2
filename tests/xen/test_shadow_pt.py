"""Shadow page tables (xen/shadow_pt.py): the HVM guest writes gfn-based tables, the CPU walks Xen's
shadows, and each page-table store costs a VM exit where a PV guest sends one validated batch."""
import pytest

import xenlab
from xenlab.guest.hvm_mm import PAGE_OFFSET, hvm_mm
from xenlab.hw.paging import PageFault, walk
from xenlab.xen.public.memory import mmu_update_t
from xenlab.xen.public.xen import DOMID_XEN
from xenlab.xen.shadow_pt import guest_walk, shadow_pt

USER_VA = 0x20000000


@pytest.fixture(params=["2level", "pae"])
def pair(request):
    m = xenlab.Machine(memory_mb=96, hvm=True, paging=request.param, seed=1)
    hv = m.create_domain(xenlab.DomainConfig(name="hv", memory=16, kind="hvm"))
    pv = m.create_domain(xenlab.DomainConfig(name="pv", memory=16))
    hv.pause()
    pv.pause()
    return m, hv, pv


def exits(events):
    return [e["shadow"] if "shadow" in e.data else e["reason_name"] for e in events if e.name == "vmexit"]


def test_cpu_walks_xen_shadow_not_guest_tables(pair):
    m, hv, pv = pair
    g = hvm_mm(hv)
    v = hv.vcpus[0]
    root_mfn = v.cr3 >> 12
    assert m.frame_table.owner[root_mfn] == DOMID_XEN                  # the real CR3: Xen's frame
    assert hv.hvm.guest_cr3[0] == g.root_pfn << 12                       # the guest's CR3: a gfn
    g.map_page(USER_VA, 100)
    steps = guest_walk(hv, hv.hvm.guest_cr3[0], USER_VA)
    assert steps[-1][2] >> 12 == 100                                     # guest entry holds the gfn
    assert g.translate(USER_VA) == hv.p2m[100] << 12
    maddr, _ = walk(m.memory, v.cr3, USER_VA, "r", m.paging, set_ad=False)   # the hardware's own walk
    assert maddr == hv.p2m[100] << 12
    # PV: the CPU's CR3 is the guest's own root, owned by the guest
    pv_root = pv.vcpus[0].cr3 >> 12
    assert m.frame_table.owner[pv_root] == pv.domain_id


def test_each_pt_store_is_one_exit_while_pv_batches(pair):
    m, hv, pv = pair
    g = hvm_mm(hv)
    n = 64
    for i in range(n):
        g.map_page(USER_VA + i * 4096, 200 + i)
        g.translate(USER_VA + i * 4096)                                  # in use: its L1 is shadowed
    with m.trace.record() as ev:
        for i in range(n):
            g.map_page(USER_VA + i * 4096, 300 + i)                      # change live mappings
    assert exits(ev) == ["emulate"] * n
    assert all(g.translate(USER_VA + i * 4096) == hv.p2m[300 + i] << 12 for i in range(n))
    mm = pv.kernel.mm
    reqs = [mmu_update_t(mm._l1_for(USER_VA + i * 4096, True), mm.pte(300 + i, True, True)) for i in range(n)]
    with m.trace.record() as ev:
        assert mm.mmu_update(reqs) == 1
    assert [e.name for e in ev if e.cls == "PV"] == ["hypercall", "hypercall_ret"]
    assert not exits(ev)


def test_demand_fault_inject_emulate_fill(pair):
    m, hv, pv = pair
    g = hvm_mm(hv)
    g.add_vma(0x10000000, 0x10000)
    g.touch(0x10000000)                                                  # creates the L1 first
    with m.trace.record() as ev:
        ma = g.touch(0x10003010, write=True)
    assert exits(ev) == ["inject", "emulate", "fill"]
    assert [e.name for e in ev if e.cls == "HVM" and e.name == "inject"] == ["inject"]
    assert ma & 0xFFF == 0x10 and m.frame_table.owner[ma >> 12] == hv.domain_id
    assert g.faults == 2


def test_guest_page_tables_are_read_only_in_the_shadow(pair):
    m, hv, pv = pair
    g = hvm_mm(hv)
    g.map_page(USER_VA, 100)
    g.translate(USER_VA)
    l1_gfn = guest_walk(hv, hv.hvm.guest_cr3[0], USER_VA)[-2][2] >> 12 & 0xFFFFFF
    s = shadow_pt(hv)
    assert l1_gfn in s.table_gfns
    assert hvm_access_kind(g, PAGE_OFFSET + (l1_gfn << 12)) == "emulated"
    with pytest.raises(PageFault):
        walk(m.memory, hv.vcpus[0].cr3, PAGE_OFFSET + (l1_gfn << 12), "w", m.paging, set_ad=False)


def hvm_access_kind(g, va):
    return g.store(va + 8, g.pte(101, True, True))


def test_unmap_and_invlpg(pair):
    m, hv, pv = pair
    g = hvm_mm(hv)
    g.map_page(USER_VA, 100)
    assert g.translate(USER_VA) is not None
    with m.trace.record() as ev:
        g.unmap_page(USER_VA)
    assert exits(ev) == ["emulate", "INVLPG"]
    assert g.translate(USER_VA) is None                                  # the guest gets its #PF
    assert shadow_pt(hv).counts["inject"] == 1


def test_pv_domain_has_no_shadow_and_teardown_frees(pair):
    m, hv, pv = pair
    with pytest.raises(ValueError):
        shadow_pt(pv)
    g = hvm_mm(hv)
    g.map_page(USER_VA, 100)
    g.translate(USER_VA)
    frames = list(shadow_pt(hv).shadow_of.values())
    assert frames and all(m.frame_table.owner[f] == DOMID_XEN for f in frames)
    m.domain_destroy(hv)
    assert all(m.frame_table.owner[f] == -1 for f in frames)
