"""Domain lifecycle, frame ownership and non-contiguous allocation (xen/common/domain.c rules)."""
import pytest

import xenlab
from xenlab.xen.domain import DomainState, contiguous_runs
from xenlab.xen.page_alloc import FREE

MS = 1_000_000


def make(**kw):
    return xenlab.Machine(seed=1, **kw)


def test_boot_creates_privileged_domain0_first():
    m = make()
    assert list(m.domains) == [0]
    assert m.dom0 is m.domains[0] and m.dom0.name == "Domain-0" and m.dom0.is_privileged
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16))
    assert d.domain_id == 1 and not d.is_privileged
    assert m.create_domain(xenlab.DomainConfig(name="h", memory=16)).domain_id == 2


def test_memory_is_owned_frames_recorded_in_the_frame_table():
    m = make()
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16))
    assert d.tot_pages == 16 * 256 == len(d.p2m) == d.max_pages
    owned = set(m.frame_table.frames_of(1).tolist())
    assert set(d.p2m) <= owned and d.shared_info_mfn in owned
    # A data page mapped once, writable, by the kernel's direct map: the allocation reference plus one
    # for the mapping, and one writable type reference (xen-facts 5d).
    info = m.frame_table[d.p2m[-1]]
    assert info.owner == 1 and info.allocated and info.count == 2
    assert (info.type, info.type_count) == ("writable", 1)
    root = m.frame_table[d.p2m[d.kernel.mm.root_pfn]]
    assert root.type == "l2" and root.pinned and root.validated
    assert all(m.m2p[mfn] == pfn for pfn, mfn in enumerate(d.p2m))


def test_guest_frames_are_not_contiguous_in_machine_memory():
    m = make()
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16))
    runs = contiguous_runs(d.p2m)
    assert len(runs) > 1
    # Dom0 and the guest interleave: some dom0 frame lies between the guest's lowest and highest frame.
    lo, hi = min(d.p2m), max(d.p2m)
    assert any(lo < mfn < hi for mfn in m.dom0.p2m)


def test_start_info_page_holds_xen_magic_and_shared_info_address():
    from xenlab.xen.public.xen import start_info
    m = make()
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16, extra="console=xvc0"))
    si = start_info.unpack(m.memory.read_bytes(d.start_info_mfn << 12, 1104))
    assert si.magic == "xen-3.0-x86_32" and si.nr_pages == d.tot_pages
    assert si.shared_info == d.shared_info_mfn << 12 and si.cmd_line == "console=xvc0"
    assert si.console_evtchn == d.console_port > 0
    pae = xenlab.Machine(paging="pae").dom0
    assert start_info.unpack(pae.machine.memory.read_bytes(pae.start_info_mfn << 12, 64)).magic == "xen-3.0-x86_32p"


def test_paused_domain_does_not_run_and_gets_no_cpu_time():
    m = make()
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16, workload="cpu-bound"))
    m.run_for(30 * MS)
    d.pause()
    assert d.state is DomainState.PAUSED and not any(v.is_running for v in d.vcpus)
    t = d.cpu_time
    m.run_for(100 * MS)
    assert d.cpu_time == t
    d.unpause()
    m.run_for(30 * MS)
    assert d.cpu_time > t


def test_controller_pause_is_one_flag_not_a_count():
    # X@RELEASE-3.0.0:xen/common/domain.c:322,335 test_and_set_bit / test_and_clear_bit of _DOMF_ctrl_pause,
    # and dom0_ops.c:141-157 returns 0 for unpausing a running domain.
    from xenlab.xen.hypercall import hypercall_from_guest
    from xenlab.xen.public import dom0_ops as D
    m = make()
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16, workload="cpu-bound"))
    m.run_for(10 * MS)

    def op(cmd):
        return hypercall_from_guest(m.dom0.vcpus[0], "dom0_op", D.dom0_op(cmd, D.dom0_domain(d.domain_id)))

    d.pause()
    d.pause()
    d.unpause()                                  # pause, pause, unpause: running again
    t = d.cpu_time
    m.run_for(30 * MS)
    assert d.cpu_time > t and d.state is not DomainState.PAUSED
    d.unpause()                                  # unpausing a running domain: no error, no change
    t = d.cpu_time
    m.run_for(30 * MS)
    assert d.cpu_time > t
    assert op(D.DOM0_UNPAUSEDOMAIN) == 0          # the hypercall agrees: 0, not -EINVAL
    assert op(D.DOM0_PAUSEDOMAIN) == 0 and op(D.DOM0_PAUSEDOMAIN) == 0
    assert op(D.DOM0_UNPAUSEDOMAIN) == 0 and d.pause_count == 0


def test_destroy_releases_every_frame():
    m = make()
    free_before = m.frame_table.free_frames
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16, workload="cpu-bound"))
    frames = m.frame_table.frames_of(1)
    m.run_for(20 * MS)
    d.destroy()
    assert 1 not in m.domains
    assert (m.frame_table.owner[frames] == FREE).all()
    assert (m.frame_table.count_info[frames] == 0).all()
    assert m.frame_table.free_frames == free_before
    assert not m.memory.frame(int(frames[0])).any()          # scrubbed
    m.run_for(50 * MS)                                        # and the machine runs on


def test_poweroff_destroys_reboot_restarts_with_new_domid():
    m = make()
    xenlab.xm(m, "create name=web memory=16")
    xenlab.xm(m, "reboot web")
    m.run_for(1 * MS)                                    # watch fires, guest shuts down, xend restarts
    new = m.domain_by_name("web")
    assert new is not None and new.domain_id == 2 and 1 not in m.domains
    assert new.restart_count == 1
    xenlab.xm(m, "shutdown -w web")
    assert m.domain_by_name("web") is None and set(m.domains) == {0}


def test_shutdown_goes_through_xenstore_control_node():
    m = make()
    xenlab.xm(m, "create name=web memory=16")
    d = m.domain_by_name("web")
    assert m.xenstore.connect(0).read("/local/domain/1/name") == "web"
    assert d.xs.read("name") == "web"                                   # the guest reads its own home
    with m.trace.record(classes="XS") as events:
        xenlab.xm(m, "shutdown web")
        m.run_for(1 * MS)
    names = [e.name for e in events]
    assert "write" in names and "watch_event" in names
    assert 1 not in m.domains
    assert m.xenstore.connect(0).read("/local/domain/1/name").errno == "ENOENT"


def test_crash_with_preserve_stays_for_inspection():
    m = make()
    xenlab.xm(m, "create", config='name="bad"\nmemory=16\non_crash="preserve"\n'
                                   'workload=[("compute", 1000000), ("shutdown", "crash")]\n')
    m.run_for(20 * MS)
    d = m.domain_by_name("bad")
    assert d.state is DomainState.CRASHED and d.shutdown_reason == "crash"
    assert xenlab.xm(m, "list bad").rows[0]["state"] == "----c-"


def test_hvm_guest_needs_hardware_support():
    m = make()
    with pytest.raises(xenlab.XmError, match="VT/AMD-V") as err:
        xenlab.xm(m, 'create name=win memory=16 builder="hvm"')
    assert "hvm=True" in str(err.value)
    assert set(m.domains) == {0}
    hm = xenlab.Machine(hvm=True)
    d = hm.create_domain(xenlab.DomainConfig(name="win", memory=16, kind="hvm"))
    assert d.kind == "hvm" and d.state is not DomainState.PAUSED


def test_bad_workload_is_refused_before_anything_is_created():
    m = make()
    with pytest.raises(xenlab.XmError, match="unknown workload preset 'busy'"):
        xenlab.xm(m, "create name=w memory=16 workload=busy")
    with pytest.raises(xenlab.XmError, match="loop must wait or compute"):
        xenlab.xm(m, "create", config='name="w"\nworkload=[("console", "x"), ("loop", 0, None)]\n')
    assert set(m.domains) == {0}


def test_domain_config_validation_is_specific():
    with pytest.raises(xenlab.DomainCreateError, match="memory must be a positive"):
        xenlab.DomainConfig(name="x", memory=0)
    with pytest.raises(xenlab.DomainCreateError, match="on_crash"):
        xenlab.DomainConfig(name="x", on_crash="explode")
    with pytest.raises(xenlab.DomainCreateError, match="maxmem"):
        xenlab.DomainConfig(name="x", memory=64, maxmem=32)


def test_out_of_memory_is_an_error_that_creates_nothing():
    m = xenlab.Machine(memory_mb=64)
    with pytest.raises(xenlab.XmError, match="not enough free memory"):
        xenlab.xm(m, "create name=big memory=512")
    assert set(m.domains) == {0}


def test_repr_and_dump_are_useful_text():
    m = make()
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16))
    assert "g" in repr(d) and "pv" in repr(d)
    assert "contiguous machine runs" in d.dump()
    assert "rrobin" in repr(m) or "sched=" in repr(m)
    assert "d1v0" in repr(d.vcpus[0])
