"""Restore checks the whole image before it builds anything: a bad image gets a clean error and the
machine keeps exactly its domains and its free frames (xc_linux_restore's checks, 3.0)."""
import io
import struct

import pytest

import xenlab
from xenlab.toolstack import save as S
from xenlab.toolstack.restore import RestoreError, restore_domain
from xenlab.xen.public import dom0_ops as D

from toolstack_state import state

MS = 1_000_000


@pytest.fixture(scope="module")
def image():
    m = xenlab.Machine(seed=1, memory_mb=48)
    d = m.create_domain(xenlab.DomainConfig(name="web", memory=4, workload=[("dirty", 2000, 64), ("compute", 5 * MS),
                                                                              ("loop", 0, None)]))
    m.run_for(30 * MS)
    buf = io.BytesIO()
    S.save_domain(m, d, buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def target():
    return xenlab.Machine(seed=3, memory_mb=48)


def ctx_offset(raw):
    return len(raw) - 4096 - S.VCPU_GUEST_CONTEXT_SIZE


def with_ctx(raw, **fields):
    off = ctx_offset(raw)
    f = list(struct.unpack(S.VCPU_GUEST_CONTEXT_FMT, raw[off:off + S.VCPU_GUEST_CONTEXT_SIZE]))
    for name, value in fields.items():
        f[{"cr3": S.CTXT_CR3, "edx": S.CTXT_EDX}[name]] = value
    return raw[:off] + struct.pack(S.VCPU_GUEST_CONTEXT_FMT, *f) + raw[off + S.VCPU_GUEST_CONTEXT_SIZE:]


def refused(target, raw, match):
    before = state(target)
    with pytest.raises(RestoreError, match=match):
        restore_domain(target, io.BytesIO(raw))
    assert state(target) == before


def batches(raw):
    """(offset of the batch count, pfns, tags) of each batch, parsed independently of restore.py."""
    n = struct.unpack("!i", raw[16:20])[0]
    off = 20 + n
    max_pfn = struct.unpack_from("<I", raw, off)[0]
    off += 4 + 4 * ((max_pfn + 1023) // 1024)
    out = []
    while True:
        (count,) = struct.unpack_from("<i", raw, off)
        if count == 0:
            return out
        types = struct.unpack_from(f"<{count}I", raw, off + 4)
        out.append((off, [t & 0x0FFFFFFF for t in types], [t & 0xF0000000 for t in types]))
        off += 4 + 4 * count + 4096 * count


def test_good_image_restores(image, target):
    d, _ = restore_domain(target, io.BytesIO(image))
    assert d.name == "web"
    target.domain_destroy(d)


def test_cr3_zero_is_refused_cleanly(image, target):
    refused(target, with_ctx(image, cr3=0), "CR3 .* is 0")


def test_cr3_outside_the_image_is_refused(image, target):
    refused(target, with_ctx(image, cr3=0x7FFF000), r"CR3 0x7fff000 names pfn 0x7fff, outside the image")


def test_cr3_on_a_page_that_is_not_the_root_table(image, target):
    _, pfns, tags = batches(image)[0]
    plain = next(p for p, t in zip(pfns, tags) if t == D.NOTAB and p > 3)
    refused(target, with_ctx(image, cr3=plain << 12), "does not mark as an L2TAB page table")


def test_suspend_record_outside_or_on_a_page_table(image, target):
    refused(target, with_ctx(image, edx=1 << 20), "suspend record")
    _, pfns, tags = batches(image)[0]
    table = next(p for p, t in zip(pfns, tags) if t & D.LTABTYPE_MASK)
    refused(target, with_ctx(image, edx=table), "suspend record")


def test_page_table_entry_pointing_outside_the_image(image, target):
    off, pfns, tags = batches(image)[0]
    j = next(i for i, t in enumerate(tags) if t & D.LTABTYPE_MASK == D.L1TAB)
    page = off + 4 + 4 * len(pfns) + 4096 * j
    bad = bytearray(image)
    struct.pack_into("<I", bad, page + 4 * 7, (0xFFFFF << 12) | 0x67)
    refused(target, bytes(bad), "entry 7 points at pfn 0xfffff, outside the image")


def test_unknown_page_type_and_wrong_sizes(image, target):
    off, pfns, tags = batches(image)[0]
    bad = bytearray(image)
    struct.pack_into("<I", bad, off + 4, (6 << 28) | pfns[0])
    refused(target, bytes(bad), "unknown type")
    n = struct.unpack("!i", image[16:20])[0]
    bad = bytearray(image)
    struct.pack_into("<I", bad, 20 + n, 8 << 8)                   # max_pfn for 8 MiB, config says 4
    refused(target, bytes(bad), "2048 pages but the config in it says 4 MiB")
    refused(target, image + b"\0" * 10, "goes on for 10 bytes")


def test_bad_magic_truncation_and_resume_record(image, target):
    refused(target, b"LinuxGuestRecord"[::-1] + image[16:], "not a valid guest state file")
    for cut in (3, 100, len(image) // 2, len(image) - 1):
        refused(target, image[:cut], "truncated")
    # The guest's resume record lives in start_info (pfn 0) after byte 2048: break its magic.
    off, pfns, tags = batches(image)[0]
    j = pfns.index(0)
    bad = bytearray(image)
    bad[off + 4 + 4 * len(pfns) + 4096 * j + 2048] ^= 0xFF
    refused(target, bytes(bad), "resume record")


def test_xm_restore_of_a_directory_or_missing_file(tmp_path, target):
    before = state(target)
    with pytest.raises(xenlab.XmError, match="cannot read the file"):
        xenlab.xm(target, f"restore {tmp_path}")
    with pytest.raises(xenlab.XmError, match="not found"):
        xenlab.xm(target, f"restore {tmp_path / 'nope'}")
    assert state(target) == before
