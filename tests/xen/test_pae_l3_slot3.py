"""PAE L3 slot 3 (X@RELEASE-3.0.0:xen/arch/x86/mm.c): no update of slot 3 in a validated L3
(:1181-1187), and its L2 may not be shared by two L3s (create_pae_xen_mappings, :705-740)."""
import xenlab
from xenlab.hw.memory import PAGE_SHIFT
from xenlab.xen.public import errno as E
from xenlab.xen.public import xen as X
from xenlab.xen.public.memory import mmu_update_t, mmuext_op_t


def pae_domu():
    m = xenlab.Machine(memory_mb=64, paging="pae", seed=4)
    d = m.create_domain(xenlab.DomainConfig(name="u", memory=8))
    return m, d, d.kernel.mm


def test_no_update_of_slot_3_in_a_pinned_l3_even_to_the_same_entry():
    m, d, g = pae_domu()
    root_ma = d.vcpus[0].cr3
    slot3 = m.memory.read_u64(root_ma + 3 * 8)
    before = bytes(m.memory.read_bytes(root_ma, 4096))
    assert d.hypercall("mmu_update", [mmu_update_t(root_ma + 3 * 8, slot3)]) == -E.EINVAL
    assert d.hypercall("mmu_update", [mmu_update_t(root_ma + 3 * 8, 0)]) == -E.EINVAL
    assert bytes(m.memory.read_bytes(root_ma, 4096)) == before
    # Slot 0 can still be changed (to itself, here), as any guest slot.
    slot0 = m.memory.read_u64(root_ma)
    assert d.hypercall("mmu_update", [mmu_update_t(root_ma, slot0)]) == 0


def test_a_second_l3_sharing_the_slot3_l2_cannot_be_pinned():
    m, d, g = pae_domu()
    root_ma = d.vcpus[0].cr3
    kernel_l2 = m.memory.read_u64(root_ma + 3 * 8)
    pfn = g.new_page_table()                     # a fresh page the guest may turn into a table
    ma = g.mfn(pfn) << PAGE_SHIFT
    # Fill the new L3 while it is still plain writable memory: slot 3 -> the kernel's own slot-3 L2.
    assert d.hypercall("mmu_update", [mmu_update_t(ma + 3 * 8, kernel_l2)]) == 0
    assert m.memory.read_u64(ma + 3 * 8) == kernel_l2
    type_before = int(m.frame_table.type_info[kernel_l2 >> PAGE_SHIFT & 0xFFFFFFF])
    rc = d.hypercall("mmuext_op", [mmuext_op_t(X.MMUEXT_PIN_L3_TABLE, mfn=ma >> PAGE_SHIFT)])
    assert rc == -E.EINVAL
    assert "shared" in m.mm_last_error
    assert int(m.frame_table.type_info[kernel_l2 >> PAGE_SHIFT & 0xFFFFFFF]) == type_before   # nothing kept
