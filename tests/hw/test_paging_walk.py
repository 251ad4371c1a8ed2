"""Paging: the model's walk against an independent walker written here from the Intel SDM vol. 3A
ch. 4 (tables 4-5..4-20), on random page tables in raw machine memory, in both modes; plus
hand-worked page-fault error codes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from xenlab.hw.memory import MachineMemory, MemoryAccessError
from xenlab.hw.paging import PageFault, walk, walk_many


# -- the reference walker: raw bytes, literal bit positions, nothing imported from the model ----------
def rd(mem, addr, n):
    return int.from_bytes(bytes(mem.data[addr:addr + n]), "little")


def ref_walk(mem, cr3, va, mode, write, user, fetch):
    """('ok', maddr, [(entry addr, size, bits to set)]) or ('pf', error code)."""
    W, U = (2 if write else 0), (4 if user else 0)
    if mode == "2level":
        acc = W | U                                   # no I/D bit without PAE+NXE (SDM 4.7)
        pde_a = (cr3 & 0xFFFFF000) | ((va >> 22) << 2)
        pde = rd(mem, pde_a, 4)
        if not pde & 1:
            return ("pf", acc)
        if pde & 0x80:                                # 4 MiB page (CR4.PSE=1, no PSE-36)
            if pde & 0x003FE000:
                return ("pf", acc | 1 | 8)
            w, u, nx = pde & 2, pde & 4, 0
            maddr = (pde & 0xFFC00000) | (va & 0x3FFFFF)
            ad = [(pde_a, 4, 0x20 | (0x40 if write else 0))]
        else:
            pte_a = (pde & 0xFFFFF000) | (((va >> 12) & 0x3FF) << 2)
            pte = rd(mem, pte_a, 4)
            if not pte & 1:
                return ("pf", acc)
            w, u, nx = pde & pte & 2, pde & pte & 4, 0
            maddr = (pte & 0xFFFFF000) | (va & 0xFFF)
            ad = [(pde_a, 4, 0x20), (pte_a, 4, 0x20 | (0x40 if write else 0))]
    else:
        acc = W | U | (16 if fetch else 0)
        pdpte = rd(mem, (cr3 & 0xFFFFFFE0) + ((va >> 30) << 3), 8)
        if not pdpte & 1:
            return ("pf", acc)
        if pdpte & 0xFFFFFFF0000001E6:                # bits 1,2,5-8 and 36-63 must be zero
            return ("pf", acc | 1 | 8)
        pde_a = (pdpte & 0xFFFFFF000) + (((va >> 21) & 0x1FF) << 3)
        pde = rd(mem, pde_a, 8)
        if not pde & 1:
            return ("pf", acc)
        if pde & 0x7FFFFFF000000000:                  # bits 36..62 (MAXPHYADDR 36; NXE=1 frees 63)
            return ("pf", acc | 1 | 8)
        if pde & 0x80:                                # 2 MiB page
            if pde & 0x1FE000:
                return ("pf", acc | 1 | 8)
            w, u, nx = pde & 2, pde & 4, pde >> 63
            maddr = (pde & 0xFFFE00000) | (va & 0x1FFFFF)
            ad = [(pde_a, 8, 0x20 | (0x40 if write else 0))]
        else:
            pte_a = (pde & 0xFFFFFF000) + (((va >> 12) & 0x1FF) << 3)
            pte = rd(mem, pte_a, 8)
            if not pte & 1:
                return ("pf", acc)
            if pte & 0x7FFFFFF000000000:
                return ("pf", acc | 1 | 8)
            w, u, nx = pde & pte & 2, pde & pte & 4, (pde | pte) >> 63
            maddr = (pte & 0xFFFFFF000) | (va & 0xFFF)
            ad = [(pde_a, 8, 0x20), (pte_a, 8, 0x20 | (0x40 if write else 0))]
    if (write and not w) or (user and not u) or (fetch and nx):
        return ("pf", acc | 1)                        # CR0.WP=1: ring 0-2 writes obey R/W too
    return ("ok", maddr, ad)


def random_tables(seed, mode, nr_frames=24):
    """Every frame full of random entries that point at frames of this memory: any walk goes somewhere."""
    rng = np.random.default_rng(seed)
    mem = MachineMemory(nr_frames)
    esize = 4 if mode == "2level" else 8
    n = nr_frames * 4096 // esize
    frames = rng.integers(0, nr_frames, n).astype(np.uint64)
    flags = rng.integers(0, 4096, n).astype(np.uint64) & ~np.uint64(0x1A7)
    flags |= (rng.random(n) < 0.85).astype(np.uint64)                   # P
    flags |= (rng.random(n) < 0.75).astype(np.uint64) << np.uint64(1)   # RW
    flags |= (rng.random(n) < 0.75).astype(np.uint64) << np.uint64(2)   # US
    flags |= (rng.random(n) < 0.3).astype(np.uint64) << np.uint64(5)    # A
    ps = rng.random(n) < 0.12
    flags |= ps.astype(np.uint64) << np.uint64(7)
    e = frames << np.uint64(12) | flags
    if mode == "2level":
        e[ps] |= rng.integers(0, 1024, int(ps.sum())).astype(np.uint64) << np.uint64(22)
        e[ps & (rng.random(n) < 0.5)] &= ~np.uint64(0x3FE000)
        mem.data.view("<u4")[:] = e.astype(np.uint32)
        cr3 = int(rng.integers(0, nr_frames)) << 12
    else:
        e[ps] |= rng.integers(0, 1 << 15, int(ps.sum())).astype(np.uint64) << np.uint64(21)
        e[ps & (rng.random(n) < 0.5)] &= ~np.uint64(0x1FE000)
        e |= (rng.random(n) < 0.3).astype(np.uint64) << np.uint64(63)                       # NX
        e[rng.random(n) < 0.03] |= np.uint64(1) << np.uint64(int(rng.integers(36, 63)))     # reserved
        mem.data.view("<u8")[:] = e
        cr3 = (int(rng.integers(0, nr_frames)) << 12) | int(rng.integers(0, 128)) * 32
        for i in range(4):                            # four sane-looking PDPTEs, sometimes not
            pdpte = int(rng.integers(0, nr_frames)) << 12 | int(rng.random() < 0.9) | 0x18
            if rng.random() < 0.1:
                pdpte |= 0x2                          # a reserved bit in a PDPTE
            mem.write_u64(cr3 + 8 * i, pdpte)
    return mem, cr3, rng


ACCESSES = [(a, u) for a in "rwx" for u in (False, True)]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), mode=st.sampled_from(["2level", "pae"]))
def test_walk_and_walk_many_match_reference(seed, mode):
    mem, cr3, rng = random_tables(seed, mode)
    vas = rng.integers(0, 1 << 32, 150)
    snapshot = mem.data.copy()
    outcomes = set()
    for access, user in ACCESSES:
        got_many, codes = walk_many(mem, cr3, vas, mode, access, user=user, errors=True)
        for i, va in enumerate(vas.tolist()):
            ref = ref_walk(mem, cr3, va, mode, access == "w", user, access == "x")
            try:
                maddr, steps = walk(mem, cr3, va, access, mode, user=user, set_ad=False)
                got = ("ok", maddr)
            except PageFault as pf:
                assert pf.vaddr == va
                got = ("pf", pf.error_code)
            assert got == ref[:2], (hex(va), access, user)
            if ref[0] == "ok":
                assert (got_many[i], codes[i]) == (ref[1], -1)
            else:
                assert (got_many[i], codes[i]) == (-1, ref[1])
            outcomes.add(ref[0] if ref[0] == "ok" else ref[1] & 9)
    assert (mem.data == snapshot).all()               # set_ad=False and walk_many write nothing
    assert "ok" in outcomes


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), mode=st.sampled_from(["2level", "pae"]))
def test_accessed_dirty_bits_match_reference(seed, mode):
    mem, cr3, rng = random_tables(seed, mode)
    ref_mem = MachineMemory(mem.nr_frames)
    ref_mem.data[:] = mem.data
    for va in rng.integers(0, 1 << 32, 200).tolist():
        access, user = ACCESSES[int(rng.integers(0, len(ACCESSES)))]
        ref = ref_walk(ref_mem, cr3, va, mode, access == "w", user, access == "x")
        if ref[0] == "ok":
            for addr, size, bits in ref[2]:
                ref_mem.write(addr, size, rd(ref_mem, addr, size) | bits)
        try:
            walk(mem, cr3, va, access, mode, user=user)
        except PageFault:
            assert ref[0] == "pf"
        assert (mem.data == ref_mem.data).all()


# -- hand-worked examples -------------------------------------------------------------------------
@pytest.fixture
def two_level():
    """cr3 = frame 1. va 0x00401000 -> PDE 1 -> L1 at frame 2 -> PTE 1 -> frame 0xa (supervisor, RO).
    va 0x00402000 -> PTE 2 -> frame 0xb, user RW. va 0x00800000 -> PDE 2: 4 MiB page at 0x01000000."""
    m = MachineMemory(16)
    m.write_u32(0x1000 + 1 * 4, 0x2000 | 0x7)          # P RW US
    m.write_u32(0x2000 + 1 * 4, 0xA000 | 0x1)          # P only
    m.write_u32(0x2000 + 2 * 4, 0xB000 | 0x7)
    m.write_u32(0x1000 + 2 * 4, 0x01000000 | 0x83)     # P RW PS
    return m


def pf(code):
    return pytest.raises(PageFault, match=rf"error code {code:#x}")


def test_two_level_by_hand(two_level):
    m = two_level
    assert walk(m, 0x1000, 0x00401234)[0] == 0xA234
    maddr, steps = walk(m, 0x1000, 0x00402FFC, "w", user=True)
    assert maddr == 0xBFFC and [s.index for s in steps] == [1, 2]
    assert m.read_u32(0x2008) == 0xB000 | 0x67          # A and D set on the PTE
    assert m.read_u32(0x1004) == 0x2000 | 0x27          # A only on the PDE
    assert walk(m, 0x1000, 0x00BFFFFF)[0] == 0x013FFFFF  # inside the 4 MiB page
    with pf(0x3):                                       # supervisor write to RO: CR0.WP
        walk(m, 0x1000, 0x00401000, "w")
    with pf(0x5):                                       # user read of a supervisor page
        walk(m, 0x1000, 0x00401000, "r", user=True)
    with pf(0x6):                                       # user write, PDE 3 not present
        walk(m, 0x1000, 0x00C00000, "w", user=True)
    with pf(0x0):                                       # no I/D bit without PAE
        walk(m, 0x1000, 0x00C00000, "x")
    m.write_u32(0x1000 + 3 * 4, 0x00C02000 | 0x81)      # PS with bit 13 set: reserved
    with pf(0x9):
        walk(m, 0x1000, 0x00C00000)


def test_pae_by_hand():
    m = MachineMemory(16)
    cr3 = 0x1000 + 0x20                                 # PDPT at a 32-byte boundary
    m.write_u64(cr3 + 3 * 8, 0x2000 | 1)                # va 0xc0000000.. -> L2 at frame 2
    m.write_u64(0x2000 + 1 * 8, 0x3000 | 0x7)           # 0xc0200000 -> L1 at frame 3
    m.write_u64(0x3000 + 5 * 8, (1 << 63) | 0x5000 | 0x3)  # 0xc0205000 -> frame 5, NX
    m.write_u64(0x2000 + 2 * 8, 0x00400000 | 0x83)      # 0xc0400000 -> 2 MiB page at 4 MiB
    va = 0xC0205ABC                                     # l3 3, l2 1, l1 5, offset 0xabc
    maddr, steps = walk(m, cr3, va, "r", "pae")
    assert maddr == 0x5ABC and [s.level for s in steps] == ["L3", "L2", "L1"]
    assert m.read_u64(cr3 + 24) == 0x2001                # PDPTEs have no A bit
    with pf(0x11):                                      # fetch from NX page: P | I/D
        walk(m, cr3, va, "x", "pae")
    with pf(0x15):                                      # user fetch: also not a user page
        walk(m, cr3, va, "x", "pae", user=True)
    assert walk(m, cr3, 0xC05FFFFF, "x", "pae")[0] == 0x005FFFFF
    with pf(0x10):
        walk(m, cr3, 0x00000000, "x", "pae")            # PDPTE 0 not present
    assert walk_many(m, cr3, np.array([va, 0xC05FFFFF, 0]), "pae").tolist() == [0x5ABC, 0x5FFFFF, -1]


def test_misuse_raises_value_error(two_level):
    with pytest.raises(ValueError):
        walk(two_level, 0x1004, 0)                      # unaligned cr3
    with pytest.raises(ValueError):
        walk(two_level, 0x1000, 1 << 32)
    with pytest.raises(ValueError):
        walk(two_level, 0x1000, 0, "rw")
    with pytest.raises(ValueError):
        walk(two_level, 0x1000, 0, mode="4level")
    with pytest.raises(ValueError):
        walk_many(two_level, 0x1000, np.array([-1]))
    two_level.write_u32(0x1000 + 4 * 4, 0x7FFFF000 | 1)  # a table beyond physical memory
    with pytest.raises(MemoryAccessError):
        walk_many(two_level, 0x1000, np.array([0x01000000]))


def test_fault_reports_steps(two_level):
    with pytest.raises(PageFault) as exc:
        walk(two_level, 0x1000, 0x00403000)
    assert [s.level for s in exc.value.steps] == ["L2", "L1"]
    assert "not-present, read, supervisor" in str(exc.value)
    assert "P RW US" in repr(exc.value.steps[0])
