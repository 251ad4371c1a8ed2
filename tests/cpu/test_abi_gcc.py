"""The shared_info / vcpu_info / vcpu_time_info layout the model writes, against Xen's headers (gcc -m32).

A small C program is compiled against Debian's libxen-dev headers (/usr/include/xen) for the x86_32
guest ABI and prints sizes and offsets; they must equal the constants in xenlab/xen/public/xen.py
that the model uses to place bytes in the shared_info frame. The 3.0 x86_32 layout is what the
modern headers give for i386 (vcpu_info is 64 bytes, the time record 32, 32 legacy vcpus, 32-bit
longs), so the modern interface version is used; only arch_shared_info grew after 3.0, and the
model uses just its first two fields.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

from xenlab.xen.public import arch_x86_32 as A
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public import xen as X

XEN_INC = pathlib.Path("/usr/include/xen")
REQUIRE_NATIVE = os.environ.get("XENLAB_REQUIRE_NATIVE") == "1"

# (C expression, the model's value)
EXPECTED = {
    "sizeof(struct vcpu_time_info)": 32,
    "offsetof(struct vcpu_time_info, version)": X.VTI_VERSION,
    "offsetof(struct vcpu_time_info, tsc_timestamp)": X.VTI_TSC_TIMESTAMP,
    "offsetof(struct vcpu_time_info, system_time)": X.VTI_SYSTEM_TIME,
    "offsetof(struct vcpu_time_info, tsc_to_system_mul)": X.VTI_TSC_TO_SYSTEM_MUL,
    "offsetof(struct vcpu_time_info, tsc_shift)": X.VTI_TSC_SHIFT,
    "sizeof(struct vcpu_info)": X.VCPU_INFO_SIZE,
    "offsetof(struct vcpu_info, evtchn_upcall_pending)": X.VI_EVTCHN_UPCALL_PENDING,
    "offsetof(struct vcpu_info, evtchn_upcall_mask)": X.VI_EVTCHN_UPCALL_MASK,
    "offsetof(struct vcpu_info, evtchn_pending_sel)": X.VI_EVTCHN_PENDING_SEL,
    "offsetof(struct vcpu_info, arch)": X.VI_ARCH_CR2,
    "offsetof(struct vcpu_info, arch.cr2)": X.VI_ARCH_CR2,
    "sizeof(struct arch_vcpu_info)": A.ARCH_VCPU_INFO_SIZE,
    "offsetof(struct vcpu_info, time)": X.VI_TIME,
    "XEN_LEGACY_MAX_VCPUS": X.MAX_VIRT_CPUS,
    "sizeof(xen_ulong_t) * 8": X.BITS_PER_LONG,
    "offsetof(struct shared_info, vcpu_info)": X.SI_VCPU_INFO,
    "offsetof(struct shared_info, evtchn_pending)": X.SI_EVTCHN_PENDING,
    "offsetof(struct shared_info, evtchn_mask)": X.SI_EVTCHN_MASK,
    "sizeof(((struct shared_info *)0)->evtchn_pending) * 8": X.NR_EVENT_CHANNELS,
    "offsetof(struct shared_info, wc_version)": X.SI_WC_VERSION,
    "offsetof(struct shared_info, wc_sec)": X.SI_WC_SEC,
    "offsetof(struct shared_info, wc_nsec)": X.SI_WC_NSEC,
    "offsetof(struct shared_info, arch.max_pfn)": X.SI_ARCH_MAX_PFN,
    "offsetof(struct shared_info, arch.pfn_to_mfn_frame_list_list)": X.SI_ARCH_PFN_TO_MFN_FRAME_LIST_LIST,
    "sizeof(struct trap_info)": 8,
    "offsetof(struct trap_info, vector)": 0,
    "offsetof(struct trap_info, flags)": 1,
    "offsetof(struct trap_info, cs)": 2,
    "offsetof(struct trap_info, address)": 4,
    "FLAT_RING1_CS": A.FLAT_RING1_CS, "FLAT_RING1_DS": A.FLAT_RING1_DS, "FLAT_RING3_CS": A.FLAT_RING3_CS,
    "FLAT_RING3_DS": A.FLAT_RING3_DS, "FLAT_KERNEL_CS": A.FLAT_KERNEL_CS, "FLAT_USER_CS": A.FLAT_USER_CS,
    "__HYPERVISOR_set_trap_table": X.__HYPERVISOR_set_trap_table,
    "__HYPERVISOR_stack_switch": X.__HYPERVISOR_stack_switch,
    "__HYPERVISOR_set_callbacks": X.__HYPERVISOR_set_callbacks,
    "__HYPERVISOR_fpu_taskswitch": X.__HYPERVISOR_fpu_taskswitch,
    "__HYPERVISOR_set_timer_op": X.__HYPERVISOR_set_timer_op,
    "__HYPERVISOR_event_channel_op_compat": X.__HYPERVISOR_event_channel_op,
    "VIRQ_TIMER": X.VIRQ_TIMER, "VIRQ_DEBUG": X.VIRQ_DEBUG, "VIRQ_CONSOLE": X.VIRQ_CONSOLE,
    "VIRQ_DOM_EXC": X.VIRQ_DOM_EXC, "VIRQ_DEBUGGER": X.VIRQ_DEBUGGER,
    "DOMID_SELF": X.DOMID_SELF,
    **{n: getattr(ev, n) for n in dir(ev) if n.startswith(("EVTCHNOP_", "EVTCHNSTAT_"))},
    "BIND_PIRQ__WILL_SHARE": ev.BIND_PIRQ__WILL_SHARE,
    "sizeof(struct evtchn_alloc_unbound)": 8, "offsetof(struct evtchn_alloc_unbound, port)": 4,
    "sizeof(struct evtchn_bind_interdomain)": 12, "offsetof(struct evtchn_bind_interdomain, local_port)": 8,
    "sizeof(struct evtchn_bind_virq)": 12, "sizeof(struct evtchn_status)": 24,
}


def _c_program() -> str:
    lines = ["#define __XEN_INTERFACE_VERSION__ 0x00040e00",
             "#define XEN_HAVE_PV_UPCALL_MASK 1",   # x86 keeps evtchn_upcall_mask (pad0 on ARM)
             "#include <stddef.h>", "#include <stdio.h>", "#include <stdint.h>",
             "#include <xen/xen.h>", "#include <xen/event_channel.h>", "int main(void) {"]
    for i, expr in enumerate(EXPECTED):
        lines.append(f'  printf("%d %lld\\n", {i}, (long long)({expr}));')
    lines.append("  return 0; }")
    return "\n".join(lines) + "\n"


def _need(why: str):
    if REQUIRE_NATIVE:
        pytest.fail(f"{why} (XENLAB_REQUIRE_NATIVE=1 forbids skipping)")
    pytest.skip(why)


@pytest.fixture(scope="module")
def c_values(tmp_path_factory):
    if shutil.which("gcc") is None or not (XEN_INC / "xen.h").exists() or not (XEN_INC / "event_channel.h").exists():
        _need("gcc or Xen's public headers are missing: `apt-get install gcc libxen-dev`")
    tmp = tmp_path_factory.mktemp("abi32")
    src, exe = tmp / "abi.c", tmp / "abi32"
    src.write_text(_c_program())
    proc = subprocess.run(["gcc", "-m32", "-std=gnu11", "-Wall", "-o", str(exe), str(src)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        if "gnu/stubs-32.h" in proc.stderr or "cannot find" in proc.stderr or "crt" in proc.stderr:
            _need(f"cannot build for -m32 (`apt-get install gcc-multilib`):\n{proc.stderr}")
        pytest.fail(f"the layout program does not compile:\n{proc.stderr}")
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    keys = list(EXPECTED)
    return {keys[int(i)]: int(v) for i, v in (line.split() for line in out.splitlines())}


@pytest.mark.parametrize("expr", list(EXPECTED))
def test_layout_matches_xen_headers(c_values, expr):
    assert EXPECTED[expr] == c_values[expr], f"{expr}: model {EXPECTED[expr]}, Xen's headers {c_values[expr]}"


def test_shared_info_fits_a_page(c_values):
    assert c_values["offsetof(struct shared_info, arch.max_pfn)"] + 8 <= 4096
