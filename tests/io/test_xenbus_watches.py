"""The xenbus handshake runs on XenStore watches only (3.0.0's xenbus_probe.c and the drivers'
otherend_changed): the toolstack writes two directories in state Initialising and nothing else; dom0's
back-end bus and the guest's front-end bus act when their watches fire, each when its kernel runs."""
import xenlab
from xenlab.dom0.xenstore import is_error
from xenlab.xen.gnttab import grant_table
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import grant_table as G
from xenlab.xen.public.io.xenbus import XenbusState as S

XVDA = 202 << 8          # blkdev_name_to_number("xvda"): major 202, minor 0


def paused_guest(tmp_path, seed=3):
    img = tmp_path / "d.img"
    img.write_bytes(bytes(64 * 512))
    m = xenlab.Machine(memory_mb=48, seed=seed)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=8))
    m.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_PAUSEDOMAIN, D.dom0_domain(d.domain_id)))
    return m, d, img


def dom0_mappings(m) -> int:
    return len(grant_table(m.dom0).mappings())


def vbd_states(events, d):
    fe, be = f"/local/domain/{d.domain_id}/device/vbd/{XVDA}", f"/local/domain/0/backend/vbd/{d.domain_id}/{XVDA}"
    return [(e["who"], e["new"]) for e in events if e.name == "xenbus_state" and e["path"] in (fe, be)]


def test_toolstack_only_writes_and_the_watches_run_the_handshake(tmp_path):
    m, d, img = paused_guest(tmp_path)
    dm = m.xend.devices
    with m.trace.record("XS") as events:
        fe, be = dm.add_vbd(d, f"file:{img},xvda,w")        # what xend does: two directories
        tools = m.xend.xenstored.tools
        # Nothing ran yet: both ends say Initialising, no back end device, nothing mapped.
        assert (tools.read(f"{be}/state"), tools.read(f"{fe}/state")) == ("1", "1")
        assert dm.blkback.blkifs == {} and dom0_mappings(m) == 0
        assert "vbds" not in d.kernel.__dict__
        m.run_for(1_000_000)                                   # dom0 runs: its backend watch fires
        assert tools.read(f"{be}/state") == str(int(S.InitWait))
        assert tools.read(f"{fe}/state") == "1"                 # the guest is paused: its watch waits
        assert tools.read(f"{be}/hotplug-status") == "connected"
        m.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_UNPAUSEDOMAIN, D.dom0_domain(d.domain_id)))
        m.run_for(1_000_000)
    assert tools.read(f"{fe}/state") == tools.read(f"{be}/state") == str(int(S.Connected))
    # 3.0.0's order: InitWait (back) -> Initialised (front) -> Connected (back) -> Connected (front)
    assert vbd_states(events, d) == [("blkback", S.InitWait), ("blkfront", S.Initialised),
                                     ("blkback", S.Connected), ("blkfront", S.Connected)]
    # Every driver state change ran inside a watch: a xenbus_watch of that kernel comes first.
    fired = [e for e in events if e.name in ("xenbus_watch", "xenbus_state")]
    for i, e in enumerate(fired):
        if e.name == "xenbus_state":
            assert any(f.name == "xenbus_watch" and f.domid == e.domid for f in fired[:i])
    assert dom0_mappings(m) == 1                                # the ring, mapped once
    io = d.kernel.vbds["xvda"].write(0, b"\x5a" * 512)
    m.run_for(5_000_000)
    assert io.done and img.read_bytes()[:512] == b"\x5a" * 512


def test_create_domain_trace_has_the_same_order(tmp_path):
    img = tmp_path / "d.img"
    img.write_bytes(bytes(16 * 512))
    m = xenlab.Machine(memory_mb=48, seed=1)
    with m.trace.record("XS") as events:
        d = m.create_domain(xenlab.DomainConfig(name="h", memory=8, disk=[f"file:{img},xvda,r"]))
    assert vbd_states(events, d) == [("blkback", S.InitWait), ("blkfront", S.Initialised),
                                     ("blkback", S.Connected), ("blkfront", S.Connected)]
    assert d.kernel.vbds["xvda"].readonly and d.kernel.vbds["xvda"].sectors == 16


def test_frontend_that_never_publishes_leaves_backend_waiting(tmp_path):
    m, d, img = paused_guest(tmp_path)
    d.kernel.xenbus_frontend.drivers.pop("vbd")             # a guest without blkfront
    fe, be = m.xend.devices.add_vbd(d, f"file:{img},xvda,w")
    m.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_UNPAUSEDOMAIN, D.dom0_domain(d.domain_id)))
    m.run_for(20_000_000)
    tools = m.xend.xenstored.tools
    assert tools.read(f"{be}/state") == str(int(S.InitWait))
    assert tools.read(f"{fe}/state") == str(int(S.Initialising))
    assert m.xend.devices.blkback.blkifs[(d.domain_id, XVDA)].ring is None
    assert dom0_mappings(m) == 0


def hostile_publish(m, d, img, ring_ref: str):
    fe, be = m.xend.devices.add_vbd(d, f"file:{img},xvda,w")
    d.kernel.xenbus_frontend.drivers.pop("vbd")
    m.run_for(1_000_000)
    xs = d.xs                                              # the guest's own connection
    assert not is_error(xs.write(f"{fe}/ring-ref", ring_ref))
    xs.write(f"{fe}/event-channel", "5")
    xs.write(f"{fe}/state", str(int(S.Initialised)))
    m.run_for(1_000_000)
    return fe, be


def test_bogus_ring_ref_is_a_fatal_xenbus_error_and_maps_nothing(tmp_path):
    m, d, img = paused_guest(tmp_path)
    fe, be = hostile_publish(m, d, img, "4000")              # never granted
    tools = m.xend.xenstored.tools
    err = tools.read(f"/local/domain/0/error/backend/vbd/{d.domain_id}/{XVDA}/error")
    # _dev_error writes "%i " of -err: blkif_map's err is the grant status (GNTST_bad_gntref = -4)
    assert err == f"{-G.GNTST_bad_gntref} mapping ring-ref 4000 port 5"
    assert tools.read(f"{be}/state") == str(int(S.Closing))
    assert m.xend.devices.blkback.blkifs[(d.domain_id, XVDA)].ring is None
    assert dom0_mappings(m) == 0
    assert m.domain_by_name("g") is d                        # the guest lives on; dom0 too


def test_garbled_ring_ref_is_a_read_error(tmp_path):
    m, d, img = paused_guest(tmp_path)
    fe, be = hostile_publish(m, d, img, "ring")
    tools = m.xend.xenstored.tools
    err = tools.read(f"/local/domain/0/error/backend/vbd/{d.domain_id}/{XVDA}/error")
    assert err == f"22 reading {fe}/ring-ref and event-channel"       # EINVAL
    assert tools.read(f"{be}/state") == str(int(S.Closing)) and dom0_mappings(m) == 0


def test_detach_closes_both_ends_through_their_watches(tmp_path):
    """xend's destroyDevice writes the back end's state Closing; the rest is the drivers' watches:
    blkfront Closing, blkback unmaps and goes Closed, blkfront frees its ring and goes Closed."""
    img = tmp_path / "d.img"
    img.write_bytes(bytes(16 * 512))
    m = xenlab.Machine(memory_mb=48, seed=4)
    d = m.create_domain(xenlab.DomainConfig(name="h", memory=8, disk=[f"file:{img},xvda,w"]))
    front = d.kernel.vbds["xvda"]
    ref = front.ring_ref
    assert dom0_mappings(m) == 1
    with m.trace.record("XS") as events:
        m.xend.devices.destroy_device(d, "vbd", XVDA)
        m.run_for(1_000_000)
    assert vbd_states(events, d) == [("blkfront", S.Closing), ("blkback", S.Closed), ("blkfront", S.Closed)]
    assert dom0_mappings(m) == 0 and front.ring is None
    from xenlab.xen.gnttab import read_entry
    assert read_entry(d, ref).flags == 0                   # the ring's grant is revoked


def test_frontend_claiming_initwait_is_refused(tmp_path):
    """3.0.0 blkback frontend_changed: a front end in InitWait (a back end's state) is
    xenbus_dev_fatal(-EINVAL, "saw state %d at frontend")."""
    m, d, img = paused_guest(tmp_path)
    fe, be = m.xend.devices.add_vbd(d, f"file:{img},xvda,w")
    d.kernel.xenbus_frontend.drivers.pop("vbd")
    m.run_for(1_000_000)
    assert not is_error(d.xs.write(f"{fe}/state", str(int(S.InitWait))))
    m.run_for(1_000_000)
    tools = m.xend.xenstored.tools
    assert tools.read(f"/local/domain/0/error/backend/vbd/{d.domain_id}/{XVDA}/error") == "22 saw state 2 at frontend"
    assert tools.read(f"{be}/state") == str(int(S.Closing)) and dom0_mappings(m) == 0
