"""Every integer constant the model's ABI modules define, against Xen itself.

For each module-level constant (``NAME = ...``) of xenlab.xen.public and of the internal modules that
mirror Xen's headers (mm_types, shadow, timer):
- a name that Xen 3.0.0's headers define must have one of the values 3.0.0 gives it
  (tests/data/xen_3_0_0_defines.json, extracted from the RELEASE-3.0.0 tag by tools/xen_defines.py);
- else a name that Debian's libxen-dev headers define (gcc -m32) must have their value (later
  interfaces the model offers: grant copy, vcpu runstate info, the modern ring macros ...); layout
  constants (offsets and sizes the model uses to place bytes) are compared with the C expression in
  LAYOUT, enum members of the headers with ENUMS;
- else a name that only Xen 2.0.0 defines (the history chapters: BLKIF_OP_PROBE, VDISK_TYPE_*) must
  have 2.0.0's value (tests/data/xen_2_0_0_defines.json);
- else it must be listed in MODEL_ONLY below with the reason it exists.
DEVIATIONS lists the few names whose value follows another Xen version on purpose, each with why.
"""
from __future__ import annotations

import ast
import importlib
import json
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
XEN30 = json.loads((ROOT / "tests/data/xen_3_0_0_defines.json").read_text())["defines"]
XEN20 = json.loads((ROOT / "tests/data/xen_2_0_0_defines.json").read_text())["defines"]
REQUIRE_NATIVE = os.environ.get("XENLAB_REQUIRE_NATIVE") == "1"

MODULES = ["xenlab.xen.public.xen", "xenlab.xen.public.arch_x86_32", "xenlab.xen.public.dom0_ops",
           "xenlab.xen.public.errno", "xenlab.xen.public.event_channel", "xenlab.xen.public.grant_table",
           "xenlab.xen.public.memory", "xenlab.xen.public.vcpu", "xenlab.xen.public.io.blkif",
           "xenlab.xen.public.io.netif", "xenlab.xen.public.io.ring", "xenlab.xen.public.io.xs_wire",
           "xenlab.xen.mm_types", "xenlab.xen.shadow", "xenlab.xen.timer",
           "xenlab.xen.public.sched_ctl"]
HEADERS = ["xen.h", "event_channel.h", "grant_table.h", "memory.h", "vcpu.h", "sched.h", "physdev.h",
           "errno.h", "domctl.h", "sysctl.h", "version.h", "io/ring.h", "io/blkif.h", "io/netif.h",
           "io/xs_wire.h", "io/xenbus.h", "io/console.h", "arch-x86/xen.h"]


def model_constants() -> dict[str, tuple[str, int]]:
    """name -> (module, value) for every ``NAME = ...`` at module level whose value is an int."""
    out = {}
    for modname in MODULES:
        mod = importlib.import_module(modname)
        tree = ast.parse(pathlib.Path(mod.__file__).read_text())
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else []
            for t in targets:
                if isinstance(t, ast.Name) and (t.id[:1].isupper() or t.id.startswith(("__HYPERVISOR", "_PAGE"))):
                    value = getattr(mod, t.id, None)
                    if isinstance(value, int) and not isinstance(value, bool):
                        out.setdefault(t.id, (modname, value))
    return out


# The model's names for offsets and sizes in shared structures, and the C expression each stands for.
LAYOUT = {
    "ARCH_VCPU_INFO_SIZE": "sizeof(struct arch_vcpu_info)", "VCPU_INFO_SIZE": "sizeof(struct vcpu_info)",
    "FPU_CTXT_SIZE": "sizeof(((struct vcpu_guest_context *)0)->fpu_ctxt)",
    "BITS_PER_LONG": "sizeof(xen_ulong_t) * 8",
    "NR_EVENT_CHANNELS": "sizeof(((struct shared_info *)0)->evtchn_pending) * 8",
    "VI_EVTCHN_UPCALL_PENDING": "offsetof(struct vcpu_info, evtchn_upcall_pending)",
    "VI_EVTCHN_UPCALL_MASK": "offsetof(struct vcpu_info, evtchn_upcall_mask)",
    "VI_EVTCHN_PENDING_SEL": "offsetof(struct vcpu_info, evtchn_pending_sel)",
    "VI_ARCH_CR2": "offsetof(struct vcpu_info, arch.cr2)", "VI_TIME": "offsetof(struct vcpu_info, time)",
    "VTI_VERSION": "offsetof(struct vcpu_time_info, version)",
    "VTI_TSC_TIMESTAMP": "offsetof(struct vcpu_time_info, tsc_timestamp)",
    "VTI_SYSTEM_TIME": "offsetof(struct vcpu_time_info, system_time)",
    "VTI_TSC_TO_SYSTEM_MUL": "offsetof(struct vcpu_time_info, tsc_to_system_mul)",
    "VTI_TSC_SHIFT": "offsetof(struct vcpu_time_info, tsc_shift)",
    "SI_VCPU_INFO": "offsetof(struct shared_info, vcpu_info)",
    "SI_EVTCHN_PENDING": "offsetof(struct shared_info, evtchn_pending)",
    "SI_EVTCHN_MASK": "offsetof(struct shared_info, evtchn_mask)",
    "SI_WC_VERSION": "offsetof(struct shared_info, wc_version)", "SI_WC_SEC": "offsetof(struct shared_info, wc_sec)",
    "SI_WC_NSEC": "offsetof(struct shared_info, wc_nsec)", "SI_ARCH_MAX_PFN": "offsetof(struct shared_info, arch.max_pfn)",
    "SI_ARCH_PFN_TO_MFN_FRAME_LIST_LIST": "offsetof(struct shared_info, arch.pfn_to_mfn_frame_list_list)",
    "XENCONS_OFF_IN": "offsetof(struct xencons_interface, in)",
    "XENCONS_OFF_OUT": "offsetof(struct xencons_interface, out)",
    "XENCONS_OFF_IN_CONS": "offsetof(struct xencons_interface, in_cons)",
    "XENCONS_OFF_IN_PROD": "offsetof(struct xencons_interface, in_prod)",
    "XENCONS_OFF_OUT_CONS": "offsetof(struct xencons_interface, out_cons)",
    "XENCONS_OFF_OUT_PROD": "offsetof(struct xencons_interface, out_prod)",
    "XENCONS_IN_SIZE": "sizeof(((struct xencons_interface *)0)->in)",
    "XENCONS_OUT_SIZE": "sizeof(((struct xencons_interface *)0)->out)",
    "GRANT_ENTRY_SIZE": "sizeof(struct grant_entry_v1)",
    "SRING_HEADER_SIZE": "offsetof(struct blkif_sring, ring)",
    "BLKIF_RING_SIZE": "__CONST_RING_SIZE(blkif, 4096)",
    "NET_TX_RING_SIZE": "__CONST_RING_SIZE(netif_tx, 4096)", "NET_RX_RING_SIZE": "__CONST_RING_SIZE(netif_rx, 4096)",
}
# Enum members (no #define to test with #ifdef): the probe names them unconditionally, so a missing one
# fails to compile.
ENUMS = ["XS_CONTROL", "XS_DIRECTORY", "XS_READ", "XS_GET_PERMS", "XS_WATCH", "XS_UNWATCH",
         "XS_TRANSACTION_START", "XS_TRANSACTION_END", "XS_INTRODUCE", "XS_RELEASE", "XS_GET_DOMAIN_PATH",
         "XS_WRITE", "XS_MKDIR", "XS_RM", "XS_SET_PERMS", "XS_WATCH_EVENT", "XS_ERROR", "XS_IS_DOMAIN_INTRODUCED",
         "XS_RESUME", "XS_SET_TARGET", "XS_RESET_WATCHES", "XS_DIRECTORY_PART", "XS_TYPE_COUNT", "XS_INVALID",
         "XS_WATCH_PATH", "XS_WATCH_TOKEN"]


def modern_values(names) -> dict[str, int]:
    """Compile a probe against /usr/include/xen (i386) and read back every name it defines."""
    if shutil.which("gcc") is None or not pathlib.Path("/usr/include/xen/xen.h").exists():
        if REQUIRE_NATIVE:
            pytest.fail("gcc or /usr/include/xen missing (apt-get install libxen-dev gcc-multilib)")
        pytest.skip("needs gcc -m32 and libxen-dev (XENLAB_REQUIRE_NATIVE=1 makes this a failure)")
    lines = ["#define __XEN_INTERFACE_VERSION__ 0x00040e00", "#define __XEN_TOOLS__ 1",
             "#include <stdio.h>", "#include <stdint.h>"] + [f"#include <xen/{h}>" for h in HEADERS]
    lines = lines[:2] + ["#include <stddef.h>"] + lines[2:]
    lines.append("int main(void) {")
    for n in sorted(set(names) & set(LAYOUT)):
        lines.append(f'  printf("{n} %lld\\n", (long long)({LAYOUT[n]}));')
    for n in sorted(set(names) & set(ENUMS)):
        lines.append(f'  printf("{n} %lld\\n", (long long)({n}));')
    for n in sorted(set(names) - set(LAYOUT) - set(ENUMS)):
        c = "XEN_" + n if n.startswith("E") and n.isupper() and len(n) < 12 else n
        lines += [f"#ifdef {c}", f'  printf("{n} %lld\\n", (long long)({c}));', "#endif"]
    lines.append("return 0; }")
    tmp = pathlib.Path(os.environ.get("PYTEST_TMP", "/tmp")) / f"xenlab_consts_{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    (tmp / "p.c").write_text("\n".join(lines))
    subprocess.run(["gcc", "-m32", "-w", "-o", str(tmp / "p"), str(tmp / "p.c")], check=True)
    out = subprocess.run([str(tmp / "p")], check=True, capture_output=True, text=True).stdout
    return {n: int(v) for n, v in (line.split() for line in out.splitlines())}


# Names the model defines that neither Xen 3.0.0's headers nor libxen-dev's define, and why.
MODEL_ONLY = {
    "XEN_VERSION_MAJOR": "the version the model reports (3.0); xen_version() returns it as major << 16 | minor",
    "XEN_VERSION_MINOR": "see XEN_VERSION_MAJOR",
    "TRAP_INSTR": "3.0.0 defines it as the string \"int $0x82\"; the model keeps the vector",
    "TI_DPL_MASK": "the bits TI_GET_DPL reads (arch-x86_32.h's macro body: flags & 3)",
    "TI_IF_BIT": "the bit TI_GET_IF reads (arch-x86_32.h's macro body: flags & 4)",
    "INVALID_P2M_ENTRY": "XenLinux's name (include/asm-xen/asm-i386/page.h: ~0UL) for a ballooned pfn",
    "M2P_INVALID": "INVALID_M2P_ENTRY (~0UL in 3.0.0's asm-x86/mm.h) under a shorter name",
    "LTAB_SHIFT": "the shift of DOM0_GETPAGEFRAMEINFO's L1TAB..L4TAB (they are n << 28)",
    "RING_IDX_MASK": "RING_IDX is a uint32_t: the model masks its counters with this",
    "DOM0_OP_PAD": "dom0_ops.h's uint8_t pad[128] in dom0_op_t's union (tests/xen/test_struct_layouts.py)",
    "SECTOR_SIZE": "blkif's 512-byte sectors (blkif.h: 'sector_number: 512-byte units')",
    "SECTORS_PER_PAGE": "4096 / 512: the most a blkif segment covers",
    "PGT_TYPE_KEY": "PGT_type_mask | PGT_pae_xen_l2: the part of type_info two typed references must agree on",
    "PGT_pae_xen_l2": "3.0.4's marker (asm-x86/mm.h) for the PAE L2 that holds Xen's slots (3.0.0 had none)",
    "_PAGE_NX_FLAG": "the NX bit's position in the high word of a PAE entry (1 << 63 is (1 << 23) << 32)",
    "TIMER_SOFTIRQ": "the later name of 3.0.0's AC_TIMER_SOFTIRQ, kept as an alias",
    "STIME_MAX": "s_time_t is a signed 64-bit ns count; its largest value (xen/time.h: ((s_time_t)((uint64_t)~0ULL>>1)))",
    "PRIO_TICK": "the model's tie-break between timers due at the same ns (Xen has none: it runs them in heap order)",
    "PRIO_SCHED": "see PRIO_TICK", "PRIO_GUEST": "see PRIO_TICK", "PRIO_DEFAULT": "see PRIO_TICK",
    "NR_GRANT_ENTRIES": "(NR_GRANT_FRAMES << PAGE_SHIFT) / sizeof(grant_entry_t) in 3.0.0's xen/grant_table.h",
    "DOM0_XENLAB_BUILDDOMAIN": "the model's one domain-builder call (its guest kernels are Python, not images)",
}

# Names whose value deliberately follows a version other than 3.0.0 (name -> why).
DEVIATIONS = {
}


def test_every_constant_is_xens_or_explained():
    consts = model_constants()
    assert len(consts) > 250                       # the table really covers the ABI modules
    modern = modern_values(consts)
    wrong, unexplained = [], []
    for name, (mod, value) in sorted(consts.items()):
        if name in DEVIATIONS:
            continue
        if name in XEN30:
            alternatives = [v for v, _ in XEN30[name]]
            if value not in alternatives and value & 0xFFFFFFFF not in alternatives:
                wrong.append(f"{mod}.{name} = {value:#x}; 3.0.0 says {[hex(v) for v in alternatives]} "
                             f"({XEN30[name][0][1]})")
        elif name in modern or name in LAYOUT or name in ENUMS:
            if name not in modern:
                wrong.append(f"{mod}.{name}: the probe did not print it")
                continue
            if value != modern[name] and value & 0xFFFFFFFF != modern[name] & 0xFFFFFFFF:
                wrong.append(f"{mod}.{name} = {value:#x}; libxen-dev says {modern[name]:#x}")
        elif name in XEN20:
            alternatives = [v for v, _ in XEN20[name]]
            if value not in alternatives:
                wrong.append(f"{mod}.{name} = {value:#x}; 2.0.0 says {[hex(v) for v in alternatives]}")
        elif name not in MODEL_ONLY:
            unexplained.append(f"{mod}.{name} = {value}")
    assert not wrong, "constants that differ from Xen:\n" + "\n".join(wrong)
    assert not unexplained, "constants Xen does not define (add to MODEL_ONLY with a reason):\n" + \
        "\n".join(unexplained)


def test_grant_entries_as_3_0_0_computes_them():
    # (NR_GRANT_FRAMES << PAGE_SHIFT) / sizeof(grant_entry_t): 4 frames of 8-byte entries.
    from xenlab.xen.public import grant_table as G
    assert G.NR_GRANT_ENTRIES == (XEN30["NR_GRANT_FRAMES"][0][0] << 12) // 8 == 2048
