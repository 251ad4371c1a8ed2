"""Hypercall dispatch and the error paths of the handlers the core owns (xen-facts section 7)."""
import pytest

import xenlab
from xenlab.xen.hypercall import hypercall_table
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import errno as E
from xenlab.xen.public.xen import (CONSOLEIO_write, SCHEDOP_shutdown, XENVER_capabilities,
                                   XENVER_extraversion, XENVER_version, sched_shutdown,
                                   xen_capabilities_info_t, xen_extraversion_t)


@pytest.fixture
def m():
    m = xenlab.Machine(seed=3)
    m.create_domain(xenlab.DomainConfig(name="u", memory=16))
    return m


def test_numbers_and_names_are_xen_30s():
    # Oracle: X@RELEASE-3.0.0:xen/include/public/xen.h
    expected = {0: "set_trap_table", 1: "mmu_update", 2: "set_gdt", 6: "sched_op", 7: "dom0_op",
                12: "memory_op", 14: "update_va_mapping", 15: "set_timer_op", 16: "event_channel_op",
                17: "xen_version", 18: "console_io", 20: "grant_table_op", 26: "mmuext_op"}
    for nr, name in expected.items():
        assert hypercall_table[nr].name == name


def test_unused_and_unimplemented_numbers_return_enosys(m):
    u = m.domains[1]
    assert u.hypercall(11) == -E.ENOSYS          # unused in 3.0 (set_fast_trap in 2.0)
    assert u.hypercall(31) == -E.ENOSYS
    missing = [e.nr for e in hypercall_table.values() if e.handler is None]
    for nr in missing:                           # handlers later chapters own answer -ENOSYS until they land
        assert u.hypercall(nr, 0, 0) == -E.ENOSYS


def test_unknown_name_is_python_misuse(m):
    with pytest.raises(ValueError, match="unknown hypercall name"):
        m.domains[1].hypercall("frobnicate")


def test_dom0_op_from_domu_is_eperm_before_the_argument_is_looked_at(m):
    assert m.domains[1].hypercall("dom0_op", "not even a struct") == -E.EPERM
    assert m.dom0.hypercall("dom0_op", "not even a struct") == -E.EFAULT


def test_dom0_op_interface_version_mismatch_is_eacces(m):
    op = D.dom0_op(D.DOM0_GETDOMAININFO, D.dom0_getdomaininfo(0), interface_version=0x02000000)
    assert m.dom0.hypercall("dom0_op", op) == -E.EACCES


def test_dom0_op_getdomaininfo_walks_domains_and_esrch_at_the_end(m):
    info = D.dom0_getdomaininfo(domain=1)
    assert m.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_GETDOMAININFO, info)) == 0
    assert info.domain == 1 and info.tot_pages == 16 * 256
    assert m.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_GETDOMAININFO, D.dom0_getdomaininfo(2))) == -E.ESRCH
    assert m.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_PAUSEDOMAIN, D.dom0_domain(9))) == -E.ESRCH
    # dom0_ops.c:141-157 (3.0.0): unpausing a running domain is not an error (one flag, test_and_clear_bit).
    assert m.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_UNPAUSEDOMAIN, D.dom0_domain(1))) == 0
    assert m.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_PAUSEDOMAIN, D.dom0_domain(0))) == -E.EINVAL


def test_sched_op_shutdown_reasons(m):
    u = m.domains[1]
    assert u.hypercall("sched_op", SCHEDOP_shutdown, sched_shutdown(reason=9)) == -E.EINVAL
    assert u.hypercall("sched_op", SCHEDOP_shutdown, None) == -E.EFAULT
    assert u.hypercall("sched_op", 99) == -E.ENOSYS
    assert not u.is_shutdown
    assert u.hypercall("sched_op", SCHEDOP_shutdown, sched_shutdown(reason=0)) == 0
    assert u.is_shutdown and u.shutdown_reason == "poweroff"


def test_console_io_is_dom0_only_unless_verbose_build(m):
    assert m.domains[1].hypercall("console_io", CONSOLEIO_write, 3, "hi\n") == -E.EPERM
    assert m.dom0.hypercall("console_io", CONSOLEIO_write, 3, "hi\n") == 0
    assert m.dom0.hypercall("console_io", 7, 0, "") == -E.ENOSYS
    assert "hi" in xenlab.xm(m, "dmesg").text
    v = xenlab.Machine(verbose=True)
    g = v.create_domain(xenlab.DomainConfig(name="g", memory=16))
    assert g.hypercall("console_io", CONSOLEIO_write, 5, "hello") == 0
    assert "(d1) hello" in xenlab.xm(v, "dmesg").text


def test_xen_version(m):
    u = m.domains[1]
    assert u.hypercall("xen_version", XENVER_version) == (3 << 16) | 0
    ev, caps = xen_extraversion_t(), xen_capabilities_info_t()
    assert u.hypercall("xen_version", XENVER_extraversion, ev) == 0 and ev.extraversion.startswith(".0")
    assert u.hypercall("xen_version", XENVER_capabilities, caps) == 0 and caps.info == "xen-3.0-x86_32"
    assert u.hypercall("xen_version", XENVER_capabilities, None) == -E.EFAULT
    assert u.hypercall("xen_version", 99) == -E.ENOSYS


def test_set_timer_op_wakes_a_blocked_vcpu_via_virq_timer_and_zero_cancels(m):
    u = m.domains[1]                      # idle workload: blocked
    m.run_for(1_000_000)
    v = u.vcpus[0]
    assert v.blocked
    assert u.hypercall("set_timer_op", m.now + 5_000_000) == 0
    with m.trace.record(classes="EVTCHN") as events:
        m.run_for(6_000_000)
    assert any(e.name == "set_pending" and e["outcome"] == "upcall" for e in events)
    assert u.hypercall("set_timer_op", m.now + 5_000_000) == 0
    assert u.hypercall("set_timer_op", 0) == 0
    with m.trace.record(classes="EVTCHN", domid=1) as events:
        m.run_for(6_000_000)
    assert not [e for e in events if e.name == "set_pending"]


def test_hypercall_counts_per_domain(m):
    u = m.domains[1]
    before = u.hypercall_counts.get("xen_version", 0)
    u.hypercall("xen_version", 0)
    u.hypercall(17, 0)
    assert u.hypercall_counts["xen_version"] == before + 2


def _op(m, cmd, u):
    return m.dom0.hypercall("dom0_op", D.dom0_op(cmd, u))


def test_dom0_op_createdomain_ids_as_in_30():
    """dom0_ops.c (3.0): a wanted id in 1..DOMID_FIRST_RESERVED-1 must be free, else -EINVAL;
    0 or a reserved id means "allocate one"."""
    m = xenlab.Machine()
    taken = m.create_domain(xenlab.DomainConfig(name="a", memory=16)).domain_id
    assert _op(m, D.DOM0_CREATEDOMAIN, D.dom0_createdomain(domain=taken)) == -E.EINVAL
    u = D.dom0_createdomain(domain=0x7FF1)                 # DOMID_IO: reserved, so "any"
    assert _op(m, D.DOM0_CREATEDOMAIN, u) == 0 and u.domain == taken + 1
    u = D.dom0_createdomain(domain=0)
    assert _op(m, D.DOM0_CREATEDOMAIN, u) == 0 and u.domain == taken + 2
    u = D.dom0_createdomain(domain=77)
    assert _op(m, D.DOM0_CREATEDOMAIN, u) == 0 and u.domain == 77
    assert m.domains[77].pause_count == 1                   # created paused


def test_dom0_op_other_error_paths():
    m = xenlab.Machine(sched="credit")
    d = m.create_domain(xenlab.DomainConfig(name="a", memory=16))
    assert _op(m, D.DOM0_DESTROYDOMAIN, D.dom0_domain(0)) == -E.EINVAL        # not itself
    assert _op(m, D.DOM0_DESTROYDOMAIN, D.dom0_domain(42)) == -E.ESRCH
    assert _op(m, D.DOM0_MAX_VCPUS, D.dom0_max_vcpus(d.domain_id, 2)) == -E.EINVAL   # vcpus exist
    fresh = D.dom0_createdomain()
    assert _op(m, D.DOM0_CREATEDOMAIN, fresh) == 0
    assert _op(m, D.DOM0_MAX_VCPUS, D.dom0_max_vcpus(fresh.domain, 33)) == -E.EINVAL
    assert _op(m, D.DOM0_MAX_VCPUS, D.dom0_max_vcpus(fresh.domain, 2)) == 0
    assert _op(m, 99, D.dom0_domain(d.domain_id)) == -E.ENOSYS
    assert _op(m, D.DOM0_ADJUSTDOM, D.dom0_adjustdom(d.domain_id, sched_id=3)) == -E.EINVAL  # not rrobin


def test_pcpu_cr3_follows_the_running_vcpu():
    m = xenlab.Machine(seed=2)
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=16, workload="cpu-bound"))
    b = m.create_domain(xenlab.DomainConfig(name="b", memory=16, workload="cpu-bound"))
    seen = set()
    for _ in range(40):
        m.step()
        cur = m.cpus[0].curr
        assert m.cpus[0].cr3 == (0 if cur.is_idle else cur.cr3)
        seen.add(m.cpus[0].cr3)
    assert {a.vcpus[0].cr3, b.vcpus[0].cr3} <= seen and a.vcpus[0].cr3 != b.vcpus[0].cr3
