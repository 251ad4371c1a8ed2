"""Rings, traps, the fast system call and privileged instructions of a PV guest.

Models X@RELEASE-3.0.0:xen/arch/x86/traps.c (do_trap, do_page_fault, do_general_protection,
emulate_privileged_op, set_trap_table, do_fpu_taskswitch), x86_32/traps.c (set_callbacks,
stack_switch, init_int80_direct_trap) and x86_32/entry.S (create_bounce_frame).

Xen runs in ring 0, the PV guest kernel in ring 1, its processes in ring 3. Every exception of the
guest enters Xen first (only ring 0 may read CR2, and the real IDT is Xen's); Xen then *bounces* it
to the handler the guest registered with ``set_trap_table``: it builds an exception frame on the
guest kernel stack and resumes the guest at the handler, in ring 1. One exception skips Xen: when
vector 0x80 is registered without the IF flag, Xen puts a direct trap gate in the real IDT and
``int $0x80`` goes straight from ring 3 to the guest kernel.

A privileged instruction (write CR3, HLT, LGDT, IN/OUT, CLI/STI) executed outside ring 0 raises #GP.
Xen's #GP handler emulates the few it allows (port I/O for a domain with I/O privilege, a CR3 reload
from the guest kernel) and bounces every other one to the guest's #GP handler. A paravirtualised kernel
therefore never executes them: it makes the matching hypercall instead (``PV_REPLACEMENT`` in guest/cpu.py).

Simplifications:
- The bounce frame is written as bytes on the guest's ring-1 stack, as create_bounce_frame does
  (``push_bounce_frame``), and also kept as a value (``BounceFrame``) on the vcpu and in the trace;
  guest handlers are Python callbacks found by their registered address.
- The model executes no guest instructions, so the interrupted context Xen saves on that stack is a
  stand-in (``ArchVcpu.user_regs``: user code at 0x08048000, its stack at 0xbffff000); and a fault
  taken in ring 1 also builds its frame just below ``kernel_sp`` (the model keeps no ring-1 ESP).
- ``write_cr3`` stands for reloading the current page-table base (a TLB flush); Xen's emulation does
  not revalidate a new table here (xen/mm.py owns new_guest_cr3).
- CLI/STI always fault (a PV guest runs with IOPL 0); Xen 3.0 emulated them only with a virtual IOPL.

Sandbox (exercise 05): when ``d.trap_route`` is set, Xen's routing decision for that domain's
exceptions and ``int n`` comes from ``trap_route(table, vector, from_ring, software)``, where ``table``
is the virtual IDT as ``{vector: (flags, address)}``; it returns ``(handler vector, rings)`` with rings
``(from_ring, 1)`` (a direct gate, no Xen) or ``(from_ring, 0, 1)`` (bounced by Xen), or None (crash
the domain). The model then does what it says (``follow_route``); NotImplemented leaves it to Xen.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from xenlab.hw.idt import PRIVILEGED, ring_crossing  # noqa: F401  (the CPU's; re-exported)
from xenlab.xen.costs import charge
from xenlab.xen.event import vcpu_info_read, vcpu_info_write
from xenlab.xen.hypercall import hypercall
from xenlab.xen.public import errno as E
from xenlab.xen.public.arch_x86_32 import (FLAT_KERNEL_CS, FLAT_KERNEL_SS, FLAT_USER_CS, FLAT_USER_SS,
                                           TI_GET_DPL, TI_GET_IF, TRAP_NAMES, TRAP_gp_fault, TRAP_no_device,
                                           TRAP_page_fault, VALID_CODESEL, trap_info)

INT80_VECTOR = 0x80
X86_CR0_TS = 1 << 3
EFLAGS_IF = 1 << 9

@dataclass(frozen=True)
class BounceFrame:
    """What create_bounce_frame pushes on the guest kernel stack (x86_32, 3.0)."""
    vector: int
    error_code: int | None
    from_ring: int
    cs: int                      # handler selector (the guest's)
    eip: int                     # handler address
    saved_upcall_mask: int       # stored in the upper half of the CS slot
    eflags_if: int               # IF in the saved EFLAGS = !saved_upcall_mask
    ss: int | None               # pushed only when coming from ring 3 (stack switch to kernel_ss:kernel_sp)
    esp: int | None
    masks_events: bool           # TI IF flag: upcall_mask set on entry (like an interrupt gate)
    frame_esp: int | None = None     # the guest ESP once the frame is on its stack (None: not written)
    frame_words: tuple = ()          # the 32-bit words written there, lowest address first


# The interrupted context the model saves in a bounce frame (it runs no real instructions): a process
# at the usual i386 ELF text address with its stack just below PAGE_OFFSET, or the kernel itself.
USER_EIP, USER_ESP = 0x08048000, 0xBFFFF000
KERNEL_EIP = 0xC0100000              # PAGE_OFFSET + 1 MiB, where an i386 Linux kernel's text is linked
EFLAGS_RESERVED = 1 << 1


@dataclass
class ArchVcpu:
    """struct arch_vcpu's guest context: virtual IDT, callbacks, kernel stack, control registers."""
    trap_ctxt: list = field(default_factory=lambda: [trap_info(vector=i) for i in range(256)])
    event_callback_cs: int = 0
    event_callback_eip: int = 0
    failsafe_callback_cs: int = 0
    failsafe_callback_eip: int = 0
    kernel_ss: int = 0
    kernel_sp: int = 0
    ctrlreg: list = field(default_factory=lambda: [0] * 8)
    int80_direct: bool = False       # the real IDT has a direct trap gate for int $0x80
    iopl: int = 0                    # virtual IOPL (physdev_op SET_IOPL)
    last_bounce: BounceFrame | None = None
    user_regs: dict = field(default_factory=lambda: {"eip": USER_EIP, "esp": USER_ESP, "cs": FLAT_USER_CS,
                                                     "ss": FLAT_USER_SS, "eflags": EFLAGS_IF | EFLAGS_RESERVED})
    counts: dict = field(default_factory=dict)


def arch(v) -> ArchVcpu:
    a = getattr(v, "arch", None)
    if a is None:
        a = v.arch = ArchVcpu()
    return a


def _count(v, key: str) -> None:
    c = arch(v).counts
    c[key] = c.get(key, 0) + 1


# -- hypercalls -------------------------------------------------------------------------------------------
@hypercall("set_trap_table")
def do_set_trap_table(current, traps) -> int:
    """Install trap_info entries in the virtual IDT until one has address 0; -EPERM on a bad cs.

    Entries before a bad one stay installed, as in Xen (it copies one entry at a time). None clears
    the whole table (a modern addition).
    """
    a = arch(current)
    if traps is None:
        a.trap_ctxt = [trap_info(vector=i) for i in range(256)]
        a.int80_direct = False
        return 0
    if not isinstance(traps, (list, tuple)):
        return -E.EFAULT
    for t in traps:
        if not isinstance(t, trap_info):
            return -E.EFAULT
        if t.address == 0:
            break
        if not VALID_CODESEL(t.cs):
            return -E.EPERM
        a.trap_ctxt[t.vector & 0xFF] = replace(t)
        if t.vector == INT80_VECTOR:
            init_int80_direct_trap(current)
    return 0


def init_int80_direct_trap(v) -> None:
    """A direct trap gate (0x8f00 | DPL<<13) only when vector 0x80 does not ask to mask events."""
    ti = arch(v).trap_ctxt[INT80_VECTOR]
    arch(v).int80_direct = bool(ti.address) and not TI_GET_IF(ti) and VALID_CODESEL(ti.cs)


@hypercall("set_callbacks")
def do_set_callbacks(current, event_cs: int, event_eip: int, failsafe_cs: int, failsafe_eip: int) -> int:
    if not VALID_CODESEL(event_cs) or not VALID_CODESEL(failsafe_cs):
        return -E.EPERM
    a = arch(current)
    a.event_callback_cs, a.event_callback_eip = event_cs, event_eip
    a.failsafe_callback_cs, a.failsafe_callback_eip = failsafe_cs, failsafe_eip
    return 0


@hypercall("stack_switch")
def do_stack_switch(current, ss: int, esp: int) -> int:
    """Set the ring-1 stack (TSS ss1/esp1) used when an exception arrives from ring 3."""
    if (ss & 3) != 1:
        return -E.EPERM
    a = arch(current)
    a.kernel_ss, a.kernel_sp = ss, esp
    return 0


@hypercall("fpu_taskswitch")
def do_fpu_taskswitch(current, set_: int) -> int:
    """Set (stts) or clear (clts) the virtual CR0.TS: the next FPU use raises #NM."""
    a = arch(current)
    a.ctrlreg[0] = a.ctrlreg[0] | X86_CR0_TS if set_ else a.ctrlreg[0] & ~X86_CR0_TS
    return 0


# -- exceptions -------------------------------------------------------------------------------------------------
def do_trap(v, vector: int, error_code: int | None = None, from_ring: int = 3, cr2: int | None = None):
    """An exception of guest ``v`` taken by Xen (ring 0) and bounced to the guest's handler.

    Returns the BounceFrame, or None when the guest has no handler (Xen crashes the domain).
    """
    decision = _sandbox_route(v, vector, from_ring, False)
    if decision is not NotImplemented:
        return follow_route(v, decision, vector, error_code, from_ring, cr2)[1]
    return bounce_trap(v, vector, error_code, from_ring, cr2)


def bounce_trap(v, vector: int, error_code: int | None = None, from_ring: int = 3, cr2: int | None = None):
    """do_trap's work once the route is known: CR2, the trace, then a bounce frame or a domain crash."""
    machine = v.domain.machine
    a = arch(v)
    _count(v, f"trap{vector}")
    charge(v, "trap")
    if vector == TRAP_page_fault and cr2 is not None:
        # 3.0: the faulting address goes into vcpu_info->arch.cr2 (2.0 pushed it on the frame).
        vcpu_info_write(v, "arch.cr2", cr2 & 0xFFFFFFFF)
        a.ctrlreg[2] = cr2
    ti = a.trap_ctxt[vector]
    if machine.trace.active:
        machine.trace.emit("HW", "trap", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, vector=vector,
                           name=TRAP_NAMES.get(vector, f"vector {vector}"), error_code=error_code,
                           from_ring=from_ring, cr2=cr2, handler=ti.address)
    if ti.address == 0 or (ti.cs & ~3) == 0:
        from xenlab.xen.console import printk
        printk(machine, f"(XEN) domain {v.domid}: unhandled {TRAP_NAMES.get(vector, vector)} "
                        f"from ring {from_ring}: no handler registered, crashing the domain")
        ring_crossing(v, (from_ring, 0), "crash", vector=vector)
        machine.domain_shutdown(v.domain, "crash")
        return None
    frame = create_bounce_frame(v, vector, ti, error_code, from_ring)
    if frame is not None:
        ring_crossing(v, (from_ring, 0, 1), "exception", vector=vector)
    return frame


def create_bounce_frame(v, vector: int, ti: trap_info, error_code: int | None, from_ring: int) -> BounceFrame:
    saved_mask = vcpu_info_read(v, "evtchn_upcall_mask")
    masks = bool(TI_GET_IF(ti))
    a = arch(v)
    frame = BounceFrame(vector=vector, error_code=error_code, from_ring=from_ring, cs=ti.cs, eip=ti.address,
                        saved_upcall_mask=saved_mask, eflags_if=0 if saved_mask else 1,
                        ss=a.kernel_ss if from_ring == 3 else None,
                        esp=a.kernel_sp if from_ring == 3 else None, masks_events=masks)
    esp, words = push_bounce_frame(v, frame)
    if esp is None:
        return None                                   # Xen could not write the frame: the domain crashed
    frame = replace(frame, frame_esp=esp, frame_words=words)
    if masks:
        vcpu_info_write(v, "evtchn_upcall_mask", 1)
    a.last_bounce = frame
    machine = v.domain.machine
    if machine.trace.active:
        machine.trace.emit("HW", "bounce", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, vector=vector,
                           cs=ti.cs, eip=ti.address, error_code=error_code, saved_upcall_mask=saved_mask,
                           masks_events=masks, stack=(frame.ss, frame.esp), frame_esp=esp, frame_words=words)
    return frame


def push_bounce_frame(v, frame: BounceFrame) -> tuple:
    """create_bounce_frame's stores (x86_32/entry.S:356-408): below the guest stack pointer, from the
    top down, [SS, ESP] (only from ring 3: the switch to kernel_ss:kernel_sp), EFLAGS with IF =
    !saved_upcall_mask, CS with saved_upcall_mask in bits 16-23, EIP, [error code]. The stores go
    through the guest's own page tables; if one would fault (the FLT* fixups) Xen crashes the domain.
    Returns (the new guest ESP, the words lowest address first), or (None, ()) after a crash."""
    from xenlab.hw.paging import PageFault, walk
    a = arch(v)
    machine = v.domain.machine
    regs = a.user_regs if frame.from_ring == 3 else {"eip": KERNEL_EIP, "cs": FLAT_KERNEL_CS,
                                                      "eflags": EFLAGS_IF | EFLAGS_RESERVED}
    cs_word = (regs["cs"] & 0xFFFF) | (frame.saved_upcall_mask & 0xFF) << 16
    eflags = (regs["eflags"] & ~EFLAGS_IF) | (0 if frame.saved_upcall_mask else EFLAGS_IF)
    words = [regs["eip"], cs_word, eflags]
    if frame.from_ring == 3:
        words += [regs["esp"], regs["ss"]]
    if frame.error_code is not None:
        words.insert(0, frame.error_code)
    esp = (a.kernel_sp - 4 * len(words)) & 0xFFFFFFFF
    cr3 = getattr(v, "cr3", 0)
    try:
        if not cr3:
            raise PageFault(esp, 2, reason="no page tables")
        for i, word in enumerate(words):
            maddr, _ = walk(machine.memory, cr3, (esp + 4 * i) & 0xFFFFFFFF, "w", machine.paging)
            machine.memory.write_u32(maddr, word & 0xFFFFFFFF)
    except PageFault as fault:
        from xenlab.xen.console import printk
        printk(machine, f"(XEN) domain {v.domid}: cannot write the exception frame at {fault.vaddr:#010x} "
                        f"(kernel_ss:kernel_sp {a.kernel_ss:#x}:{a.kernel_sp:#x}): crashing the domain")
        ring_crossing(v, (frame.from_ring, 0), "crash", vector=frame.vector)
        machine.domain_shutdown(v.domain, "crash")
        return None, ()
    return esp, tuple(w & 0xFFFFFFFF for w in words)


def event_callback(v) -> None:
    """Deliver the event upcall: a bounce frame to event_callback_cs:eip with events masked (entry.S)."""
    machine = v.domain.machine
    vcpu_info_write(v, "evtchn_upcall_mask", 1)
    charge(v, "upcall")
    a = arch(v)
    if machine.trace.active:
        machine.trace.emit("HW", "bounce", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, vector="event",
                           cs=a.event_callback_cs, eip=a.event_callback_eip, error_code=None,
                           saved_upcall_mask=0, masks_events=True, stack=(None, None))
    ring_crossing(v, (0, 1), "event upcall")


def do_page_fault(v, addr: int, error_code: int, from_ring: int = 3):
    """#PF taken by Xen (the hardware wrote CR2 = ``addr``). Xen 3.0 first tries its own fixups
    (writable-pagetable emulation, the LDT shadow mapping); none exists in this model (no
    writable-pagetable assist, see xen/mm_types.py), so every fault is the guest's:
    propagate_page_fault. Returns the BounceFrame, or None when the domain was crashed."""
    machine = v.domain.machine
    if machine.trace.active:
        machine.trace.emit("MEM", "page_fault", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, va=addr,
                           error_code=error_code, from_ring=from_ring)
    return propagate_page_fault(v, addr, error_code, from_ring)


def propagate_page_fault(v, addr: int, error_code: int, from_ring: int = 3):
    """3.0: CR2 into vcpu_info->arch.cr2 (and ctrlreg[2]), then a bounce to the vector-14 handler."""
    return do_trap(v, TRAP_page_fault, error_code, from_ring, cr2=addr)


def software_interrupt(v, vector: int, from_ring: int = 3):
    """``int $vector`` from guest code. Returns ("direct"|"bounced"|"gp"|"crash", BounceFrame|None).

    int $0x80 with a direct trap gate never enters Xen. Otherwise the real IDT has no gate the guest
    may use, so the CPU raises #GP with error code (vector << 3) | 2, and Xen's #GP handler checks
    the DPL of the virtual IDT entry (permit_softint) before bouncing to it.
    """
    decision = _sandbox_route(v, vector, from_ring, True)
    if decision is not NotImplemented:
        return follow_route(v, decision, vector, None, from_ring, software=True)
    a = arch(v)
    machine = v.domain.machine
    if vector == INT80_VECTOR and a.int80_direct and TI_GET_DPL(a.trap_ctxt[vector]) >= from_ring:
        ti = a.trap_ctxt[vector]
        _count(v, "syscall_direct")
        charge(v, "syscall_direct")
        if machine.trace.active:
            machine.trace.emit("HW", "syscall", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor,
                               vector=vector, path="direct", handler=ti.address)
        ring_crossing(v, (from_ring, 1), "int80 direct trap gate", vector=vector)
        a.last_bounce = BounceFrame(vector, None, from_ring, ti.cs, ti.address,
                                    vcpu_info_read(v, "evtchn_upcall_mask"), 1,
                                    a.kernel_ss if from_ring == 3 else None,
                                    a.kernel_sp if from_ring == 3 else None, False)
        return "direct", a.last_bounce
    ti = a.trap_ctxt[vector & 0xFF]
    if ti.address and TI_GET_DPL(ti) >= from_ring:
        _count(v, "softint_bounced")
        frame = bounce_trap(v, vector, None, from_ring)
        if machine.trace.active:
            machine.trace.emit("HW", "syscall", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor,
                               vector=vector, path="through Xen", handler=ti.address)
        return ("bounced" if frame else "crash"), frame
    frame = bounce_trap(v, TRAP_gp_fault, (vector << 3) | 2, from_ring)
    return ("gp" if frame else "crash"), frame


# -- the exercise-05 sandbox: a domain whose routing decision comes from d.trap_route ------------------------
def guest_idt(v) -> dict:
    """The virtual IDT as the exercise sees it: {vector: (flags, address)} of the registered entries."""
    return {ti.vector: (ti.flags, ti.address) for ti in arch(v).trap_ctxt if ti.address}


def _sandbox_route(v, vector: int, from_ring: int, software: bool):
    hook = v.domain.trap_route
    if hook is None:
        return NotImplemented
    return hook(guest_idt(v), vector, from_ring, software)


def follow_route(v, decision, vector: int, error_code: int | None, from_ring: int, cr2: int | None = None,
                 software: bool = False):
    """Do what a routing decision says. Returns (path, BounceFrame|None) like software_interrupt:
    "direct" (straight to the handler in ring 1), "bounced" (through Xen to ``vector``'s handler),
    "gp" (through Xen to another handler, #GP for a refused int n) or "crash"."""
    machine = v.domain.machine
    a = arch(v)
    if decision is None:
        from xenlab.xen.console import printk
        printk(machine, f"(XEN) domain {v.domid}: vector {vector} from ring {from_ring}: "
                        f"trap_route says crash the domain")
        ring_crossing(v, (from_ring, 0), "crash (trap_route)", vector=vector)
        machine.domain_shutdown(v.domain, "crash")
        return "crash", None
    handler, rings = int(decision[0]), tuple(int(r) for r in decision[1])
    if not 0 <= handler <= 255 or rings not in ((from_ring, 1), (from_ring, 0, 1)):
        raise ValueError(f"trap_route returned {decision!r}: expected (vector 0-255, ({from_ring}, 1) "
                         f"or ({from_ring}, 0, 1)) or None")
    if rings == (from_ring, 0, 1):
        if software:                     # an allowed int n has no error code; a refused one is #GP's
            error_code = None if handler == vector else (vector << 3) | 2
        frame = bounce_trap(v, handler, error_code, from_ring, cr2 if handler == TRAP_page_fault else None)
        return ("crash" if frame is None else "bounced" if handler == vector else "gp"), frame
    ti = a.trap_ctxt[handler]
    _count(v, "direct_gate")
    charge(v, "syscall_direct")
    if machine.trace.active:
        machine.trace.emit("HW", "syscall", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor,
                           vector=handler, path="direct", handler=ti.address)
    ring_crossing(v, rings, "direct trap gate (trap_route)", vector=handler)
    a.last_bounce = BounceFrame(handler, None, from_ring, ti.cs, ti.address,
                                vcpu_info_read(v, "evtchn_upcall_mask"), 1,
                                a.kernel_ss if from_ring == 3 else None,
                                a.kernel_sp if from_ring == 3 else None, False)
    return "direct", a.last_bounce


def device_not_available(v, from_ring: int = 3):
    """#NM after fpu_taskswitch(1): bounced to the guest, which restores the FPU and clears TS."""
    if not arch(v).ctrlreg[0] & X86_CR0_TS:
        return None
    return do_trap(v, TRAP_no_device, None, from_ring)


# -- privileged instructions ------------------------------------------------------------------------------------
def guest_io_okay(v, port: int) -> bool:
    """I/O from ring ``r`` is allowed when the virtual IOPL is at least the ring (dom0 after SET_IOPL)."""
    return arch(v).iopl >= 1 and v.domain.is_privileged


def privileged_instruction(v, insn: str, ring: int, *operands):
    """A PV guest executes ``insn`` in ``ring`` (1 or 3): #GP into Xen, then emulate or bounce.

    Returns ("emulated", value) or ("bounced"/"crash", BounceFrame|None).
    """
    if insn not in PRIVILEGED:
        raise ValueError(f"unknown privileged instruction {insn!r}; known: {', '.join(PRIVILEGED)}")
    if ring not in (1, 3):
        raise ValueError(f"a PV guest runs in ring 1 (kernel) or 3 (user), not {ring}")
    machine = v.domain.machine
    _count(v, f"priv_{insn}")
    if machine.trace.active:
        machine.trace.emit("HW", "gp_fault", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, insn=insn,
                           ring=ring, operands=operands)
    ok, value = emulate_privileged_op(v, insn, ring, operands)
    if ok:
        charge(v, "trap")
        charge(v, "emulate")
        ring_crossing(v, (ring, 0, ring), "emulated " + insn)
        if machine.trace.active:
            machine.trace.emit("HW", "emulate", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, insn=insn,
                               operands=operands, result=value)
        return "emulated", value
    frame = do_trap(v, TRAP_gp_fault, 0, ring)
    return ("bounced" if frame else "crash"), frame


def emulate_privileged_op(v, insn: str, ring: int, operands) -> tuple[bool, int | None]:
    """What Xen's #GP handler agrees to do for the guest (3.0 emulate_privileged_op, reduced)."""
    if insn in ("in", "out"):
        port = operands[0] if operands else 0
        if not guest_io_okay(v, port):
            return False, None
        machine = v.domain.machine
        ports = getattr(machine, "ioports", None)
        if insn == "in":
            return True, (ports.read(port) if ports else 0xFF)
        if ports:
            ports.write(port, operands[1] if len(operands) > 1 else 0)
        return True, None
    if insn == "write_cr3" and ring == 1:
        arch(v).counts["cr3_reloads"] = arch(v).counts.get("cr3_reloads", 0) + 1
        return True, None
    return False, None


def trap_table_dump(v) -> str:
    a = arch(v)
    lines = [f"virtual IDT of {v.label} (int80 {'direct gate' if a.int80_direct else 'through Xen'}):"]
    for ti in a.trap_ctxt:
        if ti.address:
            lines.append(f"  {ti.vector:#04x} {TRAP_NAMES.get(ti.vector, ''):9s} dpl={TI_GET_DPL(ti)} "
                         f"IF={'1' if TI_GET_IF(ti) else '0'} {ti.cs:#06x}:{ti.address:#010x}")
    return "\n".join(lines)


__all__ = ["do_set_trap_table", "do_set_callbacks", "do_stack_switch", "do_fpu_taskswitch", "do_trap",
           "do_page_fault", "propagate_page_fault", "software_interrupt", "follow_route", "guest_idt",
           "bounce_trap", "privileged_instruction", "BounceFrame", "arch",
           "PRIVILEGED", "trap_table_dump", "ring_crossing", "FLAT_USER_CS", "FLAT_KERNEL_SS", "EFLAGS_IF"]
