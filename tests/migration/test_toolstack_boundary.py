"""The toolstack sees Xen only through hypercalls and XenStore, as xenstat and libxc do.

The machine's domain table is replaced by one that refuses any read made from code in
xenlab.toolstack; Xen's own handlers (xenlab.xen) still read it, as the hypervisor reads its own
struct domain list."""
import sys

import xenlab
from xenlab.toolstack import xentop


class GuardedDomains(dict):
    def _check(self):
        caller = sys._getframe(2).f_globals.get("__name__", "")
        if caller.startswith("xenlab.toolstack"):
            raise AssertionError(f"{caller} read the hypervisor's domain table directly")

    def __getitem__(self, k):
        self._check()
        return super().__getitem__(k)

    def get(self, *a):
        self._check()
        return super().get(*a)

    def values(self):
        self._check()
        return super().values()

    def items(self):
        self._check()
        return super().items()

    def __iter__(self):
        self._check()
        return super().__iter__()

    def __contains__(self, k):
        self._check()
        return super().__contains__(k)


def test_the_guard_catches_a_direct_read():
    m = xenlab.Machine(seed=0, memory_mb=64)
    m.domains = GuardedDomains(m.domains)
    ns = {"__name__": "xenlab.toolstack.fake"}
    exec("def peek(m):\n    return m.domains[0]\n", ns)
    try:
        ns["peek"](m)
    except AssertionError as exc:
        assert "xenlab.toolstack.fake" in str(exc)
    else:
        raise AssertionError("the guard let a toolstack read through")


def test_xentop_reads_only_through_dom0_ops_and_xenstore():
    m = xenlab.Machine(cpus=2, seed=3, memory_mb=128)
    d = m.create_domain(xenlab.DomainConfig(name="web", memory=16, vcpus=2, workload="cpu-bound"))
    m.run_for(50_000_000)
    real = {k: v for k, v in m.domains.items()}
    m.domains = GuardedDomains(real)
    s = xentop.sample(m)
    assert sorted(s.domains) == [0, d.domain_id]
    web = s.domains[d.domain_id]
    assert web.name == "web" and len(web.vcpu_ns) == 2
    assert web.vcpu_ns == [v.cpu_time_now for v in real[d.domain_id].vcpus]
    assert web.cpu_ns == real[d.domain_id].cpu_time


def test_vcpu_list_and_pin_through_xens_interface_only():
    m = xenlab.Machine(cpus=2, seed=4, memory_mb=128)
    d = m.create_domain(xenlab.DomainConfig(name="web", memory=16, vcpus=2, workload="cpu-bound"))
    m.run_for(30_000_000)
    real = {k: v for k, v in m.domains.items()}
    m.domains = GuardedDomains(real)
    out = xenlab.xm(m, "vcpu-list web").text.splitlines()
    assert out[0] == "Name                              ID  VCPU  CPU  State  Time(s)  CPU Affinity"
    v1 = real[d.domain_id].vcpus[1]
    # 3.0.0's format: name, id, vcpu, cpu, state (r/- b/- -), seconds, affinity folded to "any cpu".
    assert out[2] == f"{'web':<32s} {d.domain_id:3d}  {1:4d}  {v1.processor:>3d}   " \
                     f"{('r' if v1.is_running else '-') + ('b' if v1.blocked else '-') + '-':<3s}   " \
                     f"{v1.cpu_time_now / 1e9:7.1f}  any cpu"
    xenlab.xm(m, "vcpu-pin web 1 0")
    assert v1.processor == 0 and v1.cpu_affinity == (0,)
    m.run_for(20_000_000)
    assert xenlab.xm(m, "vcpu-list web").rows[1]["affinity"] == "0"
    import pytest
    from xenlab.toolstack.xm import XmError
    with pytest.raises(XmError, match="invalid CPU list"):
        xenlab.xm(m, "vcpu-pin web 1 x-y")
    with pytest.raises(XmError, match="does not exist"):
        xenlab.xm(m, "vcpu-pin nosuch 0 0")


def test_cpumap_formatting_follows_xms_worked_examples():
    # tools/python/xen/xm/main.py's comments: [0,1,4,6,7] -> 0-1,4,6-7; [1,2,4,5] -> 1-2,4-5; [0] -> 0.
    from xenlab.toolstack.xm_vcpu import cpu_make_map, format_cpumap
    assert format_cpumap([0, 1, 4, 6, 7], 8) == "0-1,4,6-7"
    assert format_cpumap([1, 2, 4, 5], 8) == "1-2,4-5"
    assert format_cpumap([0], 8) == "0"
    assert format_cpumap(list(range(32)), 2) == "any cpu"        # CPUMAP_RUNANYWHERE folded modulo 2
    assert cpu_make_map("0-2,5") == [0, 1, 2, 5]
