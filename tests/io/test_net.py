"""Virtual network interfaces: pings across the bridge carry their payload unchanged, both RX modes."""
import pytest

import xenlab
from xenlab.hw.ethernet import ETH_P_IP, eth_frame
from xenlab.xen.public.io import netif as N

MS = 1_000_000


def two_guests(rx="copy", backend="copy", seed=4):
    m = xenlab.Machine(memory_mb=64, seed=seed)
    if backend != "copy":
        m.xend.devices.netback.rx_mode = backend
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8, vif=[f"rx={rx}"]))
    b = m.create_domain(xenlab.DomainConfig(name="b", memory=8, vif=[f"ip=10.0.0.77, rx={rx}"]))
    return m, a, b


@pytest.mark.parametrize("rx,backend", [("copy", "copy"), ("flip", "copy"), ("copy", "flip")])
def test_ping_between_guests_and_outside(rx, backend):
    m, a, b = two_guests(rx, backend)
    fa = a.kernel.vifs[0]
    assert fa.rx_copy == (rx == "copy" and backend == "copy")
    p1 = a.kernel.net.ping("10.0.0.77", 300, timeout_ns=10 ** 9)
    m.run_for(5 * MS)
    assert p1.reply == p1.payload and len(p1.payload) == 300
    p2 = b.kernel.net.ping("10.0.0.1", 1000)
    m.run_for(5 * MS)
    assert p2.ok and p2.rtt_ns >= 2 * m.xend.devices.lan.latency_ns
    p3 = m.xend.devices.outside.ping(a.kernel.net.ip and "10.0.0.13")
    m.run_for(5 * MS)
    assert p3.ok
    assert not a.kernel.vifs[0].stats["rx_errors"]


def test_flip_moves_pages_and_keeps_tot_pages():
    m, a, b = two_guests("flip")
    tot_a, tot_b, tot0 = a.tot_pages, b.tot_pages, m.dom0.tot_pages
    pings = []
    for i in range(5):
        pings.append(a.kernel.net.ping("10.0.0.77", 64))
        m.run_for(2 * MS)
    assert all(p.ok for p in pings)
    st = m.xend.devices.netback.netifs[(a.domain_id, 0)].stats
    assert st.rx_flips >= 5 and st.rx_copies == 0
    # Each flip gave a a page and took one of its posted holes: its size is back where it was.
    assert (a.tot_pages, b.tot_pages, m.dom0.tot_pages) == (tot_a, tot_b, tot0)
    for pfn, mfn in enumerate(a.p2m):
        if mfn != 0xFFFFFFFF:
            assert m.frame_table[mfn].owner == a.domain_id
            assert m.m2p[mfn] == pfn


def test_counters_and_macs():
    m, a, b = two_guests()
    p = a.kernel.net.ping("10.0.0.77", 100)
    m.run_for(5 * MS)
    assert p.ok
    nb = m.xend.devices.netback
    sa, sb = nb.netifs[(a.domain_id, 0)].stats, nb.netifs[(b.domain_id, 0)].stats
    # a: ARP request + echo request out; ARP reply + echo reply in.
    assert (sa.tx_packets, sa.rx_packets) == (2, 2)
    assert sb.tx_packets == 2 and sb.rx_packets >= 2          # b also heard the broadcast ARP
    assert sa.tx_bytes == a.kernel.vifs[0].stats["tx_bytes"]
    for d in (a, b):
        assert d.kernel.vifs[0].mac[:3] == b"\x00\x16\x3e"
    assert m.xend.devices.random_mac(a, 0) == m.xend.devices.random_mac(a, 0)
    assert "vif1.0" in m.xend.devices.bridge.show_macs()


def test_bad_tx_requests():
    m, a, b = two_guests()
    fa = a.kernel.vifs[0]
    a.kernel.port_handlers.pop(fa.port)
    ring = fa.tx
    ring.produce_request(N.NetifTxRequest(gref=1500, offset=0, flags=0, id=7, size=60))      # bad gref
    ring.produce_request(N.NetifTxRequest(gref=8, offset=4000, flags=0, id=8, size=200))     # crosses page
    ring.push_requests()
    a.hypercall("event_channel_op", xenlab.xen.evtchn.ev.evtchn_op(4, xenlab.xen.evtchn.ev.evtchn_send(fa.port)))
    m.run_for(2 * MS)
    got = []
    while ring.has_unconsumed_responses():
        got.append(ring.consume_response())
    assert [(r.id, r.status) for r in got] == [(7, N.NETIF_RSP_ERROR), (8, N.NETIF_RSP_ERROR)]
    assert m.xend.devices.netback.netifs[(a.domain_id, 0)].stats.tx_errors == 2


def test_bogus_tx_producer_disables_the_vif():
    m, a, b = two_guests()
    fa = a.kernel.vifs[0]
    fa.tx.sring.req_prod = 5000
    a.hypercall("event_channel_op", xenlab.xen.evtchn.ev.evtchn_op(4, xenlab.xen.evtchn.ev.evtchn_send(fa.port)))
    m.run_for(2 * MS)
    netif = m.xend.devices.netback.netifs[(a.domain_id, 0)]
    assert netif.broken and "Impossible number of requests" in netif.log[-1]
    p = b.kernel.net.ping("10.0.0.1", 10)                      # the others carry on
    m.run_for(2 * MS)
    assert p.ok


def test_frame_for_a_guest_without_buffers_is_dropped():
    m, a, b = two_guests()
    nb = m.xend.devices.netback
    netif = nb.netifs[(a.domain_id, 0)]
    a.kernel.port_handlers.pop(a.kernel.vifs[0].port)           # a stops reposting buffers
    frame = eth_frame(netif.mac, b"\x02" * 6, ETH_P_IP, b"\0" * 40)
    for _ in range(200):
        nb.deliver(netif, frame)
    assert netif.stats.rx_packets == 32                          # RX_BUFFERS posted
    assert netif.stats.rx_dropped == 200 - 32 - 32               # plus a queue of 32 waiting


def test_ping_workload_op():
    m = xenlab.Machine(memory_mb=64, seed=9)
    m.create_domain(xenlab.DomainConfig(name="b", memory=8, vif=["ip=10.0.0.77"]))
    prog = [("io", "net", "ping", "10.0.0.77", 56), ("sleep", 1 * MS), ("io", "net", "ping", "10.0.0.1", 56),
            ("io", "net", "ping", "10.0.0.99", 56, 3 * MS), ("block",)]
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8, vif=[""], workload=prog))
    m.run_for(20 * MS)
    log = a.kernel.io_log
    assert [t.ok for _, _, t in log] == [True, True, False]
    assert log[2][2].timed_out
