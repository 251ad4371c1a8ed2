"""The CPU's ways into Xen for a paravirtualised guest: the gates Xen programs into it at boot.

A real x86 CPU reaches the hypervisor only through what Xen loaded into it: the IDT, whose gates
``trap_init`` (X@RELEASE-3.0.0:xen/arch/x86/traps.c) points at Xen's exception handlers and every CPU
loads with ``lidt``, including the hypercall gate ``int $0x82`` (DPL 1, x86_32/traps.c). Xen installs
its handlers here at boot (``load_idt``, called from its trap_init); the guest models execute their
instructions through the functions below, which do what the CPU does (write CR2, change ring, push the
error code) and jump to the handler Xen installed. So the guest layer never names a Xen function, and
hw/ never imports xen/: the table is filled from above, as a real IDT is.

Gates (the names Xen installs, ``GATES``):
    "exception"              do_trap: vector, error code, the ring it came from
    "page_fault"             do_page_fault: the CPU wrote CR2 first
    "device_not_available"   #NM (lazy FPU) after the guest set CR0.TS with fpu_taskswitch
    "int"                    ``int $n``: a direct trap gate (int $0x80) or #GP into Xen
    "privileged"             a privileged instruction in ring 1/3: #GP into Xen, which may emulate it
    "hypercall"              ``int $0x82``: the hypercall gate
    "event_upcall"           Xen's return-to-guest path (test_all_events in entry.S) bouncing into the
                             guest's event callback
    "log_dirty_write"        a store to a page Xen's log-dirty shadow keeps read-only: a write fault
                             Xen's shadow code takes and records in the dirty bitmap

Simplifications:
- Gates are Python callables keyed by name (the same table on every CPU), not 8-byte gate descriptors.
- "event_upcall" is triggered by the guest model when its own check (upcall pending, not masked) says
  Xen's exit path would bounce into the callback; the model runs no real return-to-guest code.
- "log_dirty_write" takes many pages at once: the model computes a slice's writes in bulk.
"""
from __future__ import annotations

# Privileged instructions the model knows: in ring 1 or 3 each raises #GP (x86: CPL must be 0, or
# IOPL >= CPL for IN/OUT/CLI/STI).
PRIVILEGED = ("write_cr3", "hlt", "lgdt", "out", "in", "cli", "sti")

GATES = ("exception", "page_fault", "device_not_available", "int", "privileged", "hypercall",
         "event_upcall", "log_dirty_write")


def load_idt(machine, handlers: dict) -> None:
    """lidt on every CPU: install ``handlers`` ({gate name: callable}) as the CPUs' gates."""
    unknown = set(handlers) - set(GATES)
    if unknown:
        raise ValueError(f"unknown gates {sorted(unknown)}; the CPU has {', '.join(GATES)}")
    for cpu in machine.cpus:
        cpu.gates.update(handlers)


def gate(machine, cpu: int, name: str):
    try:
        return machine.cpus[cpu].gates[name]
    except KeyError:
        raise RuntimeError(f"pCPU{cpu} has no {name!r} gate: nothing installed a handler for it "
                           "(Xen installs its gates at boot)") from None


def _enter(v, name: str, *args):
    machine = v.domain.machine
    result = gate(machine, v.processor, name)(v, *args)
    frame = result[1] if isinstance(result, tuple) else result
    esp = getattr(frame, "frame_esp", None)
    if esp is not None:
        machine.cpus[v.processor].guest_esp = esp      # the guest handler starts with ESP here
    return result


def ring_crossing(v, path: tuple[int, ...], why: str, **payload) -> None:
    """Record the privilege levels a control transfer went through (e.g. (3, 0, 1)); the CPU ends
    in the last one."""
    machine = v.domain.machine
    machine.cpus[v.processor].ring = path[-1]
    if machine.trace.active:
        machine.trace.emit("HW", "ring", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor,
                           path=path, why=why, **payload)


# -- what guest code makes the CPU do ------------------------------------------------------------------
def exception(v, vector: int, error_code: int | None = None, from_ring: int = 3):
    """The instruction raised exception ``vector``; returns what Xen's handler returned (the bounce
    frame it built for the guest, or None when it crashed the domain)."""
    return _enter(v, "exception", vector, error_code, from_ring)


def page_fault(v, addr: int, error_code: int, from_ring: int = 3):
    """#PF: the CPU writes the linear address into CR2 and enters Xen's page-fault handler."""
    v.domain.machine.cpus[v.processor].cr2 = addr & 0xFFFFFFFF
    return _enter(v, "page_fault", addr, error_code, from_ring)


def device_not_available(v, from_ring: int = 3):
    """The first FPU instruction after a task switch (#NM when CR0.TS is set)."""
    return _enter(v, "device_not_available", from_ring)


def int_n(v, vector: int, from_ring: int = 3):
    """``int $vector``: returns (path, frame) as Xen's software-interrupt handling decides it."""
    return _enter(v, "int", vector, from_ring)


def execute_privileged(v, insn: str, ring: int, *operands):
    """A privileged instruction in ring ``ring``: #GP into Xen. Returns (result, frame)."""
    return _enter(v, "privileged", insn, ring, *operands)


def hypercall(v, name, *args):
    """``int $0x82`` with the hypercall number in EAX: Xen's hypercall gate."""
    return gate(v.domain.machine, v.processor, "hypercall")(v, name, *args)


def iret(v, to_ring: int, from_ring: int = 1) -> None:
    """``iret`` from the guest kernel (ring 1) back to ``to_ring``: no Xen involved."""
    ring_crossing(v, (from_ring, to_ring), "iret")


def event_upcall(v) -> None:
    """Xen's exit path bounces vcpu ``v`` into its event callback (events masked on entry)."""
    gate(v.domain.machine, v.processor, "event_upcall")(v)


def log_dirty_write(d, pfns) -> None:
    """Stores to guest pages ``pfns`` (an int or an array of them): in log-dirty mode each one is a
    write fault on a read-only shadow entry, which Xen's handler records."""
    machine = d.machine
    gate(machine, 0, "log_dirty_write")(d, pfns)


def guest_esp(v) -> int | None:
    """ESP as the guest's handler finds it after the last entry through a gate on v's CPU."""
    return getattr(v.domain.machine.cpus[v.processor], "guest_esp", None)


__all__ = ["PRIVILEGED", "GATES", "load_idt", "gate", "ring_crossing", "exception", "page_fault", "device_not_available",
           "int_n", "execute_privileged", "hypercall", "iret", "event_upcall", "log_dirty_write", "guest_esp"]
