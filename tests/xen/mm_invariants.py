"""A full scan of machine memory that recomputes every reference Xen's mm should hold, and the
safety properties of issue 4, independently of xen/mm_types.py's bookkeeping."""
import numpy as np

from xenlab.xen.public.xen import DOMID_XEN

PGT = {"l1": 1, "l2": 2, "l3": 3, "gdt": 5, "ldt": 6, "writable": 7}
XEN_L2_FLAG = 1 << 26


def check(machine):
    """Raise AssertionError naming the first violation."""
    mode, ft, mem = machine.paging, machine.frame_table, machine.memory
    n = ft.nr_frames
    esize, per = (4, 1024) if mode == "2level" else (8, 512)
    rows = mem.data.view("<u4" if esize == 4 else "<u8").reshape(n, per)

    def table(m):
        return rows[m].astype(np.uint64)
    ti = ft.type_info.astype(np.int64)
    ttype, tcount = ti >> 29, ti & 0xFFFF
    exp_count = np.zeros(n, np.int64)
    exp_type = np.zeros(n, np.int64)
    owner = ft.owner.astype(np.int64)
    privileged = np.array([i for i, d in machine.domains.items() if d.is_privileged], dtype=np.int64)
    addr = np.uint64(0xFFFFF000 if mode == "2level" else ((1 << 44) - 1) & ~0xFFF)

    def refs(src, slots, want_type, typed_always):
        e = table(src)[:, slots]
        srcs = np.repeat(src, len(slots)).reshape(len(src), len(slots))
        present = (e & np.uint64(1)) != 0
        tgt = ((e[present] & addr) >> np.uint64(12)).astype(np.int64)
        rw = (e[present] & np.uint64(2)) != 0
        assert (tgt < n).all(), "an entry maps a frame that is not RAM"
        from_owner = owner[srcs[present]]
        # A privileged domain may map another domain's frame (mmu_update with foreigndom, as
        # xenconsoled's xc_map_foreign_range does): the entry still holds a reference on it.
        bad = (owner[tgt] != from_owner) & ~np.isin(from_owner, privileged)
        assert not bad.any(), f"a guest entry maps frame {tgt[bad][0]:#x} it does not own"
        np.add.at(exp_count, tgt, 1)
        typed = np.ones_like(rw) if typed_always else rw
        np.add.at(exp_type, tgt[typed], 1)
        got = ttype[tgt[typed]]
        assert (got == want_type).all(), \
            f"frame {tgt[typed][got != want_type][0]:#x} referenced as type {want_type} has type {got[got != want_type][0]}"
        return e

    live = (tcount > 0) & (owner != DOMID_XEN)
    l1s = np.flatnonzero(live & (ttype == PGT["l1"]))
    if l1s.size:
        e = refs(l1s, np.arange(per), PGT["writable"], False)
        flags = e & np.uint64(0x180)
        assert not ((e & np.uint64(1)).astype(bool) & (flags != 0)).any(), "PSE/GLOBAL in a guest L1 entry"
    l2s = np.flatnonzero(live & (ttype == PGT["l2"]))
    xen_slot = 1008 if mode == "2level" else 428
    for protect in (True, False):
        sel = l2s[((ti[l2s] & XEN_L2_FLAG) != 0) == protect] if mode == "pae" else (l2s if protect else l2s[:0])
        if sel.size:
            guest = np.arange(xen_slot) if protect else np.arange(per)
            refs(sel, guest, PGT["l1"], True)
            if protect:
                assert not table(sel)[:, xen_slot:].any(), "a guest L2 has entries in Xen's slots"
    if mode == "pae":
        l3s = np.flatnonzero(live & (ttype == PGT["l3"]))
        for slot in range(4):
            if l3s.size:
                refs(l3s, np.array([slot]), PGT["l2"], True)
        for m in l3s.tolist():
            s3 = int(rows[m][3]) >> 12 & 0xFFFFFFFF
            assert rows[m][3] & 1 and ti[s3] & XEN_L2_FLAG, "L3 slot 3 is not a protected L2"
    # pins, roots, GDT frames, allocation, Xen's own references
    exp_count += (ft.count_info.astype(np.int64) >> 31) & 1
    pinned = np.flatnonzero((ti >> 27) & 1)
    exp_count[pinned] += 1
    exp_type[pinned] += 1
    for d in machine.domains.values():
        for v in d.vcpus:
            mm = getattr(v, "mm", None)
            if mm is None:
                continue
            for m in ([mm.guest_table] if mm.guest_table else []) + list(mm.gdt_frames):
                exp_count[m] += 1
                exp_type[m] += 1
            for m in mm.gdt_frames:
                assert ttype[m] == PGT["gdt"], f"GDT frame {m:#x} is not of GDT type"
    for m in machine.xen_heap_frames:
        exp_count[m] += 1
        exp_type[m] += 1
    guest = np.flatnonzero((owner >= 0) & (owner != DOMID_XEN))
    count = ft.count_info.astype(np.int64) & ((1 << 29) - 1)
    bad = guest[count[guest] != exp_count[guest]]
    assert bad.size == 0, f"mfn {bad[0]:#x}: count {count[bad[0]]} but a scan finds {exp_count[bad[0]]}"
    bad = guest[tcount[guest] != exp_type[guest]]
    assert bad.size == 0, f"mfn {bad[0]:#x}: type count {tcount[bad[0]]} but a scan finds {exp_type[bad[0]]}"
    assert ((tcount[guest] == 0) | ((ti[guest] >> 28) & 1 == 1)).all(), "a typed page is not validated"
