"""Exercises 03, 04a and 04b on the live model: the student's function next to what Xen does.

Each ``compare_*`` makes the real thing happen on a small machine (update_descriptor, a walk by the
MMU model, an mmu_update) and calls the student's function on the same inputs, returning rows
"agree"/"DIFFERS". A function that is not written yet, raises or loops is reported as such; nothing
here raises because of the student's code.
"""
from __future__ import annotations

from xenlab.i18n import t
from xenlab.viz.cpu_exercises import _call, _row, bad_result


def compare_descriptor(check_descriptor) -> str:
    import xenlab
    from xenlab.guest.gdt import guest_gdt
    from xenlab.hw.segments import GateDescriptor, SegmentDescriptor
    rows = []
    for mode in ("2level", "pae"):
        m = xenlab.Machine(memory_mb=64, seed=0, paging=mode)
        d = m.create_domain(xenlab.DomainConfig(name="ex03", memory=8))
        d.pause()
        gdt = guest_gdt(d)
        cases = [("ring0_code", SegmentDescriptor.flat(0, True)), ("ring3_flat", SegmentDescriptor.flat(3, False)),
                 ("ring1_1mib", SegmentDescriptor(base=0x100000, limit=0xFF, type=2, dpl=1)),
                 ("base_xen", SegmentDescriptor(base=0xFF000000, limit=0xF, type=2, dpl=1)),
                 ("gate_xen", GateDescriptor(selector=0xE008, offset=0x1000, dpl=3)),
                 ("gate_kernel", GateDescriptor(selector=0xE019, offset=0xC0100000, dpl=3))]   # viz.memex.desc.*
        for i, (name, desc) in enumerate(cases):
            raw = desc.encode()
            rc = gdt.install(20 + i, raw)
            xen = (rc == 0, gdt.table.read_raw(20 + i) if rc == 0 else raw)
            got, problem = _call(check_descriptor, raw, mode)
            if problem is None:
                try:
                    got = (bool(got[0]), int(got[1]))
                except Exception as exc:
                    problem = bad_result(got, exc)
            rows.append(_row(f"{mode} {t(f'viz.memex.desc.{name}')}", None if problem else (got[0], hex(got[1])), problem,
                             (xen[0], hex(xen[1]))))
    return "\n".join(rows)


def live_walk_machine(mode: str):
    """A machine with one paused PV guest and a few user mappings, for the page walker."""
    import xenlab
    m = xenlab.Machine(memory_mb=64, seed=0, paging=mode)
    d = m.create_domain(xenlab.DomainConfig(name=f"walk-{mode}", memory=8))
    d.pause()
    d.kernel.map_page(0x08048000, 100, writable=False)
    d.kernel.map_page(0x08049000, 101, writable=True)
    return m, d


def _hex(result):
    if result is None:
        return None
    return (None if result[0] is None else hex(result[0]), result[1])


def compare_walk(page_walk) -> str:
    from xenlab.viz.pagewalk import walk_view, walker_problem
    rows = []
    for mode in ("2level", "pae"):
        m, d = live_walk_machine(mode)
        cr3 = d.vcpus[0].cr3
        for va, access, user in ((0xC0001234, "r", False), (0x08048010, "r", True), (0x08048010, "w", True),
                                 (0x08049FF0, "w", True), (0xC0000000, "r", True), (0x50000000, "r", False),
                                 (0xFC000000, "r", False)):
            v = walk_view(m, cr3, va, access, user, d, walker=page_walk)
            xen = (v["maddr"], None) if v["fault"] is None else (None, v["fault"]["error_code"])
            y = v["yours"]
            rows.append(_row(f"{mode} {va:#010x} {access} {t('viz.memex.user' if user else 'viz.memex.kernel')}",
                             _hex(y["result"]), walker_problem(y), _hex(xen)))
    return "\n".join(rows)


def compare_l1(mod_l1_entry) -> str:
    """Requests a guest sends with mmu_update; the student's verdict from the frame table's counts."""
    import xenlab
    from xenlab.xen.page_alloc import PGT_NAMES, PGT_count_mask, PGC_count_mask, PGT_type_mask
    from xenlab.xen.public.memory import mmu_update_t
    m = xenlab.Machine(memory_mb=64, seed=0)
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8))
    b = m.create_domain(xenlab.DomainConfig(name="b", memory=8))
    a.pause()
    b.pause()
    mm = a.kernel.mm
    va = 0x08048000
    ptr = mm._l1_for(va, create=True)
    pt_pfn = sorted(mm.pt_pfns)[-1]
    cases = [("own_rw", mm.pte(200, True, True)), ("pt_rw", mm.pte(pt_pfn, True, True)),
             ("pt_ro", mm.pte(pt_pfn, False, True)), ("foreign", b.p2m[200] << 12 | 7),
             ("global", mm.pte(201, True) | 0x100), ("not_present", 0), ("own_ro", mm.pte(202, False))]   # viz.memex.l1.*
    rows = []
    for name, new in cases:
        old = m.memory.read_u32(ptr)
        mfns = {old >> 12, new >> 12}
        frames = {}
        for mfn in mfns:
            if 0 <= mfn < m.frame_table.nr_frames and int(m.frame_table.owner[mfn]) >= 0:
                ti = int(m.frame_table.type_info[mfn])
                frames[mfn] = {"owner": int(m.frame_table.owner[mfn]),
                               "count": int(m.frame_table.count_info[mfn]) & PGC_count_mask,
                               "type": PGT_NAMES[ti & PGT_type_mask], "type_count": ti & PGT_count_mask}
        got, problem = _call(mod_l1_entry, frames, a.domain_id, old, new)
        rc = a.hypercall("mmu_update", [mmu_update_t(ptr, new)])
        rows.append(_row(t(f"viz.memex.l1.{name}"), None if problem else bool(got), problem, rc == 0))
    return "\n".join(rows)
