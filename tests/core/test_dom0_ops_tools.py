"""The dom0_ops a toolstack uses to save, restore, pin and watch domains, each as Xen 3.0.0 answers
(X@RELEASE-3.0.0: xen/common/dom0_ops.c, xen/arch/x86/dom0_ops.c, xen/common/domain.c:348)."""
import xenlab
from xenlab.xen.hypercall import hypercall_from_guest as hc
from xenlab.xen.mm_types import PGT_count_mask
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import errno as E
from xenlab.xen.public import vcpu as VC

MS = 1_000_000


def op(m, cmd, u, who=None):
    return hc((who or m.dom0).vcpus[0], "dom0_op", D.dom0_op(cmd, u))


def machine():
    m = xenlab.Machine(cpus=2, memory_mb=128, seed=7)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16, vcpus=2, workload="cpu-bound"))
    return m, d


def test_getmemlist_lists_exactly_the_domains_frames():
    m, d = machine()
    buf = []
    assert op(m, D.DOM0_GETMEMLIST, D.dom0_getmemlist(d.domain_id, 1 << 20, buf)) == 0
    owned = set(int(x) for x in m.frame_table.frames_of(d.domain_id))
    assert set(buf) <= owned and len(buf) == len(set(buf))
    assert len(buf) == d.tot_pages                          # its page_list: every page it owns as memory
    short = []
    u = D.dom0_getmemlist(d.domain_id, 10, short)
    assert op(m, D.DOM0_GETMEMLIST, u) == 0 and u.num_pfns == 10 and short == buf[:10]
    assert op(m, D.DOM0_GETMEMLIST, D.dom0_getmemlist(99, 10, [])) == -E.EINVAL   # no such domain


def test_getpageframeinfo_reports_the_table_level_from_type_info():
    m, d = machine()
    root = d.vcpus[0].cr3 >> 12
    u = D.dom0_getpageframeinfo(pfn=root, domain=d.domain_id)
    assert op(m, D.DOM0_GETPAGEFRAMEINFO, u) == 0 and u.type == D.L2TAB       # 2-level root
    data = int(d.p2m[300])
    u = D.dom0_getpageframeinfo(pfn=data, domain=d.domain_id)
    assert op(m, D.DOM0_GETPAGEFRAMEINFO, u) == 0 and u.type == D.NOTAB
    assert int(m.frame_table.type_info[data]) & PGT_count_mask                 # typed writable, still NOTAB
    # Someone else's frame, or beyond max_page: -EINVAL (get_page fails / pfn >= max_page).
    assert op(m, D.DOM0_GETPAGEFRAMEINFO, D.dom0_getpageframeinfo(pfn=int(m.dom0.p2m[5]), domain=d.domain_id)) \
        == -E.EINVAL
    assert op(m, D.DOM0_GETPAGEFRAMEINFO, D.dom0_getpageframeinfo(pfn=1 << 30, domain=d.domain_id)) == -E.EINVAL


def test_getvcpuinfo_and_getvcpucontext():
    m, d = machine()
    m.run_for(20 * MS)
    u = D.dom0_getvcpuinfo(d.domain_id, 1)
    assert op(m, D.DOM0_GETVCPUINFO, u) == 0
    v1 = d.vcpus[1]
    assert (u.online, u.cpu, u.cpu_time) == (1, v1.processor, v1.cpu_time_now) and u.cpu_time > 0
    assert u.cpumap == D.CPUMAP_RUNANYWHERE
    assert op(m, D.DOM0_GETVCPUINFO, D.dom0_getvcpuinfo(d.domain_id, 32)) == -E.EINVAL
    assert op(m, D.DOM0_GETVCPUINFO, D.dom0_getvcpuinfo(d.domain_id, 2)) == -E.ESRCH
    ctxt = VC.vcpu_guest_context()
    assert op(m, D.DOM0_GETVCPUCONTEXT, D.dom0_getvcpucontext(d.domain_id, 0, ctxt)) == 0
    assert ctxt.ctrlreg[3] == d.vcpus[0].cr3 != 0
    assert ctxt.event_callback_eip != 0 and any(t.vector == 0x80 for t in ctxt.trap_ctxt)
    assert op(m, D.DOM0_GETVCPUCONTEXT, D.dom0_getvcpucontext(d.domain_id, 0, "junk")) == -E.EFAULT


def test_setdomaininfo_needs_a_paused_domain():
    m, d = machine()
    ctxt = VC.vcpu_guest_context()
    assert op(m, D.DOM0_GETVCPUCONTEXT, D.dom0_getvcpucontext(d.domain_id, 0, ctxt)) == 0
    assert op(m, D.DOM0_SETDOMAININFO, D.dom0_setdomaininfo(d.domain_id, 0, ctxt)) == -E.EINVAL   # running
    d.pause()
    assert op(m, D.DOM0_SETDOMAININFO, D.dom0_setdomaininfo(d.domain_id, 0, ctxt)) == 0           # initialised: 0
    assert op(m, D.DOM0_SETDOMAININFO, D.dom0_setdomaininfo(d.domain_id, 5, ctxt)) == -E.EINVAL
    assert op(m, D.DOM0_SETDOMAININFO, D.dom0_setdomaininfo(42, 0, ctxt)) == -E.ESRCH


def test_pincpudomain_moves_the_vcpu_and_runanywhere_unpins():
    m, d = machine()
    m.run_for(10 * MS)
    v1 = d.vcpus[1]
    target = 1 - v1.processor
    assert op(m, D.DOM0_PINCPUDOMAIN, D.dom0_pincpudomain(d.domain_id, 1, 1 << target)) == 0
    assert v1.processor == target and v1.cpu_affinity == (target,)
    m.run_for(50 * MS)
    assert v1.processor == target
    # 3.0.0: the first set bit modulo the online cpus: bit 2 on a 2-cpu machine is cpu 0.
    assert op(m, D.DOM0_PINCPUDOMAIN, D.dom0_pincpudomain(d.domain_id, 1, 1 << 2)) == 0 and v1.processor == 0
    assert op(m, D.DOM0_PINCPUDOMAIN, D.dom0_pincpudomain(d.domain_id, 1, D.CPUMAP_RUNANYWHERE)) == 0
    assert v1.cpu_affinity is None
    assert op(m, D.DOM0_PINCPUDOMAIN, D.dom0_pincpudomain(0, 0, 1)) == -E.EINVAL      # the caller itself
    assert op(m, D.DOM0_PINCPUDOMAIN, D.dom0_pincpudomain(d.domain_id, 40, 1)) == -E.EINVAL


def test_getdomaininfolist_from_first_domain_up_to_max():
    m, d = machine()
    buf = []
    u = D.dom0_getdomaininfolist(first_domain=0, max_domains=10, buffer=buf)
    assert op(m, D.DOM0_GETDOMAININFOLIST, u) == 0
    assert u.num_domains == 2 and [i.domain for i in buf] == [0, d.domain_id]
    assert buf[1].tot_pages == d.tot_pages and buf[1].nr_online_vcpus == 2
    buf2 = []
    u = D.dom0_getdomaininfolist(first_domain=1, max_domains=10, buffer=buf2)
    assert op(m, D.DOM0_GETDOMAININFOLIST, u) == 0 and [i.domain for i in buf2] == [d.domain_id]


def test_settime_moves_the_wall_clock_every_domain_sees():
    from xenlab.xen.time import read_wallclock
    m, d = machine()
    m.run_for(5 * MS)
    # "the clock reads 1,000,000,000 s + 0.5 s when system time was 2 ms": wc = that minus 2 ms.
    assert op(m, D.DOM0_SETTIME, D.dom0_settime(1_000_000_000, 500_000_000, 2 * MS)) == 0
    _, sec, nsec = read_wallclock(d)
    assert (sec, nsec) == (1_000_000_000, 498_000_000)
    assert op(m, D.DOM0_SETTIME, D.dom0_settime(-1, 0, 0)) == -E.EFAULT


def test_a_domu_gets_eperm_for_every_one_of_them():
    m, d = machine()
    for cmd, u in ((D.DOM0_GETMEMLIST, D.dom0_getmemlist(0, 1, [])), (D.DOM0_SETTIME, D.dom0_settime()),
                   (D.DOM0_PINCPUDOMAIN, D.dom0_pincpudomain(0, 0, 1))):
        assert op(m, cmd, u, who=d) == -E.EPERM
