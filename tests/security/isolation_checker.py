"""An independent isolation checker for the cross-subsystem fuzzer (issue 10).

Written from raw bytes and the frame table's columns only; it calls nothing in xenlab's mm, gnttab or
domain code. After any step it asserts:

- frames are conserved: owned + free + Xen = total; the free list has no duplicates and every free
  frame is unowned with no reference; each domain's tot_pages counts its domain-heap frames;
- isolation: every present entry of a guest's L1 maps a frame the guest owns (a privileged domain
  may map foreign frames: xenconsoled's mapping), every L2/L3 entry names a frame of the same owner
  typed as the next level, Xen's L2 slots are empty, each vcpu's CR3 is its own root; so what the
  hardware can walk to from a domU's CR3 is its own memory. A grant mapping names a frame its granter
  still owns, pinned by Xen for that mapper (a write pin for a writable mapping; the shared entry is
  the granter's own memory, which it may rewrite, so it is not the authority);
- no writable mapping of a page-table or descriptor frame: no L1 entry with R/W set names a frame
  that the raw walk uses as a table, a GDT frame, or a frame typed as anything but writable;
- reference counts recomputed from the raw entries (plus pins, roots, GDTs, the allocation bit,
  Xen's reference on its shared pages and one per pinned grant) equal the frame table's
  count_info and type_info counts.
"""
from __future__ import annotations

import numpy as np

FREE, DOMID_XEN = -1, 0x7FF2
_L1, _L2, _L3, _GDT, _LDT, _W = 1, 2, 3, 5, 6, 7
_XEN_L2 = 1 << 26
_PINNED, _VALID = 1 << 27, 1 << 28
_ALLOC = 1 << 31
_GNTMAP_readonly = 4


def check(m) -> None:
    ft = m.frame_table
    n = ft.nr_frames
    owner = ft.owner.astype(np.int64)
    ci = ft.count_info.astype(np.int64)
    ti = ft.type_info.astype(np.int64)
    count, alloc = ci & ((1 << 29) - 1), (ci >> 31) & 1
    ttype, tcount = (ti >> 29) & 7, ti & 0xFFFF

    # -- conservation ---------------------------------------------------------------------------
    free = owner == FREE
    xen = owner == DOMID_XEN
    dom = ~free & ~xen
    assert int(free.sum() + xen.sum() + dom.sum()) == n
    assert int(free.sum()) == ft.free_frames == len(set(ft._free)), "free list and owner column disagree"
    assert not (count[free].any() or ti[free].any()), "a free frame has references or a type"
    xenheap = np.zeros(n, bool)
    if m.xen_heap_frames:
        xenheap[np.fromiter(m.xen_heap_frames, np.int64)] = True
    for d in m.domains.values():
        mine = owner == d.domain_id
        assert d.tot_pages == int((mine & ~xenheap).sum()), f"d{d.domain_id} tot_pages {d.tot_pages}"
    live_ids = set(m.domains)
    strays = set(np.unique(owner[dom]).tolist()) - live_ids
    for s in strays:                       # a dead domain's page may only survive while referenced
        assert (count[owner == s] > 0).all(), f"frame of dead d{s} with no reference"
    privileged = np.array([i for i, d in m.domains.items() if d.is_privileged], np.int64)

    # -- page tables, from raw entries -------------------------------------------------------------
    pae = m.paging == "pae"
    per = 512 if pae else 1024
    rows = m.memory.data.view("<u8" if pae else "<u4").reshape(n, per)
    addr = np.uint64(((1 << 44) - 1) & ~0xFFF if pae else 0xFFFFF000)
    exp_c = alloc.copy()
    exp_t = np.zeros(n, np.int64)
    live = (tcount > 0) & ((ti & _VALID) != 0) & dom

    def entries(tables, slots):
        e = rows[tables][:, slots].astype(np.uint64)
        src = np.repeat(tables, len(slots)).reshape(len(tables), len(slots))
        p = (e & np.uint64(1)) != 0
        tgt = ((e[p] & addr) >> np.uint64(12)).astype(np.int64)
        assert (tgt < n).all(), "a page-table entry names a frame that is not RAM"
        return src[p], tgt, (e[p] & np.uint64(2)) != 0, e[p]

    l1s = np.flatnonzero(live & (ttype == _L1))
    l2s = np.flatnonzero(live & (ttype == _L2))
    l3s = np.flatnonzero(live & (ttype == _L3)) if pae else np.zeros(0, np.int64)
    gdts = [f for d in m.domains.values() for v in d.vcpus for f in getattr(getattr(v, "mm", None), "gdt_frames", [])]
    table_frames = np.zeros(n, bool)
    table_frames[l1s] = table_frames[l2s] = table_frames[l3s] = True
    table_frames[np.asarray(gdts, np.int64)] = True
    if l1s.size:
        src, tgt, rw, e = entries(l1s, np.arange(per))
        foreign = (owner[tgt] != owner[src]) & ~np.isin(owner[src], privileged)
        assert not foreign.any(), f"d{owner[src][foreign][0]}'s L1 maps mfn {tgt[foreign][0]:#x} of d{owner[tgt][foreign][0]}"
        assert not (e & np.uint64(0x180)).any(), "PSE/GLOBAL in an L1 entry"
        assert not table_frames[tgt[rw]].any(), f"writable mapping of table/descriptor mfn {tgt[rw][table_frames[tgt[rw]]][0]:#x}"
        assert (ttype[tgt[rw]] == _W).all(), "a writable mapping of a frame not typed writable"
        np.add.at(exp_c, tgt, 1)
        np.add.at(exp_t, tgt[rw], 1)
    xen_slot = 428 if pae else 1008
    if l2s.size:
        prot = l2s if not pae else l2s[(ti[l2s] & _XEN_L2) != 0]
        rest = l2s[:0] if not pae else l2s[(ti[l2s] & _XEN_L2) == 0]
        for tabs, slots in ((prot, np.arange(xen_slot)), (rest, np.arange(per))):
            if tabs.size:
                src, tgt, rw, e = entries(tabs, slots)
                assert (owner[tgt] == owner[src]).all(), "an L2 entry names another domain's frame"
                assert (ttype[tgt] == _L1).all(), "an L2 entry names a frame not typed L1"
                np.add.at(exp_c, tgt, 1)
                np.add.at(exp_t, tgt, 1)
        if prot.size:
            assert not rows[prot][:, xen_slot:].any(), "a guest L2 has entries in Xen's slots"
    if l3s.size:
        src, tgt, rw, e = entries(l3s, np.arange(4))
        assert (owner[tgt] == owner[src]).all() and (ttype[tgt] == _L2).all(), "bad L3 entry"
        np.add.at(exp_c, tgt, 1)
        np.add.at(exp_t, tgt, 1)
    pinned = np.flatnonzero((ti & _PINNED) != 0)
    exp_c[pinned] += 1
    exp_t[pinned] += 1
    for d in m.domains.values():
        for v in d.vcpus:
            mm = getattr(v, "mm", None)
            if mm is None:
                continue
            if mm.guest_table:
                assert int(owner[mm.guest_table]) == d.domain_id, f"d{d.domain_id}'s root is not its own"
                if not d.is_dying:
                    assert v.cr3 >> 12 == mm.guest_table, "CR3 is not the validated root"
                exp_c[mm.guest_table] += 1
                exp_t[mm.guest_table] += 1
            for f in mm.gdt_frames:
                assert int(owner[f]) == d.domain_id and ttype[f] == _GDT, "a GDT frame not own or not typed"
                exp_c[f] += 1
                exp_t[f] += 1
    for f in m.xen_heap_frames:
        exp_c[f] += 1
        exp_t[f] += 1

    # -- grants: what each mapper holds, against the granter's raw entry ------------------------------
    for d in m.domains.values():
        gt = getattr(d, "grant_table", None)
        if gt is None:
            continue
        for act in gt.active.values():
            if act.pin:
                exp_c[act.frame] += 1
                exp_t[act.frame] += 1 if act.pin & 0x00FF00FF else 0
        for mt in gt.maptrack:
            if mt is None:
                continue
            rd = m.domains.get(mt.domid)
            assert rd is not None and int(owner[mt.frame]) == mt.domid, "a mapping of a frame its granter lost"
            # The granter may rewrite its shared entry at any time (it is its own memory, as in Xen),
            # so the mapping is checked against Xen's pin of it: held for this mapper, on this frame,
            # with a write pin for a writable mapping (hence the writable type counted above).
            act = rd.grant_table.active.get(mt.ref)
            assert act is not None and act.domid == d.domain_id and act.frame == mt.frame, \
                "a mapping Xen holds no pin for"
            if not mt.flags & _GNTMAP_readonly:
                assert act.pin & 0x00FF00FF, "a writable mapping without a write pin"
            else:
                assert act.pin & 0xFF00FF00, "a read-only mapping without a read pin"

    # -- the counts -------------------------------------------------------------------------------------
    g = np.flatnonzero(dom & ~np.isin(owner, list(strays)))
    bad = g[count[g] != exp_c[g]]
    assert bad.size == 0, f"mfn {bad[0]:#x}: count {count[bad[0]]}, the raw scan finds {exp_c[bad[0]]}"
    bad = g[tcount[g] != exp_t[g]]
    assert bad.size == 0, f"mfn {bad[0]:#x}: type count {tcount[bad[0]]}, the raw scan finds {exp_t[bad[0]]}"
