"""The CPU's gates into Xen (hw/idt.py, hw/vmx.py): Xen installs them at boot; the hardware only calls
what is installed, and a missing one is a clear error, not a silent call into Xen."""
import pytest

import xenlab
from xenlab.hw import idt, vmx
from xenlab.xen.public.arch_x86_32 import FLAT_KERNEL_CS


def test_xen_installs_every_pv_gate_on_every_cpu_and_vmx_only_with_vt():
    m = xenlab.Machine(cpus=2, seed=1)
    for cpu in m.cpus:
        assert set(idt.GATES) <= set(cpu.gates)
        assert not any(name.startswith("vmx_") for name in cpu.gates)     # no VT-x: no VMCS host state
    h = xenlab.Machine(cpus=1, seed=1, hvm=True)
    assert {"vmx_" + n for n in vmx.HANDLERS} <= set(h.cpus[0].gates)


def test_a_missing_gate_is_an_error_naming_it():
    m = xenlab.Machine(seed=1)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16))
    with pytest.raises(RuntimeError, match="vmx_instruction"):
        vmx.guest_instruction(d.vcpus[0], "hlt")
    with pytest.raises(ValueError, match="unknown gates"):
        idt.load_idt(m, {"nmi": print})


def test_int80_goes_straight_to_the_guest_handler_through_the_direct_gate():
    """XenLinux registers int $0x80 with DPL 3 and no IF flag, so Xen gives it a direct trap gate:
    ring 3 -> ring 1 without entering Xen (xen-facts: the int80 fast path)."""
    m = xenlab.Machine(seed=1)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16))
    v = d.vcpus[0]
    path, frame = idt.int_n(v, 0x80, from_ring=3)
    assert path == "direct" and frame.cs == FLAT_KERNEL_CS
    assert m.cpus[v.processor].ring == 1


def test_page_fault_writes_cr2_before_entering_xen():
    m = xenlab.Machine(seed=1)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=16))
    v = d.vcpus[0]
    frame = idt.page_fault(v, 0x40001234, 0x6, from_ring=3)
    assert m.cpus[v.processor].cr2 == 0x40001234
    assert frame is not None and frame.vector == 14
