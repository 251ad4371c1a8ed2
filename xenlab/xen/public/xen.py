"""Guest-visible constants and structures of xen/include/public/xen.h (Xen 3.0.0, x86_32 guest ABI).

Names and numbers are Xen's own so that a student can read xen.h beside the model. Where a value
changed between releases the comment says which one the model uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from xenlab.xen.public.arch_x86_32 import ARCH_SHARED_INFO, ARCH_VCPU_INFO
from xenlab.xen.public.cstruct import CStruct, StructLayout

# --- Hypercall numbers (X@RELEASE-3.0.0:xen/include/public/xen.h) ------------------------------
__HYPERVISOR_set_trap_table = 0
__HYPERVISOR_mmu_update = 1
__HYPERVISOR_set_gdt = 2
__HYPERVISOR_stack_switch = 3
__HYPERVISOR_set_callbacks = 4
__HYPERVISOR_fpu_taskswitch = 5
__HYPERVISOR_sched_op = 6            # modern: sched_op_compat (29 is the new sched_op)
__HYPERVISOR_dom0_op = 7             # modern: platform_op (domctl/sysctl took over)
__HYPERVISOR_set_debugreg = 8
__HYPERVISOR_get_debugreg = 9
__HYPERVISOR_update_descriptor = 10
# 11 is unused in 3.0 (set_fast_trap in 2.0)
__HYPERVISOR_memory_op = 12
__HYPERVISOR_multicall = 13
__HYPERVISOR_update_va_mapping = 14
__HYPERVISOR_set_timer_op = 15
__HYPERVISOR_event_channel_op = 16   # 3.0.0: one evtchn_op_t argument; 3.0.3+: 32 with (cmd, arg)
__HYPERVISOR_xen_version = 17
__HYPERVISOR_console_io = 18
__HYPERVISOR_physdev_op = 19
__HYPERVISOR_grant_table_op = 20
__HYPERVISOR_vm_assist = 21
__HYPERVISOR_update_va_mapping_otherdomain = 22
__HYPERVISOR_switch_vm86 = 23
__HYPERVISOR_vcpu_op = 24
__HYPERVISOR_set_segment_base = 25
__HYPERVISOR_mmuext_op = 26
__HYPERVISOR_acm_op = 27

# The i386 entry path masks the number with NR_hypercalls-1 (entry.S); unused slots are -ENOSYS.
NR_hypercalls = 32

HYPERCALL_NAMES: dict[int, str] = {
    v: k[len("__HYPERVISOR_"):] for k, v in dict(globals()).items() if k.startswith("__HYPERVISOR_")
}
HYPERCALL_NUMBERS: dict[str, int] = {name: nr for nr, name in HYPERCALL_NAMES.items()}

# Hypercall trap vector on x86_32 (TRAP_INSTR in 2.0 and 3.0: "int $0x82").
TRAP_INSTR = 0x82

# --- Special domain ids --------------------------------------------------------------------------
DOMID_FIRST_RESERVED = 0x7FF0
DOMID_SELF = 0x7FF0
DOMID_IO = 0x7FF1
DOMID_XEN = 0x7FF2

# --- sched_op (X@RELEASE-3.0.0:xen/include/public/sched.h) -------------------------------------
SCHEDOP_yield = 0
SCHEDOP_block = 1
SCHEDOP_shutdown = 2
SCHEDOP_poll = 3          # 3.0.2+

SHUTDOWN_poweroff = 0
SHUTDOWN_reboot = 1
SHUTDOWN_suspend = 2
SHUTDOWN_crash = 3
SHUTDOWN_NAMES = {SHUTDOWN_poweroff: "poweroff", SHUTDOWN_reboot: "reboot",
                  SHUTDOWN_suspend: "suspend", SHUTDOWN_crash: "crash"}


@dataclass
class sched_shutdown(CStruct):
    """struct sched_shutdown { unsigned int reason; } (IN).  3.0.2+ (3.0.0 passes the reason itself)."""
    reason: int = SHUTDOWN_poweroff
    LAYOUT: ClassVar = StructLayout("sched_shutdown", [("reason", "unsigned int")])


@dataclass
class sched_poll:
    """struct sched_poll { evtchn_port_t *ports; unsigned int nr_ports; uint64_t timeout; } (3.0.2+)."""
    ports: list[int]
    nr_ports: int
    timeout: int = 0
    LAYOUT: ClassVar = StructLayout("sched_poll", [
        ("ports", "ptr"), ("nr_ports", "unsigned int"), ("timeout", "uint64_t")])


# --- VIRQs (Xen 3.0.0 numbering; 2.0 had MISDIRECT at 0 and everything one higher) ----------------
VIRQ_TIMER = 0
VIRQ_DEBUG = 1
VIRQ_CONSOLE = 2
VIRQ_DOM_EXC = 3
VIRQ_PARITY_ERR = 4
VIRQ_IO_ERR = 5
VIRQ_DEBUGGER = 6
NR_VIRQS = 7

# --- console_io -----------------------------------------------------------------------------------
CONSOLEIO_write = 0
CONSOLEIO_read = 1

# --- xen_version (public/version.h) ---------------------------------------------------------------
XENVER_version = 0
XENVER_extraversion = 1
XENVER_compile_info = 2
XENVER_capabilities = 3
XENVER_changeset = 4
XENVER_platform_parameters = 5
XENVER_get_features = 6

XEN_VERSION_MAJOR = 3
XEN_VERSION_MINOR = 0
XEN_EXTRAVERSION = ".0-xenlab"


@dataclass
class xen_extraversion_t:
    extraversion: str = ""        # OUT, char[16]


@dataclass
class xen_capabilities_info_t:
    info: str = ""                # OUT, char[1024]


@dataclass
class xen_platform_parameters_t(CStruct):
    virt_start: int = 0           # OUT: HYPERVISOR_VIRT_START of this build
    LAYOUT: ClassVar = StructLayout("xen_platform_parameters", [("virt_start", "unsigned long")])


@dataclass
class xen_compile_info_t(CStruct):
    compiler: str = ""
    compile_by: str = ""
    compile_domain: str = ""
    compile_date: str = ""
    LAYOUT: ClassVar = StructLayout("xen_compile_info", [
        ("compiler", "char", 64), ("compile_by", "char", 16), ("compile_domain", "char", 32),
        ("compile_date", "char", 32)])


# --- vm_assist --------------------------------------------------------------------------------------
VMASST_CMD_enable = 0
VMASST_CMD_disable = 1
VMASST_TYPE_4gb_segments = 0
VMASST_TYPE_4gb_segments_notify = 1
VMASST_TYPE_writable_pagetables = 2
VMASST_TYPE_pae_extended_cr3 = 3      # from 3.0.3's xen.h; 3.0.0 does not know it ...
MAX_VMASST_TYPE = 2                   # ... so 3.0.0's vm_assist refuses type 3 (X@RELEASE-3.0.0:xen/include/public/xen.h:212)

# --- mmu_update / mmuext_op / update_va_mapping (used by xen/mm.py) -------------------------------
MMU_NORMAL_PT_UPDATE = 0
MMU_MACHPHYS_UPDATE = 1

MMUEXT_PIN_L1_TABLE = 0
MMUEXT_PIN_L2_TABLE = 1
MMUEXT_PIN_L3_TABLE = 2
MMUEXT_PIN_L4_TABLE = 3
MMUEXT_UNPIN_TABLE = 4
MMUEXT_NEW_BASEPTR = 5
MMUEXT_TLB_FLUSH_LOCAL = 6
MMUEXT_INVLPG_LOCAL = 7
MMUEXT_TLB_FLUSH_MULTI = 8
MMUEXT_INVLPG_MULTI = 9
MMUEXT_TLB_FLUSH_ALL = 10
MMUEXT_INVLPG_ALL = 11
MMUEXT_FLUSH_CACHE = 12
MMUEXT_SET_LDT = 13
MMUEXT_REASSIGN_PAGE = 14
MMUEXT_NEW_USER_BASEPTR = 15

UVMF_NONE = 0
UVMF_TLB_FLUSH = 1
UVMF_INVLPG = 2
UVMF_FLUSHTYPE_MASK = 3
UVMF_MULTI = 0
UVMF_LOCAL = 0
UVMF_ALL = 4

# --- start_info (x86_32 layout, 3.0) ----------------------------------------------------------------
MAX_GUEST_CMDLINE = 1024
SIF_PRIVILEGED = 1 << 0
SIF_INITDOMAIN = 1 << 1

# struct start_info (X@RELEASE-3.0.0:xen/include/public/xen.h:406-423; cmd_line is int8_t there).
START_INFO = StructLayout("start_info", [
    ("magic", "char", 32), ("nr_pages", "unsigned long"), ("shared_info", "unsigned long"),
    ("flags", "uint32_t"), ("store_mfn", "unsigned long"), ("store_evtchn", "uint32_t"),
    ("console_mfn", "unsigned long"), ("console_evtchn", "uint32_t"), ("pt_base", "unsigned long"),
    ("nr_pt_frames", "unsigned long"), ("mfn_list", "unsigned long"), ("mod_start", "unsigned long"),
    ("mod_len", "unsigned long"), ("cmd_line", "char", MAX_GUEST_CMDLINE)])
# (field, offset, size) in the x86_32 ABI, from the layout.
START_INFO_LAYOUT_X86_32 = tuple((name, START_INFO.offsetof(name), START_INFO.member_size(name))
                                 for name, _, _ in START_INFO.members)


@dataclass
class start_info:
    """struct start_info, as the domain builder writes it into the guest's start_info page."""
    magic: str = "xen-3.0-x86_32"
    nr_pages: int = 0
    shared_info: int = 0      # machine address of the shared_info page
    flags: int = 0
    store_mfn: int = 0
    store_evtchn: int = 0
    console_mfn: int = 0
    console_evtchn: int = 0
    pt_base: int = 0          # virtual address of the initial page-table root
    nr_pt_frames: int = 0
    mfn_list: int = 0         # virtual address of the P2M list
    mod_start: int = 0
    mod_len: int = 0
    cmd_line: str = ""

    LAYOUT: ClassVar = START_INFO

    def pack(self) -> bytes:
        out = bytearray(START_INFO.sizeof())
        for name, off, size in START_INFO_LAYOUT_X86_32:
            value = getattr(self, name)
            if isinstance(value, str):
                raw = value.encode()[: size - 1]
                out[off:off + len(raw)] = raw
            else:
                out[off:off + size] = int(value).to_bytes(size, "little")
        return bytes(out)

    @classmethod
    def unpack(cls, raw: bytes) -> "start_info":
        kw = {}
        for name, off, size in START_INFO_LAYOUT_X86_32:
            chunk = bytes(raw[off:off + size])
            if name in ("magic", "cmd_line"):
                kw[name] = chunk.split(b"\0", 1)[0].decode()
            else:
                kw[name] = int.from_bytes(chunk, "little")
        return cls(**kw)


# --- xencons_interface (public/io/console.h): the domU console ring page -----------------------------
XENCONS_IN_SIZE = 1024
XENCONS_OUT_SIZE = 2048
XENCONS_INTERFACE = StructLayout("xencons_interface", [
    ("in", "char", XENCONS_IN_SIZE), ("out", "char", XENCONS_OUT_SIZE), ("in_cons", "XENCONS_RING_IDX"),
    ("in_prod", "XENCONS_RING_IDX"), ("out_cons", "XENCONS_RING_IDX"), ("out_prod", "XENCONS_RING_IDX")])
XENCONS_OFF_IN = XENCONS_INTERFACE.offsetof("in")                # 0
XENCONS_OFF_OUT = XENCONS_INTERFACE.offsetof("out")              # 1024
XENCONS_OFF_IN_CONS = XENCONS_INTERFACE.offsetof("in_cons")      # 3072
XENCONS_OFF_IN_PROD = XENCONS_INTERFACE.offsetof("in_prod")      # 3076
XENCONS_OFF_OUT_CONS = XENCONS_INTERFACE.offsetof("out_cons")    # 3080
XENCONS_OFF_OUT_PROD = XENCONS_INTERFACE.offsetof("out_prod")    # 3084

# --- shared_info page (x86_32 guest ABI, 3.0) ----------------------------------------------------------
MAX_VIRT_CPUS = 32
NR_EVENT_CHANNELS = 1024                  # sizeof(long) * sizeof(long) * 64 on x86_32
BITS_PER_LONG = 32
VCPU_INFO_SIZE = 64
# struct vcpu_info
VI_EVTCHN_UPCALL_PENDING = 0              # uint8
VI_EVTCHN_UPCALL_MASK = 1                 # uint8
VI_EVTCHN_PENDING_SEL = 4                 # unsigned long
VI_ARCH_CR2 = 8                           # arch_vcpu_info.cr2 (3.0: page-fault address)
VI_TIME = 32                              # struct vcpu_time_info (32 bytes)
# struct vcpu_time_info, relative to VI_TIME
VTI_VERSION = 0                           # uint32
VTI_TSC_TIMESTAMP = 8                     # uint64
VTI_SYSTEM_TIME = 16                      # uint64
VTI_TSC_TO_SYSTEM_MUL = 24                # uint32
VTI_TSC_SHIFT = 28                        # int8
# struct shared_info
SI_VCPU_INFO = 0
SI_EVTCHN_PENDING = MAX_VIRT_CPUS * VCPU_INFO_SIZE          # 2048
SI_EVTCHN_MASK = SI_EVTCHN_PENDING + NR_EVENT_CHANNELS // 8  # 2176
SI_WC_VERSION = SI_EVTCHN_MASK + NR_EVENT_CHANNELS // 8      # 2304
SI_WC_SEC = SI_WC_VERSION + 4
SI_WC_NSEC = SI_WC_SEC + 4
SI_ARCH_MAX_PFN = SI_WC_NSEC + 4
SI_ARCH_PFN_TO_MFN_FRAME_LIST_LIST = SI_ARCH_MAX_PFN + 4

# The same three structs as layouts (X@RELEASE-3.0.0:xen/include/public/xen.h:269-377); the offsets
# above are checked against them in tests/xen/test_struct_layouts.py.
VCPU_TIME_INFO = StructLayout("vcpu_time_info", [
    ("version", "uint32_t"), ("pad0", "uint32_t"), ("tsc_timestamp", "uint64_t"), ("system_time", "uint64_t"),
    ("tsc_to_system_mul", "uint32_t"), ("tsc_shift", "int8_t"), ("pad1", "int8_t", 3)])
VCPU_INFO = StructLayout("vcpu_info", [
    ("evtchn_upcall_pending", "uint8_t"), ("evtchn_upcall_mask", "uint8_t"),
    ("evtchn_pending_sel", "unsigned long"), ("arch", ARCH_VCPU_INFO), ("time", VCPU_TIME_INFO)])
SHARED_INFO = StructLayout("shared_info", [
    ("vcpu_info", VCPU_INFO, MAX_VIRT_CPUS), ("evtchn_pending", "unsigned long", BITS_PER_LONG),
    ("evtchn_mask", "unsigned long", BITS_PER_LONG), ("wc_version", "uint32_t"), ("wc_sec", "uint32_t"),
    ("wc_nsec", "uint32_t"), ("arch", ARCH_SHARED_INFO)])

# struct mmu_update and struct mmuext_op are declared in xen.h; their dataclasses live in memory.py.
from xenlab.xen.public.memory import mmu_update_t, mmuext_op_t  # noqa: E402,F401


# --- multicall (X@RELEASE-3.0.0:xen/include/public/xen.h:256-261) ------------------------------------
@dataclass
class multicall_entry_t:
    """One entry of a multicall batch: hypercall ``op`` with up to six ``args``; Xen writes ``result``.

    In Xen the args are six unsigned longs; here they are the same Python objects a direct call takes
    (ints, or the dataclass a pointer would point to)."""
    op: int
    args: list = field(default_factory=list)
    result: int = 0
    # In C: unsigned long op, result; unsigned long args[6] (32 bytes on x86_32).
    LAYOUT: ClassVar = StructLayout("multicall_entry", [
        ("op", "unsigned long"), ("result", "unsigned long"), ("args", "unsigned long", 6)])
