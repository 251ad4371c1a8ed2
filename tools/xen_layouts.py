"""Measure the C layout of Xen's public structs at a tag of Xen's history into a JSON table.

    python tools/xen_layouts.py GIT_DIR RELEASE-3.0.0 > tests/data/xen_3_0_0_layouts.json
    python tools/xen_layouts.py GIT_DIR RELEASE-2.0.0 > tests/data/xen_2_0_0_layouts.json

GIT_DIR is a clone (or bare mirror) of Xen's repository (e.g. the ``fetch`` tool's
/work/.mirror/xen-project+xen/repo). The script runs

    git --git-dir GIT_DIR archive TAG xen/include/public | tar -x -C TMP

writes TMP/layouts.c (``#include``s of the headers below and one ``printf`` of ``sizeof`` and, for
every member listed in ``STRUCTS``, ``offsetof`` and ``sizeof``), and compiles it with

    gcc -m32 -std=gnu99 -D__i386__ -D__XEN_TOOLS__ -I TMP/xen/include/public -o TMP/layouts TMP/layouts.c

- ``-m32``: the x86_32 guest ABI the model follows (a uint64_t member is 4-byte aligned there).
- ``-D__i386__``: xen.h picks arch-x86_32.h on it (gcc -m32 defines it already; kept explicit).
- ``-D__XEN_TOOLS__``: 3.0.0's headers do not test it, but later ones hide dom0_ops/domctl behind
  it, so the command stays the same across tags.
- ``<stdint.h>`` and ``<errno.h>`` are included first: 3.0.0's headers use uint32_t etc. without
  including it (the hypervisor and the tools each provide them), and io/xs_wire.h's xsd_errors table
  names EINVAL, EACCES, ...
- io/ring.h only defines a macro; ``DEFINE_RING_TYPES(xenlab_probe, uint32_t, uint32_t)`` instantiates
  the shared ring (``struct xenlab_probe_sring``) to measure its header.

For a RELEASE-2.* tag the probe measures STRUCTS_2 (the structs the model keeps from Xen 2.0 alone)
and first defines what 2.0's headers expect from their includer: ``u8`` ... ``s64`` and ``PACKED``
(``__attribute__((packed))``, as 2.0's xen/include/xen/types.h and compiler setup give them).

Output: ``{"_source", "_command", "structs": {key: {"ctype", "sizeof", "members": {path: [offset,
size]}}}}``; a member path uses C's designator syntax (``arg1.mfn``, ``u.bind_virq``). Only numbers
are kept, no code from Xen. tests/xen/test_struct_layouts.py compares the model's StructLayouts with it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

HEADERS = ("xen.h", "version.h", "dom0_ops.h", "event_channel.h", "memory.h", "grant_table.h", "vcpu.h",
           "physdev.h", "io/console.h", "io/xs_wire.h", "io/ring.h", "io/blkif.h", "io/netif.h")

# key (the model's StructLayout name) -> (C type, [member designators]).  Every member of each struct
# is listed (unions: the union and each alternative), so a member the model lacks is noticed too.
_EVTCHN_OP_U = ["alloc_unbound", "bind_interdomain", "bind_virq", "bind_pirq", "bind_ipi", "close", "send",
                "status", "bind_vcpu"]
_DOM0_OP_U = ["createdomain", "pausedomain", "unpausedomain", "destroydomain", "getmemlist", "schedctl",
              "adjustdom", "setdomaininfo", "getdomaininfo", "getpageframeinfo", "msr", "settime",
              "readconsole", "pincpudomain", "tbufcontrol", "physinfo", "sched_id", "shadow_control",
              "setdomainmaxmem", "getpageframeinfo2", "add_memtype", "del_memtype", "read_memtype",
              "perfccontrol", "microcode", "ioport_permission", "getvcpucontext", "getvcpuinfo",
              "getdomaininfolist", "platform_quirk", "physical_memory_map", "max_vcpus", "setdomainhandle",
              "pad"]
STRUCTS = {
    # xen.h
    "mmu_update": ("mmu_update_t", ["ptr", "val"]),
    "mmuext_op": ("struct mmuext_op", ["cmd", "arg1", "arg1.mfn", "arg1.linear_addr", "arg2", "arg2.nr_ents",
                                       "arg2.vcpumask"]),
    "multicall_entry": ("multicall_entry_t", ["op", "result", "args"]),
    "vcpu_time_info": ("vcpu_time_info_t", ["version", "pad0", "tsc_timestamp", "system_time",
                                            "tsc_to_system_mul", "tsc_shift", "pad1"]),
    "vcpu_info": ("vcpu_info_t", ["evtchn_upcall_pending", "evtchn_upcall_mask", "evtchn_pending_sel", "arch",
                                  "time"]),
    "shared_info": ("shared_info_t", ["vcpu_info", "evtchn_pending", "evtchn_mask", "wc_version", "wc_sec",
                                      "wc_nsec", "arch"]),
    "start_info": ("start_info_t", ["magic", "nr_pages", "shared_info", "flags", "store_mfn", "store_evtchn",
                                    "console_mfn", "console_evtchn", "pt_base", "nr_pt_frames", "mfn_list",
                                    "mod_start", "mod_len", "cmd_line"]),
    # version.h
    "xen_platform_parameters": ("xen_platform_parameters_t", ["virt_start"]),
    "xen_compile_info": ("xen_compile_info_t", ["compiler", "compile_by", "compile_domain", "compile_date"]),
    # arch-x86_32.h
    "trap_info": ("trap_info_t", ["vector", "flags", "cs", "address"]),
    "cpu_user_regs": ("cpu_user_regs_t", ["ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "error_code",
                                          "entry_vector", "eip", "cs", "saved_upcall_mask", "_pad0", "eflags",
                                          "esp", "ss", "_pad1", "es", "_pad2", "ds", "_pad3", "fs", "_pad4",
                                          "gs", "_pad5"]),
    "vcpu_guest_context": ("vcpu_guest_context_t", [
        "fpu_ctxt", "flags", "user_regs", "trap_ctxt", "ldt_base", "ldt_ents", "gdt_frames", "gdt_ents",
        "kernel_ss", "kernel_sp", "ctrlreg", "debugreg", "event_callback_cs", "event_callback_eip",
        "failsafe_callback_cs", "failsafe_callback_eip", "vm_assist"]),
    "arch_vcpu_info": ("arch_vcpu_info_t", ["cr2", "pad"]),
    "arch_shared_info": ("arch_shared_info_t", ["max_pfn", "pfn_to_mfn_frame_list_list"]),
    # memory.h
    "xen_memory_reservation": ("xen_memory_reservation_t", ["extent_start", "nr_extents", "extent_order",
                                                            "address_bits", "domid"]),
    # event_channel.h
    "evtchn_alloc_unbound": ("evtchn_alloc_unbound_t", ["dom", "remote_dom", "port"]),
    "evtchn_bind_interdomain": ("evtchn_bind_interdomain_t", ["remote_dom", "remote_port", "local_port"]),
    "evtchn_bind_virq": ("evtchn_bind_virq_t", ["virq", "vcpu", "port"]),
    "evtchn_bind_pirq": ("evtchn_bind_pirq_t", ["pirq", "flags", "port"]),
    "evtchn_bind_ipi": ("evtchn_bind_ipi_t", ["vcpu", "port"]),
    "evtchn_close": ("evtchn_close_t", ["port"]),
    "evtchn_send": ("evtchn_send_t", ["port"]),
    "evtchn_status": ("evtchn_status_t", ["dom", "port", "status", "vcpu", "u", "u.unbound", "u.unbound.dom",
                                          "u.interdomain", "u.interdomain.dom", "u.interdomain.port", "u.pirq",
                                          "u.virq"]),
    "evtchn_bind_vcpu": ("evtchn_bind_vcpu_t", ["port", "vcpu"]),
    "evtchn_op": ("evtchn_op_t", ["cmd", "u"] + [f"u.{m}" for m in _EVTCHN_OP_U]),
    # physdev.h (3.0.0 names them physdevop_*; the model uses the later physdev_* names)
    "physdev_set_iopl": ("physdevop_set_iopl_t", ["iopl"]),
    "physdev_irq_status_query": ("physdevop_irq_status_query_t", ["irq", "flags"]),
    # dom0_ops.h and sched_ctl.h
    "dom0_createdomain": ("dom0_createdomain_t", ["ssidref", "handle", "domain"]),
    "dom0_destroydomain": ("dom0_destroydomain_t", ["domain"]),
    "dom0_pausedomain": ("dom0_pausedomain_t", ["domain"]),
    "dom0_unpausedomain": ("dom0_unpausedomain_t", ["domain"]),
    "dom0_getmemlist": ("dom0_getmemlist_t", ["domain", "max_pfns", "buffer", "num_pfns"]),
    "dom0_schedctl": ("dom0_schedctl_t", ["sched_id", "direction", "u", "u.bvt", "u.bvt.ctx_allow"]),
    "dom0_adjustdom": ("dom0_adjustdom_t", ["sched_id", "direction", "domain", "u", "u.bvt", "u.bvt.mcu_adv",
                                            "u.bvt.warpback", "u.bvt.warpvalue", "u.bvt.warpl", "u.bvt.warpu",
                                            "u.sedf", "u.sedf.period", "u.sedf.slice", "u.sedf.latency",
                                            "u.sedf.extratime", "u.sedf.weight"]),
    "dom0_setdomaininfo": ("dom0_setdomaininfo_t", ["domain", "vcpu", "ctxt"]),
    "dom0_getdomaininfo": ("dom0_getdomaininfo_t", ["domain", "flags", "tot_pages", "max_pages",
                                                    "shared_info_frame", "cpu_time", "nr_online_vcpus",
                                                    "max_vcpu_id", "ssidref", "handle"]),
    "dom0_settime": ("dom0_settime_t", ["secs", "nsecs", "system_time"]),
    "dom0_getpageframeinfo": ("dom0_getpageframeinfo_t", ["pfn", "domain", "type"]),
    "dom0_readconsole": ("dom0_readconsole_t", ["clear", "buffer", "count"]),
    "dom0_pincpudomain": ("dom0_pincpudomain_t", ["domain", "vcpu", "cpumap"]),
    "dom0_physinfo": ("dom0_physinfo_t", ["threads_per_core", "cores_per_socket", "sockets_per_node",
                                          "nr_nodes", "cpu_khz", "total_pages", "free_pages", "hw_cap"]),
    "dom0_sched_id": ("dom0_sched_id_t", ["sched_id"]),
    "dom0_shadow_control_stats": ("dom0_shadow_control_stats_t", ["fault_count", "dirty_count",
                                                                  "dirty_net_count", "dirty_block_count"]),
    "dom0_shadow_control": ("dom0_shadow_control_t", ["domain", "op", "dirty_bitmap", "pages", "stats"]),
    "dom0_setdomainmaxmem": ("dom0_setdomainmaxmem_t", ["domain", "max_memkb"]),
    "dom0_getpageframeinfo2": ("dom0_getpageframeinfo2_t", ["domain", "num", "array"]),
    "dom0_getvcpucontext": ("dom0_getvcpucontext_t", ["domain", "vcpu", "ctxt"]),
    "dom0_getvcpuinfo": ("dom0_getvcpuinfo_t", ["domain", "vcpu", "online", "blocked", "running", "cpu_time",
                                                "cpu", "cpumap"]),
    "dom0_getdomaininfolist": ("dom0_getdomaininfolist_t", ["first_domain", "max_domains", "buffer",
                                                            "num_domains"]),
    "dom0_max_vcpus": ("dom0_max_vcpus_t", ["domain", "max"]),
    "dom0_op": ("dom0_op_t", ["cmd", "interface_version", "u"] + [f"u.{m}" for m in _DOM0_OP_U]),
    # grant_table.h
    "grant_entry_v1": ("grant_entry_t", ["flags", "domid", "frame"]),
    "gnttab_map_grant_ref": ("gnttab_map_grant_ref_t", ["host_addr", "flags", "ref", "dom", "status", "handle",
                                                        "dev_bus_addr"]),
    "gnttab_unmap_grant_ref": ("gnttab_unmap_grant_ref_t", ["host_addr", "dev_bus_addr", "handle", "status"]),
    "gnttab_setup_table": ("gnttab_setup_table_t", ["dom", "nr_frames", "status", "frame_list"]),
    "gnttab_transfer": ("gnttab_transfer_t", ["mfn", "domid", "ref", "status"]),
    # io/
    "sring_header": ("struct xenlab_probe_sring", ["req_prod", "req_event", "rsp_prod", "rsp_event", "pad",
                                                   "ring"]),
    "blkif_request_segment": ("struct blkif_request_segment", ["gref", "first_sect", "last_sect"]),
    "blkif_request": ("blkif_request_t", ["operation", "nr_segments", "handle", "id", "sector_number", "seg"]),
    "blkif_response": ("blkif_response_t", ["id", "operation", "status"]),
    "netif_tx_request": ("netif_tx_request_t", ["gref", "offset", "flags", "id", "size"]),
    "netif_tx_response": ("netif_tx_response_t", ["id", "status"]),
    "netif_rx_request": ("netif_rx_request_t", ["id", "gref"]),
    "netif_rx_response": ("netif_rx_response_t", ["id", "offset", "flags", "status"]),
    "xencons_interface": ("struct xencons_interface", ["in", "out", "in_cons", "in_prod", "out_cons",
                                                       "out_prod"]),
    "xenstore_domain_interface": ("struct xenstore_domain_interface", ["req", "rsp", "req_cons", "req_prod",
                                                                       "rsp_cons", "rsp_prod"]),
    "xsd_sockmsg": ("struct xsd_sockmsg", ["type", "req_id", "tx_id", "len"]),
}


# Xen 2.0 only (the history chapters): the vdisk_t a BLKIF_OP_PROBE reply is made of.
STRUCTS_2 = {"vdisk_t": ("vdisk_t", ["capacity", "device", "info"])}
HEADERS_2 = ("xen.h", "io/blkif.h")
PROLOGUE_2 = ("typedef uint8_t u8; typedef uint16_t u16; typedef uint32_t u32; typedef uint64_t u64;\n"
              "typedef int8_t s8; typedef int16_t s16; typedef int32_t s32; typedef int64_t s64;\n"
              "#define PACKED __attribute__((packed))")


def c_program(structs: dict = STRUCTS, headers=HEADERS, prologue: str = "") -> str:
    """A C program printing one JSON object per struct: key, sizeof, and offset/size of each member."""
    lines = ["#include <stdint.h>", "#include <stddef.h>", "#include <stdio.h>", "#include <errno.h>", prologue]
    lines += [f'#include "{h}"' for h in headers]
    if "io/ring.h" in headers:
        lines.append("DEFINE_RING_TYPES(xenlab_probe, uint32_t, uint32_t);")
    lines.append("int main(void) {")
    for i, (key, (ctype, members)) in enumerate(structs.items()):
        sep = "," if i else ""
        lines.append(f'    printf("{sep}\\"{key}\\": {{\\"ctype\\": \\"{ctype}\\", \\"sizeof\\": %u, '
                     f'\\"members\\": {{", (unsigned)sizeof({ctype}));')
        for j, m in enumerate(members):
            msep = "," if j else ""
            lines.append(f'    printf("{msep}\\"{m}\\": [%u, %u]", (unsigned)offsetof({ctype}, {m}), '
                         f'(unsigned)sizeof((({ctype} *)0)->{m}));')
        lines.append('    printf("}}\\n");')
    lines.append("    return 0;\n}")
    return "\n".join(lines) + "\n"


GCC = ["gcc", "-m32", "-std=gnu99", "-D__i386__", "-D__XEN_TOOLS__"]


def measure(include_dir: str, structs: dict = STRUCTS, headers=HEADERS, prologue: str = "") -> dict:
    """Compile and run the probe against ``include_dir``; returns {key: {ctype, sizeof, members}}."""
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "layouts.c"), os.path.join(tmp, "layouts")
        with open(src, "w") as f:
            f.write(c_program(structs, headers, prologue))
        subprocess.run(GCC + ["-I", include_dir, "-o", exe, src], check=True, capture_output=True, text=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return json.loads("{" + out + "}")


def main(git_dir: str, tag: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "--git-dir", git_dir, "archive", tag, "xen/include/public"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        include = os.path.join(tmp, "xen/include/public")
        if tag.startswith("RELEASE-2."):
            table = measure(include, STRUCTS_2, HEADERS_2, PROLOGUE_2)
        else:
            table = measure(include)
    cmd = " ".join(GCC + ["-I", "xen/include/public"])
    json.dump({"_source": f"xen-project/xen {tag}: xen/include/public", "_command": cmd,
               "structs": table}, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
