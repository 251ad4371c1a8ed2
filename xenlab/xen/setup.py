"""Xen's boot-time programming of the CPU: the gates through which guests enter Xen.

Models the part of X@RELEASE-3.0.0:xen/arch/x86/setup.c ``__start_xen`` that calls ``trap_init``
(xen/arch/x86/traps.c: fill ``idt_table`` with Xen's exception handlers and the hypercall gate
``int $0x82``, then ``lidt`` on each CPU) and, on a VMX-capable machine, ``start_vmx``
(xen/arch/x86/vmx.c: the VMCS host state whose HOST_RIP is Xen's VM-exit handler). The CPU side is
hw/idt.py and hw/vmx.py: the hardware calls what is installed here and knows nothing else of Xen.
This module sits at the top of xen/, since it names handlers from all over it.
"""
from __future__ import annotations

from xenlab.hw.idt import load_idt
from xenlab.hw.vmx import load_vmcs_host
from xenlab.xen.hvm import hvm_exception, hvm_instruction, hvm_io_assist, hvm_wait_io
from xenlab.xen.hypercall import hypercall_from_guest
from xenlab.xen.shadow import mark_dirty
from xenlab.xen.shadow_pt import gpa_to_maddr, hvm_access, sh_invlpg, sh_update_cr3
from xenlab.xen.traps import (device_not_available, do_page_fault, do_trap, event_callback,
                              privileged_instruction, software_interrupt)


def trap_init(machine) -> None:
    """idt_table and the hypercall gate, loaded on every CPU."""
    load_idt(machine, {"exception": do_trap, "page_fault": do_page_fault,
                       "device_not_available": device_not_available, "int": software_interrupt,
                       "privileged": privileged_instruction, "hypercall": hypercall_from_guest,
                       "event_upcall": event_callback, "log_dirty_write": mark_dirty})


def start_vmx(machine) -> None:
    """The VM-exit handlers (vmx_vmexit_handler and the shadow code it calls)."""
    load_vmcs_host(machine, {"instruction": hvm_instruction, "exception": hvm_exception, "access": hvm_access,
                             "phys": gpa_to_maddr, "cr3": sh_update_cr3, "invlpg": sh_invlpg,
                             "resume": hvm_wait_io, "io_assist": hvm_io_assist})


def install_gates(machine) -> None:
    trap_init(machine)
    if machine.hvm:
        start_vmx(machine)


__all__ = ["trap_init", "start_vmx", "install_gates"]
