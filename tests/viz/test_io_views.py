"""The I/O views' pure functions and their widgets, without a browser."""
import numpy as np

import xenlab
from xenlab.i18n import t
from xenlab.viz.blkio import BlkView, io_timeline, vbd_rows
from xenlab.viz.netflow import NetView, hops, vif_rows
from xenlab.viz.ring import RingLab, RingRecorder, RingView, describe

MS = 1_000_000


def test_ringlab_hand_worked_example():
    lab = RingLab(8)
    for step in ("produce", "produce", "produce"):
        lab.step(step)
    sent, held = t("narration.ring.event_sent"), t("narration.ring.event_held")   # in the language in force
    assert lab.step("push").endswith(sent)             # req_event=1 lies in (0, 3]
    a = lab.arrays()
    assert a["counts"] == {"request": 3, "outstanding": 0, "response": 0, "unused": 5}
    lab.step("consume")
    lab.step("respond")
    a = lab.arrays()
    assert a["counts"] == {"request": 2, "outstanding": 1, "response": 0, "unused": 5}
    assert lab.step("bpush").endswith(sent)
    a = lab.arrays()
    assert a["counts"] == {"request": 2, "outstanding": 0, "response": 1, "unused": 5}
    assert describe(a).startswith("[RQQ.....] req_prod=3 req_cons=1 rsp_prod=1 rsp_cons=0")
    lab.step("produce")
    assert lab.step("push").endswith(held)             # back end has not re-armed req_event
    assert a["notify"]["front_sent"] == 1
    assert list(a["region"]) == [2, 0, 0, 3, 3, 3, 3, 3]
    assert np.allclose(a["x"] ** 2 + a["y"] ** 2, 1)


def test_ring_view_buttons_and_recording(tmp_path):
    from xenlab import i18n
    saved = i18n._explicit
    i18n.set_language("en")
    try:
        lab = RingLab(8)
        view = RingView(lab)
        view.do("produce")
        view.do("push")
        svg = view.picture.value
        assert svg.count("<path") >= 8 and ">#1 READ<" in svg and ">req_prod=1<" in svg
        assert "(0, 1]" in view.caption.value and "notification goes out" in view.caption.value
        view._guarded(lambda: lab.step("nonsense"))()
        assert "unknown step" in view.error_box.value      # shown, not lost
        assert view.undo() and lab.arrays()["pointers"]["req_prod"] == 0
        view.reset()
        assert lab.arrays()["pointers"]["req_prod_pvt"] == 0 and not view.undo()
    finally:
        i18n._explicit = saved

    img = tmp_path / "d.img"
    img.write_bytes(b"\0" * 512 * 64)
    m = xenlab.Machine(memory_mb=48, seed=1)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=8, disk=[f"file:{img},xvda,w"]))
    vbd = d.kernel.vbds["xvda"]
    back = m.xend.devices.blkback.blkifs[(d.domain_id, 202 << 8)].ring
    rec = RingRecorder(m, vbd.ring, back)
    with m.trace.record() as events:
        vbd.write(0, b"a" * 4096)
        vbd.read(0, 8)
        m.run_for(5 * MS)
    rec.stop()
    assert len(rec.frames) > 6
    assert max(f["counts"]["request"] for f in rec.frames) >= 1
    assert rec.frames[-1]["counts"]["unused"] == 32
    played = RingView(rec)
    played.slider.value = len(rec.frames) - 1
    assert rec.steps[-1]["op"] == rec.captions[-1].split("_", 1)[1]
    assert played.caption.value.count("rsp_event") >= 1          # the last step, narrated, not a trace name
    assert rec.captions[-1] not in played.caption.value
    played.goto(0)
    assert played.slider.value == 0
    tl = io_timeline(events)
    assert list(tl["sector"]) == [0, 0] and (tl["end_ms"] > tl["start_ms"]).all()
    rows = vbd_rows(m)
    assert rows[0]["wr_req"] == 1 and rows[0]["rd_sect"] == 8
    BlkView(m, events).update(events)


def test_ring_recorder_records_a_vifs_tx_and_rx_rings_of_one_guest():
    m = xenlab.Machine(memory_mb=64, seed=4)
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8, vif=[""]))
    b = m.create_domain(xenlab.DomainConfig(name="b", memory=8, vif=["ip=10.0.0.77"]))
    first = a.kernel.net.ping("10.0.0.77", 32)                 # ARP resolved before recording
    m.run_for(2 * MS)
    assert first.ok
    front, back = a.kernel.vifs[0], m.xend.devices.netback.netifs[(a.domain_id, 0)]
    tx = RingRecorder(m, front.tx, back.tx, prefixes=("netif_tx_", "netfront_tx_"), domid=a.domain_id)
    rx = RingRecorder(m, front.rx, back.rx, prefixes=("netif_rx_", "netfront_rx_"), domid=a.domain_id)
    everyone = RingRecorder(m, front.tx, back.tx, prefixes=("netif_tx_", "netfront_tx_"))   # no domid filter
    p = a.kernel.net.ping("10.0.0.77", 32)
    m.run_for(2 * MS)
    for r in (tx, rx, everyone):
        r.stop()
    assert p.ok
    assert tx.captions.count("netfront_tx_produce_request") == 1 and tx.captions.count("netif_tx_push_responses") == 1
    assert rx.captions.count("netif_rx_produce_response") == 1 and rx.captions.count("netfront_rx_push_requests") == 1
    assert all(c.startswith(("netif_tx_", "netfront_tx_")) for c in tx.captions[1:])
    assert all(c.startswith(("netif_rx_", "netfront_rx_")) for c in rx.captions[1:])
    assert len(everyone.frames) > len(tx.frames)               # b's echo reply went through b's TX ring
    assert max(f["counts"]["request"] for f in tx.frames) == 1
    assert rx.frames[0]["counts"]["request"] == rx.frames[-1]["counts"]["request"] > 0   # RX buffers re-posted
    assert b.kernel.vifs[0].rx is not front.rx


def test_packet_flow():
    m = xenlab.Machine(memory_mb=64, seed=4)
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8, vif=[""]))
    m.create_domain(xenlab.DomainConfig(name="b", memory=8, vif=["ip=10.0.0.77"]))
    with m.trace.record() as events:
        p = a.kernel.net.ping("10.0.0.77", 32)
        m.run_for(2 * MS)
    assert p.ok
    h = hops(events)
    stages = [x["stage"] for x in h]
    assert stages[:3] == ["netfront TX", "netback TX", "bridge"]
    assert "netfront RX" in stages
    assert any("echo request" in x["what"] for x in h)
    rows = vif_rows(m)
    assert [r["vif"] for r in rows] == ["vif1.0", "vif2.0"]
    view = NetView(m, events)
    # the flow names the bridge in the current language ("most" in Polish), like hops()' label
    from xenlab.i18n import t
    assert "vif1.0" in view.table.value and t("narration.net.bridge") in view.flow.value
