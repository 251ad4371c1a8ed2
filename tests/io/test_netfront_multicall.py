"""netfront gives its flip buffers back in ONE multicall (X@RELEASE-3.0.0:linux-2.6-xen-sparse/drivers/
xen/netfront/netfront.c:566-594, network_alloc_rx_buffers): an update_va_mapping(va, 0) entry per page,
the last one with UVMF_TLB_FLUSH|UVMF_ALL, then memory_op(XENMEM_decrease_reservation) of every frame,
whose result must be the number of pages ("Unable to reduce memory reservation" otherwise)."""
import xenlab
from xenlab.guest.netfront import RX_BUFFERS
from xenlab.xen.public import xen as X

MS = 1_000_000
INVALID = 0xFFFFFFFF


def test_flip_buffers_go_back_in_one_multicall():
    m = xenlab.Machine(memory_mb=64, seed=4)
    with m.trace.record("PV") as events:
        a = m.create_domain(xenlab.DomainConfig(name="a", memory=8, vif=["rx=flip"]))
    mine = [e for e in events if e.domid == a.domain_id]
    calls = [e["op"] for e in mine if e.name == "hypercall"]
    assert calls.count("multicall") == 1 and "memory_op" not in calls      # no separate decrease
    entries = [e for e in mine if e.name == "multicall_entry"]
    ops = [e["op"] for e in entries]
    assert ops == ["update_va_mapping"] * RX_BUFFERS + ["memory_op"]
    flags = [e["args"][2] for e in entries[:-1]]
    assert flags == [0] * (RX_BUFFERS - 1) + [X.UVMF_TLB_FLUSH | X.UVMF_ALL]
    results = [e["rc"] for e in mine if e.name == "multicall_result"]
    assert results == [0] * RX_BUFFERS + [RX_BUFFERS]                      # every extent released
    fa = a.kernel.vifs[0]
    holes = [b.pfn for b in fa.rx_buffers.values()]
    assert len(holes) == RX_BUFFERS and all(a.p2m[pfn] == INVALID for pfn in holes)
    # the zapped direct-map addresses are the holes' (PAGE_OFFSET + pfn << 12)
    assert sorted(e["args"][0] for e in entries[:-1]) == sorted(0xC0000000 + (pfn << 12) for pfn in holes)


def test_a_refill_after_flips_is_one_multicall_per_refill():
    m = xenlab.Machine(memory_mb=64, seed=4)
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8, vif=["rx=flip"]))
    m.create_domain(xenlab.DomainConfig(name="b", memory=8, vif=["ip=10.0.0.77, rx=flip"]))
    tot = a.tot_pages
    with m.trace.record("PV") as events:
        p = a.kernel.net.ping("10.0.0.77", 64)
        m.run_for(3 * MS)
    assert p.ok
    mine = [e for e in events if e.domid == a.domain_id]
    multicalls = [e for e in mine if e.name == "multicall_done"]
    entries = [e["op"] for e in mine if e.name == "multicall_entry"]
    assert multicalls and entries.count("memory_op") == len(multicalls)    # one decrease per refill
    assert sum(e["hypercalls"] for e in multicalls) == len(entries)
    assert a.tot_pages == tot                                              # each flip in, one page out
