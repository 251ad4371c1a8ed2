"""The privileged domain-control interface (X@RELEASE-3.0.0:xen/include/public/dom0_ops.h).

Only dom0 may call dom0_op (others get -EPERM before anything is looked at); a caller built against
another interface version gets -EACCES. Later Xen split this into domctl and sysctl.

Each argument struct carries its C layout (``LAYOUT``: 3.0.0's x86_32 ABI, and ``dom0_op.LAYOUT`` the
136-byte dom0_op_t), compared with gcc -m32 on 3.0.0's headers in tests/xen/test_struct_layouts.py.
The dataclass fields hold Python values: a pointer in C (``buffer``, ``array``, ``ctxt``,
``dirty_bitmap``) is the Python list or object it points to, and ``params`` stands for
sched_adjdom_cmd's union.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from xenlab.xen.public.cstruct import CStruct, StructLayout, UnionLayout

DOM0_INTERFACE_VERSION = 0x03000000

DOM0_GETMEMLIST = 2
DOM0_SCHEDCTL = 6
DOM0_ADJUSTDOM = 7
DOM0_CREATEDOMAIN = 8
DOM0_DESTROYDOMAIN = 9
DOM0_PAUSEDOMAIN = 10
DOM0_UNPAUSEDOMAIN = 11
DOM0_GETDOMAININFO = 12
DOM0_SETDOMAININFO = 13
DOM0_SETTIME = 17
DOM0_GETPAGEFRAMEINFO = 18
DOM0_READCONSOLE = 19
DOM0_PINCPUDOMAIN = 20
DOM0_PHYSINFO = 22
DOM0_SCHED_ID = 24
DOM0_SHADOW_CONTROL = 25
DOM0_SETDOMAINMAXMEM = 28
DOM0_GETPAGEFRAMEINFO2 = 29
DOM0_MAX_VCPUS = 41
DOM0_GETVCPUCONTEXT = 37
DOM0_GETDOMAININFOLIST = 38
DOM0_GETVCPUINFO = 43
# The model's own command, not Xen's (3.0.0's numbers end at 44): see dom0_builddomain.
DOM0_XENLAB_BUILDDOMAIN = 0x7842

# getdomaininfo flags (3.0)
DOMFLAGS_DYING = 1 << 0
DOMFLAGS_SHUTDOWN = 1 << 2
DOMFLAGS_PAUSED = 1 << 3
DOMFLAGS_BLOCKED = 1 << 4
DOMFLAGS_RUNNING = 1 << 5
DOMFLAGS_CPUMASK = 255
DOMFLAGS_CPUSHIFT = 8
DOMFLAGS_SHUTDOWNMASK = 255
DOMFLAGS_SHUTDOWNSHIFT = 16


@dataclass
class dom0_createdomain:
    ssidref: int = 0
    handle: bytes = b"\0" * 16
    domain: int = 0              # IN: requested id or 0 for "any"; OUT: the new domid
    LAYOUT: ClassVar = StructLayout("dom0_createdomain", [("ssidref", "uint32_t"), ("handle", "uint8_t", 16), ("domain", "domid_t")])


@dataclass
class dom0_domain:
    """The argument of DESTROY/PAUSE/UNPAUSE (a single domid): three one-member structs in C."""
    domain: int = 0
    LAYOUT: ClassVar = StructLayout("dom0_pausedomain", [("domain", "domid_t")])


DOM0_DESTROYDOMAIN_LAYOUT = StructLayout("dom0_destroydomain", [("domain", "domid_t")])
DOM0_UNPAUSEDOMAIN_LAYOUT = StructLayout("dom0_unpausedomain", [("domain", "domid_t")])


@dataclass
class dom0_getdomaininfo:
    domain: int = 0              # IN: first domid to look at; OUT: the one found
    flags: int = 0
    tot_pages: int = 0
    max_pages: int = 0
    shared_info_frame: int = 0
    cpu_time: int = 0            # ns
    nr_online_vcpus: int = 0
    max_vcpu_id: int = 0
    ssidref: int = 0
    handle: bytes = b"\0" * 16
    LAYOUT: ClassVar = StructLayout("dom0_getdomaininfo", [("domain", "domid_t"), ("flags", "uint32_t"), ("tot_pages", "unsigned long"), ("max_pages", "unsigned long"), ("shared_info_frame", "unsigned long"), ("cpu_time", "uint64_t"), ("nr_online_vcpus", "uint32_t"), ("max_vcpu_id", "uint32_t"), ("ssidref", "uint32_t"), ("handle", "uint8_t", 16)])


@dataclass
class dom0_setdomainmaxmem(CStruct):
    domain: int = 0
    max_memkb: int = 0
    LAYOUT: ClassVar = StructLayout("dom0_setdomainmaxmem", [("domain", "domid_t"), ("max_memkb", "unsigned long")])


@dataclass
class dom0_max_vcpus(CStruct):
    domain: int = 0
    max: int = 0
    LAYOUT: ClassVar = StructLayout("dom0_max_vcpus", [("domain", "domid_t"), ("max", "uint32_t")])


@dataclass
class dom0_readconsole:
    clear: int = 0
    buffer: str = ""             # OUT
    count: int = 0               # OUT
    LAYOUT: ClassVar = StructLayout("dom0_readconsole", [("clear", "uint32_t"), ("buffer", "ptr"), ("count", "uint32_t")])


@dataclass
class dom0_physinfo:
    threads_per_core: int = 1
    cores_per_socket: int = 1
    sockets_per_node: int = 1
    nr_nodes: int = 1
    cpu_khz: int = 0
    total_pages: int = 0
    free_pages: int = 0
    hw_cap: list = field(default_factory=list)
    LAYOUT: ClassVar = StructLayout("dom0_physinfo", [("threads_per_core", "uint32_t"), ("cores_per_socket", "uint32_t"), ("sockets_per_node", "uint32_t"), ("nr_nodes", "uint32_t"), ("cpu_khz", "uint32_t"), ("total_pages", "unsigned long"), ("free_pages", "unsigned long"), ("hw_cap", "uint32_t", 8)])


@dataclass
class dom0_adjustdom:
    domain: int = 0
    sched_id: int = 0
    direction: int = 0           # SCHED_INFO_PUT 0 / SCHED_INFO_GET 1
    params: dict = field(default_factory=dict)


SCHED_INFO_PUT = 0
SCHED_INFO_GET = 1

# struct sched_adjdom_cmd (X@RELEASE-3.0.0:xen/include/public/sched_ctl.h): the model's ``params``
# dict carries BVT's or SEDF's alternative of the union.
dom0_adjustdom.LAYOUT = StructLayout("dom0_adjustdom", [
    ("sched_id", "uint32_t"), ("direction", "uint32_t"), ("domain", "domid_t"),
    ("u", UnionLayout("sched_adjdom_cmd.u", [
        ("bvt", StructLayout("bvt_adjdom", [
            ("mcu_adv", "uint32_t"), ("warpback", "uint32_t"), ("warpvalue", "int32_t"), ("warpl", "int64_t"),
            ("warpu", "int64_t")], inline=True)),
        ("sedf", StructLayout("sedf_adjdom", [
            ("period", "uint64_t"), ("slice", "uint64_t"), ("latency", "uint64_t"), ("extratime", "uint32_t"),
            ("weight", "uint32_t")], inline=True))]))])


@dataclass
class dom0_builddomain:
    """DOM0_XENLAB_BUILDDOMAIN, the model's single "domain builder" entry (not in Xen).

    Xen 3.0's xc_linux_build loads the kernel image, builds the initial page tables, P2M and
    start_info through ordinary hypercalls (memory_op, mmu_update, DOM0_SETDOMAININFO). The model's
    guest kernel is Python, not an image, so one privileged call gives a created, paused domain its
    ``nr_pages`` of memory, its start_info, console and xenstore pages and vcpu 0's first context,
    as construct_dom0 does for dom0 (xen/domain_build.py). OUT: where those pages are."""
    domain: int = 0
    nr_pages: int = 0
    start_info_mfn: int = 0          # OUT
    console_mfn: int = 0             # OUT
    store_mfn: int = 0               # OUT
    info: Any = None                 # OUT: the start_info written (xenlab.xen.public.xen.start_info)


@dataclass
class dom0_sched_id(CStruct):
    """DOM0_SCHED_ID: OUT the running scheduler's id (public/sched_ctl.h, xenlab.xen.public.sched_ctl)."""
    sched_id: int = 0
    LAYOUT: ClassVar = StructLayout("dom0_sched_id", [("sched_id", "uint32_t")])


@dataclass
class dom0_schedctl:
    """DOM0_SCHEDCTL: the scheduler's global parameters (BVT's ctx_allow, Round Robin's slice)."""
    sched_id: int = 0
    direction: int = 0           # SCHED_INFO_PUT 0 / SCHED_INFO_GET 1
    params: dict = field(default_factory=dict)
    # struct sched_ctl_cmd (sched_ctl.h): BVT's ctx_allow is the union's one alternative in 3.0.0.
    LAYOUT: ClassVar = StructLayout("dom0_schedctl", [
        ("sched_id", "uint32_t"), ("direction", "uint32_t"),
        ("u", UnionLayout("sched_ctl_cmd.u", [
            ("bvt", StructLayout("bvt_ctl", [("ctx_allow", "uint32_t")], inline=True))]))])


@dataclass
class dom0_op:
    cmd: int
    u: Any = None
    interface_version: int = DOM0_INTERFACE_VERSION


# --- DOM0_SHADOW_CONTROL (X@RELEASE-3.0.0:xen/include/public/dom0_ops.h), used by xen/shadow.py ----
DOM0_SHADOW_CONTROL_OP_OFF = 0
DOM0_SHADOW_CONTROL_OP_ENABLE_TEST = 1
DOM0_SHADOW_CONTROL_OP_ENABLE_LOGDIRTY = 2
DOM0_SHADOW_CONTROL_OP_ENABLE_TRANSLATE = 3
DOM0_SHADOW_CONTROL_OP_FLUSH = 10        # table ops
DOM0_SHADOW_CONTROL_OP_CLEAN = 11
DOM0_SHADOW_CONTROL_OP_PEEK = 12


@dataclass
class dom0_shadow_control_stats(CStruct):
    fault_count: int = 0
    dirty_count: int = 0
    dirty_net_count: int = 0
    dirty_block_count: int = 0
    LAYOUT: ClassVar = StructLayout("dom0_shadow_control_stats", [("fault_count", "uint32_t"), ("dirty_count", "uint32_t"), ("dirty_net_count", "uint32_t"), ("dirty_block_count", "uint32_t")])


@dataclass
class dom0_shadow_control:
    domain: int = 0                      # IN
    op: int = 0                          # IN: DOM0_SHADOW_CONTROL_OP_*
    dirty_bitmap: Any = None             # IN: a writable buffer (numpy uint8 / bytearray) or None
    pages: int = 0                       # IN/OUT: size of the bitmap in pages; OUT: pages covered
    stats: dom0_shadow_control_stats = field(default_factory=dom0_shadow_control_stats)   # OUT
    LAYOUT: ClassVar = StructLayout("dom0_shadow_control", [("domain", "domid_t"), ("op", "uint32_t"), ("dirty_bitmap", "ptr"), ("pages", "unsigned long"), ("stats", dom0_shadow_control_stats)])


# Page-type tags in the pfn_type words of a save stream (DOM0_GETPAGEFRAMEINFO, 3.0 dom0_ops.h).
LTAB_SHIFT = 28
NOTAB = 0
L1TAB = 1 << LTAB_SHIFT
L2TAB = 2 << LTAB_SHIFT
L3TAB = 3 << LTAB_SHIFT
L4TAB = 4 << LTAB_SHIFT
LPINTAB = 1 << 31
XTAB = 0xF << LTAB_SHIFT                 # invalid page
LTAB_MASK = XTAB
LTABTYPE_MASK = 0x7 << LTAB_SHIFT


# --- the calls a toolstack needs to save, restore, pin and watch (X@RELEASE-3.0.0:dom0_ops.h) ---------
@dataclass
class dom0_getmemlist:
    """DOM0_GETMEMLIST: the machine frames of ``domain``, at most ``max_pfns`` of them."""
    domain: int = 0
    max_pfns: int = 0
    buffer: list | None = None       # OUT: the mfns (Xen writes into the caller's array)
    num_pfns: int = 0                # OUT
    LAYOUT: ClassVar = StructLayout("dom0_getmemlist", [("domain", "domid_t"), ("max_pfns", "unsigned long"), ("buffer", "ptr"), ("num_pfns", "unsigned long")])


@dataclass
class dom0_setdomaininfo:
    """DOM0_SETDOMAININFO: give vcpu ``vcpu`` of a paused domain its context (xc_linux_build, restore)."""
    domain: int = 0
    vcpu: int = 0
    ctxt: object = None              # a vcpu_guest_context (xenlab.xen.public.vcpu)
    LAYOUT: ClassVar = StructLayout("dom0_setdomaininfo", [("domain", "domid_t"), ("vcpu", "uint32_t"), ("ctxt", "ptr")])


@dataclass
class dom0_settime(CStruct):
    """DOM0_SETTIME: the wall clock read secs.nsecs (since 1970) when system time was ``system_time``."""
    secs: int = 0
    nsecs: int = 0
    system_time: int = 0
    LAYOUT: ClassVar = StructLayout("dom0_settime", [("secs", "uint32_t"), ("nsecs", "uint32_t"), ("system_time", "uint64_t")])


# DOM0_GETPAGEFRAMEINFO's answer: the frame's page-table type in the top bits.
NOTAB = 0
L1TAB = 1 << 28
L2TAB = 2 << 28
L3TAB = 3 << 28
L4TAB = 4 << 28
LPINTAB = 1 << 31
XTAB = 0xF << 28
LTAB_MASK = XTAB
LTABTYPE_MASK = 0x7 << 28


@dataclass
class dom0_getpageframeinfo(CStruct):
    pfn: int = 0                     # IN: the MACHINE frame to ask about (the name is Xen's)
    domain: int = 0                  # IN: the domain it should belong to
    type: int = NOTAB                # OUT: NOTAB, L1TAB ... L4TAB
    LAYOUT: ClassVar = StructLayout("dom0_getpageframeinfo", [("pfn", "unsigned long"), ("domain", "domid_t"), ("type", "uint32_t")])


@dataclass
class dom0_getpageframeinfo2:
    """DOM0_GETPAGEFRAMEINFO2, the batched query: each entry of ``array`` is a machine frame IN and
    the frame with its LxTAB tag (| LPINTAB if pinned) OUT, or | XTAB if it is not the domain's."""
    domain: int = 0
    num: int = 0                     # at most 1024 (-E2BIG)
    array: list | None = None        # IN/OUT
    LAYOUT: ClassVar = StructLayout("dom0_getpageframeinfo2", [("domain", "domid_t"), ("num", "unsigned long"), ("array", "ptr")])


CPUMAP_RUNANYWHERE = 0xFFFFFFFF     # X@RELEASE-3.0.0:xen/include/xen/sched.h:53


@dataclass
class dom0_pincpudomain(CStruct):
    domain: int = 0
    vcpu: int = 0
    cpumap: int = CPUMAP_RUNANYWHERE
    LAYOUT: ClassVar = StructLayout("dom0_pincpudomain", [("domain", "domid_t"), ("vcpu", "uint32_t"), ("cpumap", "cpumap_t")])


@dataclass
class dom0_getvcpucontext:
    domain: int = 0
    vcpu: int = 0
    ctxt: object = None              # OUT: filled into the caller's vcpu_guest_context
    LAYOUT: ClassVar = StructLayout("dom0_getvcpucontext", [("domain", "domid_t"), ("vcpu", "uint32_t"), ("ctxt", "ptr")])


@dataclass
class dom0_getvcpuinfo(CStruct):
    domain: int = 0
    vcpu: int = 0
    online: int = 0                  # OUT
    blocked: int = 0
    running: int = 0
    cpu_time: int = 0                # ns
    cpu: int = 0
    cpumap: int = CPUMAP_RUNANYWHERE
    LAYOUT: ClassVar = StructLayout("dom0_getvcpuinfo", [("domain", "domid_t"), ("vcpu", "uint32_t"), ("online", "uint8_t"), ("blocked", "uint8_t"), ("running", "uint8_t"), ("cpu_time", "uint64_t"), ("cpu", "uint32_t"), ("cpumap", "cpumap_t")])


@dataclass
class dom0_getdomaininfolist:
    first_domain: int = 0
    max_domains: int = 0
    buffer: list | None = None       # OUT: dom0_getdomaininfo records appended to the caller's list
    num_domains: int = 0             # OUT
    LAYOUT: ClassVar = StructLayout("dom0_getdomaininfolist", [("first_domain", "domid_t"), ("max_domains", "uint32_t"), ("buffer", "ptr"), ("num_domains", "uint32_t")])


# struct dom0_op (X@RELEASE-3.0.0:xen/include/public/dom0_ops.h:407-446): cmd, interface_version and a
# union padded to 128 bytes, 136 in all on x86_32.  The alternatives listed are the commands the model
# implements; every one must fit in the 128-byte pad (tests/xen/test_struct_layouts.py).
DOM0_OP_PAD = 128
dom0_op.LAYOUT = StructLayout("dom0_op", [
    ("cmd", "uint32_t"), ("interface_version", "uint32_t"),
    ("u", UnionLayout("dom0_op.u", [
        ("createdomain", dom0_createdomain), ("pausedomain", dom0_domain),
        ("unpausedomain", DOM0_UNPAUSEDOMAIN_LAYOUT), ("destroydomain", DOM0_DESTROYDOMAIN_LAYOUT),
        ("getmemlist", dom0_getmemlist), ("schedctl", dom0_schedctl), ("adjustdom", dom0_adjustdom),
        ("setdomaininfo", dom0_setdomaininfo), ("getdomaininfo", dom0_getdomaininfo),
        ("getpageframeinfo", dom0_getpageframeinfo), ("settime", dom0_settime),
        ("readconsole", dom0_readconsole), ("pincpudomain", dom0_pincpudomain), ("physinfo", dom0_physinfo),
        ("sched_id", dom0_sched_id), ("shadow_control", dom0_shadow_control),
        ("setdomainmaxmem", dom0_setdomainmaxmem), ("getpageframeinfo2", dom0_getpageframeinfo2),
        ("getvcpucontext", dom0_getvcpucontext), ("getvcpuinfo", dom0_getvcpuinfo),
        ("getdomaininfolist", dom0_getdomaininfolist), ("max_vcpus", dom0_max_vcpus),
        ("pad", "uint8_t", DOM0_OP_PAD)]))])
