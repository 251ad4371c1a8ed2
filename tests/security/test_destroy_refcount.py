"""Hole 3 of issue 10: frames freed while a foreign domain still maps them.

Two colluding unprivileged guests: mallory grants a page to eve, eve maps it, mallory shuts itself
down and is destroyed, a new victim domain is built from the free memory. Judged on bytes and on the
frame table's owner column: the victim must never own the frame eve still maps, and nothing eve
writes through its stale mapping may land in a victim frame. The other direction: a destroyed
mapper must release its mappings, so the granter's raw grant entry loses GTF_reading/GTF_writing."""
import xenlab
from xenlab.guest.gnttab import guest_grants
from xenlab.xen.gnttab import foreign_page
from xenlab.xen.page_alloc import FREE
from xenlab.xen.public import grant_table as G
from xenlab.xen.public.memory import XENMEM_decrease_reservation, xen_memory_reservation
from xenlab.xen.public.xen import SCHEDOP_shutdown, SHUTDOWN_poweroff, sched_shutdown

from sec_helpers import PAGE, boot, data_frames, frame_bytes, gnttab, owned


def _map(mapper, granter, ref, readonly=False):
    op = G.GnttabMapGrantRef(flags=G.GNTMAP_host_map | (G.GNTMAP_readonly if readonly else 0), ref=ref,
                             dom=granter.domain_id)
    assert gnttab(mapper, G.GNTTABOP_map_grant_ref, op) == 0 and op.status == G.GNTST_okay
    return op.handle


def _conserved(m):
    ft = m.frame_table
    assert int((ft.owner == FREE).sum()) == ft.free_frames
    return ft.free_frames


def test_granter_destroyed_while_mapped_keeps_the_frame_until_unmap():
    m, mallory, eve = boot(victims=1)
    frame = data_frames(m, mallory)[10]
    ref = guest_grants(mallory.kernel).grant_foreign_access(eve.domain_id, frame)
    handle = _map(eve, mallory, ref)
    page = foreign_page(eve, handle)
    mid = mallory.domain_id
    # mallory shuts itself down; xend destroys it (on_poweroff = destroy)
    assert mallory.hypercall("sched_op", SCHEDOP_shutdown, sched_shutdown(SHUTDOWN_poweroff)) == 0
    m.run_for(50_000_000)
    xenlab.xm(m, f"destroy {mid}") if mid in m.domains and not m.domains[mid].is_dying else None
    assert int(m.frame_table.owner[frame]) == mid, "the mapped frame was freed under the mapping"
    assert mallory.is_dying and m.domains.get(mid) is mallory           # kept, dying, until unmapped
    # a victim takes (nearly) all the free memory
    free_mb = (m.frame_table.free_frames - 64) >> 8
    victim = m.create_domain(xenlab.DomainConfig(name="victim", memory=free_mb))
    assert frame not in owned(m, victim)
    before = {f: frame_bytes(m, f) for f in owned(m, victim)}
    page.write(0, b"PWNED" * 100)                                       # eve's stale mapping
    assert page.read(0, 5) == b"PWNED"
    after = {f: frame_bytes(m, f) for f in owned(m, victim)}
    assert before == after, "eve's write through the stale mapping landed in the victim's memory"
    assert not any(b"PWNED" in b for b in after.values())
    # eve unmaps: the last reference goes, the frame is freed, the dead domain leaves the list
    op = G.GnttabUnmapGrantRef(handle=handle)
    assert gnttab(eve, G.GNTTABOP_unmap_grant_ref, op) == 0 and op.status == G.GNTST_okay
    assert int(m.frame_table.owner[frame]) == FREE and mid not in m.domains
    assert frame_bytes(m, frame) == bytes(PAGE)                          # scrubbed before reuse
    assert not (m.frame_table.owner == mid).any()
    _conserved(m)


def test_destroyed_granter_without_mappings_frees_everything_at_once():
    m, mallory, eve = boot(victims=1)
    free0 = m.frame_table.free_frames
    n = len(owned(m, mallory))
    xenlab.xm(m, "destroy mallory")
    assert mallory.domain_id not in m.domains
    assert m.frame_table.free_frames == free0 + n
    _conserved(m)


def test_destroyed_mapper_releases_its_mappings():
    m, mallory, eve = boot(victims=1)
    g = guest_grants(mallory.kernel)
    rw, ro = data_frames(m, mallory)[10:12]
    ref_rw = g.grant_foreign_access(eve.domain_id, rw)
    ref_ro = g.grant_foreign_access(eve.domain_id, ro, readonly=True)
    _map(eve, mallory, ref_rw)
    _map(eve, mallory, ref_ro, readonly=True)
    raw = lambda ref: m.memory.read_u16(g._addr(ref))                   # the shared entry's flags, raw
    assert raw(ref_rw) & (G.GTF_reading | G.GTF_writing) == G.GTF_reading | G.GTF_writing
    xenlab.xm(m, f"destroy {eve.domain_id}")
    assert eve.domain_id not in m.domains
    assert raw(ref_rw) & (G.GTF_reading | G.GTF_writing) == 0
    assert raw(ref_ro) & (G.GTF_reading | G.GTF_writing) == 0
    assert g.end_foreign_access(ref_rw) and g.end_foreign_access(ref_ro)   # revocable again
    # no reference is left behind: ballooning the pages out frees them at once
    from xenlab.guest.pages import unmap_direct
    pfns = [int(m.m2p[f]) for f in (rw, ro)]
    for pfn in pfns:
        unmap_direct(mallory.kernel, pfn)
    res = xen_memory_reservation(extent_start=[rw, ro], nr_extents=2)
    assert mallory.hypercall("memory_op", XENMEM_decrease_reservation, res) == 2
    assert int(m.frame_table.owner[rw]) == FREE and int(m.frame_table.owner[ro]) == FREE
    _conserved(m)


def test_dying_domain_refuses_new_maps_and_survives_double_destroy():
    m, mallory, eve = boot(victims=1)
    frame = data_frames(m, mallory)[10]
    g = guest_grants(mallory.kernel)
    ref = g.grant_foreign_access(eve.domain_id, frame)
    ref2 = g.grant_foreign_access(eve.domain_id, data_frames(m, mallory)[11])
    _map(eve, mallory, ref)
    m.domain_destroy(mallory)
    m.domain_destroy(mallory)                                            # a second destroy: no-op
    op = G.GnttabMapGrantRef(flags=G.GNTMAP_host_map, ref=ref2, dom=mallory.domain_id)
    gnttab(eve, G.GNTTABOP_map_grant_ref, op)
    assert op.status == G.GNTST_bad_domain
    left = owned(m, mallory) - m.xen_heap_frames                         # its shared_info and grant
    assert left == {frame}                                               # frames go at destruction
    xenlab.xm(m, f"destroy {eve.domain_id}")                                          # eve's death unmaps it
    assert mallory.domain_id not in m.domains and int(m.frame_table.owner[frame]) == FREE
    _conserved(m)
