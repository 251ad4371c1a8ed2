"""vcpu_op (X@RELEASE-3.0.0:xen/common/domain.c:381-437; arch/x86/domain.c:333-430): SMP guests bring up
their own vcpus; every error path as the C code orders them."""
import xenlab
from xenlab.guest.cpu import vcpu_context, xenlinux_trap_table
from xenlab.xen.hypercall import hypercall_from_guest as hc
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import errno as E
from xenlab.xen.public import vcpu as VC

MS = 1_000_000


def smp_machine():
    m = xenlab.Machine(cpus=2, memory_mb=128, seed=5)
    d = m.create_domain(xenlab.DomainConfig(name="smp", memory=16, vcpus=2, workload="cpu-bound"))
    return m, d


def test_guest_brings_up_vcpu1_with_initialise_then_up():
    m = xenlab.Machine(cpus=2, memory_mb=128, seed=5)
    with m.trace.record("SCHED") as events:
        d = m.create_domain(xenlab.DomainConfig(name="smp", memory=16, vcpus=2, workload="cpu-bound"))
    ops = [(e["target"], e["cmd"], e["rc"]) for e in events if e.name == "vcpu_op" and e.domid == d.domain_id]
    assert ops == [(1, VC.VCPUOP_is_up, 0), (1, VC.VCPUOP_initialise, 0), (1, VC.VCPUOP_up, 0)]
    v0, v1 = d.vcpus
    assert v1.initialised and not v1.down and v1.cr3 == v0.cr3 != 0
    # Both vcpus hold a base-page-table reference on the root: the type count counts them.
    root = v0.cr3 >> 12
    from xenlab.xen.mm_types import PGT_count_mask
    assert int(m.frame_table.type_info[root]) & PGT_count_mask >= 2
    m.run_for(50 * MS)
    assert v0.cpu_time_now > 0 and v1.cpu_time_now > 0                 # both ran, on the two pCPUs


def test_error_paths_in_xens_order():
    m, d = smp_machine()
    v0, v1 = d.vcpus
    assert hc(v0, "vcpu_op", VC.VCPUOP_is_up, 32, None) == -E.EINVAL      # >= MAX_VIRT_CPUS
    assert hc(v0, "vcpu_op", VC.VCPUOP_is_up, -1, None) == -E.EINVAL
    assert hc(v0, "vcpu_op", VC.VCPUOP_is_up, 2, None) == -E.ENOENT       # no such vcpu
    ctxt = vcpu_context(d.kernel, v0, 1, xenlinux_trap_table())
    assert hc(v0, "vcpu_op", VC.VCPUOP_initialise, 1, ctxt) == -E.EEXIST   # already has a context
    assert hc(v0, "vcpu_op", VC.VCPUOP_initialise, 1, "junk") == -E.EFAULT
    assert hc(v0, "vcpu_op", 99, 1, None) == 0                            # 3.0.0: no default case
    assert hc(v0, "vcpu_op", VC.VCPUOP_is_up, 1, None) == 1


def test_down_stops_the_vcpu_and_up_restarts_it_idempotently():
    m, d = smp_machine()
    v0, v1 = d.vcpus
    m.run_for(20 * MS)
    assert hc(v0, "vcpu_op", VC.VCPUOP_down, 1, None) == 0
    assert hc(v0, "vcpu_op", VC.VCPUOP_down, 1, None) == 0              # test_and_set: no error
    assert hc(v0, "vcpu_op", VC.VCPUOP_is_up, 1, None) == 0
    m.run_for(5 * MS)                                                     # it leaves its pCPU
    t = v1.cpu_time_now
    m.run_for(50 * MS)
    assert v1.cpu_time_now == t and v1.runstate == VC.RUNSTATE_offline
    assert hc(v0, "vcpu_op", VC.VCPUOP_up, 1, None) == 0
    assert hc(v0, "vcpu_op", VC.VCPUOP_up, 1, None) == 0
    m.run_for(50 * MS)
    assert v1.cpu_time_now > t


def test_initialise_refuses_ring0_selectors_and_a_foreign_root_and_keeps_nothing():
    m = xenlab.Machine(cpus=2, memory_mb=128, seed=6)
    dom0 = m.dom0
    # A domain made by hand (CREATEDOMAIN, MAX_VCPUS, memory) whose vcpu 1 has no context yet.
    u = D.dom0_createdomain()
    assert hc(dom0.vcpus[0], "dom0_op", D.dom0_op(D.DOM0_CREATEDOMAIN, u)) == 0
    assert hc(dom0.vcpus[0], "dom0_op", D.dom0_op(D.DOM0_MAX_VCPUS, D.dom0_max_vcpus(u.domain, 2))) == 0
    d = m.domains[u.domain]
    v0, v1 = d.vcpus
    assert not v1.initialised and v1.down
    assert hc(v0, "vcpu_op", VC.VCPUOP_up, 1, None) == -E.EINVAL       # no context yet
    foreign_root = dom0.vcpus[0].cr3
    before = int(m.frame_table.type_info[foreign_root >> 12])
    ring0 = vcpu_context(dom0.kernel, dom0.vcpus[0], 1, xenlinux_trap_table())
    ring0.user_regs.cs = 0xE008                                          # Xen's own ring-0 selector
    assert hc(v0, "vcpu_op", VC.VCPUOP_initialise, 1, ring0) == -E.EINVAL
    theirs = vcpu_context(dom0.kernel, dom0.vcpus[0], 1, xenlinux_trap_table())   # dom0's page tables
    assert hc(v0, "vcpu_op", VC.VCPUOP_initialise, 1, theirs) == -E.EINVAL
    assert int(m.frame_table.type_info[foreign_root >> 12]) == before   # no reference taken or leaked
    assert not v1.initialised and getattr(v1, "cr3", 0) == 0


def test_runstate_info_adds_up_to_the_time_since_the_vcpu_existed():
    m = xenlab.Machine(cpus=2, memory_mb=128, seed=5)
    m.run_for(3 * MS)
    t0 = m.now
    d = m.create_domain(xenlab.DomainConfig(name="smp", memory=16, vcpus=2, workload="cpu-bound"))
    m.run_for(30 * MS)
    info = VC.vcpu_runstate_info()
    v1 = d.vcpus[1]
    assert hc(d.vcpus[0], "vcpu_op", VC.VCPUOP_get_runstate_info, 1, info) == 0
    assert info.state == v1.runstate
    assert sum(info.time) == m.now - t0                                  # vcpu_runstate_get: every ns counted
    assert info.time[VC.RUNSTATE_offline] == 0                           # brought up at boot, before any time passed
    assert info.time[VC.RUNSTATE_running] == v1.cpu_time_now
