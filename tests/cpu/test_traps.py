"""Rings, traps, the fast system call, privileged instructions and VM exits (xen-facts section 6)."""
import pytest

import xenlab
from xenlab.guest.workload import Program, kernel_mix
from xenlab.xen import traps as T
from xenlab.xen.costs import overhead_summary
from xenlab.xen.event import vcpu_info_read, vcpu_info_write
from xenlab.xen.hvm import exit_summary
from xenlab.xen.public import errno as E
from xenlab.xen.public.arch_x86_32 import (FLAT_KERNEL_CS, FLAT_KERNEL_DS, FLAT_USER_CS, FLAT_USER_DS,
                                           VALID_CODESEL, trap_info)
from xenlab.xen.public.xen import VCPU_INFO_SIZE, VI_ARCH_CR2

H = 0xC0101000


@pytest.fixture
def guest(m):
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=8))
    d.pause()
    return m, d, d.vcpus[0]


def test_valid_codesel():
    assert VALID_CODESEL(FLAT_KERNEL_CS)
    assert not VALID_CODESEL(FLAT_USER_CS)            # RPL 3
    assert not VALID_CODESEL(0x0008)                  # RPL 0
    assert VALID_CODESEL(0x0009)                      # GDT index 1, RPL 1
    assert not VALID_CODESEL((7168 << 3) | 1)         # inside Xen's reserved GDT area
    assert VALID_CODESEL((7168 << 3) | 4 | 1)         # an LDT selector is always allowed


def test_boot_registers_trap_table_callbacks_stack(guest):
    m, d, v = guest
    a = T.arch(v)
    assert a.trap_ctxt[14].flags & 4 and a.trap_ctxt[14].cs == FLAT_KERNEL_CS
    assert a.int80_direct and a.trap_ctxt[0x80].flags == 3
    assert a.event_callback_cs == FLAT_KERNEL_CS and a.event_callback_eip
    assert a.kernel_ss == FLAT_KERNEL_DS
    assert "0x80" in T.trap_table_dump(v)


def test_set_trap_table_eperm_and_terminator(guest):
    m, d, v = guest
    assert d.hypercall("set_trap_table", None) == 0
    table = [trap_info(6, 0, FLAT_KERNEL_CS, H), trap_info(13, 0, FLAT_USER_CS, H + 16),
             trap_info(14, 0, FLAT_KERNEL_CS, H + 32)]
    assert d.hypercall("set_trap_table", table) == -E.EPERM
    a = T.arch(v)
    assert a.trap_ctxt[6].address == H and a.trap_ctxt[13].address == 0 and a.trap_ctxt[14].address == 0
    table = [trap_info(7, 0, FLAT_KERNEL_CS, H), trap_info(0, 0, 0, 0), trap_info(8, 0, 0x1234, H)]
    assert d.hypercall("set_trap_table", table) == 0               # stops at address 0, never sees 0x1234
    assert a.trap_ctxt[7].address == H and a.trap_ctxt[8].address == 0
    assert d.hypercall("set_trap_table", "not a list") == -E.EFAULT


def test_set_callbacks_stack_switch_fpu(guest):
    m, d, v = guest
    assert d.hypercall("set_callbacks", FLAT_USER_CS, H, FLAT_KERNEL_CS, H) == -E.EPERM
    assert d.hypercall("set_callbacks", FLAT_KERNEL_CS, H, 0x0008, H) == -E.EPERM
    assert d.hypercall("stack_switch", FLAT_USER_DS, 0xC0300000) == -E.EPERM
    assert d.hypercall("stack_switch", 0x0010, 0xC0300000) == -E.EPERM
    assert d.hypercall("stack_switch", FLAT_KERNEL_DS, 0xC0300000) == 0
    assert T.arch(v).kernel_sp == 0xC0300000
    assert d.hypercall("fpu_taskswitch", 1) == 0 and T.arch(v).ctrlreg[0] & T.X86_CR0_TS
    assert T.device_not_available(v).vector == 7
    assert d.hypercall("fpu_taskswitch", 0) == 0 and T.device_not_available(v) is None


def test_page_fault_cr2_in_vcpu_info_and_events_masked(guest):
    m, d, v = guest
    vcpu_info_write(v, "evtchn_upcall_mask", 0)
    frame = T.do_page_fault(v, 0x0804A123, 0x6, from_ring=3)
    addr = (d.shared_info_mfn << 12) + v.vcpu_id * VCPU_INFO_SIZE + VI_ARCH_CR2
    assert m.memory.read_u32(addr) == 0x0804A123                    # 3.0: arch.cr2, not the frame
    assert frame.error_code == 0x6 and frame.eip == T.arch(v).trap_ctxt[14].address
    assert frame.masks_events and vcpu_info_read(v, "evtchn_upcall_mask") == 1
    assert frame.saved_upcall_mask == 0 and frame.eflags_if == 1
    assert (frame.ss, frame.esp) == (T.arch(v).kernel_ss, T.arch(v).kernel_sp)   # from ring 3: stack switch
    f1 = T.do_trap(v, 6, None, from_ring=1)
    assert f1.ss is None and not f1.masks_events


def test_int80_direct_vs_through_xen_vs_denied(guest):
    m, d, v = guest
    with m.trace.record("HW") as evs:
        path, frame = T.software_interrupt(v, 0x80)
    assert path == "direct" and [e["path"] for e in evs if e.name == "ring"] == [(3, 1)]
    assert not any(e.name == "trap" for e in evs)                   # Xen never saw it
    # With the IF flag Xen cannot use a direct gate: the #GP path through ring 0.
    assert d.hypercall("set_trap_table", [trap_info(0x80, 3 | 4, FLAT_KERNEL_CS, H), trap_info()]) == 0
    with m.trace.record("HW") as evs:
        path, frame = T.software_interrupt(v, 0x80)
    assert path == "bounced" and (3, 0, 1) in [e["path"] for e in evs if e.name == "ring"]
    # DPL 0: a process may not raise it; #GP with error code (0x80 << 3) | 2 goes to the #GP handler.
    assert d.hypercall("set_trap_table", [trap_info(0x80, 0, FLAT_KERNEL_CS, H), trap_info()]) == 0
    path, frame = T.software_interrupt(v, 0x80)
    assert path == "gp" and frame.vector == 13 and frame.error_code == (0x80 << 3) | 2


def test_unhandled_exception_crashes_domain(guest):
    m, d, v = guest
    assert d.hypercall("set_trap_table", None) == 0
    assert T.do_trap(v, 0, None) is None
    assert d.is_shutdown and d.shutdown_reason == "crash"


def test_privileged_instructions_pv(m):
    d = m.create_domain(xenlab.DomainConfig(name="u", memory=8))
    v, v0 = d.vcpus[0], m.dom0.vcpus[0]
    assert T.privileged_instruction(v0, "out", 1, 0x80, 0x12)[0] == "emulated"    # dom0 has SET_IOPL 1
    assert T.privileged_instruction(v0, "in", 1, 0x71) == ("emulated", 0xFF)
    assert T.privileged_instruction(v, "out", 1, 0x80, 0x12)[0] == "bounced"      # domU: refused
    assert T.privileged_instruction(v, "write_cr3", 1)[0] == "emulated"          # CR3 reload from ring 1
    assert T.privileged_instruction(v, "write_cr3", 3)[0] == "bounced"           # not from ring 3
    for insn in ("hlt", "lgdt", "cli", "sti"):
        result, frame = T.privileged_instruction(v, insn, 1)
        assert result == "bounced" and frame.vector == 13 and frame.error_code == 0
    with pytest.raises(ValueError):
        T.privileged_instruction(v, "wbinvd", 1)


def _run(kind, program, charge_time=False):
    m = xenlab.Machine(memory_mb=96, hvm=True)
    m.costs.charge_time = charge_time
    d = m.create_domain(xenlab.DomainConfig(name=kind, memory=16, kind=kind, workload=program))
    m.run_for(30_000_000)
    return m, d


def test_pv_and_hvm_same_work_different_crossings():
    prog = kernel_mix(4)
    m1, pv = _run("pv", prog)
    m2, hv = _run("hvm", prog)
    p, h = overhead_summary(pv), overhead_summary(hv)
    rounds = 5
    assert p["syscall_direct"] == 3 * rounds and h["syscall_direct"] == 0
    assert p["vmexit"] == 0
    assert exit_summary(hv) == {"CR_ACCESS": rounds, "EXCEPTION_NMI": 3 * rounds, "IO_INSTRUCTION": rounds}
    assert h["world_switch"] == rounds                               # the port write went to qemu-dm
    assert m2.device_models[hv.domain_id].post_codes == [0x42] * rounds
    boot_mmuext = 2                       # boot: MMUEXT_PIN_L2_TABLE (L3 on PAE) and MMUEXT_NEW_BASEPTR
    assert pv.hypercall_counts["mmuext_op"] == rounds + boot_mmuext
    assert pv.hypercall_counts["fpu_taskswitch"] == 2 * rounds
    assert h["cycles"] > p["cycles"]


def test_charge_time_delays_the_work():
    prog = Program("p", (("syscall", 1),) * 0 + (("fault", 14, 0x1000),) * 50 + (("compute", 1_000_000),
                                                                                  ("shutdown", "poweroff")))
    m1, a = _run("pv", prog, charge_time=False)
    m2, b = _run("pv", prog, charge_time=True)
    assert b.cpu_time > a.cpu_time                                 # 50 bounces of 800 cycles = 20 us later


def test_hvm_serial_and_hlt():
    prog = Program("s", tuple(("priv", "out", 0x3F8, ord(c)) for c in "hi\n") + (
        ("priv", "in", 0x3FD), ("priv", "hlt"), ("priv", "in", 0x40), ("compute", 1000), ("loop", 4, None)))
    m, d = _run("hvm", prog)
    assert d.console_output[-1] == "hi"
    ex = exit_summary(d)
    assert ex["IO_INSTRUCTION"] >= 5 and ex["HLT"] >= 1
    assert d.hvm.last_value[0] in range(256)


def test_physdev_op_unknown_command_is_einval_and_unmodelled_ones_enosys():
    # X@RELEASE-3.0.0:xen/arch/x86/physdev.c: `default: ret = -EINVAL;`; commands 4, 7-10 exist in
    # public/physdev.h but the model's dom0 has no physical devices to need them.
    import xenlab
    from xenlab.xen.public import errno as E
    m = xenlab.Machine(seed=0, memory_mb=64)
    assert m.dom0.hypercall("physdev_op", 99, None) == -E.EINVAL
    for cmd in (4, 7, 8, 9, 10):
        assert m.dom0.hypercall("physdev_op", cmd, None) == -E.ENOSYS
