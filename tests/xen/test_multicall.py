"""multicall (X@RELEASE-3.0.0:xen/common/multicall.c): one crossing, each entry's own result, and a
failing entry does not stop the ones after it."""
import importlib.util
import pathlib

import pytest

import xenlab
from xenlab.guest.workload import Program
from xenlab.xen.public import errno as E
from xenlab.xen.public import xen as X
from xenlab.xen.public.memory import mmu_update_t
from xenlab.xen.public.xen import multicall_entry_t as MC

_spec = importlib.util.spec_from_file_location(
    "hw_ref_walk", pathlib.Path(__file__).parents[1] / "hw" / "test_paging_walk.py")
_ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ref)


@pytest.fixture
def booted():
    m = xenlab.Machine(memory_mb=64, seed=1)
    d = m.create_domain(xenlab.DomainConfig(name="u", memory=8))
    return m, d, d.kernel.mm


def test_n_updates_cross_once_and_each_entry_has_its_result(booted):
    m, d, g = booted
    vas = [0x08048000 + i * 4096 for i in range(5)]
    ptrs = [g._l1_for(va, create=True) for va in vas]
    victim = m.dom0.p2m[5]
    # Entry 2 maps another domain's frame: refused (-EINVAL); entries 3 and 4 still run.
    vals = [d.p2m[300] << 12 | 3, d.p2m[301] << 12 | 3, victim << 12 | 1, d.p2m[302] << 12 | 3, d.p2m[303] << 12 | 3]
    batch = [MC(X.__HYPERVISOR_mmu_update, [[mmu_update_t(p, v)], 1, None, X.DOMID_SELF]) for p, v in zip(ptrs, vals)]
    crossings = m.stats.get("hypercalls", 0)
    counts = dict(d.hypercall_counts)
    assert d.hypercall("multicall", batch, len(batch)) == 0
    assert m.stats["hypercalls"] - crossings == 1                       # one int $0x82
    assert d.hypercall_counts.get("mmu_update", 0) == counts.get("mmu_update", 0)   # no direct mmu_update
    assert [e.result for e in batch] == [0, 0, -E.EINVAL, 0, 0]
    # The effect, read from the page tables by an independent walk: 0, 1, 3, 4 mapped; 2 not.
    for i in (0, 1, 3, 4):
        assert g.translate(vas[i]) == vals[i] & ~0xFFF
    with pytest.raises(_ref.PageFault):
        g.translate(vas[2])


def test_reentry_refused_and_bad_array_is_efault(booted):
    m, d, g = booted
    inner = [MC(X.__HYPERVISOR_xen_version, [0, None])]
    outer = [MC(X.__HYPERVISOR_multicall, [inner, 1]), MC(X.__HYPERVISOR_xen_version, [0, None])]
    assert d.hypercall("multicall", outer, 2) == 0
    assert outer[0].result == -E.EINVAL and inner[0].result == 0       # never ran
    assert outer[1].result == 3 << 16                                  # XENVER_version: 3.0
    assert d.hypercall("multicall", outer, 3) == -E.EFAULT             # beyond the array
    assert d.hypercall("multicall", outer, -1) == -E.EFAULT
    assert d.hypercall("multicall", "junk", 1) == -E.EFAULT
    assert d.hypercall("multicall", [MC(999, [])], 1) == 0             # an unknown op: that entry -ENOSYS


def test_unknown_op_and_privileged_op_in_a_batch(booted):
    m, d, g = booted
    from xenlab.xen.public import dom0_ops as D
    batch = [MC(62, []), MC(X.__HYPERVISOR_dom0_op, [D.dom0_op(D.DOM0_PAUSEDOMAIN, D.dom0_domain(0))]),
             MC(X.__HYPERVISOR_fpu_taskswitch, [1]), MC(X.__HYPERVISOR_fpu_taskswitch, [1, 2, 3, 4, 5, 6, 7])]
    assert d.hypercall("multicall", batch, 4) == 0
    assert [e.result for e in batch] == [-E.ENOSYS, -E.EPERM, 0, -E.EFAULT]
    assert m.dom0.pause_count == 0


def test_context_switch_is_two_crossings_for_three_operations():
    # XenLinux: switch_mm's mmuext_op, then __switch_to's one multicall (fpu_taskswitch + stack_switch).
    m = xenlab.Machine(memory_mb=64, seed=2)
    prog = Program("switcher", (("switch",), ("switch",), ("switch",), ("block",)))
    d = m.create_domain(xenlab.DomainConfig(name="s", memory=8, workload=prog))
    before_mc = d.hypercall_counts.get("multicall", 0)
    with m.trace.record("PV") as events:
        m.run_for(20_000_000)
    mine = [e for e in events if e.domid == d.domain_id]
    assert d.hypercall_counts.get("multicall", 0) - before_mc == 3
    entries = [e for e in mine if e.name == "multicall_entry"]
    assert [e["op"] for e in entries] == ["fpu_taskswitch", "stack_switch"] * 3
    results = [e["rc"] for e in mine if e.name == "multicall_result"]
    assert results == [0] * 6
