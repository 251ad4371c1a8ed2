"""Grant tables against xen-facts section 4: every GNTST path, pin counts, the GTF flags, transfer."""
import pytest

import xenlab
from xenlab.guest.gnttab import guest_grants
from xenlab.xen import gnttab
from xenlab.xen.public import errno as E
from xenlab.xen.public import grant_table as G
from xenlab.xen.public.xen import DOMID_SELF


@pytest.fixture(scope="module")
def base():
    m = xenlab.Machine(memory_mb=64, seed=3)
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8))
    b = m.create_domain(xenlab.DomainConfig(name="b", memory=8))
    return m, a, b


@pytest.fixture
def env(base):
    m, a, b = base
    snap = m.snapshot()
    return snap, snap.domains[a.domain_id], snap.domains[b.domain_id]


def unmapped(d, pfn):
    """The frame of d's pfn once d's kernel has dropped its own mapping of it (as before a transfer)."""
    from xenlab.guest.pages import unmap_direct
    unmap_direct(d.kernel, pfn)
    return d.p2m[pfn]


def gop(d, cmd, *ops, count=None):
    return d.hypercall("grant_table_op", cmd, list(ops), len(ops) if count is None else count)


def map_(mapper, granter, ref, flags=G.GNTMAP_host_map):
    op = G.GnttabMapGrantRef(flags=flags, ref=ref, dom=granter.domain_id)
    assert gop(mapper, G.GNTTABOP_map_grant_ref, op) == 0
    return op


def unmap(mapper, handle):
    op = G.GnttabUnmapGrantRef(handle=handle)
    assert gop(mapper, G.GNTTABOP_unmap_grant_ref, op) == 0
    return op.status


def test_setup_table_gives_real_frames_and_entries_are_bytes(env):
    m, a, _ = env
    op = G.GnttabSetupTable(dom=DOMID_SELF, nr_frames=4)
    assert gop(a, G.GNTTABOP_setup_table, op) == 0 and op.status == G.GNTST_okay
    assert len(op.frame_list) == 4 and len(set(op.frame_list)) == 4
    g = guest_grants(a.kernel)
    ref = g.grant_foreign_access(0, a.p2m[20], readonly=True)
    raw = m.memory.read_bytes((op.frame_list[0] << 12) + 8 * ref, 8)
    assert G.GrantEntryV1.unpack(raw) == G.GrantEntryV1(G.GTF_permit_access | G.GTF_readonly, 0, a.p2m[20])


def test_setup_table_errors(env):
    m, a, b = env
    assert gop(a, G.GNTTABOP_setup_table, G.GnttabSetupTable(dom=DOMID_SELF, nr_frames=1),
               G.GnttabSetupTable(), count=2) == -E.EINVAL
    big = G.GnttabSetupTable(dom=DOMID_SELF, nr_frames=5)
    gop(a, G.GNTTABOP_setup_table, big)
    assert big.status == G.GNTST_general_error
    other = G.GnttabSetupTable(dom=b.domain_id, nr_frames=1)
    gop(a, G.GNTTABOP_setup_table, other)
    assert other.status == G.GNTST_permission_denied
    ghost = G.GnttabSetupTable(dom=77, nr_frames=1)
    gop(m.dom0, G.GNTTABOP_setup_table, ghost)
    assert ghost.status == G.GNTST_bad_domain
    q = G.GnttabQuerySize(dom=DOMID_SELF)
    gop(a, G.GNTTABOP_query_size, q)
    assert (q.status, q.max_nr_frames) == (G.GNTST_okay, 4)
    q = G.GnttabQuerySize(dom=b.domain_id)
    gop(a, G.GNTTABOP_query_size, q)
    assert q.status == G.GNTST_permission_denied


def test_unknown_op_and_bad_list(env):
    _, a, _ = env
    assert a.hypercall("grant_table_op", 99, [], 0) == -E.ENOSYS
    assert a.hypercall("grant_table_op", G.GNTTABOP_map_grant_ref, [G.GnttabCopy()], 1) == -E.EFAULT
    assert a.hypercall("grant_table_op", G.GNTTABOP_map_grant_ref, [], 1) == -E.EFAULT


def test_map_check_order(env):
    m, a, b = env
    g = guest_grants(a.kernel)
    ref = g.grant_foreign_access(b.domain_id, a.p2m[30])
    cases = [
        (dict(flags=G.GNTMAP_host_map, ref=G.NR_GRANT_ENTRIES, dom=77), G.GNTST_bad_gntref),   # ref first
        (dict(flags=0, ref=ref, dom=a.domain_id), G.GNTST_bad_gntref),                         # no map kind
        (dict(flags=G.GNTMAP_host_map, ref=ref, dom=77), G.GNTST_bad_domain),
        (dict(flags=G.GNTMAP_host_map, ref=ref, dom=b.domain_id), G.GNTST_bad_domain),         # b maps itself
        (dict(flags=G.GNTMAP_host_map, ref=ref + 1, dom=a.domain_id), G.GNTST_general_error),  # invalid entry
    ]
    for kw, want in cases:
        op = G.GnttabMapGrantRef(**kw)
        gop(b, G.GNTTABOP_map_grant_ref, op)
        assert op.status == want, kw
    # Granted to b, not to dom0.
    op = G.GnttabMapGrantRef(flags=G.GNTMAP_host_map, ref=ref, dom=a.domain_id)
    gop(m.dom0, G.GNTTABOP_map_grant_ref, op)
    assert op.status == G.GNTST_general_error
    assert g.entry(ref).flags == G.GTF_permit_access      # a failed map leaves no flag behind


def test_readonly_rules_and_pins(env):
    m, a, b = env
    g = guest_grants(a.kernel)
    mfn = a.p2m[31]
    ro = g.grant_foreign_access(b.domain_id, mfn, readonly=True)
    w = map_(b, a, ro)
    assert w.status == G.GNTST_general_error              # writable map of a GTF_readonly entry
    r1 = map_(b, a, ro, G.GNTMAP_host_map | G.GNTMAP_readonly)
    r2 = map_(b, a, ro, G.GNTMAP_device_map | G.GNTMAP_readonly)
    assert (r1.status, r2.status) == (0, 0) and r1.handle != r2.handle
    assert r2.dev_bus_addr == mfn << 12
    act = a.grant_table.active[ro]
    assert act.counts() == {"host_write": 0, "host_read": 1, "dev_write": 0, "dev_read": 1}
    assert act.pin == gnttab.GNTPIN_hstr_inc + gnttab.GNTPIN_devr_inc
    assert g.entry(ro).flags == G.GTF_permit_access | G.GTF_readonly | G.GTF_reading
    assert not g.end_foreign_access(ro)                   # in use: the guest may not revoke
    assert unmap(b, r1.handle) == 0
    assert g.entry(ro).flags & G.GTF_reading              # still one pin
    assert unmap(b, r2.handle) == 0
    assert g.entry(ro).flags == G.GTF_permit_access | G.GTF_readonly
    assert ro not in a.grant_table.active
    assert g.end_foreign_access(ro)


def test_writing_flag_follows_write_pins(env):
    m, a, b = env
    g = guest_grants(a.kernel)
    mfn = a.p2m[32]
    count0, type0 = m.frame_table[mfn].count, m.frame_table[mfn].type_count
    ref = g.grant_foreign_access(b.domain_id, mfn)
    r = map_(b, a, ref, G.GNTMAP_host_map | G.GNTMAP_readonly)
    assert g.entry(ref).flags == G.GTF_permit_access | G.GTF_reading
    w = map_(b, a, ref, G.GNTMAP_host_map)
    assert g.entry(ref).flags == G.GTF_permit_access | G.GTF_reading | G.GTF_writing
    assert m.frame_table[mfn].type == "writable" and m.frame_table[mfn].type_count == type0 + 1
    assert m.frame_table[mfn].count == count0 + 1         # one general reference for the active entry
    unmap(b, w.handle)
    assert g.entry(ref).flags == G.GTF_permit_access | G.GTF_reading
    assert m.frame_table[mfn].type_count == type0
    unmap(b, r.handle)
    assert g.entry(ref).flags == G.GTF_permit_access
    assert m.frame_table[mfn].count == count0


def test_unmap_bad_handle_and_handle_reuse(env):
    m, a, b = env
    for h in (5, -1, 10_000):
        op = G.GnttabUnmapGrantRef(handle=h)
        gop(b, G.GNTTABOP_unmap_grant_ref, op)
        assert op.status == G.GNTST_bad_handle
    g = guest_grants(a.kernel)
    ref = g.grant_foreign_access(b.domain_id, a.p2m[33])
    h1 = map_(b, a, ref).handle
    unmap(b, h1)
    op = G.GnttabUnmapGrantRef(handle=h1)                 # twice
    gop(b, G.GNTTABOP_unmap_grant_ref, op)
    assert op.status == G.GNTST_bad_handle
    assert map_(b, a, ref).handle == h1                   # last freed, first reused


def test_maptrack_full(env):
    m, a, b = env
    g = guest_grants(a.kernel)
    ref = g.grant_foreign_access(b.domain_id, a.p2m[34], readonly=True)
    b_gt = gnttab.grant_table(b)
    b_gt.maptrack_free.clear()
    op = map_(b, a, ref, G.GNTMAP_host_map | G.GNTMAP_readonly)
    assert op.status == G.GNTST_no_device_space


def test_pin_overflow_risk(env):
    m, a, b = env
    g = guest_grants(a.kernel)
    ref = g.grant_foreign_access(b.domain_id, a.p2m[35], readonly=True)
    statuses = [map_(b, a, ref, G.GNTMAP_host_map | G.GNTMAP_readonly).status for _ in range(129)]
    assert statuses[:128] == [0] * 128                    # the 128th pin sets bit 7 of host-read ...
    assert statuses[128] == G.GNTST_general_error         # ... so the next one is refused


def test_page_table_frame_cannot_be_mapped_writable(env):
    m, a, b = env
    g = guest_grants(a.kernel)
    mfn = a.p2m[36]
    m.frame_table.type_info[mfn] = (1 << 29) | (1 << 28) | 1   # an L1 page table in use
    ref = g.grant_foreign_access(b.domain_id, mfn)
    assert map_(b, a, ref).status == G.GNTST_general_error
    assert g.entry(ref).flags == G.GTF_permit_access


def test_granting_a_frame_one_does_not_own(env):
    m, a, b = env
    g = guest_grants(a.kernel)
    ref = g.grant_foreign_access(b.domain_id, b.p2m[40])  # b's own frame, "granted" by a
    assert map_(b, a, ref, G.GNTMAP_host_map | G.GNTMAP_readonly).status == G.GNTST_general_error


def test_foreign_page_checks(env):
    m, a, b = env
    g = guest_grants(a.kernel)
    mfn = a.p2m[41]
    m.memory.write_bytes(mfn << 12, b"hello")
    ref = g.grant_foreign_access(b.domain_id, mfn, readonly=True)
    op = map_(b, a, ref, G.GNTMAP_host_map | G.GNTMAP_readonly)
    page = gnttab.foreign_page(b, op.handle)
    assert page.read(0, 5) == b"hello"
    with pytest.raises(PermissionError):
        page.write(0, b"x")
    with pytest.raises(PermissionError):
        page.read(4090, 10)
    unmap(b, op.handle)
    with pytest.raises(PermissionError):
        page.read(0, 1)


def test_transfer_success(env):
    m, a, b = env
    ga = guest_grants(a.kernel)
    # a gives up pfn 50's frame (decrease_reservation) and offers it for a flip from b.
    pfn = 50
    from xenlab.guest.pages import give_back
    give_back(a.kernel, pfn)
    ref = ga.grant_foreign_transfer(b.domain_id, pfn)
    mfn = unmapped(b, 60)
    m.memory.write_bytes(mfn << 12, b"flipped page")
    tot_a, tot_b = a.tot_pages, b.tot_pages
    op = G.GnttabTransfer(mfn=mfn, domid=a.domain_id, ref=ref)
    assert gop(b, G.GNTTABOP_transfer, op) == 0 and op.status == G.GNTST_okay
    assert (a.tot_pages, b.tot_pages) == (tot_a + 1, tot_b - 1)
    assert m.frame_table[mfn].owner == a.domain_id
    e = ga.entry(ref)
    assert e.flags == G.GTF_accept_transfer | G.GTF_transfer_committed | G.GTF_transfer_completed
    assert e.frame == mfn
    assert ga.end_foreign_transfer(ref) == mfn
    assert m.memory.read_bytes(mfn << 12, 12) == b"flipped page"


def test_transfer_errors(env):
    m, a, b = env
    ga = guest_grants(a.kernel)
    free0 = m.frame_table.free_frames
    # bad page: not ours, Xen's, out of range, or still referenced: the page stays where it was.
    for mfn in (unmapped(a, 61), a.shared_info_mfn, m.frame_table.nr_frames + 5, 0, b.p2m[61]):
        op = G.GnttabTransfer(mfn=mfn, domid=a.domain_id, ref=9)
        gop(b, G.GNTTABOP_transfer, op)
        assert op.status == G.GNTST_bad_page
    busy = unmapped(b, 62)
    m.frame_table.count_info[busy] += 1
    op = G.GnttabTransfer(mfn=busy, domid=a.domain_id, ref=9)
    gop(b, G.GNTTABOP_transfer, op)
    assert op.status == G.GNTST_bad_page and m.frame_table[busy].owner == b.domain_id
    # bad domain: the page is gone from b and freed.
    tot_b = b.tot_pages
    mfn = unmapped(b, 63)
    op = G.GnttabTransfer(mfn=mfn, domid=77, ref=9)
    gop(b, G.GNTTABOP_transfer, op)
    assert op.status == G.GNTST_bad_domain
    assert b.tot_pages == tot_b - 1 and m.frame_table[mfn].owner is None
    # entry not accept_transfer for b / a at max_pages: general error, page freed.
    ref = ga.grant_foreign_access(b.domain_id, a.p2m[64])
    mfn = unmapped(b, 65)
    op = G.GnttabTransfer(mfn=mfn, domid=a.domain_id, ref=ref)
    gop(b, G.GNTTABOP_transfer, op)
    assert op.status == G.GNTST_general_error and m.frame_table[mfn].owner is None
    ref = ga.grant_foreign_transfer(b.domain_id, 66)
    assert a.tot_pages >= a.max_pages                     # a did not give a page back first
    mfn = unmapped(b, 67)
    op = G.GnttabTransfer(mfn=mfn, domid=a.domain_id, ref=ref)
    gop(b, G.GNTTABOP_transfer, op)
    assert op.status == G.GNTST_general_error and m.frame_table[mfn].owner is None
    assert ga.end_foreign_transfer(ref) == 0
    assert m.frame_table.free_frames == free0 + 3


def test_copy(env):
    m, a, b = env
    ga = guest_grants(a.kernel)
    dst_mfn = a.p2m[70]
    ref = ga.grant_foreign_access(b.domain_id, dst_mfn)
    src_mfn = b.p2m[71]
    m.memory.write_bytes((src_mfn << 12) + 100, b"packet payload")
    op = G.GnttabCopy(source=G.GnttabCopyPtr(src_mfn, DOMID_SELF, 100),
                      dest=G.GnttabCopyPtr(ref, a.domain_id, 10), len=14, flags=G.GNTCOPY_dest_gref)
    assert gop(b, G.GNTTABOP_copy, op) == 0 and op.status == G.GNTST_okay
    assert m.memory.read_bytes((dst_mfn << 12) + 10, 14) == b"packet payload"
    assert ga.entry(ref).flags == G.GTF_permit_access     # the transient pin is gone
    bad = [
        (G.GnttabCopy(G.GnttabCopyPtr(src_mfn, DOMID_SELF, 4000), G.GnttabCopyPtr(ref, a.domain_id, 0), 200,
                      G.GNTCOPY_dest_gref), G.GNTST_bad_copy_arg),
        (G.GnttabCopy(G.GnttabCopyPtr(a.p2m[72], a.domain_id, 0), G.GnttabCopyPtr(ref, a.domain_id, 0), 4,
                      G.GNTCOPY_dest_gref), G.GNTST_permission_denied),
        (G.GnttabCopy(G.GnttabCopyPtr(a.p2m[72], DOMID_SELF, 0), G.GnttabCopyPtr(ref, a.domain_id, 0), 4,
                      G.GNTCOPY_dest_gref), G.GNTST_bad_page),
        (G.GnttabCopy(G.GnttabCopyPtr(src_mfn, DOMID_SELF, 0), G.GnttabCopyPtr(ref, 77, 0), 4,
                      G.GNTCOPY_dest_gref), G.GNTST_bad_domain),
        (G.GnttabCopy(G.GnttabCopyPtr(src_mfn, DOMID_SELF, 0), G.GnttabCopyPtr(5000, a.domain_id, 0), 4,
                      G.GNTCOPY_dest_gref), G.GNTST_bad_gntref),
    ]
    for op, want in bad:
        gop(b, G.GNTTABOP_copy, op)
        assert op.status == want, op
    ro = ga.grant_foreign_access(b.domain_id, a.p2m[73], readonly=True)
    op = G.GnttabCopy(G.GnttabCopyPtr(src_mfn, DOMID_SELF, 0), G.GnttabCopyPtr(ro, a.domain_id, 0), 4,
                      G.GNTCOPY_dest_gref)
    gop(b, G.GNTTABOP_copy, op)
    assert op.status == G.GNTST_general_error             # copying into a read-only grant


def test_copy_takes_no_maptrack_entry(env):
    """GNTTABOP_copy pins the grant only for the copy (__acquire_grant_for_copy): a full maptrack does
    not make it fail with GNTST_no_device_space, and it leaves the maptrack as it found it."""
    m, a, b = env
    ga = guest_grants(a.kernel)
    dst_mfn, src_mfn = a.p2m[74], b.p2m[75]
    ref = ga.grant_foreign_access(b.domain_id, dst_mfn)
    b_gt = gnttab.grant_table(b)
    b_gt.maptrack_free.clear()                            # every handle in use
    full = map_(b, a, ref)
    assert full.status == G.GNTST_no_device_space         # a map is refused ...
    m.memory.write_bytes(src_mfn << 12, b"still copies")
    op = G.GnttabCopy(source=G.GnttabCopyPtr(src_mfn, DOMID_SELF, 0),
                      dest=G.GnttabCopyPtr(ref, a.domain_id, 0), len=12, flags=G.GNTCOPY_dest_gref)
    assert gop(b, G.GNTTABOP_copy, op) == 0 and op.status == G.GNTST_okay   # ... a copy is not
    assert m.memory.read_bytes(dst_mfn << 12, 12) == b"still copies"
    assert b_gt.maptrack_free == [] and b_gt.mappings() == {}
    assert ref not in gnttab.grant_table(a).active and ga.entry(ref).flags == G.GTF_permit_access
    # a grant-to-grant copy with both sides pinned at once, and a copy while the entry is also mapped
    b_gt.maptrack_free.append(0)
    h = map_(b, a, ref, G.GNTMAP_host_map | G.GNTMAP_readonly)
    assert h.status == G.GNTST_okay
    op = G.GnttabCopy(source=G.GnttabCopyPtr(src_mfn, DOMID_SELF, 0),
                      dest=G.GnttabCopyPtr(ref, a.domain_id, 100), len=6, flags=G.GNTCOPY_dest_gref)
    gop(b, G.GNTTABOP_copy, op)
    assert op.status == G.GNTST_okay
    assert gnttab.grant_table(a).active[ref].counts() == {"host_write": 0, "host_read": 1, "dev_write": 0,
                                                          "dev_read": 0}
    assert ga.entry(ref).flags == G.GTF_permit_access | G.GTF_reading   # the copy's write pin is gone
    assert unmap(b, h.handle) == G.GNTST_okay and ga.entry(ref).flags == G.GTF_permit_access


def test_trace_and_dump(env):
    m, a, b = env
    g = guest_grants(a.kernel)
    ref = g.grant_foreign_access(b.domain_id, a.p2m[74])
    with m.trace.record() as events:
        op = map_(b, a, ref)
    names = [(e.cls, e.name) for e in events]
    assert ("GNTTAB", "map_grant_ref") in names
    text = gnttab.dump_grant_table(a, [ref])
    assert "permit_access|reading|writing" in text and "host_write=1" in text
    unmap(b, op.handle)


def test_a_batch_over_512_is_refused_before_anything_else():
    # X@RELEASE-3.0.0:xen/common/grant_table.c:774-775: `if ( count > 512 ) return -EINVAL;` comes
    # before the command is even looked at; count is unsigned, so -1 is a huge batch.
    import xenlab
    from xenlab.xen.public import errno as E
    from xenlab.xen.public import grant_table as G
    m = xenlab.Machine(seed=0, memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=8))
    ops = [None] * 513                                                     # never read
    assert d.hypercall("grant_table_op", G.GNTTABOP_map_grant_ref, ops, 513) == -E.EINVAL
    assert d.hypercall("grant_table_op", 99, [], 513) == -E.EINVAL          # before -ENOSYS
    assert d.hypercall("grant_table_op", G.GNTTABOP_map_grant_ref, [], -1) == -E.EINVAL
    assert d.hypercall("grant_table_op", 99, [], 0) == -E.ENOSYS
