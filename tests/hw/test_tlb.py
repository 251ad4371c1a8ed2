"""TLB: a stale translation survives an unflushed PTE change (the lesson), flush/invlpg/global
semantics, and deterministic FIFO/LRU replacement."""
import copy

import pytest

from xenlab.hw.memory import MachineMemory
from xenlab.hw.paging import PageFault
from xenlab.hw.tlb import TLB, translate

PTE = 0x2000        # L1 table at frame 2; L2 (cr3) at frame 1; PDE 0 -> L1


@pytest.fixture
def mem():
    m = MachineMemory(16)
    m.write_u32(0x1000, PTE | 0x7)
    m.write_u32(PTE + 4 * 5, 0xA000 | 0x7)              # va 0x5000 -> frame 0xa, user RW
    m.write_u32(PTE + 4 * 6, 0xB000 | 0x107)            # va 0x6000 -> frame 0xb, global
    return m


def test_stale_entry_until_invlpg(mem):
    tlb = TLB()
    assert translate(tlb, mem, 0x1000, 0x5123) == 0xA123
    mem.write_u32(PTE + 4 * 5, 0xC000 | 0x7)            # remap va 0x5000 without flushing
    assert translate(tlb, mem, 0x1000, 0x5123) == 0xA123     # stale: still the old frame
    assert tlb.hits == 1 and tlb.misses == 1
    assert tlb.invlpg(0x5FFF)
    assert translate(tlb, mem, 0x1000, 0x5123) == 0xC123


def test_stale_after_unmap_then_flush_faults(mem):
    tlb = TLB()
    translate(tlb, mem, 0x1000, 0x5000)
    mem.write_u32(PTE + 4 * 5, 0)                       # unmap
    assert translate(tlb, mem, 0x1000, 0x5000) == 0xA000
    tlb.flush()
    with pytest.raises(PageFault):
        translate(tlb, mem, 0x1000, 0x5000)


def test_flush_keeps_global_flush_all_does_not(mem):
    tlb = TLB()
    translate(tlb, mem, 0x1000, 0x5000)
    translate(tlb, mem, 0x1000, 0x6000)
    assert tlb.flush() == 1 and [e.vpn for e in tlb.entries.values()] == [6]
    tlb.invlpg(0x6000)                                  # invlpg drops global entries too
    assert len(tlb) == 0
    translate(tlb, mem, 0x1000, 0x6000)
    assert tlb.flush_all() == 1 and len(tlb) == 0


def test_first_write_walks_to_set_dirty(mem):
    tlb = TLB()
    translate(tlb, mem, 0x1000, 0x5000, "r")
    assert not mem.read_u32(PTE + 20) & 0x40
    translate(tlb, mem, 0x1000, 0x5000, "w")            # cached entry is clean: walk, set D
    assert mem.read_u32(PTE + 20) & 0x40 and (tlb.misses, tlb.hits) == (1, 1)
    translate(tlb, mem, 0x1000, 0x5000, "w")
    assert tlb.hits == 2


@pytest.mark.parametrize("policy,survivor", [("fifo", [2, 3]), ("lru", [1, 3])])
def test_replacement_is_deterministic(policy, survivor):
    tlb = TLB(capacity=2, policy=policy)
    tlb.fill(0x1000, 1, 0x7)
    tlb.fill(0x2000, 2, 0x7)
    tlb.lookup(0x1000)                                  # LRU: page 1 becomes most recent
    tlb.fill(0x3000, 3, 0x7)
    assert list(tlb.entries) == survivor
    assert copy.deepcopy(tlb).entries == tlb.entries
    assert "mfn 0x3" in repr(tlb)


def test_bad_config():
    with pytest.raises(ValueError):
        TLB(capacity=0)
    with pytest.raises(ValueError):
        TLB(policy="random")
