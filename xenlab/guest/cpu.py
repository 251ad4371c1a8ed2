"""The guest kernel's side of the CPU chapter: trap table, system calls, faults, privileged work, time.

A XenLinux kernel (linux-2.6-xen-sparse, arch/i386/kernel/traps-xen.c, entry-xen.S, time-xen.c):
- at boot registers its virtual IDT with ``set_trap_table`` (page fault with the IF flag, so events
  stay masked until CR2 is read; ``int $0x80`` with DPL 3 and no IF, so Xen gives it a direct trap
  gate), its event and failsafe callbacks with ``set_callbacks``, and its ring-1 stack with
  ``stack_switch``; dom0 also asks for I/O privilege (``physdev_op(SET_IOPL)``);
- never executes a privileged instruction: each has a paravirtual replacement (``pv_privileged``);
- reads system time with one RDTSC and its ``vcpu_time_info`` (``guest_system_time``).

An unmodified HVM kernel runs the same instructions natively in guest ring 0 (``hvm_cpu_op``):
some cause VM exits (xen/hvm.py), the rest cost nothing extra.

The kernel names no Xen function: it executes instructions through the CPU (hw/idt.py for the PV
kernel: exceptions, ``int $n``, privileged instructions, the hypercall gate; hw/vmx.py for the HVM
kernel: VM exits), which enters the handlers Xen installed at boot, and it reads its shared_info page
by the public layout (xenlab/xen/public/shared.py).

Workload operations handled here (guest/workload.py):
    ("syscall", nr)              a process makes system call ``nr`` with int $0x80
    ("fault", vector[, addr])    a process takes an exception (14 = page fault at addr, 0 = divide error ...)
    ("fpu",)                     a process uses the FPU after a task switch (lazy FPU: #NM)
    ("switch",)                  the kernel switches to another process: switch_mm's mmuext_op, then
                                 __switch_to's ONE multicall (guest/switch_to.py)
    ("priv", insn, *operands)    the kernel needs a privileged operation (write_cr3, hlt, lgdt, in, out, cli, sti)
    ("insn", insn, ring, *ops)   the raw instruction executed in ring 1 or 3 (what an unported kernel would do)
"""
from __future__ import annotations

from xenlab.guest.time import guest_system_time  # noqa: F401  (time-xen.c; re-exported)
from xenlab.hw import idt, vmx
from xenlab.hw.idt import PRIVILEGED
from xenlab.xen.public import xen as X
from xenlab.xen.public.arch_x86_32 import (FLAT_KERNEL_CS, FLAT_KERNEL_DS, FLAT_KERNEL_SS, TRAP_NAMES,
                                           trap_info)
from xenlab.xen.public.memory import mmuext_op_t
from xenlab.xen.public.physdev import PHYSDEVOP_set_iopl, physdev_set_iopl
from xenlab.xen.public.shared import vcpu_info_read, vcpu_info_write
from xenlab.xen.public.vcpu import (VCPUOP_initialise, VCPUOP_is_up, VCPUOP_up, VGCF_IN_KERNEL, cpu_user_regs,
                                    vcpu_guest_context)
from xenlab.xen.public.xen import SCHEDOP_block

from xenlab.guest.layout import KERNEL_STACK_TOP, KERNEL_TEXT, STACK_SIZE  # noqa: E402,F401  (re-exported)
HYPERVISOR_CALLBACK = KERNEL_TEXT + 0x1000
FAILSAFE_CALLBACK = KERNEL_TEXT + 0x1010
SYSCALL_ENTRY = KERNEL_TEXT + 0x0800
CPU_OPS = ("syscall", "fault", "fpu", "priv", "insn", "switch")
PF_USER_WRITE_NOT_PRESENT = 0x6      # error code: bit 1 write, bit 2 user, bit 0 clear = not present

# What XenLinux does instead of each privileged instruction (linux-2.6-xen-sparse's paravirtual ops).
PV_REPLACEMENT = {
    "write_cr3": "mmuext_op(MMUEXT_TLB_FLUSH_LOCAL) (or MMUEXT_NEW_BASEPTR for a new table)",
    "hlt": "set_timer_op(next tick) + sched_op(SCHEDOP_block)",
    "lgdt": "set_gdt(frames, entries)",
    "out": "dom0: emulated by Xen after physdev_op(SET_IOPL); domU: a split driver instead",
    "in": "dom0: emulated by Xen after physdev_op(SET_IOPL); domU: a split driver instead",
    "cli": "vcpu_info->evtchn_upcall_mask = 1 (a plain memory write)",
    "sti": "vcpu_info->evtchn_upcall_mask = 0, then check evtchn_upcall_pending",
}


def handler_address(vector: int) -> int:
    return SYSCALL_ENTRY if vector == 0x80 else KERNEL_TEXT + 0x10 * vector


def xenlinux_trap_table() -> list[trap_info]:
    """The trap_table of XenLinux 2.6.16 (traps-xen.c): vectors, DPL, IF flag; ends with address 0."""
    table = []
    for vector in range(20):
        if vector in (2, 8, 15, 18):       # NMI, double fault, reserved, machine check: not registered
            continue
        dpl = 3 if vector in (3, 4, 5) else 0          # int3, into, bound may be used by processes
        flags = dpl | (4 if vector == 14 else 0)        # the page fault masks events until CR2 is read
        table.append(trap_info(vector, flags, FLAT_KERNEL_CS, handler_address(vector)))
    table.append(trap_info(0x80, 3, FLAT_KERNEL_CS, SYSCALL_ENTRY))
    table.append(trap_info(0, 0, 0, 0))
    return table


def pv_boot(kernel) -> None:
    """trap_init() and friends on the boot CPU, then smp_prepare_cpus: each further vcpu is started
    with VCPUOP_initialise (a context holding the same virtual IDT, callbacks and page tables, and its
    own kernel stack) and VCPUOP_up, as linux-2.6-xen-sparse's smpboot.c does."""
    v0 = kernel.d.vcpus[0]
    table = xenlinux_trap_table()
    kernel.hypercall(v0, "set_trap_table", table)
    kernel.hypercall(v0, "set_callbacks", FLAT_KERNEL_CS, HYPERVISOR_CALLBACK, FLAT_KERNEL_CS, FAILSAFE_CALLBACK)
    kernel.hypercall(v0, "stack_switch", FLAT_KERNEL_DS, KERNEL_STACK_TOP)
    if kernel.d.is_privileged:
        kernel.hypercall(v0, "physdev_op", PHYSDEVOP_set_iopl, physdev_set_iopl(1))
    for v in kernel.d.vcpus[1:]:
        bring_up_vcpu(kernel, v0, v.vcpu_id, table)


def vcpu_context(kernel, v0, vcpu_id: int, table) -> "object":
    """cpu_initialize_context: the starting state of secondary vcpu ``vcpu_id``."""
    iopl = 1 if kernel.d.is_privileged else 0
    return vcpu_guest_context(
        flags=VGCF_IN_KERNEL,
        user_regs=cpu_user_regs(eip=KERNEL_TEXT, cs=FLAT_KERNEL_CS, ss=FLAT_KERNEL_SS, ds=FLAT_KERNEL_DS,
                                es=FLAT_KERNEL_DS, eflags=0x200 | iopl << 12,
                                esp=KERNEL_STACK_TOP - STACK_SIZE * vcpu_id),
        trap_ctxt=[t for t in table if t.address], kernel_ss=FLAT_KERNEL_SS,
        kernel_sp=KERNEL_STACK_TOP - STACK_SIZE * vcpu_id,
        ctrlreg=[0, 0, 0, getattr(v0, "cr3", 0), 0, 0, 0, 0],
        event_callback_cs=FLAT_KERNEL_CS, event_callback_eip=HYPERVISOR_CALLBACK,
        failsafe_callback_cs=FLAT_KERNEL_CS, failsafe_callback_eip=FAILSAFE_CALLBACK)


def bring_up_vcpu(kernel, v0, vcpu_id: int, table=None) -> tuple[int, int]:
    """__cpu_up: VCPUOP_initialise (unless it already has a context), then VCPUOP_up; returns both codes."""
    rc_init = 0
    if not kernel.hypercall(v0, "vcpu_op", VCPUOP_is_up, vcpu_id, None):
        ctxt = vcpu_context(kernel, v0, vcpu_id, table if table is not None else xenlinux_trap_table())
        rc_init = kernel.hypercall(v0, "vcpu_op", VCPUOP_initialise, vcpu_id, ctxt)
    rc_up = kernel.hypercall(v0, "vcpu_op", VCPUOP_up, vcpu_id, None)
    return rc_init, rc_up


# -- the PV kernel ---------------------------------------------------------------------------------------------
def pv_cpu_op(kernel, v, op) -> None:
    kind = op[0]
    if kind == "syscall":
        path, frame = idt.int_n(v, 0x80, from_ring=3)
        if frame is not None:
            pv_handle_trap(kernel, v, frame, syscall_nr=op[1] if len(op) > 1 else 0)
    elif kind == "fault":
        vector = op[1]
        addr = op[2] if len(op) > 2 else 0
        if vector == 14:
            frame = idt.page_fault(v, addr, PF_USER_WRITE_NOT_PRESENT, from_ring=3)
        else:
            frame = idt.exception(v, vector, 0 if vector in (10, 11, 12, 13, 17) else None, from_ring=3)
        if frame is not None:
            pv_handle_trap(kernel, v, frame)
    elif kind == "fpu":
        # switch_to(): a new process gets the FPU lazily, so the kernel sets TS first (stts hypercall).
        kernel.hypercall(v, "fpu_taskswitch", 1)
        frame = idt.device_not_available(v, from_ring=3)
        if frame is not None:
            pv_handle_trap(kernel, v, frame)
    elif kind == "priv":
        pv_privileged(kernel, v, op[1], *op[2:])
    elif kind == "switch":
        pv_context_switch(kernel, v)
    elif kind == "insn":
        insn, ring = op[1], op[2]
        result, frame = idt.execute_privileged(v, insn, ring, *op[3:])
        if frame is not None:
            pv_handle_trap(kernel, v, frame)


def read_stack(kernel, v, nwords: int = 6) -> list[int]:
    """The top ``nwords`` 32-bit words of vcpu ``v``'s ring-1 stack where Xen wrote the last exception
    frame, read through the kernel's own mappings (what a handler sees at its ESP)."""
    from xenlab.hw.paging import walk
    esp = idt.guest_esp(v)
    if esp is None:
        return []
    machine = v.domain.machine
    out = []
    for i in range(nwords):
        maddr, _ = walk(machine.memory, v.cr3, esp + 4 * i, "r", machine.paging, set_ad=False)
        out.append(machine.memory.read_u32(maddr))
    return out


def pv_handle_trap(kernel, v, frame, syscall_nr: int = 0) -> bool | None:
    """The guest kernel's handler runs in ring 1, then returns with iret (ring 1 -> 3 needs no Xen).

    For a page fault it returns what the kernel's do_page_fault decided: True when it fixed the
    entry (with mmu_update, through Xen), False when the access was bad (SIGSEGV)."""
    machine = v.domain.machine
    stats = kernel.cpu_stats.setdefault(v.vcpu_id, {})
    name = "syscall" if frame.vector == 0x80 else TRAP_NAMES.get(frame.vector, str(frame.vector))
    stats[name] = stats.get(name, 0) + 1
    detail, result = {}, None
    if frame.vector == 14:
        detail["cr2"] = vcpu_info_read(v, "arch.cr2")     # do_page_fault reads the address Xen saved
    elif frame.vector == 7:
        kernel.hypercall(v, "fpu_taskswitch", 0)            # math_state_restore(): clts
        from xenlab.guest.switch_to import fpu_used
        fpu_used(kernel, v)                                 # ... and the task now owns the FPU
    elif frame.vector == 0x80:
        detail["nr"] = syscall_nr
    if machine.trace.active:
        machine.trace.emit("HW", "guest_handler", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor,
                           vector=frame.vector, name=name, ring=1, **detail)
    mm = getattr(kernel, "mm", None)
    if frame.vector == 14 and mm is not None and mm.v is v:
        # Still in the handler, events masked (the IF flag): fix the entry with a hypercall.
        # (guest/mm.py models vcpu 0's address space; a fault on another vcpu is only counted.)
        result = mm.do_page_fault(detail["cr2"], frame.error_code or 0)
    if frame.masks_events:                                  # iret restores the saved event mask
        vcpu_info_write(v, "evtchn_upcall_mask", frame.saved_upcall_mask)
    idt.iret(v, frame.from_ring)
    if frame.masks_events and not frame.saved_upcall_mask:
        kernel.deliver_upcall(v)                           # events that arrived meanwhile
    return result


def pv_privileged(kernel, v, insn: str, *operands) -> None:
    """The paravirtual replacement of each privileged instruction (PV_REPLACEMENT)."""
    machine = v.domain.machine
    if insn == "write_cr3":
        kernel.hypercall(v, "mmuext_op", [mmuext_op_t(cmd=X.MMUEXT_TLB_FLUSH_LOCAL)], 1, None, X.DOMID_SELF)
    elif insn == "hlt":
        kernel.hypercall(v, "set_timer_op", machine.now + 1_000_000)
        kernel.hypercall(v, "sched_op", SCHEDOP_block)
    elif insn == "lgdt":
        kernel.hypercall(v, "set_gdt", list(operands[0]) if operands else [], operands[1] if len(operands) > 1 else 0)
    elif insn in ("in", "out"):
        result, frame = idt.execute_privileged(v, insn, 1, *operands)   # dom0: emulated; domU: refused
        if frame is not None:
            pv_handle_trap(kernel, v, frame)
    elif insn == "cli":
        vcpu_info_write(v, "evtchn_upcall_mask", 1)
    elif insn == "sti":
        vcpu_info_write(v, "evtchn_upcall_mask", 0)
        if vcpu_info_read(v, "evtchn_upcall_pending"):
            kernel.deliver_upcall(v)                        # force_evtchn_callback()
    else:
        raise ValueError(f"unknown privileged operation {insn!r}; known: {', '.join(PRIVILEGED)}")
    if machine.trace.active:
        machine.trace.emit("HW", "pv_op", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, insn=insn,
                           replacement=PV_REPLACEMENT[insn])


def pv_context_switch(kernel, v) -> list:
    """A process switch as XenLinux 3.0.0 makes it (guest/switch_to.py): switch_mm's mmuext_op, then
    __switch_to's ONE multicall (fpu_taskswitch if the task used the FPU, stack_switch, the TLS
    descriptors that differ, SET_IOPL if io_pl differs). Returns the multicall's entries, each with
    its result."""
    from xenlab.guest.switch_to import context_switch
    return context_switch(kernel, v)


# -- the unmodified (HVM) kernel ---------------------------------------------------------------------------------
def hvm_cpu_op(kernel, v, op) -> None:
    machine = v.domain.machine
    kind = op[0]
    stats = kernel.cpu_stats.setdefault(v.vcpu_id, {})
    stats[kind] = stats.get(kind, 0) + 1
    if kind == "syscall" or (kind == "fault" and op[1] not in (14,)) or kind == "insn" and op[2] == 3:
        # The guest's own IDT handles it in guest mode: no VM exit, no Xen.
        if machine.trace.active:
            machine.trace.emit("HVM", "native", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor, op=kind)
        return
    if kind == "fault":                                  # #PF: shadow paging intercepts every one
        vmx.guest_exception(v, 14, PF_USER_WRITE_NOT_PRESENT, op[2] if len(op) > 2 else 0)
    elif kind == "fpu":                                  # Xen intercepts #NM for lazy FPU switching
        vmx.guest_exception(v, 7)
    elif kind == "priv":
        vmx.guest_instruction(v, op[1], *op[2:])
    elif kind == "switch":                               # the unmodified kernel writes CR3 itself
        vmx.guest_instruction(v, "write_cr3")
    elif kind == "insn":
        vmx.guest_instruction(v, op[1], *op[3:])
