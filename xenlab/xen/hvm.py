"""Hardware-assisted (HVM) guests: VM exits and their handling (X@RELEASE-3.0.0:xen/arch/x86/vmx.c, vmx_io.c).

An HVM guest runs its unmodified kernel in ring 0 of *guest mode* (VMX non-root). It executes the
privileged instructions itself; the processor decides, by the controls Xen set in the VMCS, which of
them leave guest mode: a **VM exit** saves the guest state, enters Xen with an *exit reason*, and Xen's
handler does the work before a VM entry resumes the guest.

- CR3 writes exit (Xen keeps shadow page tables, so it must see each new guest table);
- HLT exits, and Xen blocks the vcpu until an interrupt is due;
- port I/O exits; Xen handles a few ports itself (the PIT, 0x40-0x43) and sends every other
  access to the **device model** (qemu-dm) in dom0 as an ``ioreq``, notified by an event channel;
  the vcpu waits until dom0 has answered (two world switches);
- guest page faults exit (shadow paging) and are injected back into the guest;
- CLI/STI, LGDT and ``int $0x80`` do not exit: the hardware runs them in guest mode.

Exit reasons are the basic exit reasons of Intel VT-x (Intel SDM, appendix "VMX basic exit reasons").

Simplifications:
- Xen 3.0.0 had VMX only (SVM arrived in 3.0.2); AMD's exit codes are not modelled.
- One ioreq per vcpu; no buffered or MMIO ioreqs, no rep prefixes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xenlab.xen.costs import charge
from xenlab.xen.event import evtchn_set_pending
from xenlab.xen.evtchn import ECS_INTERDOMAIN, ECS_UNBOUND, evtchn_bind_virq, get_free_port
from xenlab.xen.public.event_channel import evtchn_bind_virq as evtchn_bind_virq_t
from xenlab.xen.public.hvm.ioreq import (IOREQ_READ, IOREQ_TYPE_PIO, IOREQ_WRITE, STATE_IOREQ_INPROCESS,  # noqa: F401
                                         STATE_IOREQ_NONE, STATE_IOREQ_READY, STATE_IORESP_READY, ioreq)
from xenlab.xen.public.xen import VIRQ_TIMER
from xenlab.xen.schedule import do_block, vcpu_sleep_nosync

EXIT_REASON_EXCEPTION_NMI = 0
EXIT_REASON_EXTERNAL_INTERRUPT = 1
EXIT_REASON_TRIPLE_FAULT = 2
EXIT_REASON_PENDING_INTERRUPT = 7
EXIT_REASON_TASK_SWITCH = 9
EXIT_REASON_CPUID = 10
EXIT_REASON_HLT = 12
EXIT_REASON_INVLPG = 14
EXIT_REASON_RDTSC = 16
EXIT_REASON_VMCALL = 18
EXIT_REASON_CR_ACCESS = 28
EXIT_REASON_DR_ACCESS = 29
EXIT_REASON_IO_INSTRUCTION = 30
EXIT_REASON_MSR_READ = 31
EXIT_REASON_MSR_WRITE = 32
EXIT_REASON_NAMES = {v: k[len("EXIT_REASON_"):] for k, v in dict(globals()).items()
                     if k.startswith("EXIT_REASON_")}

PIT_PORTS = range(0x40, 0x44)       # emulated inside Xen (vmx_vpit in 3.0)
HLT_WAKE_NS = 1_000_000             # the virtual PIT's next tick after HLT (HZ=1000)
NATIVE = ("cli", "sti", "lgdt")     # run by the hardware in guest mode, no exit


@dataclass
class HVMDomain:
    """Xen's per-domain HVM state: one ioreq slot and event channel per vcpu, the shadow CR3s."""
    ioreqs: list = field(default_factory=list)
    ports: list = field(default_factory=list)       # guest-side ports (Xen's end of each ioreq channel)
    guest_cr3: list = field(default_factory=list)
    exits: dict = field(default_factory=dict)        # reason name -> count
    pit_latch: int = 0
    last_value: dict = field(default_factory=dict)   # vcpu -> value of the last IN
    timer_ports: list = field(default_factory=list)  # vcpu -> port of its virtual timer interrupt


def hvm_domain_init(d) -> HVMDomain:
    """Xen's HVM set-up of a domain: the virtual platform timer of each vcpu (bound to VIRQ_TIMER by
    Xen, not by the unmodified guest; its ports are ``timer_ports``), then the ioreq slots and one
    unbound event channel per vcpu for dom0's device model."""
    h = d.hvm = HVMDomain()
    for v in d.vcpus:
        bind = evtchn_bind_virq_t(virq=VIRQ_TIMER, vcpu=v.vcpu_id)
        h.timer_ports.append(bind.port if evtchn_bind_virq(v, bind) == 0 else 0)
    for v in d.vcpus:
        port = get_free_port(d)
        chn = d.evtchn[port]
        chn.state, chn.remote_domid, chn.notify_vcpu_id = ECS_UNBOUND, 0, v.vcpu_id
        h.ioreqs.append(ioreq(vp_eport=port))
        h.ports.append(port)
        h.guest_cr3.append(0)
    return h


def vmexit(v, reason: int, **qualification) -> None:
    """Leave guest mode: count, charge and trace the exit."""
    machine = v.domain.machine
    name = EXIT_REASON_NAMES.get(reason, str(reason))
    h = v.domain.hvm
    h.exits[name] = h.exits.get(name, 0) + 1
    charge(v, "vmexit")
    if machine.trace.active:
        machine.trace.emit("HVM", "vmexit", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, reason=reason,
                           reason_name=name, **qualification)


def hvm_instruction(v, insn: str, *operands) -> str:
    """The HVM guest kernel executes ``insn`` in guest ring 0. Returns "native", "handled" or "blocked"."""
    machine = v.domain.machine
    if insn in NATIVE:
        if machine.trace.active:
            machine.trace.emit("HVM", "native", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, insn=insn)
        return "native"
    if insn == "write_cr3":
        cr3 = operands[0] if operands else v.domain.hvm.guest_cr3[v.vcpu_id]
        vmexit(v, EXIT_REASON_CR_ACCESS, cr=3, value=cr3)
        v.domain.hvm.guest_cr3[v.vcpu_id] = cr3          # shadow: switch to the shadow of the new table
        return "handled"
    if insn == "hlt":
        vmexit(v, EXIT_REASON_HLT)
        return hvm_hlt(v)
    if insn in ("in", "out"):
        port = operands[0] if operands else 0
        value = operands[1] if insn == "out" and len(operands) > 1 else 0
        vmexit(v, EXIT_REASON_IO_INSTRUCTION, port=port, dir="in" if insn == "in" else "out", value=value)
        return handle_io(v, port, insn == "in", value)
    raise ValueError(f"unknown instruction {insn!r} for an HVM guest")


def hvm_hlt(v) -> str:
    """Block until the next virtual timer interrupt (the PIT tick), as vmx_do_hlt does."""
    machine = v.domain.machine
    machine.timers.set_timer(v.singleshot_timer, machine.now + HLT_WAKE_NS)
    do_block(v)
    return "blocked"


def hvm_exception(v, vector: int, error_code: int = 0, cr2: int | None = None) -> None:
    """A guest exception Xen intercepts (#PF under shadow paging, #NM for lazy FPU): exit, then inject."""
    vmexit(v, EXIT_REASON_EXCEPTION_NMI, vector=vector, error_code=error_code, cr2=cr2)
    machine = v.domain.machine
    if machine.trace.active:
        machine.trace.emit("HVM", "inject", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, vector=vector,
                           error_code=error_code)


def handle_io(v, port: int, is_read: bool, value: int) -> str:
    h = v.domain.hvm
    if port in PIT_PORTS:                                   # Xen's own PIT emulation: no dom0 involved
        if is_read:
            h.pit_latch = (v.domain.machine.now // 838) & 0xFF   # 1.193182 MHz counter, low byte
            h.last_value[v.vcpu_id] = h.pit_latch
        return "handled"
    return send_ioreq(v, port, is_read, value)


def send_ioreq(v, port: int, is_read: bool, value: int) -> str:
    """Fill the vcpu's ioreq, notify dom0's device model, and block the vcpu until it answers."""
    d = v.domain
    machine = d.machine
    req = d.hvm.ioreqs[v.vcpu_id]
    req.addr, req.data, req.size, req.count = port, value, 1, 1
    req.dir = IOREQ_READ if is_read else IOREQ_WRITE
    req.state = STATE_IOREQ_READY
    chn = d.evtchn[req.vp_eport]
    if machine.trace.active:
        machine.trace.emit("HVM", "ioreq", domid=d.domain_id, vcpu=v.vcpu_id, pcpu=v.processor, port=port,
                           dir="read" if is_read else "write", data=value)
    v.blocked = True
    v.waiting_ioreq = True
    vcpu_sleep_nosync(machine, v)
    charge(v, "world_switch")
    if chn.state == ECS_INTERDOMAIN:
        rd = machine.domains[chn.remote_domid]
        evtchn_set_pending(rd.vcpus[rd.evtchn[chn.remote_port].notify_vcpu_id], chn.remote_port)
    return "blocked"


def hvm_wait_io(v) -> bool:
    """hvm_wait_io(): keep the vcpu blocked until its ioreq is answered. True while it must wait."""
    if hvm_io_assist(v) or not getattr(v, "waiting_ioreq", False):
        return False
    v.blocked = True
    vcpu_sleep_nosync(v.domain.machine, v)
    return True


def hvm_io_assist(v) -> bool:
    """On the way back into the guest: complete an I/O the device model has answered (vmx_io_assist)."""
    h = getattr(v.domain, "hvm", None)
    if h is None or not getattr(v, "waiting_ioreq", False):
        return False
    req = h.ioreqs[v.vcpu_id]
    if req.state != STATE_IORESP_READY:
        return False
    if req.dir == IOREQ_READ:
        h.last_value[v.vcpu_id] = req.data
    req.state = STATE_IOREQ_NONE
    v.waiting_ioreq = False
    machine = v.domain.machine
    if machine.trace.active:
        machine.trace.emit("HVM", "io_assist", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, port=req.addr,
                           data=req.data)
    return True


def exit_summary(d) -> dict[str, int]:
    h = getattr(d, "hvm", None)
    return dict(sorted(h.exits.items())) if h else {}


__all__ = ["hvm_domain_init", "hvm_instruction", "hvm_exception", "hvm_io_assist", "vmexit", "ioreq",
           "EXIT_REASON_NAMES", "exit_summary"]
