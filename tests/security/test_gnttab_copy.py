"""Holes 1 and 2 of issue 10: GNTTABOP_copy out of its page, and into a typed frame.

Judged on raw bytes: the whole of machine memory and the frame table are compared before and after
each refused copy, and what the attacker's page tables reach is recomputed by walking their raw
bytes (sec_helpers.reachable), not by asking the model."""
import numpy as np
import pytest

from xenlab.guest.gdt import guest_gdt
from xenlab.xen.public import grant_table as G

from sec_helpers import (DOMID_SELF, PAGE, boot, copy_op, data_frames, fill, frame_bytes, gnttab, owned,
                         reach_of)


def _state(m):
    ft = m.frame_table
    return (bytes(m.memory.data), ft.owner.copy(), ft.count_info.copy(), ft.type_info.copy())


def _same(a, b) -> bool:
    return a[0] == b[0] and all((x == y).all() for x, y in zip(a[1:], b[1:]))


def _edge_frame(m, d, below: bool) -> int:
    """One of d's ordinary frames whose neighbour (below or above) belongs to somebody else."""
    mine = owned(m, d)
    for f in data_frames(m, d):
        if (f - 1 if below else f + 1) not in mine:
            return f
    raise AssertionError("no frame at the edge of a block")


@pytest.mark.parametrize("case", ["write_below", "read_below", "write_above", "whole_frame_below",
                                  "negative_len", "u16_wrap", "huge_len", "not_an_int"])
def test_copy_outside_the_page_is_bad_copy_arg_and_touches_nothing(case):
    m, mal, vic = boot()
    fill(m, data_frames(m, vic), b"VICTIM")
    below, above = _edge_frame(m, mal, below=True), _edge_frame(m, mal, below=False)
    spare = next(f for f in data_frames(m, mal) if f not in (below, above))
    fill(m, [spare], b"MALLORY")
    neighbour_below = frame_bytes(m, below - 1)
    src, dst, n = {
        "write_below": ((spare, DOMID_SELF, 0), (below, DOMID_SELF, -16), 16),
        "read_below": ((below, DOMID_SELF, -16), (spare, DOMID_SELF, 0), 16),
        "write_above": ((spare, DOMID_SELF, 0), (above, DOMID_SELF, PAGE - 8), 16),
        "whole_frame_below": ((below, DOMID_SELF, -PAGE), (spare, DOMID_SELF, 0), PAGE),
        "negative_len": ((spare, DOMID_SELF, 64), (below, DOMID_SELF, 64), -64),
        "u16_wrap": ((spare, DOMID_SELF, 0), (below, DOMID_SELF, (1 << 16) - 16), 16),
        "huge_len": ((spare, DOMID_SELF, 0), (below, DOMID_SELF, 0), (1 << 32) + 16),
        "not_an_int": ((spare, DOMID_SELF, 0), (below, DOMID_SELF, None), 16),
    }[case]
    before = _state(m)
    op = copy_op(src, dst, n)
    assert gnttab(mal, G.GNTTABOP_copy, op) == 0
    assert op.status == G.GNTST_bad_copy_arg
    assert _same(before, _state(m)), "a refused copy changed memory or the frame table"
    assert frame_bytes(m, below - 1) == neighbour_below
    assert b"VICTIM" not in frame_bytes(m, spare)          # nothing of the neighbour was read


def test_copy_inside_the_page_still_works():
    m, mal, vic = boot()
    a, b = data_frames(m, mal)[-2:]
    m.memory.write_bytes(a * PAGE + PAGE - 10, b"0123456789")
    op = copy_op((a, DOMID_SELF, PAGE - 10), (b, DOMID_SELF, 0), 10)
    assert gnttab(mal, G.GNTTABOP_copy, op) == 0 and op.status == G.GNTST_okay
    assert frame_bytes(m, b)[:10] == b"0123456789"


def _tables(m, d):
    """d's frames in use as page tables, by level, from the frame table's type column."""
    ti = m.frame_table.type_info
    out = {}
    for f in sorted(owned(m, d)):
        t = int(ti[f]) >> 29
        if t in (1, 2, 3) and int(ti[f]) & 0xFFFF:
            out.setdefault(t, []).append(f)
    return out


@pytest.mark.parametrize("paging", ["2level", "pae"])
def test_copy_cannot_forge_page_table_entries(paging):
    """The attacker writes a forged entry into its own ordinary frame and copies it into its own L1
    (mapping the victim's frame writable), its L2 (a guest slot and Xen's slots), its PAE L3: each
    copy fails and afterwards its raw page tables reach no frame it does not own."""
    m, mal, vic = boot(paging)
    esize, per = (4, 1024) if paging == "2level" else (8, 512)
    secret = data_frames(m, vic)[5]
    fill(m, [secret], b"SECRET")
    stage = data_frames(m, mal)[-1]
    tables = _tables(m, mal)
    fake_l1 = data_frames(m, mal)[-2]
    m.memory.write_bytes(fake_l1 * PAGE, ((secret << 12 | 0x67).to_bytes(esize, "little")) * per)
    attempts = []
    for l1 in tables[1][:2]:
        attempts.append((l1, per - 1, secret << 12 | 0x67))                 # the victim's frame, RW
        attempts.append((l1, per - 2, l1 << 12 | 0x67))                     # the L1 itself, RW
    for l2 in tables[2]:
        attempts.append((l2, per - 1, fake_l1 << 12 | 0x67))               # Xen's slot (or the top)
        attempts.append((l2, 5, fake_l1 << 12 | 0x67))                     # a guest slot
    for l3 in tables.get(3, []):
        attempts.append((l3, 1, fake_l1 << 12 | 0x1))
    assert len(attempts) >= 4
    for target, slot, forged in attempts:
        m.memory.write_bytes(stage * PAGE, forged.to_bytes(esize, "little"))
        before = frame_bytes(m, target)
        op = copy_op((stage, DOMID_SELF, 0), (target, DOMID_SELF, slot * esize), esize)
        assert gnttab(mal, G.GNTTABOP_copy, op) == 0
        assert op.status == G.GNTST_general_error, (target, slot)
        assert frame_bytes(m, target) == before
    reach = reach_of(m, mal)
    assert secret not in reach
    mine = owned(m, mal)
    assert all(f in mine for f in reach), "the attacker's tables reach a frame it does not own"
    assert not any(w and (int(m.frame_table.type_info[f]) >> 29) in (1, 2, 3, 5, 6)
                   for f, w in reach.items()), "a page-table or descriptor frame is reachable writable"


def test_copy_cannot_write_the_gdt():
    """A ring-0 code descriptor copied into the attacker's own GDT frame is refused; the raw GDT bytes
    stay as Xen validated them."""
    m, mal, vic = boot()
    gdt = guest_gdt(mal)
    assert gdt.rc == 0 and m.frame_table[gdt.mfn].type == "gdt"
    stage = data_frames(m, mal)[-1]
    ring0_code = 0x00CF9A000000FFFF
    m.memory.write_u64(stage * PAGE, ring0_code)
    before = frame_bytes(m, gdt.mfn)
    op = copy_op((stage, DOMID_SELF, 0), (gdt.mfn, DOMID_SELF, 8 * 20), 8)
    gnttab(mal, G.GNTTABOP_copy, op)
    assert op.status == G.GNTST_general_error
    assert frame_bytes(m, gdt.mfn) == before
    assert np.frombuffer(before, "<u8")[20] != ring0_code
