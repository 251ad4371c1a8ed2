"""The Python ABI structs and constants against Xen's own headers, compiled with gcc.

A C program is generated from the Python layouts (so every member is checked), built against
/usr/include/xen (libxen-dev) natively (x86_64) and with -m32 (x86_32, needs gcc-multilib), and its
sizeof/offsetof/constant values are compared with what xenlab computes.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

from xenlab.xen.public import grant_table as gt
from xenlab.xen.public.io import blkif, netif, xenbus, xs_wire

XEN_INC = pathlib.Path("/usr/include/xen")
REQUIRE_NATIVE = os.environ.get("XENLAB_REQUIRE_NATIVE") == "1"

STRUCTS = [blkif.BlkifRequestSegment, blkif.BlkifRequest, blkif.BlkifResponse,
           netif.NetifTxRequest, netif.NetifTxResponse, netif.NetifRxRequest, netif.NetifRxResponse,
           gt.GrantEntryV1, gt.GnttabMapGrantRef, gt.GnttabUnmapGrantRef, gt.GnttabSetupTable,
           gt.GnttabTransfer, gt.GnttabCopyPtr, gt.GnttabCopy, gt.GnttabQuerySize]

# Constants whose C value must equal the Python one: (module, names).
CONSTANTS = [
    (blkif, ["BLKIF_OP_READ", "BLKIF_OP_WRITE", "BLKIF_OP_WRITE_BARRIER", "BLKIF_OP_FLUSH_DISKCACHE",
             "BLKIF_OP_RESERVED_1", "BLKIF_OP_DISCARD", "BLKIF_OP_INDIRECT",
             "BLKIF_MAX_SEGMENTS_PER_REQUEST", "BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST",
             "BLKIF_RSP_EOPNOTSUPP", "BLKIF_RSP_ERROR", "BLKIF_RSP_OKAY",
             "VDISK_CDROM", "VDISK_REMOVABLE", "VDISK_READONLY"]),
    (netif, ["NETTXF_csum_blank", "NETTXF_data_validated", "NETTXF_more_data", "NETTXF_extra_info",
             "NETRXF_data_validated", "NETRXF_csum_blank", "NETRXF_more_data", "NETRXF_extra_info",
             "NETRXF_gso_prefix", "NETIF_RSP_DROPPED", "NETIF_RSP_ERROR", "NETIF_RSP_OKAY",
             "NETIF_RSP_NULL", "XEN_NETIF_NR_SLOTS_MIN"]),
    (gt, [n for n in dir(gt) if n.startswith(("GTF_", "GNTMAP_", "GNTST_", "GNTTABOP_", "GNTCOPY_"))
          and n != "GNTST_NAMES"] + ["GNTTAB_NR_RESERVED_ENTRIES"]),
    (xs_wire, [n for n in xs_wire.XS_NAMES.values()] + [
        "XS_WATCH_PATH", "XS_WATCH_TOKEN", "XENSTORE_RING_SIZE", "XENSTORE_PAYLOAD_MAX",
        "XENSTORE_ABS_PATH_MAX", "XENSTORE_REL_PATH_MAX", "XENSTORE_SERVER_FEATURE_RECONNECTION",
        "XENSTORE_SERVER_FEATURE_ERROR", "XENSTORE_CONNECTED", "XENSTORE_RECONNECT"]),
    (xenbus, [f"XenbusState{s.name}" for s in xenbus.XenbusState]),
]
XS_IFACE = {"XS_IFACE_REQ": "req", "XS_IFACE_RSP": "rsp", "XS_IFACE_REQ_CONS": "req_cons",
            "XS_IFACE_REQ_PROD": "req_prod", "XS_IFACE_RSP_CONS": "rsp_cons",
            "XS_IFACE_RSP_PROD": "rsp_prod", "XS_IFACE_SERVER_FEATURES": "server_features",
            "XS_IFACE_CONNECTION": "connection", "XS_IFACE_ERROR": "error"}


def _c_source() -> str:
    lines = ["#define __XEN_INTERFACE_VERSION__ 0x00040e00", "#include <stddef.h>",
             "#include <stdint.h>", "#include <stdio.h>", "#include <errno.h>",
             "#include <xen/grant_table.h>", "#include <xen/io/blkif.h>",
             "#include <xen/io/netif.h>", "#include <xen/io/xs_wire.h>", "#include <xen/io/xenbus.h>",
             "#define S(t) printf(\"sizeof %s %zu\\n\", #t, sizeof(struct t));",
             "#define O(t, m) printf(\"offsetof %s.%s %zu\\n\", #t, #m, offsetof(struct t, m));",
             "#define C(n) printf(\"const %s %lld\\n\", #n, (long long)(n));",
             "int main(void) {"]
    for cls in STRUCTS:
        name = cls.LAYOUT.name
        lines.append(f"S({name})")
        lines += [f"O({name}, {m})" for m, _, _ in cls.LAYOUT.members]
    for mod, names in CONSTANTS:
        lines += [f"C({n})" for n in names]
    lines += [f'printf("offsetof xs_iface.{k} %zu\\n", offsetof(struct xenstore_domain_interface, {m}));'
              for k, m in XS_IFACE.items()]
    lines += ['printf("ring blkif %u\\n", (unsigned)__CONST_RING_SIZE(blkif, 4096));',
              'printf("ring netif_tx %u\\n", (unsigned)__CONST_RING_SIZE(netif_tx, 4096));',
              'printf("ring netif_rx %u\\n", (unsigned)__CONST_RING_SIZE(netif_rx, 4096));',
              "return 0; }"]
    return "\n".join(lines) + "\n"


def _compile_and_run(tmp_path, flags: list[str]) -> dict[str, int]:
    src = tmp_path / "layout.c"
    src.write_text(_c_source())
    exe = tmp_path / ("layout" + "".join(flags).replace("-", "_"))
    proc = subprocess.run(["gcc", "-std=gnu11", "-Wall", *flags, "-o", str(exe), str(src)], check=False,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return {"__error__": proc.stderr}
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return {" ".join(line.split()[:2]): int(line.split()[2]) for line in out.splitlines()}


def _need(why: str):
    if REQUIRE_NATIVE:
        pytest.fail(f"{why} (XENLAB_REQUIRE_NATIVE=1 forbids skipping)")
    pytest.skip(why)


@pytest.fixture(scope="module", params=["x86_64", "x86_32"])
def c_layout(request, tmp_path_factory):
    arch = request.param
    if shutil.which("gcc") is None or not (XEN_INC / "io/blkif.h").exists():
        _need("gcc or Xen's headers missing: `apt-get install gcc libxen-dev`")
    got = _compile_and_run(tmp_path_factory.mktemp(arch), ["-m32"] if arch == "x86_32" else [])
    if "__error__" in got:
        if arch == "x86_32":  # most likely no 32-bit libc
            _need(f"cannot build for -m32 (`apt-get install gcc-multilib`):\n{got['__error__']}")
        pytest.fail(f"the layout program does not compile:\n{got['__error__']}")
    return arch, got


def test_struct_sizes_and_offsets(c_layout):
    arch, c = c_layout
    for cls in STRUCTS:
        lay = cls.LAYOUT
        assert cls.sizeof(arch) == c[f"sizeof {lay.name}"], f"sizeof {lay.name} on {arch}"
        for m, _, _ in lay.members:
            assert lay.offsetof(m, arch) == c[f"offsetof {lay.name}.{m}"], f"{lay.name}.{m} on {arch}"


def test_constants(c_layout):
    _, c = c_layout
    for mod, names in CONSTANTS:
        for n in names:
            assert int(getattr(mod, n)) == c[f"const {n}"], n


def test_ring_sizes_and_xenstore_page(c_layout):
    arch, c = c_layout
    assert c["ring blkif"] == blkif.BLKIF_RING_SIZE == 32
    assert c["ring netif_tx"] == netif.NET_TX_RING_SIZE == 256
    assert c["ring netif_rx"] == netif.NET_RX_RING_SIZE == 256
    for k in XS_IFACE:
        assert getattr(xs_wire, k) == c[f"offsetof xs_iface.{k}"], k


def test_known_sizes_without_gcc():
    """The hand-computed i386 figures from xen-facts, independent of the compiler."""
    assert blkif.BlkifRequest.sizeof("x86_32") == 108
    assert blkif.BlkifRequest.sizeof("x86_64") == 112
    assert blkif.BlkifResponse.sizeof("x86_32") == 12
    assert gt.GrantEntryV1.sizeof() == 8 and gt.NR_GRANT_ENTRIES == 2048 and gt.NR_GRANT_FRAMES == 4


@pytest.mark.parametrize("arch", ["x86_32", "x86_64"])
def test_pack_round_trip(arch):
    req = blkif.BlkifRequest(blkif.BLKIF_OP_WRITE, 2, 0xCA00, 2**63 + 5, 2**40,
                             [blkif.BlkifRequestSegment(17, 0, 7), blkif.BlkifRequestSegment(18, 2, 5)])
    raw = req.pack(arch)
    assert len(raw) == blkif.BlkifRequest.sizeof(arch)
    assert blkif.BlkifRequest.unpack(raw, arch) == req
    assert req.nr_sectors == 8 + 4
    rsp = blkif.BlkifResponse(7, blkif.BLKIF_OP_READ, blkif.BLKIF_RSP_ERROR)
    assert blkif.BlkifResponse.unpack(rsp.pack(arch), arch) == rsp
    cp = gt.GnttabCopy(gt.GnttabCopyPtr(3, 1, 10), gt.GnttabCopyPtr(0x1234, 0x7FF0, 0), 64,
                       gt.GNTCOPY_source_gref, gt.GNTST_bad_copy_arg)
    assert gt.GnttabCopy.unpack(cp.pack(arch), arch) == cp


def test_blkif_request_byte_image_x86_32():
    """Decoded by hand from the i386 ABI: id at byte 4, sector at 12, segments from 20."""
    raw = blkif.BlkifRequest(1, 1, 0x300, 0x1122334455667788, 9,
                             [blkif.BlkifRequestSegment(0xAB, 1, 6)]).pack()
    assert raw[:4] == bytes([1, 1, 0x00, 0x03])
    assert raw[4:12] == (0x1122334455667788).to_bytes(8, "little")
    assert raw[12:20] == (9).to_bytes(8, "little")
    assert raw[20:28] == bytes([0xAB, 0, 0, 0, 1, 6, 0, 0])
    assert raw[28:] == bytes(80)


def test_too_many_segments_is_misuse():
    req = blkif.BlkifRequest(seg=[blkif.BlkifRequestSegment()] * 12)
    with pytest.raises(ValueError):
        req.pack()
