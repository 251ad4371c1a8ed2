"""Hardware-assisted virtualisation (Intel VT-x): what the CPU does for an HVM guest, and the entry
Xen programs into it.

An HVM guest's instructions run in VMX non-root mode. The controls Xen wrote in the VMCS decide which
of them leave guest mode; a VM exit loads the host state Xen set (HOST_RIP = its exit handler,
vmx_asm_vmexit_handler in X@RELEASE-3.0.0:xen/arch/x86/x86_32/exits.S) and Xen's handler runs. Xen
installs its handlers at boot (``load_vmcs_host``, from its VMX set-up); the HVM guest model executes
through the functions below. Memory accesses in guest mode go through the page tables Xen keeps for
the guest (shadow paging in 3.0: the CPU walks the shadow, and a miss is a #PF exit Xen fills).

Handlers (``HANDLERS``):
    "instruction"   a privileged instruction in guest ring 0 (exits as the VMCS says; CLI/STI/LGDT don't)
    "exception"     an exception Xen intercepts (#PF under shadow paging, #NM for lazy FPU)
    "access"        a load or store at a guest virtual address, through the shadow
    "phys"          guest-physical address -> machine address (paging off: Xen's physical-mode tables)
    "cr3"           mov to CR3 (a CR_ACCESS exit: Xen switches to the shadow of the new table)
    "invlpg"        invlpg (an INVLPG exit)
    "resume"        VM entry: Xen's resume path first completes an I/O the device model answered
                    (returns True while the vcpu must still wait)
    "io_assist"     the ioreq channel fired: Xen completes the answered I/O (vmx_io_assist)

Simplifications:
- Handlers are Python callables keyed by name; one table for every CPU.
"""
from __future__ import annotations

from xenlab.hw.idt import gate

HANDLERS = ("instruction", "exception", "access", "phys", "cr3", "invlpg", "resume", "io_assist")


def load_vmcs_host(machine, handlers: dict) -> None:
    """Write the host state (Xen's VM-exit entry points) into every CPU's VMCS template."""
    unknown = set(handlers) - set(HANDLERS)
    if unknown:
        raise ValueError(f"unknown VMX handlers {sorted(unknown)}; known: {', '.join(HANDLERS)}")
    for cpu in machine.cpus:
        cpu.gates.update({"vmx_" + k: f for k, f in handlers.items()})


def _h(v, name: str):
    return gate(v.domain.machine, v.processor, "vmx_" + name)


def guest_instruction(v, insn: str, *operands) -> str:
    """The HVM kernel executes ``insn`` in guest ring 0: "native", "handled" or "blocked"."""
    return _h(v, "instruction")(v, insn, *operands)


def guest_exception(v, vector: int, error_code: int = 0, cr2: int | None = None) -> None:
    _h(v, "exception")(v, vector, error_code, cr2)


def guest_access(v, va: int, access: str, value: int | None, size: int = 4, user: bool = False):
    """A load (value None) or store at guest virtual ``va``: (how it went, machine address or None)."""
    return _h(v, "access")(v, va, access, value, size, user)


def guest_phys(d, gpa: int) -> int:
    """The machine address of guest-physical address ``gpa``."""
    return gate(d.machine, 0, "vmx_phys")(d, gpa)


def load_cr3(v, cr3: int) -> None:
    _h(v, "cr3")(v, cr3)


def invlpg(v, va: int) -> None:
    _h(v, "invlpg")(v, va)


def vm_entry(v) -> bool:
    """Re-enter guest mode; True while the vcpu still waits for the device model (stays blocked)."""
    return _h(v, "resume")(v)


def io_assist(v) -> bool:
    """The device model answered v's ioreq (its event arrived): Xen completes the I/O."""
    return _h(v, "io_assist")(v)


__all__ = ["io_assist", "HANDLERS", "load_vmcs_host", "guest_instruction", "guest_exception", "guest_access", "guest_phys",
           "load_cr3", "invlpg", "vm_entry"]
