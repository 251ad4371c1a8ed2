"""VCPU initialisation, query and hot-plug (X@RELEASE-3.0.0:xen/include/public/vcpu.h; H:vcpu.h).

``vcpu_op(cmd, vcpuid, extra_args)``: a guest brings up its own secondary vcpus. Each vcpu other than 0
starts *down* and uninitialised (alloc_vcpu sets _VCPUF_down); the kernel gives it a starting context
(``VCPUOP_initialise`` with a ``vcpu_guest_context``) and then makes it runnable (``VCPUOP_up``).

``VCPUOP_get_runstate_info`` and ``struct vcpu_runstate_info`` came with Xen 3.0.2 (marked below);
the model offers them because chapter 08 reads the runstate times.

``cpu_user_regs`` and ``vcpu_guest_context`` keep only the fields a starting context needs as
dataclass fields; their ``LAYOUT`` is the whole C struct (2800 bytes with the 512-byte FPU area and
the debug registers), which toolstack/save.py's image format follows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from xenlab.xen.public.arch_x86_32 import trap_info
from xenlab.xen.public.cstruct import CStruct, StructLayout

VCPUOP_initialise = 0
VCPUOP_up = 1
VCPUOP_down = 2
VCPUOP_is_up = 3
VCPUOP_get_runstate_info = 4          # Xen 3.0.2 and later (X@3.0.4-branched:xen/include/public/vcpu.h:76)

# struct vcpu_runstate_info's states (3.0.2+; the same numbers as the hypervisor's runstates)
RUNSTATE_running = 0
RUNSTATE_runnable = 1
RUNSTATE_blocked = 2
RUNSTATE_offline = 3

# vcpu_guest_context.flags (X@RELEASE-3.0.0:xen/include/public/arch-x86_32.h:111-113)
VGCF_I387_VALID = 1 << 0
VGCF_VMX_GUEST = 1 << 1
VGCF_IN_KERNEL = 1 << 2


@dataclass
class cpu_user_regs:
    """The registers of struct cpu_user_regs (arch-x86_32.h) that a starting context needs."""
    eip: int = 0
    cs: int = 0
    eflags: int = 0
    esp: int = 0
    ss: int = 0
    ebx: int = 0
    ecx: int = 0
    edx: int = 0
    esi: int = 0
    edi: int = 0
    ebp: int = 0
    eax: int = 0
    ds: int = 0
    es: int = 0
    fs: int = 0
    gs: int = 0
    # The full C struct (X@RELEASE-3.0.0:xen/include/public/arch-x86_32.h:79-100), 68 bytes.
    LAYOUT: ClassVar = StructLayout("cpu_user_regs", [
        ("ebx", "uint32_t"), ("ecx", "uint32_t"), ("edx", "uint32_t"), ("esi", "uint32_t"), ("edi", "uint32_t"),
        ("ebp", "uint32_t"), ("eax", "uint32_t"), ("error_code", "uint16_t"), ("entry_vector", "uint16_t"),
        ("eip", "uint32_t"), ("cs", "uint16_t"), ("saved_upcall_mask", "uint8_t"), ("_pad0", "uint8_t"),
        ("eflags", "uint32_t"), ("esp", "uint32_t"), ("ss", "uint16_t"), ("_pad1", "uint16_t"),
        ("es", "uint16_t"), ("_pad2", "uint16_t"), ("ds", "uint16_t"), ("_pad3", "uint16_t"),
        ("fs", "uint16_t"), ("_pad4", "uint16_t"), ("gs", "uint16_t"), ("_pad5", "uint16_t")])


FPU_CTXT_SIZE = 512                   # struct { char x[512]; } fpu_ctxt: FXSAVE's area


@dataclass
class vcpu_guest_context:
    """struct vcpu_guest_context (x86_32, 3.0.0), without the 512-byte FPU area and the debug registers.

    ``trap_ctxt`` is a list of trap_info (the virtual IDT), ``gdt_frames`` machine frames, ``ctrlreg[3]``
    the machine address of the page-table root."""
    flags: int = VGCF_IN_KERNEL
    user_regs: cpu_user_regs = field(default_factory=cpu_user_regs)
    trap_ctxt: list = field(default_factory=list)
    ldt_base: int = 0
    ldt_ents: int = 0
    gdt_frames: list = field(default_factory=list)
    gdt_ents: int = 0
    kernel_ss: int = 0
    kernel_sp: int = 0
    ctrlreg: list = field(default_factory=lambda: [0] * 8)
    event_callback_cs: int = 0
    event_callback_eip: int = 0
    failsafe_callback_cs: int = 0
    failsafe_callback_eip: int = 0
    vm_assist: int = 0
    # The full C struct (X@RELEASE-3.0.0:xen/include/public/arch-x86_32.h:108-127), 2800 bytes.
    LAYOUT: ClassVar = StructLayout("vcpu_guest_context", [
        ("fpu_ctxt", "char", FPU_CTXT_SIZE), ("flags", "unsigned long"), ("user_regs", cpu_user_regs),
        ("trap_ctxt", trap_info, 256), ("ldt_base", "unsigned long"), ("ldt_ents", "unsigned long"),
        ("gdt_frames", "unsigned long", 16), ("gdt_ents", "unsigned long"), ("kernel_ss", "unsigned long"),
        ("kernel_sp", "unsigned long"), ("ctrlreg", "unsigned long", 8), ("debugreg", "unsigned long", 8),
        ("event_callback_cs", "unsigned long"), ("event_callback_eip", "unsigned long"),
        ("failsafe_callback_cs", "unsigned long"), ("failsafe_callback_eip", "unsigned long"),
        ("vm_assist", "unsigned long")])


@dataclass
class vcpu_runstate_info(CStruct):
    """struct vcpu_runstate_info (3.0.2+): the current state, when it was entered, ns in each state."""
    state: int = 0
    state_entry_time: int = 0
    time: list = field(default_factory=lambda: [0, 0, 0, 0])
    LAYOUT: ClassVar = StructLayout("vcpu_runstate_info", [
        ("state", "int"), ("state_entry_time", "uint64_t"), ("time", "uint64_t", 4)])
