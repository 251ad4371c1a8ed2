"""Segmentation: descriptor bytes worked out by hand from the Intel SDM vol. 3A fig. 3-8 layout,
the selector checks of MOV/JMP/CALL (SDM vol. 2), and limit checks for expand-up/-down segments."""
import pytest
from hypothesis import given, strategies as st

from xenlab.hw.faults import GeneralProtectionFault, SegmentNotPresent, StackFault
from xenlab.hw.memory import MachineMemory
from xenlab.hw.segments import (DescriptorTable, GateDescriptor, SegmentDescriptor, SegmentUnit,
                                decode, make_selector, sel_index, sel_rpl, sel_ti)

# Flat 4 GiB ring-1 code segment (Xen's FLAT_RING1_CS descriptor):
#   base 0, limit 0xfffff, G=1 D=1, P=1 DPL=1 S=1 type 0xa (execute/read)
#   low  dword a = base[15:0] << 16 | limit[15:0]                    = 0x0000ffff
#   high dword b = base[31:24] << 24 | G D 0 AVL=1100b << 20 | limit[19:16]=0xf << 16
#                | P DPL S = 1 01 1 = 0xb << 12 | type 0xa << 8 | base[23:16] = 0x00cfba00
FLAT_RING1_CODE = 0x00CFBA000000FFFF
FLAT_RING1_DATA = 0x00CFB2000000FFFF    # same, type 0x2 (read/write data)
FLAT_RING3_CODE = 0x00CFFA000000FFFF    # P DPL S = 1 11 1 = 0xf
FLAT_RING3_DATA = 0x00CFF2000000FFFF
FLAT_RING0_CODE = 0x00CF9A000000FFFF    # P DPL S = 1 00 1 = 0x9 (Linux's __KERNEL_CS)
# base 0x12345678, limit 0xabcde bytes (G=0), D=1, P=1 DPL=3 S=1 data r/w:
#   a = 0x5678 << 16 | 0xbcde = 0x5678bcde
#   b = 0x12 << 24 | (G D 0 0 = 0100b = 0x4) << 20 | 0xa << 16 | 0xf << 12 | 0x2 << 8 | 0x34 = 0x124af234
ODD_DATA = 0x124AF2345678BCDE
# call gate to 0xe019:0xc0101234, DPL 3, 0 params:
#   a = selector 0xe019 << 16 | offset[15:0] 0x1234 = 0xe0191234
#   b = offset[31:16] 0xc010 << 16 | P DPL S = 1 11 0 = 0xe << 12 | type 0xc << 8 | params 0 = 0xc010ec00
CALL_GATE = 0xC010EC00E0191234


def test_hand_worked_descriptors():
    assert SegmentDescriptor.flat(1, code=True).encode() == FLAT_RING1_CODE
    assert SegmentDescriptor.flat(1, code=False).encode() == FLAT_RING1_DATA
    assert SegmentDescriptor.flat(3, code=True).encode() == FLAT_RING3_CODE
    assert SegmentDescriptor.flat(3, code=False).encode() == FLAT_RING3_DATA
    assert SegmentDescriptor.flat(0, code=True).encode() == FLAT_RING0_CODE
    d = decode(ODD_DATA)
    assert (d.base, d.limit, d.g, d.db, d.dpl, d.s, d.type, d.p) == (0x12345678, 0xABCDE, 0, 1, 3, 1, 2, 1)
    assert d.byte_limit == 0xABCDE and d.writable and not d.expand_down
    g = decode(CALL_GATE)
    assert isinstance(g, GateDescriptor)
    assert (g.selector, g.offset, g.param_count, g.dpl, g.type) == (0xE019, 0xC0101234, 0, 3, 0xC)
    assert GateDescriptor(selector=0xE019, offset=0xC0101234, dpl=3).encode() == CALL_GATE
    assert decode(FLAT_RING1_CODE).byte_limit == 0xFFFFFFFF
    assert "DPL1" in repr(decode(FLAT_RING1_CODE)) and "0xe019" in repr(g)


def test_words_are_xens_a_and_b():
    a, b = decode(FLAT_RING1_CODE).words
    assert (a, b) == (0x0000FFFF, 0x00CFBA00)


@given(st.integers(0, 2**64 - 1))
def test_decode_encode_round_trip(raw):
    assert decode(raw).encode() == raw


def test_selectors():
    # FLAT_RING1_CS 0xe019: 0xe019 >> 3 = 7171 = FIRST_RESERVED_GDT_ENTRY 7168 + 3, TI 0, RPL 1
    assert (sel_index(0xE019), sel_ti(0xE019), sel_rpl(0xE019)) == (7171, 0, 1)
    assert make_selector(7171, 0, 1) == 0xE019
    assert make_selector(259, 0, 1) == 0x0819       # Xen 2.0's FLAT_RING1_CS
    assert make_selector(3, 1, 3) == 0x1F
    with pytest.raises(ValueError):
        make_selector(8192)


@pytest.fixture
def unit():
    mem = MachineMemory(8)
    gdt = DescriptorTable(mem, [2, 5], 600)            # two frames, entry 512.. in frame 5
    gdt[1] = SegmentDescriptor.flat(1, True)
    gdt[2] = SegmentDescriptor.flat(1, False)
    gdt[3] = SegmentDescriptor.flat(3, True)
    gdt[4] = SegmentDescriptor.flat(3, False)
    gdt[5] = SegmentDescriptor.flat(0, False)
    gdt[6] = SegmentDescriptor(base=0x1000, limit=0xFFF, type=0x2, dpl=3, g=0)        # 4 KiB data
    gdt[7] = SegmentDescriptor(base=0, limit=0x0FFF, type=0x6, dpl=3, g=0, db=1)      # expand-down
    gdt[8] = SegmentDescriptor(base=0, limit=0xFFFFF, type=0x2, dpl=3, p=0)           # not present
    gdt[9] = SegmentDescriptor(base=0, limit=0xFFFFF, type=0x8, dpl=3)                # execute-only
    gdt[10] = SegmentDescriptor(base=0, limit=0xFFFFF, type=0x0, dpl=3)               # read-only data
    gdt[11] = GateDescriptor(selector=make_selector(1, 0, 1), offset=0xC0100000, dpl=3)
    gdt[12] = GateDescriptor(selector=make_selector(1, 0, 1), offset=0xC0100000, dpl=1)
    gdt[13] = SegmentDescriptor(base=0, limit=0xFFFFF, type=0xE, dpl=0)               # conforming r/x
    gdt[550] = SegmentDescriptor.flat(3, False)
    return SegmentUnit(gdt, cpl=3)


def test_descriptor_table_lives_in_frames(unit):
    mem = unit.gdt.memory
    assert mem.read_u64(2 * 4096 + 1 * 8) == FLAT_RING1_CODE
    assert unit.gdt.entry_maddr(550) == 5 * 4096 + 38 * 8
    assert unit.gdt.limit == 600 * 8 - 1
    with pytest.raises(ValueError):
        DescriptorTable(mem, [2], 513)


def gp(code):
    return pytest.raises(GeneralProtectionFault, match=rf"#GP\({code:#x}\)")


def test_load_ok_sets_accessed_and_hidden_part(unit):
    r = unit.load("ds", make_selector(4, 0, 3))
    assert r.base == 0 and r.limit == 0xFFFFFFFF and r.selector == 0x23
    assert unit.gdt.read_raw(4) == FLAT_RING3_DATA | 1 << 40      # the CPU wrote A back
    unit.load("ss", make_selector(550, 0, 3))
    assert unit.ss.cache.dpl == 3


def test_gp_error_codes(unit):
    with gp(601 << 3):                                  # beyond the GDT limit: index|TI, RPL dropped
        unit.load("ds", make_selector(601, 0, 3))
    with gp(0x0C):                                      # LDT selector, no LDT loaded
        unit.load("es", make_selector(1, 1, 3))
    with gp(0):
        unit.load("ss", 0x3)                            # null SS
    with gp(2 << 3):                                    # DPL 1 data from CPL 3
        unit.load("ds", make_selector(2, 0, 3))
    with gp(9 << 3):                                    # execute-only code is not readable
        unit.load("ds", make_selector(9, 0, 3))
    with gp(10 << 3):                                   # SS must be writable
        unit.load("ss", make_selector(10, 0, 3))
    with gp(11 << 3):                                   # a gate is not a data segment
        unit.load("fs", make_selector(11, 0, 3))
    unit.cpl = 1
    with gp(4 << 3):                                    # SS: RPL must equal CPL
        unit.load("ss", make_selector(4, 0, 3))
    with gp(5 << 3):                                    # ring-0 data from ring 1 (Xen's own segment)
        unit.load("ds", make_selector(5, 0, 1))
    with pytest.raises(SegmentNotPresent, match=r"#NP\(0x40\)"):
        unit.cpl = 3
        unit.load("gs", make_selector(8, 0, 3))
    with pytest.raises(StackFault, match=r"#SS\(0x40\)"):
        unit.load("ss", make_selector(8, 0, 3))


def test_null_data_selector_loads_but_faults_on_use(unit):
    unit.load("ds", 0)
    with gp(0):
        unit.linear("ds", 0)


def test_conforming_code_readable_from_any_ring(unit):
    # SDM vol. 2, MOV: the DPL check is skipped for a conforming code segment, so CPL 3 / RPL 3 may
    # load this DPL-0 segment (a non-conforming one, entry 5, gives #GP(0x28) in test_gp_error_codes).
    r = unit.load("ds", make_selector(13, 0, 3))
    assert r.selector == 13 << 3 | 3 == 0x6B
    assert (r.cache.dpl, r.cache.conforming, r.cache.readable, r.cache.writable) == (0, True, True, False)
    assert unit.linear("ds", 0x1234, 4) == 0x1234        # readable through DS
    with gp(0):
        unit.linear("ds", 0x1234, 4, "w")               # but code is never writable


def test_linear_limits(unit):
    unit.load("ds", make_selector(6, 0, 3))
    assert unit.linear("ds", 0x10, 4) == 0x1010
    assert unit.linear("ds", 0xFFC, 4) == 0x1FFC
    with gp(0):
        unit.linear("ds", 0xFFD, 4)                     # last byte 0x1000 > limit 0xfff
    unit.load("es", make_selector(7, 0, 3))             # expand-down, limit 0xfff, B=1
    assert unit.linear("es", 0x1000) == 0x1000
    assert unit.linear("es", 0xFFFFFFFC, 4) == 0xFFFFFFFC
    with gp(0):
        unit.linear("es", 0xFFF)
    unit.load("ss", make_selector(550, 0, 3))
    assert unit.linear("ss", 0xFFFFFFF0, 8, "w") == 0xFFFFFFF0
    unit.load("fs", make_selector(10, 0, 3))
    with gp(0):
        unit.linear("fs", 0, 4, "w")                    # read-only data
    unit.regs["ss"].cache = SegmentDescriptor(limit=0xF, type=0x2, dpl=3, g=0)
    with pytest.raises(StackFault, match=r"#SS\(0x0\)"):
        unit.linear("ss", 0x10, 1, "w")


def test_wraparound_linear(unit):
    unit.regs["gs"].cache = SegmentDescriptor(base=0xFFFFF000, limit=0xFFFFF, type=0x2, dpl=3)
    assert unit.linear("gs", 0x2000) == 0x1000          # base + offset wraps at 4 GiB


def test_call_gate_enters_ring1(unit):
    cs, eip = unit.far_jump(make_selector(11, 0, 3), 0, call=True)
    assert (cs, eip, unit.cpl) == (make_selector(1, 0, 1), 0xC0100000, 1)
    assert unit.cs.cache.dpl == 1


def test_call_gate_privilege(unit):
    with gp(12 << 3):                                   # gate DPL 1 < CPL 3
        unit.far_jump(make_selector(12, 0, 3), 0, call=True)
    with gp(11 << 3):                                   # a jmp does not follow call gates here
        unit.far_jump(make_selector(11, 0, 3), 0)
    with gp(1 << 3):                                    # direct jump to DPL 1 code from ring 3
        unit.far_jump(make_selector(1, 0, 3), 0)
    assert unit.far_jump(make_selector(3, 0, 3), 0x400) == (0x1B, 0x400)
    assert unit.cpl == 3
    assert "cs=0x001b" in repr(unit)
