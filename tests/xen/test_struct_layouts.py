"""Every C struct the model describes, against Xen's own headers, member by member and byte for byte.

Oracles:
- tests/data/xen_3_0_0_layouts.json: sizeof and, per member, offsetof/sizeof that gcc -m32 measured in
  RELEASE-3.0.0's xen/include/public (made by tools/xen_layouts.py; the command is in the file).
- tests/data/xen_2_0_0_layouts.json: the same for the one Xen 2.0 struct the model keeps (vdisk_t).
- Debian's libxen-dev headers (/usr/include/xen), compiled here with gcc -m32 for the structs that
  3.0.0 lacks (3.0.2's runstate and sched_op structs) and for those unchanged since, plus a C program
  that fills a few structs with sample values and dumps their bytes, compared with the model's pack().
The libxen-dev part is skipped without gcc-multilib/libxen-dev unless XENLAB_REQUIRE_NATIVE=1.
"""
from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from xenlab.xen.public import arch_x86_32 as A
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import event_channel as E
from xenlab.xen.public import grant_table as G
from xenlab.xen.public import vcpu as V
from xenlab.xen.public import xen as X
from xenlab.xen.public.cstruct import all_layouts
from xenlab.xen.public.io import ring as R
from xenlab.xen.public.io import xs_wire as XS
from xenlab.xen.public.memory import mmu_update_t

ROOT = pathlib.Path(__file__).resolve().parents[2]
TABLE = json.loads((ROOT / "tests/data/xen_3_0_0_layouts.json").read_text())
C300 = TABLE["structs"]
C200 = json.loads((ROOT / "tests/data/xen_2_0_0_layouts.json").read_text())["structs"]
DEFINES_300 = json.loads((ROOT / "tests/data/xen_3_0_0_defines.json").read_text())["defines"]
LAYOUTS = all_layouts()
REQUIRE_NATIVE = os.environ.get("XENLAB_REQUIRE_NATIVE") == "1"
XEN_INC = pathlib.Path("/usr/include/xen")

# Structs the model describes that RELEASE-3.0.0 does not have, and why.  "libxen-dev" ones are
# compiled against the modern headers below (MODERN) or in tests/io/test_blkif_netif_layout.py.
NOT_IN_300 = {
    "evtchn_unmask": "EVTCHNOP_unmask came with 3.0.2 (libxen-dev, MODERN)",
    "sched_shutdown": "3.0.2's sched.h; 3.0.0's SCHEDOP_shutdown takes the reason itself (libxen-dev, MODERN)",
    "sched_poll": "SCHEDOP_poll came with 3.0.2 (libxen-dev, MODERN)",
    "vcpu_runstate_info": "VCPUOP_get_runstate_info came with 3.0.2 (libxen-dev, MODERN)",
    "gnttab_copy_ptr": "GNTTABOP_copy came with 3.1 (libxen-dev, tests/io/test_blkif_netif_layout.py)",
    "gnttab_copy": "GNTTABOP_copy came with 3.1 (libxen-dev, tests/io/test_blkif_netif_layout.py)",
    "gnttab_query_size": "GNTTABOP_query_size came with 3.1 (libxen-dev, tests/io/test_blkif_netif_layout.py)",
    "vdisk_t": "Xen 2.0's blkif PROBE reply, gone in 3.0 (2.0.0's layout, xen_2_0_0_layouts.json)",
}
# Members the model describes that 3.0.0's struct lacks.
EXTRA_MEMBERS = {
    ("xenstore_domain_interface", "server_features"): "Xen 4.x addition (libxen-dev, MODERN)",
    ("xenstore_domain_interface", "connection"): "Xen 4.x addition (libxen-dev, MODERN)",
    ("xenstore_domain_interface", "error"): "Xen 4.x addition (libxen-dev, MODERN)",
    ("netif_rx_request", "pad"): "explicit padding: C leaves the same two bytes unnamed (checked below)",
}
# 3.0.0 members the model does not describe.
_DOM0_UNMODELLED = ("msr", "tbufcontrol", "add_memtype", "del_memtype", "read_memtype", "perfccontrol",
                    "microcode", "ioport_permission", "platform_quirk", "physical_memory_map",
                    "setdomainhandle")
MISSING_MEMBERS = {
    **{("dom0_op", f"u.{m}"): "a dom0_op the model does not implement" for m in _DOM0_UNMODELLED},
    ("sring_header", "ring"): "the entries: io/ring.py places them at SRING_HEADER_SIZE (checked below)",
}
# Total size differs from 3.0.0 on purpose.
SIZE_DIFFERS = {
    "xenstore_domain_interface": "three Xen 4.x words at the end (size checked against libxen-dev)",
    "sring_header": "the header only: its size is 3.0.0's offsetof(ring) (checked below)",
}


def test_every_layout_is_compared():
    """A struct the model describes is in the 3.0.0 table or in NOT_IN_300 with a reason."""
    unlisted = sorted(set(LAYOUTS) - set(C300) - set(NOT_IN_300))
    assert not unlisted, f"layouts compared with nothing (add to tools/xen_layouts.py or NOT_IN_300): {unlisted}"
    stale = sorted((set(NOT_IN_300) & set(C300)) | (set(NOT_IN_300) - set(LAYOUTS)))
    assert not stale, f"NOT_IN_300 entries that are in 3.0.0 or not in the model: {stale}"
    for name, why in NOT_IN_300.items():
        if "MODERN" in why:
            assert name in MODERN, name
        if "2.0.0" in why:
            assert name in C200, name
    assert len(LAYOUTS) >= 70


# Dataclasses of xenlab.xen.public without a C layout, and why.
NO_LAYOUT = {
    "dom0_ops.dom0_builddomain": "the model's own DOM0_XENLAB_BUILDDOMAIN, not Xen's",
    "io.ring.RingRegions": "a view of a ring for the course, not an ABI struct",
    "xen.xen_extraversion_t": "char[16] in C, not a struct (its size is checked by the constants test)",
    "xen.xen_capabilities_info_t": "char[1024] in C, not a struct",
    "io.xs_wire.XsError": "an XS_ERROR reply's payload (the errno's name as a string), not a C struct",
    "hvm.ioreq.ioreq": "the model keeps the ioreq page as records, not bytes; 3.0.0's ioreq_t has bitfields "
                       "(state:4, pdata_valid:1, dir:1, df:1) that offsetof cannot measure (module docstring)",
}
# Dataclass fields that are not C members (the C member they stand for).
PY_ONLY_FIELDS = {
    ("mmuext_op_t", "mfn"): "arg1", ("mmuext_op_t", "linear_addr"): "arg1",
    ("mmuext_op_t", "nr_ents"): "arg2", ("mmuext_op_t", "vcpumask"): "arg2",
    ("dom0_adjustdom", "params"): "u", ("dom0_schedctl", "params"): "u",
}


def _public_dataclasses():
    import dataclasses
    import importlib
    import pkgutil

    from xenlab.xen import public
    for info in pkgutil.walk_packages(public.__path__, public.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == info.name:
                yield info.name[len(public.__name__) + 1:] + "." + name, value


def test_every_abi_dataclass_has_a_layout():
    """A new argument struct cannot escape the comparison: it needs a LAYOUT (or a reason here), and
    its fields must be the layout's members (or stand for one, as the union arms of mmuext_op do)."""
    import dataclasses
    seen = set()
    for qual, cls in _public_dataclasses():
        seen.add(qual)
        if qual in NO_LAYOUT:
            assert getattr(cls, "LAYOUT", None) is None, qual
            continue
        assert getattr(cls, "LAYOUT", None) is not None, f"{qual} has no C layout"
        members = {m[0] for m in cls.LAYOUT.members}
        for f in dataclasses.fields(cls):
            if f.name not in members:
                assert PY_ONLY_FIELDS.get((cls.__name__, f.name)) in members, f"{qual}.{f.name} is not a C member"
    assert set(NO_LAYOUT) <= seen


def test_every_300_struct_is_described():
    """The tool measures only structs the model describes: nothing in the table is left unchecked."""
    assert sorted(set(C300) - set(LAYOUTS)) == []


@pytest.mark.parametrize("name", sorted(set(LAYOUTS) & set(C300)))
def test_layout_matches_xen_300(name):
    layout, c = LAYOUTS[name], C300[name]
    model = layout.member_table("x86_32")
    if name not in SIZE_DIFFERS:
        assert layout.sizeof("x86_32") == c["sizeof"], f"sizeof({c['ctype']})"
    for path, (off, size) in model.items():
        if (name, path) in EXTRA_MEMBERS:
            continue
        assert path in c["members"], f"{name}.{path} is not a member of 3.0.0's {c['ctype']}"
        assert [off, size] == c["members"][path], f"{name}.{path}: model (offset, size) {off, size}, 3.0.0 {c['members'][path]}"
    missing = sorted(p for p in c["members"] if p not in model and (name, p) not in MISSING_MEMBERS)
    assert not missing, f"3.0.0's {c['ctype']} members the model does not describe: {missing}"


@pytest.mark.parametrize("name", sorted(C200))
def test_layout_matches_xen_200(name):
    """The Xen 2.0 structs the history chapters keep, against RELEASE-2.0.0's headers (gcc -m32)."""
    layout, c = LAYOUTS[name], C200[name]
    assert layout.sizeof("x86_32") == c["sizeof"]
    assert {p: list(v) for p, v in layout.member_table("x86_32").items()} == c["members"]


def test_allow_lists_are_live():
    for (name, path) in EXTRA_MEMBERS:
        assert path in LAYOUTS[name].member_table() and path not in C300[name]["members"], (name, path)
    for (name, path) in MISSING_MEMBERS:
        assert path in C300[name]["members"] and path not in LAYOUTS[name].member_table(), (name, path)


def test_explicit_padding_is_padding_in_c():
    """netif_rx_request's ``pad`` names bytes no C member covers."""
    off, size = LAYOUTS["netif_rx_request"].member_table()["pad"]
    covered = {b for o, s in C300["netif_rx_request"]["members"].values() for b in range(o, o + s)}
    assert not covered & set(range(off, off + size))


def test_dom0_op_and_its_union():
    """dom0_op_t is 136 bytes (cmd, interface_version, a 128-byte union); every argument struct the model
    implements fits in the pad, and the interface version is 3.0.0's."""
    op = LAYOUTS["dom0_op"]
    assert op.sizeof() == C300["dom0_op"]["sizeof"] == 136
    assert C300["dom0_op"]["members"]["u.pad"] == [8, D.DOM0_OP_PAD]
    union = op.members[2][1]
    for name, ctype, _ in union.members:
        assert union.member_size(name) <= D.DOM0_OP_PAD, name
    assert D.DOM0_INTERFACE_VERSION == DEFINES_300["DOM0_INTERFACE_VERSION"][0][0]


def test_constants_follow_the_layouts():
    """The hand-named offsets the model packs shared pages with agree with 3.0.0's structs."""
    m = {k: v["members"] for k, v in C300.items()}
    assert (X.VI_EVTCHN_UPCALL_MASK, X.VI_EVTCHN_PENDING_SEL, X.VI_ARCH_CR2, X.VI_TIME) == tuple(
        m["vcpu_info"][f][0] for f in ("evtchn_upcall_mask", "evtchn_pending_sel", "arch", "time"))
    assert X.VCPU_INFO_SIZE == C300["vcpu_info"]["sizeof"]
    assert A.ARCH_VCPU_INFO_SIZE == C300["arch_vcpu_info"]["sizeof"]
    assert (X.VTI_VERSION, X.VTI_TSC_TIMESTAMP, X.VTI_SYSTEM_TIME, X.VTI_TSC_TO_SYSTEM_MUL, X.VTI_TSC_SHIFT) == tuple(
        m["vcpu_time_info"][f][0] for f in ("version", "tsc_timestamp", "system_time", "tsc_to_system_mul",
                                             "tsc_shift"))
    si = m["shared_info"]
    arch = m["arch_shared_info"]
    assert (X.SI_EVTCHN_PENDING, X.SI_EVTCHN_MASK, X.SI_WC_VERSION, X.SI_WC_SEC, X.SI_WC_NSEC) == tuple(
        si[f][0] for f in ("evtchn_pending", "evtchn_mask", "wc_version", "wc_sec", "wc_nsec"))
    assert X.SI_ARCH_MAX_PFN == si["arch"][0] + arch["max_pfn"][0]
    assert X.SI_ARCH_PFN_TO_MFN_FRAME_LIST_LIST == si["arch"][0] + arch["pfn_to_mfn_frame_list_list"][0]
    assert si["evtchn_pending"][1] * 8 == X.NR_EVENT_CHANNELS
    assert [(n, o, s) for n, o, s in X.START_INFO_LAYOUT_X86_32] == [
        (n, *m["start_info"][n]) for n, _, _ in X.START_INFO_LAYOUT_X86_32]
    cons = m["xencons_interface"]
    assert (X.XENCONS_OFF_IN, X.XENCONS_OFF_OUT, X.XENCONS_OFF_IN_CONS, X.XENCONS_OFF_IN_PROD,
            X.XENCONS_OFF_OUT_CONS, X.XENCONS_OFF_OUT_PROD) == tuple(
        cons[f][0] for f in ("in", "out", "in_cons", "in_prod", "out_cons", "out_prod"))
    assert (X.XENCONS_IN_SIZE, X.XENCONS_OUT_SIZE) == (cons["in"][1], cons["out"][1])
    xs = m["xenstore_domain_interface"]
    assert (XS.XS_IFACE_REQ, XS.XS_IFACE_RSP, XS.XS_IFACE_REQ_CONS, XS.XS_IFACE_REQ_PROD, XS.XS_IFACE_RSP_CONS,
            XS.XS_IFACE_RSP_PROD) == tuple(xs[f][0] for f in ("req", "rsp", "req_cons", "req_prod", "rsp_cons",
                                                               "rsp_prod"))
    assert XS.XENSTORE_RING_SIZE == xs["req"][1]
    assert XS.XsdSockmsg.SIZE == C300["xsd_sockmsg"]["sizeof"]
    ring = m["sring_header"]
    assert R.SRING_HEADER_SIZE == ring["ring"][0] == LAYOUTS["sring_header"].sizeof()
    assert (R.OFF_REQ_PROD, R.OFF_REQ_EVENT, R.OFF_RSP_PROD, R.OFF_RSP_EVENT) == tuple(
        ring[f][0] for f in ("req_prod", "req_event", "rsp_prod", "rsp_event"))
    assert G.GRANT_ENTRY_SIZE == C300["grant_entry_v1"]["sizeof"]
    assert V.FPU_CTXT_SIZE == m["vcpu_guest_context"]["fpu_ctxt"][1]
    assert X.MAX_VIRT_CPUS * X.VCPU_INFO_SIZE == si["vcpu_info"][1]


# --- libxen-dev (modern headers), gcc -m32 --------------------------------------------------------
# name -> (C type in the modern headers, total size unchanged since 3.0?, {model member: its modern
# designator, or None: not compared})
MODERN = {
    "mmu_update": ("mmu_update_t", True, {}),
    "mmuext_op": ("struct mmuext_op", True, {}),
    "multicall_entry": ("multicall_entry_t", True, {}),
    "trap_info": ("struct trap_info", True, {}),
    "cpu_user_regs": ("struct cpu_user_regs", True, {}),
    "vcpu_guest_context": ("struct vcpu_guest_context", True, {}),
    # 4.x took the first byte of 3.0's pad1[3] for ``flags`` (XEN_PVCLOCK_TSC_STABLE_BIT).
    "vcpu_time_info": ("struct vcpu_time_info", True, {"pad1": None}),
    "vcpu_info": ("struct vcpu_info", True, {}),
    "arch_vcpu_info": ("struct arch_vcpu_info", True, {}),
    # 4.x appends first_p2m_pfn, nr_p2m_frames and puts the console in a domU/dom0 union (3.0.2).
    "start_info": ("start_info_t", False, {"console_mfn": "console.domU.mfn",
                                           "console_evtchn": "console.domU.evtchn"}),
    "xen_memory_reservation": ("struct xen_memory_reservation", True, {"address_bits": "mem_flags"}),
    "evtchn_alloc_unbound": ("struct evtchn_alloc_unbound", True, {}),
    "evtchn_bind_interdomain": ("struct evtchn_bind_interdomain", True, {}),
    "evtchn_bind_virq": ("struct evtchn_bind_virq", True, {}),
    "evtchn_bind_pirq": ("struct evtchn_bind_pirq", True, {}),
    "evtchn_bind_ipi": ("struct evtchn_bind_ipi", True, {}),
    "evtchn_close": ("struct evtchn_close", True, {}),
    "evtchn_send": ("struct evtchn_send", True, {}),
    "evtchn_status": ("struct evtchn_status", True, {}),
    "evtchn_bind_vcpu": ("struct evtchn_bind_vcpu", True, {}),
    "evtchn_unmask": ("struct evtchn_unmask", True, {}),
    "evtchn_op": ("struct evtchn_op", True, {}),
    "sched_shutdown": ("struct sched_shutdown", True, {}),
    "sched_poll": ("struct sched_poll", True, {}),
    "vcpu_runstate_info": ("struct vcpu_runstate_info", True, {}),
    "xencons_interface": ("struct xencons_interface", True, {}),
    "xenstore_domain_interface": ("struct xenstore_domain_interface", True, {}),
    "xsd_sockmsg": ("struct xsd_sockmsg", True, {}),
}
MODERN_HEADERS = ("xen.h", "memory.h", "event_channel.h", "sched.h", "vcpu.h", "io/console.h", "io/xs_wire.h")
MODERN_PROLOGUE = "#define __XEN_INTERFACE_VERSION__ 0x00040e00\n#define XEN_HAVE_PV_UPCALL_MASK 1"


def _need(why: str):
    if REQUIRE_NATIVE:
        pytest.fail(f"{why} (XENLAB_REQUIRE_NATIVE=1 forbids skipping)")
    pytest.skip(why)


def _tool():
    spec = importlib.util.spec_from_file_location("xen_layouts", ROOT / "tools/xen_layouts.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _members(name: str) -> dict:
    """{modern C designator: the model's (offset, size)}."""
    rename = MODERN[name][2]
    return {rename.get(p, p): v for p, v in LAYOUTS[name].member_table("x86_32").items()
            if rename.get(p, p) is not None}


@pytest.fixture(scope="module")
def modern():
    if shutil.which("gcc") is None or not (XEN_INC / "xen.h").exists():
        _need("gcc or Xen's public headers are missing: `apt-get install gcc libxen-dev`")
    structs = {n: (ctype, sorted(_members(n))) for n, (ctype, _, _) in MODERN.items()}
    try:
        # -I /usr/include, not /usr/include/xen: xen/features.h would hide glibc's <features.h>.
        return _tool().measure(str(XEN_INC.parent), structs, [f"xen/{h}" for h in MODERN_HEADERS],
                               MODERN_PROLOGUE)
    except subprocess.CalledProcessError as exc:
        if "stubs-32.h" in exc.stderr or "cannot find" in exc.stderr:
            _need(f"cannot build for -m32 (`apt-get install gcc-multilib`):\n{exc.stderr}")
        raise AssertionError(f"the layout probe does not compile against libxen-dev:\n{exc.stderr}") from exc


@pytest.mark.parametrize("name", sorted(MODERN))
def test_layout_matches_libxen_dev(modern, name):
    c = modern[name]
    if MODERN[name][1]:
        assert LAYOUTS[name].sizeof("x86_32") == c["sizeof"], f"sizeof({c['ctype']})"
    for path, (off, size) in _members(name).items():
        assert [off, size] == c["members"][path], f"{name}.{path}: model {off, size}, libxen-dev {c['members'][path]}"


# --- byte for byte ---------------------------------------------------------------------------------
_FILL = r"""
#include <string.h>
static void dump(const char *name, const void *p, size_t n) {
    const unsigned char *b = p; size_t i;
    printf("%s ", name);
    for (i = 0; i < n; i++) printf("%02x", b[i]);
    printf("\n");
}
int main(void) {
    { struct trap_info t; memset(&t, 0, sizeof t);
      t.vector = 14; t.flags = 5; t.cs = 0xe019; t.address = 0xc0101234; dump("trap_info", &t, sizeof t); }
    { mmu_update_t u; memset(&u, 0, sizeof u);
      u.ptr = 0x12345678abcd0001ULL; u.val = 0xfeedface00000067ULL; dump("mmu_update", &u, sizeof u); }
    { struct evtchn_bind_interdomain e; memset(&e, 0, sizeof e);
      e.remote_dom = 7; e.remote_port = 0x1234; e.local_port = 0x55; dump("evtchn_bind_interdomain", &e, sizeof e); }
    { struct vcpu_runstate_info r; memset(&r, 0, sizeof r);
      r.state = 2; r.state_entry_time = 0x1122334455667788ULL; r.time[0] = 1; r.time[1] = 2; r.time[2] = 3;
      r.time[3] = 0x99aabbccddeeff00ULL; dump("vcpu_runstate_info", &r, sizeof r); }
    { multicall_entry_t m; int i; memset(&m, 0, sizeof m);
      m.op = 26; m.result = (unsigned long)-14; for (i = 0; i < 6; i++) m.args[i] = 0x100 + i;
      dump("multicall_entry", &m, sizeof m); }
    { start_info_t s; memset(&s, 0, sizeof s);
      strcpy(s.magic, "xen-3.0-x86_32"); s.nr_pages = 2048; s.shared_info = 0x7f000; s.flags = 3;
      s.store_mfn = 0x1234; s.store_evtchn = 1; s.console.domU.mfn = 0x1235; s.console.domU.evtchn = 2;
      s.pt_base = 0xc0400000; s.nr_pt_frames = 4; s.mfn_list = 0xc0300000; s.mod_start = 0; s.mod_len = 0;
      strcpy((char *)s.cmd_line, "root=/dev/xvda1 ro"); dump("start_info", &s, 1104); }
    { struct xsd_sockmsg x; memset(&x, 0, sizeof x);
      x.type = 2; x.req_id = 7; x.tx_id = 0; x.len = 12; dump("xsd_sockmsg", &x, sizeof x); }
    { struct cpu_user_regs c; memset(&c, 0, sizeof c);
      c.ebx = 1; c.ecx = 2; c.edx = 3; c.esi = 4; c.edi = 5; c.ebp = 6; c.eax = 7; c.error_code = 8;
      c.entry_vector = 9; c.eip = 0xc0100000; c.cs = 0xe019; c.saved_upcall_mask = 1; c.eflags = 0x246;
      c.esp = 0xc0200000; c.ss = 0xe021; c.es = 0xe021; c.ds = 0xe021; c.fs = 0; c.gs = 0x33;
      dump("cpu_user_regs", &c, sizeof c); }
    { struct evtchn_op o; memset(&o, 0, sizeof o);
      o.cmd = EVTCHNOP_bind_virq; o.u.bind_virq.virq = 2; o.u.bind_virq.vcpu = 1; o.u.bind_virq.port = 9;
      dump("evtchn_op", &o, sizeof o); }
    { struct mmuext_op x; memset(&x, 0, sizeof x);
      x.cmd = MMUEXT_SET_LDT; x.arg1.linear_addr = 0xc0500000; x.arg2.nr_ents = 13; dump("mmuext_op", &x, sizeof x); }
    return 0;
}
"""


def _model_bytes() -> dict[str, bytes]:
    info = X.start_info(nr_pages=2048, shared_info=0x7F000, flags=3, store_mfn=0x1234, store_evtchn=1,
                        console_mfn=0x1235, console_evtchn=2, pt_base=0xC0400000, nr_pt_frames=4,
                        mfn_list=0xC0300000, cmd_line="root=/dev/xvda1 ro")
    mmuext = LAYOUTS["mmuext_op"]
    regs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0xC0100000, 0xE019, 1, 0, 0x246, 0xC0200000, 0xE021, 0, 0xE021, 0,
            0xE021, 0, 0, 0, 0x33, 0]
    return {
        "trap_info": A.trap_info(vector=14, flags=5, cs=0xE019, address=0xC0101234).pack(),
        "mmu_update": mmu_update_t(0x12345678ABCD0001, 0xFEEDFACE00000067).pack(),
        "evtchn_bind_interdomain": E.evtchn_bind_interdomain(remote_dom=7, remote_port=0x1234,
                                                             local_port=0x55).pack(),
        "vcpu_runstate_info": V.vcpu_runstate_info(2, 0x1122334455667788, [1, 2, 3, 0x99AABBCCDDEEFF00]).pack(),
        "multicall_entry": X.multicall_entry_t.LAYOUT.pack([26, (-14) & 0xFFFFFFFF, [0x100 + i for i in range(6)]]),
        "start_info": info.pack(),
        "xsd_sockmsg": XS.XsdSockmsg(2, 7, 0, 12).pack(),
        "cpu_user_regs": V.cpu_user_regs.LAYOUT.pack(regs),
        "evtchn_op": E.evtchn_op(E.EVTCHNOP_bind_virq, E.evtchn_bind_virq(virq=2, vcpu=1, port=9)).pack(),
        "mmuext_op": mmuext.pack([X.MMUEXT_SET_LDT, mmuext.members[1][1].arm("linear_addr", 0xC0500000),
                                  mmuext.members[2][1].arm("nr_ents", 13)]),
    }


def test_packed_bytes_match_c(tmp_path):
    if shutil.which("gcc") is None or not (XEN_INC / "xen.h").exists():
        _need("gcc or Xen's public headers are missing: `apt-get install gcc libxen-dev`")
    headers = "".join(f'#include <xen/{h}>\n' for h in MODERN_HEADERS)
    src, exe = tmp_path / "fill.c", tmp_path / "fill"
    src.write_text(MODERN_PROLOGUE + "\n#include <stdint.h>\n#include <stdio.h>\n" + headers + _FILL)
    proc = subprocess.run(["gcc", "-m32", "-std=gnu99", "-o", str(exe), str(src)], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        if "stubs-32.h" in proc.stderr or "cannot find" in proc.stderr:
            _need(f"cannot build for -m32 (`apt-get install gcc-multilib`):\n{proc.stderr}")
        pytest.fail(f"the fill program does not compile:\n{proc.stderr}")
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    c_bytes = {name: bytes.fromhex(hexed) for name, hexed in (line.split() for line in out.splitlines())}
    model = _model_bytes()
    assert set(c_bytes) == set(model)
    for name, raw in model.items():
        assert raw == c_bytes[name], f"{name}:\n model {raw.hex()}\n C     {c_bytes[name].hex()}"
    # the unpacking direction too
    assert X.start_info.unpack(c_bytes["start_info"]) == X.start_info.unpack(model["start_info"])
    assert V.vcpu_runstate_info.unpack(c_bytes["vcpu_runstate_info"]).time[3] == 0x99AABBCCDDEEFF00


# --- the save image's hand-written vcpu_guest_context format (toolstack/save.py) ---------------------
def _format_items(fmt: str) -> list[tuple[int, int]]:
    """(offset, size) of each item ``struct.unpack`` returns for a little-endian, unpadded format."""
    import re
    import struct
    items, off = [], 0
    for count, code in re.findall(r"(\d*)([a-zA-Z])", fmt):
        n = int(count or 1)
        if code == "s":
            items.append((off, n))
            off += n
        else:
            size = struct.calcsize("<" + code)
            items += [(off + i * size, size) for i in range(n)]
            off += n * size
    return items


def _layout_items(layout, base: int = 0) -> list[tuple[int, int]]:
    """The same for a layout read as save.py reads it: nested structs opened, scalar arrays element by
    element, char arrays and arrays of structs as one blob each."""
    items = []
    for name, ctype, count in layout.members:
        off = base + layout.offsetof(name)
        if isinstance(ctype, str) and ctype != "char":
            size = layout.member_size(name) // count
            items += [(off + i * size, size) for i in range(count)]
        elif count > 1 or isinstance(ctype, str):
            items.append((off, layout.member_size(name)))
        else:
            items += _layout_items(ctype.LAYOUT, off)
    return items


def test_save_image_context_format_follows_the_layout():
    """xc_linux_save writes vcpu_guest_context as raw bytes; save.py's struct format and the tuple
    indices save.py and restore.py use must land on 3.0.0's members."""
    from xenlab.toolstack import save as S
    ctx = LAYOUTS["vcpu_guest_context"]
    assert _format_items(S.VCPU_GUEST_CONTEXT_FMT) == _layout_items(ctx)
    assert S.VCPU_GUEST_CONTEXT_SIZE == C300["vcpu_guest_context"]["sizeof"]
    items = _layout_items(ctx)
    c = C300["vcpu_guest_context"]["members"]
    regs = C300["cpu_user_regs"]["members"]
    assert items[S.CTXT_EDX][0] == c["user_regs"][0] + regs["edx"][0]
    assert list(items[S.CTXT_TRAPS]) == c["trap_ctxt"]
    assert items[S.CTXT_CTRLREG][0] == c["ctrlreg"][0]
    assert items[S.CTXT_CR3][0] == c["ctrlreg"][0] + 3 * 4
    assert items[S.CTXT_KERNEL_SS][0] == c["kernel_ss"][0] and items[S.CTXT_KERNEL_SS + 1][0] == c["kernel_sp"][0]
    assert items[S.CTXT_CALLBACKS][0] == c["event_callback_cs"][0]
    assert items[S.CTXT_VM_ASSIST][0] == c["vm_assist"][0]
    # each trap_ctxt entry is packed "<BBHI", trap_info's layout
    assert _format_items("<BBHI") == _layout_items(A.trap_info.LAYOUT)
