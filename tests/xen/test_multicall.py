"""multicall (X@RELEASE-3.0.0:xen/common/multicall.c): one crossing, each entry's own result, and a
failing entry does not stop the ones after it; XenLinux 3.0.0's context switch as its one multicall
(X@RELEASE-3.0.0:linux-2.6-xen-sparse/arch/xen/i386/kernel/process.c:464-561, __switch_to)."""
import importlib.util
import pathlib

import pytest

import xenlab
from xenlab.guest.workload import Program
from xenlab.xen.multicall import crossing_counts
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


def test_three_ways_to_send_n_updates_count_crossings(booted):
    # N single-request mmu_updates (3.0.0's xen_l1_entry_update, one per PTE), one mmu_update of N
    # requests, one multicall of N update_va_mapping (netfront's MULTI_update_va_mapping): N, 1, 1 crossings.
    m, d, g = booted
    n = 7
    vas = [0x09000000 + i * 4096 for i in range(n)]
    ptrs = [g._l1_for(va, create=True) for va in vas]

    def run(send):
        with m.trace.record("PV") as events:
            send()
        return crossing_counts(events, d.domain_id)

    one_by_one = run(lambda: [d.hypercall("mmu_update", [mmu_update_t(p, g.pte(400 + i, True, True))])
                              for i, p in enumerate(ptrs)])
    batched = run(lambda: d.hypercall("mmu_update", [mmu_update_t(p, g.pte(500 + i, True, True))
                                                     for i, p in enumerate(ptrs)]))
    batch = [MC(X.__HYPERVISOR_update_va_mapping, [va, g.pte(600 + i, True, True), 0]) for i, va in enumerate(vas)]
    with m.trace.record("PV") as events:
        assert d.hypercall("multicall", batch, n) == 0
    multi = crossing_counts(events, d.domain_id)
    assert one_by_one == {"crossings": n, "hypercalls": n}
    assert batched == {"crossings": 1, "hypercalls": 1}
    assert multi == {"crossings": 1, "hypercalls": n}
    done = [e for e in events if e.name == "multicall_done"]
    assert [(e["hypercalls"], e["crossings"], e["failed"]) for e in done] == [(n, 1, 0)]
    assert [e.result for e in batch] == [0] * n
    for i, va in enumerate(vas):
        assert g.translate(va) == d.p2m[600 + i] << 12                 # every entry took effect


def test_hostile_stack_switch_and_fpu_taskswitch_entries_change_nothing(booted):
    # do_stack_switch (X@RELEASE-3.0.0:xen/arch/x86/x86_32/mm.c:224): (ss & 3) != 1 is -EPERM; a value
    # no register holds is refused by the dispatcher (-EINVAL); the entries after a bad one still run.
    m, d, g = booted
    from xenlab.xen import traps as T
    v = d.vcpus[0]
    a = T.arch(v)
    ss_sp, cr0 = (a.kernel_ss, a.kernel_sp), a.ctrlreg[0]
    batch = [MC(X.__HYPERVISOR_stack_switch, [0xE019 & ~3, 0xC0300000]),     # RPL 0: -EPERM
             MC(X.__HYPERVISOR_stack_switch, [0xE021, 1 << 40]),             # no 32-bit register: -EINVAL
             MC(X.__HYPERVISOR_stack_switch, [0xE021, "esp"]),
             MC(X.__HYPERVISOR_fpu_taskswitch, [None]),
             MC(X.__HYPERVISOR_stack_switch, [0xE021]),                      # a missing argument: -EFAULT
             MC(X.__HYPERVISOR_fpu_taskswitch, [1])]
    assert d.hypercall("multicall", batch, len(batch)) == 0
    assert [e.result for e in batch] == [-E.EPERM, -E.EINVAL, -E.EINVAL, -E.EINVAL, -E.EFAULT, 0]
    assert (a.kernel_ss, a.kernel_sp) == ss_sp                          # nothing kept from the bad ones
    assert a.ctrlreg[0] == cr0 | T.X86_CR0_TS                            # the last entry ran


# -- the context switch ------------------------------------------------------------------------------------
STACK_TOP = 0xC0400000        # guest/cpu.py KERNEL_STACK_TOP: vcpu 0's 8 KiB stack area ends here


def _switch_events(m, d, fn):
    with m.trace.record("PV") as events:
        out = fn()
    mine = [e for e in events if e.domid == d.domain_id]
    calls = [e["op"] for e in mine if e.name == "hypercall"]
    entries = [(e["op"], e["args"]) for e in mine if e.name == "multicall_entry"]
    return out, calls, entries, [e["rc"] for e in mine if e.name == "multicall_result"]


def test_a_process_switch_is_switch_mm_then_one_multicall():
    # The workload's ("switch",): tasks A (boot stack) and B (4 KiB below) alternate; neither used the
    # FPU, no TLS, same io_pl: __switch_to queues only stack_switch(__KERNEL_DS, next->esp0).
    m = xenlab.Machine(memory_mb=64, seed=2)
    prog = Program("switcher", (("switch",), ("switch",), ("switch",), ("block",)))
    d = m.create_domain(xenlab.DomainConfig(name="s", memory=8, workload=prog))
    _, calls, entries, results = _switch_events(m, d, lambda: m.run_for(20_000_000))
    assert calls[:6] == ["mmuext_op", "multicall"] * 3                  # switch_mm, then __switch_to
    esp0 = [STACK_TOP - 0x1000, STACK_TOP, STACK_TOP - 0x1000]           # B, A, B
    assert entries == [("stack_switch", (0xE021, sp)) for sp in esp0]
    assert results == [0, 0, 0]
    from xenlab.xen import traps as T
    assert T.arch(d.vcpus[0]).kernel_sp == STACK_TOP - 0x1000           # Xen's TSS esp1 is B's stack


def test_fpu_use_queues_fpu_taskswitch_first():
    m = xenlab.Machine(memory_mb=64, seed=2)
    prog = Program("fpu", (("fpu",), ("switch",), ("switch",), ("block",)))
    d = m.create_domain(xenlab.DomainConfig(name="f", memory=8, workload=prog))
    _, _, entries, results = _switch_events(m, d, lambda: m.run_for(20_000_000))
    # A used the FPU (#NM -> clts -> TS_USEDFPU): its switch-out sets TS in the same multicall; B did not.
    assert [op for op, _ in entries] == ["fpu_taskswitch", "stack_switch", "stack_switch"]
    assert entries[0][1] == (1,)
    assert results == [0, 0, 0]


def test_switch_with_tls_and_iopl_is_one_multicall_in_process_c_order():
    from xenlab.guest import switch_to as ST
    from xenlab.guest.gdt import guest_gdt
    from xenlab.hw.segments import SegmentDescriptor
    from xenlab.xen import traps as T
    m = xenlab.Machine(memory_mb=64, seed=3)
    d = m.create_domain(xenlab.DomainConfig(name="t", memory=16))
    d.pause()
    k, v = d.kernel, d.vcpus[0]
    rq = ST.runqueue(k, v)
    a, b = rq.tasks
    # B: glibc's TLS in slot 0 and Wine's in slot 1 (byte-granular, well below Xen: stored as given);
    # it called iopl(3). A: no TLS, io_pl 0, and it used the FPU.
    tls0 = SegmentDescriptor(base=0x0804F000, limit=0xFFF, type=0x2, s=1, dpl=3, p=1, db=1, g=0).encode()
    tls1 = SegmentDescriptor(base=0x08050000, limit=0x7FF, type=0x2, s=1, dpl=3, p=1, db=1, g=0).encode()
    assert ST.set_thread_area(k, v, b, 0, tls0) == 0 and ST.set_thread_area(k, v, b, 1, tls1) == 0
    b.io_pl = 3
    a.used_fpu = True
    gdt_ma = guest_gdt(d).mfn << 12
    crossings = m.stats["hypercalls"]
    with m.trace.record("MEM") as mem:
        mcl, calls, entries, results = _switch_events(m, d, lambda: ST.context_switch(k, v))
    assert calls == ["mmuext_op", "multicall"] and m.stats["hypercalls"] - crossings == 2
    # switch_mm (mmu_context.h): MMUEXT_NEW_BASEPTR, here of the root the tasks share
    assert [(e.name, e["mfn"]) for e in mem if e.name == "new_baseptr"] == [("new_baseptr", v.cr3 >> 12)]
    # The oracle: process.c's order (fpu, stack, TLS 0..2 where they differ, iopl 0 -> as given, 3).
    assert [op for op, _ in entries] == ["fpu_taskswitch", "stack_switch", "update_descriptor",
                                        "update_descriptor", "physdev_op"]
    assert entries[2][1] == (gdt_ma + 8 * 6, tls0) and entries[3][1] == (gdt_ma + 8 * 7, tls1)
    assert [e.result for e in mcl] == results == [0] * 5
    assert m.memory.read_u64(gdt_ma + 8 * 6) == tls0 and m.memory.read_u64(gdt_ma + 8 * 7) == tls1
    assert m.memory.read_u64(gdt_ma + 8 * 8) == 0
    ar = T.arch(v)
    assert ar.kernel_sp == b.esp0 and ar.ctrlreg[0] & T.X86_CR0_TS and ar.iopl == 3
    # Back to A: TLS cleared (not-present descriptors), io_pl 0 is sent as iopl 1; B never used the FPU.
    mcl, calls, entries, results = _switch_events(m, d, lambda: ST.context_switch(k, v))
    assert [op for op, _ in entries] == ["stack_switch", "update_descriptor", "update_descriptor", "physdev_op"]
    assert mcl[3].args[1].iopl == 1 and ar.iopl == 1 and results == [0] * 4
    assert m.memory.read_u64(gdt_ma + 8 * 6) == 0 and m.memory.read_u64(gdt_ma + 8 * 7) == 0


def test_a_thread_switch_is_one_crossing_and_a_refused_entry_stops_nothing():
    from xenlab.guest import switch_to as ST
    from xenlab.hw.segments import SegmentDescriptor
    from xenlab.xen import traps as T
    m = xenlab.Machine(memory_mb=64, seed=3)
    d = m.create_domain(xenlab.DomainConfig(name="t", memory=16))
    d.pause()
    k, v = d.kernel, d.vcpus[0]
    a = ST.runqueue(k, v).tasks[0]
    t = ST.new_task(k, v, "A2", thread_of=a)                            # clone(CLONE_VM): same mm
    # A kernel bug: a ring-0 code descriptor as the thread's TLS (check_descriptor refuses DPL 0), and
    # the thread called iopl(2). Xen refuses the TLS entry; the SET_IOPL after it still runs.
    assert ST.set_thread_area(k, v, t, 2, SegmentDescriptor.flat(0, True)) == 0      # not running: stored only
    t.io_pl = 2
    crossings = m.stats["hypercalls"]
    _, calls, entries, results = _switch_events(m, d, lambda: ST.context_switch(k, v, t))
    assert calls == ["multicall"] and m.stats["hypercalls"] - crossings == 1      # no switch_mm
    assert [op for op, _ in entries] == ["stack_switch", "update_descriptor", "physdev_op"]
    assert results == [0, -E.EINVAL, 0]
    assert T.arch(v).kernel_sp == t.esp0 and T.arch(v).iopl == 2
