"""Virtual block devices: data lands in the image byte for byte; misbehaving front ends get Xen's answers."""
import pytest

import xenlab
from xenlab.xen.public.io import blkif as B

MS = 1_000_000
XVDA = 202 << 8


def make_image(path, sectors=256):
    data = bytes((i * 7 + i // 512) & 0xFF for i in range(sectors * 512))
    path.write_bytes(data)
    return data


def boot(tmp_path, mode="w", sectors=256, **kw):
    img = tmp_path / "disk.img"
    data = make_image(img, sectors)
    m = xenlab.Machine(memory_mb=48, seed=5)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=8, disk=[f"file:{img},xvda,{mode}"], **kw))
    return m, d, img, data


def blkif(m, d):
    return m.xend.devices.blkback.blkifs[(d.domain_id, XVDA)]


def test_write_lands_in_image_byte_for_byte(tmp_path):
    m, d, img, data = boot(tmp_path)
    vbd = d.kernel.vbds["xvda"]
    payload = bytes((i * 31 + 5) & 0xFF for i in range(512 * 100))    # 100 sectors: 2 ring requests
    io = vbd.write(17, payload)
    m.run_for(20 * MS)
    assert io.done and io.status == B.BLKIF_RSP_OKAY
    want = data[:17 * 512] + payload + data[117 * 512:]
    assert img.read_bytes() == want
    rd = vbd.read(10, 120)
    m.run_for(20 * MS)
    assert rd.data == want[10 * 512:130 * 512]
    st = blkif(m, d).stats
    assert (st.wr_req, st.rd_req, st.wr_sect, st.rd_sect) == (2, 2, 100, 120)
    # Every grant and every page went back: nothing left mapped in dom0.
    assert not m.dom0.grant_table.mappings() or list(m.dom0.grant_table.mappings()) == [blkif(m, d).ring_handle]


def test_read_only_disk_refuses_writes(tmp_path):
    m, d, img, data = boot(tmp_path, mode="r")
    vbd = d.kernel.vbds["xvda"]
    assert vbd.readonly
    io = vbd.write(0, b"\xff" * 512)
    m.run_for(5 * MS)
    assert io.status == B.BLKIF_RSP_ERROR
    assert img.read_bytes() == data
    ok = vbd.read(0, 1)
    m.run_for(5 * MS)
    assert ok.status == B.BLKIF_RSP_OKAY and ok.data == data[:512]


def test_probe_lists_virtual_disks(tmp_path):
    m, d, img, data = boot(tmp_path, mode="r", sectors=300)
    vbd = d.kernel.vbds["xvda"]
    p = vbd.probe()
    m.run_for(5 * MS)
    assert p.status == 1
    assert p.vdisks == [B.VdiskT(300, XVDA & 0xFFFF, B.VDISK_TYPE_DISK | B.VDISK_FLAG_VIRT | B.VDISK_FLAG_RO)]


def test_beyond_the_end_is_an_error_and_the_image_keeps_its_size(tmp_path):
    m, d, img, data = boot(tmp_path, sectors=64)
    vbd = d.kernel.vbds["xvda"]
    io = vbd.write(60, b"z" * 512 * 8)
    m.run_for(5 * MS)
    assert io.status == B.BLKIF_RSP_ERROR
    assert img.read_bytes() == data


def raw_request(m, vbd, req):
    vbd.ring.produce_request(req)
    vbd.ring.push_requests()
    vbd.notify()
    m.run_for(5 * MS)


def responses(m, vbd):
    out = []
    while vbd.ring.has_unconsumed_responses():
        out.append(vbd.ring.consume_response())
    return out


@pytest.mark.parametrize("req", [
    B.BlkifRequest(B.BLKIF_OP_READ, 1, XVDA & 0xFFFF, 901, 0, [B.BlkifRequestSegment(1999, 0, 7)]),   # bad gref
    B.BlkifRequest(B.BLKIF_OP_READ, 0, XVDA & 0xFFFF, 902, 0, []),                                    # no segment
    B.BlkifRequest(B.BLKIF_OP_WRITE, 12, XVDA & 0xFFFF, 903, 0, [B.BlkifRequestSegment(8, 0, 0)] * 11),  # 12 segs
    B.BlkifRequest(B.BLKIF_OP_READ, 1, XVDA & 0xFFFF, 904, 0, [B.BlkifRequestSegment(8, 3, 8)]),      # sector 8
    B.BlkifRequest(B.BLKIF_OP_READ, 1, XVDA & 0xFFFF, 905, 0, [B.BlkifRequestSegment(8, 5, 2)]),      # last<first
    B.BlkifRequest(7, 1, XVDA & 0xFFFF, 906, 0, [B.BlkifRequestSegment(8, 0, 0)]),                    # unknown op
])
def test_bad_requests_get_an_error_response(tmp_path, req):
    m, d, img, data = boot(tmp_path)
    vbd = d.kernel.vbds["xvda"]
    port = vbd.port
    d.kernel.port_handlers.pop(port)              # read the responses ourselves
    raw_request(m, vbd, req)
    assert [(r.id, r.status) for r in responses(m, vbd)] == [(req.id, B.BLKIF_RSP_ERROR)]
    assert img.read_bytes() == data
    assert blkif(m, d).stats.err_req == 1


def test_bogus_producer_index_halts_the_ring(tmp_path):
    m, d, img, data = boot(tmp_path)
    vbd = d.kernel.vbds["xvda"]
    d.kernel.port_handlers.pop(vbd.port)
    vbd.ring.sring.req_prod = 1000                # far more than a ring ahead
    vbd.notify()
    m.run_for(5 * MS)
    b = blkif(m, d)
    assert b.broken and "bogus ring requests" in b.log[-1]
    assert vbd.ring.sring.rsp_prod == 0           # nothing answered, nothing crashed
    vbd.notify()
    m.run_for(5 * MS)
    assert vbd.ring.sring.rsp_prod == 0 and img.read_bytes() == data


def test_batch_is_served_in_sector_order(tmp_path):
    m, d, img, data = boot(tmp_path)
    vbd = d.kernel.vbds["xvda"]
    with m.trace.record() as events:
        ios = [vbd.read(s, 1) for s in (30, 10, 20)]    # each submit pushes; dom0 runs after
        m.run_for(10 * MS)
    assert all(io.status == 0 for io in ios)
    done = [e["sector"] for e in events if e.name == "blk_done"]
    assert done == [10, 20, 30]
    assert [io.data for io in ios] == [data[s * 512:(s + 1) * 512] for s in (30, 10, 20)]


def test_notifications_are_batched(tmp_path):
    m, d, img, data = boot(tmp_path)
    vbd = d.kernel.vbds["xvda"]
    ios = [vbd.read(s, 1) for s in range(10)]
    m.run_for(20 * MS)
    assert all(io.status == 0 for io in ios)
    # The back end re-armed req_event only once it had drained the ring: 1 event for 10 pushes.
    assert vbd.notify_sent == 1 and vbd.notify_held == 9
    st = blkif(m, d).stats
    # Each answer came 60 us after the last and the guest re-armed rsp_event each time: 10 events.
    assert (st.notify_sent, st.notify_held) == (10, 0)
    # A paused guest does not re-arm: the first answer notifies, the other nine are held off.
    ios = [vbd.read(s, 1) for s in range(10)]
    d.pause()
    m.run_for(20 * MS)
    assert (st.notify_sent, st.notify_held) == (11, 9)
    d.unpause()
    m.run_for(MS)
    assert all(io.status == 0 for io in ios)


def test_workload_io_ops(tmp_path):
    img = tmp_path / "disk.img"
    data = make_image(img)
    m = xenlab.Machine(memory_mb=48, seed=2)
    prog = [("io", "blk", "xvda", "write", 4, 3, 0x5A), ("io", "blk", "xvda", "read", 0, 8),
            ("compute", 100_000), ("io", "blk", "xvda", "write", 40, 1, 0x11), ("loop", 3, 5)]
    d = m.create_domain(xenlab.DomainConfig(name="w", memory=8, disk=[f"file:{img},xvda,w"], workload=prog,
                                          on_poweroff="preserve"))
    m.run_for(50 * MS)
    got = img.read_bytes()
    assert got[4 * 512:7 * 512] == b"\x5a" * 1536 and got[40 * 512:41 * 512] == b"\x11" * 512
    assert got[:4 * 512] == data[:4 * 512]
    log = d.kernel.io_log
    assert [op[3] for _, op, _ in log[:3]] == ["write", "read", "write"]
    assert log[1][2].data[4 * 512:5 * 512] == b"\x5a" * 512
    assert blkif(m, d).stats.wr_req == 7


def test_missing_image_fails_cleanly(tmp_path):
    m = xenlab.Machine(memory_mb=48, seed=2)
    with pytest.raises(xenlab.DomainCreateError, match="does not exist"):
        m.create_domain(xenlab.DomainConfig(name="x", memory=8, disk=[f"file:{tmp_path}/nope.img,xvda,w"]))
    assert [dd.name for dd in m.domains.values()] == ["Domain-0"]


def test_destroy_releases_mappings_and_nodes(tmp_path):
    m, d, img, data = boot(tmp_path)
    m.run_for(MS)
    domid = d.domain_id
    assert m.dom0.grant_table.mappings()
    d.destroy()
    assert not m.dom0.grant_table.mappings()
    from xenlab.dom0.xenstore import is_error
    assert is_error(m.xend.xenstored.tools.read(f"/local/domain/0/backend/vbd/{domid}/{XVDA}/state"))
    assert m.xend.devices.blkback.blkifs == {}
