"""xm save / xm restore: the 3.0 image format, byte-for-byte guest memory, resuming, bad files."""
import io
import struct

import numpy as np
import pytest

import xenlab
from xenlab.guest.p2m import read_start_info
from xenlab.guest.suspend import RECORD_OFFSET
from xenlab.toolstack import save as S
from xenlab.toolstack.restore import RestoreError, restore_domain
from xenlab.toolstack.save import SIGNATURE, save_domain, suspend_domain
from xenlab.toolstack.domain_config import DomainConfig
from xenlab.xen.page_alloc import (PGT_l1_page_table, PGT_l2_page_table, PGT_pinned, PGT_type_mask,
                                   PGT_validated)
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public.xen import start_info

MS = 1_000_000
DIRTY = [("dirty", 3000, 500), ("compute", 5 * MS), ("loop", 1, None)]


def guest(seed=1, memory=16, workload=DIRTY, machine_mb=96):
    m = xenlab.Machine(seed=seed, memory_mb=machine_mb)
    d = m.create_domain(DomainConfig(name="web", memory=memory, workload=workload))
    m.run_for(120 * MS)
    return m, d


def pages(machine, d) -> np.ndarray:
    return machine.memory.data.reshape(-1, 4096)[np.asarray(d.p2m)].copy()


def test_image_layout_is_the_30_format():
    m, d = guest()
    buf = io.BytesIO()
    report = save_domain(m, d, buf)
    raw = buf.getvalue()
    assert raw[:16] == SIGNATURE == b"LinuxGuestRecord"
    (n,) = struct.unpack("!i", raw[16:20])
    config = raw[20:20 + n].decode()
    assert config.startswith("(domain") and "(name web)" in config and "(memory 16)" in config
    off = 20 + n
    max_pfn = struct.unpack_from("<I", raw, off)[0]
    assert max_pfn == 16 << 8
    off += 4 + 4 * ((max_pfn + 1023) // 1024)
    seen, batches = set(), 0
    while True:
        (batch,) = struct.unpack_from("<i", raw, off)
        off += 4
        if batch == 0:
            break
        assert 0 < batch <= S.MAX_BATCH_SIZE == 1024
        types = np.frombuffer(raw, "<u4", batch, off)
        off += 4 * batch + 4096 * batch
        seen.update((types & ~np.uint32(D.LTAB_MASK)).tolist())
        batches += 1
    assert seen == set(range(max_pfn)) and batches == 4          # non-live: every page once
    (unmapped,) = struct.unpack_from("<I", raw, off)
    assert unmapped == 0
    off += 4
    assert len(raw) - off == S.VCPU_GUEST_CONTEXT_SIZE + 4096 == 2800 + 4096
    edx = struct.unpack(S.VCPU_GUEST_CONTEXT_FMT, raw[off:off + 2800])[S.CTXT_EDX]
    assert edx == 0                                              # start_info's MFN canonicalised to pfn 0
    assert report.total_sent == max_pfn and report.bytes == len(raw)
    assert d.domain_id not in m.domains                          # destroyed after the save


def test_round_trip_is_byte_for_byte_on_new_frames():
    m, d = guest()
    suspend_domain(m, d)                     # what the image must hold: memory at the suspend
    before, m2p_before = pages(m, d), m.m2p.copy()
    ti = m.frame_table.type_info[np.asarray(d.p2m)] & PGT_type_mask
    tables = set(np.flatnonzero(ti == PGT_l1_page_table).tolist() + np.flatnonzero(ti == PGT_l2_page_table).tolist())
    buf = io.BytesIO()
    save_domain(m, d, buf)
    target = xenlab.Machine(seed=7, memory_mb=96)
    buf.seek(0)
    d2, report = restore_domain(target, buf)
    after = pages(target, d2)
    assert report.pages == len(d2.p2m)
    assert not np.array_equal(np.asarray(d2.p2m), np.asarray(d.p2m))     # other machine frames
    differ = set(np.flatnonzero((after != before).any(axis=1)).tolist())
    # The guest's P2M array (start_info's mfn_list, 4 bytes a pfn) holds machine frames: the restorer
    # rewrites it for the new host (xc_linux_restore: memcpy(live_p2m, p2m, P2M_SIZE)).
    info = read_start_info(d2)
    first = (info.mfn_list - 0xC0000000) >> 12
    p2m_pages = set(range(first, first + -(-info.nr_pages * 4 // 4096)))
    for pfn in p2m_pages:
        assert np.array_equal(after[pfn].view(np.uint32)[:min(1024, info.nr_pages - 1024 * (pfn - first))],
                              np.asarray(d2.p2m, dtype=np.uint32)[1024 * (pfn - first):1024 * (pfn - first + 1)])
    differ -= p2m_pages
    assert differ <= {0} | tables                                   # every page but start_info ...
    for pfn in differ - {0}:                                         # ... and page tables: same pfns, new mfns
        old, new = before[pfn].view(np.uint32), after[pfn].view(np.uint32)
        present = (old & 1) != 0
        assert np.array_equal(target.m2p[new[present] >> 12], m2p_before[old[present] >> 12])
        assert np.array_equal(new & 0xFFF, old & 0xFFF)
    assert np.array_equal(after[0][RECORD_OFFSET:], before[0][RECORD_OFFSET:])   # the resume record
    si = start_info.unpack(after[0][:1104].tobytes())
    assert si.shared_info == d2.shared_info_mfn << 12 and si.console_mfn == d2.p2m[1]
    assert si.nr_pages == len(d2.p2m)


def test_restored_guest_continues_its_workload():
    m, d = guest()
    ctx = d.vcpus[0].guest
    buf = io.BytesIO()
    save_domain(m, d, buf)
    writes_at_save, pc_at_save = ctx.dirty.count, ctx.pc
    buf.seek(0)
    d2, _ = restore_domain(m, buf)                  # the same machine: the name is free again
    ctx2 = d2.vcpus[0].guest
    assert (ctx2.pc, ctx2.dirty.count) == (pc_at_save, writes_at_save)
    m.run_for(100 * MS)
    assert ctx2.dirty.count == writes_at_save + 300                   # 3000 pages/s for 0.1 s
    assert d2.state.value == "running" and d2.name == "web"


def test_finite_work_is_neither_lost_nor_repeated():
    m, d = guest(workload=[("compute", 300 * MS), ("shutdown", "poweroff")])
    buf = io.BytesIO()
    done = d.cpu_time
    save_domain(m, d, buf)
    buf.seek(0)
    d2, _ = restore_domain(m, buf)
    m.run_for(1000 * MS)
    d2_time = sum(v.cpu_time for v in d2.vcpus)
    assert d2_time == 300 * MS - done              # exactly the rest of the computation
    assert d2.domain_id not in m.domains or d2.is_shutdown


def test_xm_save_and_restore_files(tmp_path):
    m, d = guest()
    path = tmp_path / "web.chk"
    names = []
    m.trace.subscribe(lambda ev: names.append(m.domains[ev.domid].name) if ev.name == "save_start" else None,
                      classes=("DOM",))
    xenlab.xm(m, f"save web {path}")
    assert names == ["migrating-web"]                                 # renamed during the save
    assert m.domain_by_name("web") is None and path.stat().st_size > 16 << 20
    xenlab.xm(m, f"restore {path}")
    assert "web" in xenlab.xm(m, "list").text


def _image():
    m, d = guest()
    buf = io.BytesIO()
    save_domain(m, d, buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def image():
    return _image()


def _restore_fails(raw, match):
    target = xenlab.Machine(seed=3, memory_mb=96)
    free = target.frame_table.free_frames
    with pytest.raises(RestoreError, match=match):
        restore_domain(target, io.BytesIO(raw))
    assert list(target.domains) == [0] and target.frame_table.free_frames == free   # nothing leaked


def test_wrong_signature(image):
    _restore_fails(b"LinuxGuestRecorX" + image[16:], "not a valid guest state file")
    _restore_fails(b"", "truncated")


@pytest.mark.parametrize("cut", [10, 30, 5000, 3_000_000, -3000])
def test_truncated_anywhere(image, cut):
    _restore_fails(image[:cut], "truncated")


def test_corrupt_batch_count(image):
    n = struct.unpack("!i", image[16:20])[0]
    off = 20 + n + 4 + 16                                   # max_pfn, 4 frame-list entries
    bad = image[:off] + struct.pack("<i", 5000) + image[off + 4:]
    _restore_fails(bad, "corrupt")


def test_corrupt_config(image):
    bad = image[:20] + b")" + image[21:]
    _restore_fails(bad, "config")


def test_hvm_guest_cannot_be_saved(tmp_path):
    m = xenlab.Machine(seed=0, hvm=True)
    xenlab.xm(m, "create name=win memory=32 builder='hvm'")
    with pytest.raises(xenlab.XmError, match="HVM"):
        xenlab.xm(m, f"save win {tmp_path / 'x'}")


def test_page_tables_are_canonicalised_and_rebuilt():
    """A frame typed as an L1 table: its PTEs leave as pfns and come back as the new mfns."""
    m, d = guest(workload="idle")
    ft = m.frame_table
    l1_pfn, l2_pfn, targets = 40, 41, [5, 6, 7, 2000]
    l1 = d.p2m[l1_pfn]
    for i, pfn in enumerate(targets):
        m.memory.write_u32((l1 << 12) + 4 * i, (d.p2m[pfn] << 12) | 0x67)
    m.memory.write_u32((l1 << 12) + 4 * 10, (0x1234 << 12) | 0x6)        # not present: left alone
    l2 = d.p2m[l2_pfn]
    m.memory.write_u32((l2 << 12), (l1 << 12) | 0x67)
    m.memory.write_u32((l2 << 12) + 4 * 1010, (ft.nr_frames - 1) << 12 | 0x63)   # a Xen slot: zeroed
    ft.type_info[l1] = PGT_l1_page_table | PGT_validated | 1
    ft.type_info[l2] = PGT_l2_page_table | PGT_validated | 1        # typed, not pinned: not re-validated
    buf = io.BytesIO()
    save_domain(m, d, buf)
    target = xenlab.Machine(seed=11, memory_mb=96)
    buf.seek(0)
    d2, report = restore_domain(target, buf)
    new_l1 = d2.p2m[l1_pfn]
    for i, pfn in enumerate(targets):
        assert target.memory.read_u32((new_l1 << 12) + 4 * i) == (d2.p2m[pfn] << 12) | 0x67
    assert target.memory.read_u32((new_l1 << 12) + 4 * 10) == (0x1234 << 12) | 0x6
    assert target.memory.read_u32(d2.p2m[l2_pfn] << 12) == (new_l1 << 12) | 0x67
    assert target.memory.read_u32((d2.p2m[l2_pfn] << 12) + 4 * 1010) == 0
    assert (l2_pfn, D.L2TAB) not in report.pinned and (l1_pfn, D.L1TAB) not in report.pinned


def test_forged_pinned_table_is_refused_on_restore():
    """Restore re-pins through Xen: a pinned 'table' whose entries map page-table pages writable
    (here the kernel's own L1s, pfns 4..7) fails validation, and nothing is left behind."""
    m, d = guest(workload="idle")
    ft = m.frame_table
    l1, l2 = d.p2m[40], d.p2m[41]
    for i, pfn in enumerate((5, 6, 7)):
        m.memory.write_u32((l1 << 12) + 4 * i, (d.p2m[pfn] << 12) | 0x67)
    m.memory.write_u32(l2 << 12, (l1 << 12) | 0x67)
    ft.type_info[l1] = PGT_l1_page_table | PGT_validated | 1
    ft.type_info[l2] = PGT_l2_page_table | PGT_validated | PGT_pinned | 1
    buf = io.BytesIO()
    save_domain(m, d, buf)
    target = xenlab.Machine(seed=11, memory_mb=96)
    before = set(target.domains)
    buf.seek(0)
    with pytest.raises(RestoreError, match="refused to pin"):
        restore_domain(target, buf)
    assert set(target.domains) == before


def test_restored_page_tables_are_pinned_validated_and_usable():
    """xc_linux_restore re-pins the guest's tables on the new frames; the kernel keeps using them."""
    src = xenlab.Machine(seed=4)
    d = src.create_domain(xenlab.DomainConfig(name="g", memory=16))
    va = 0x08000000
    d.kernel.map_page(va, 40, writable=True)
    src.memory.write_u32((d.p2m[40] << 12) + 8, 0xCAFEF00D)
    buf = io.BytesIO()
    save_domain(src, d, buf)
    dst = xenlab.Machine(seed=5)
    buf.seek(0)
    r, _ = restore_domain(dst, buf)
    root = dst.frame_table[r.p2m[r.kernel.mm.root_pfn]]
    assert root.type == "l2" and root.pinned and root.validated
    assert r.vcpus[0].cr3 == r.p2m[r.kernel.mm.root_pfn] << 12
    assert r.kernel.translate(va) == r.p2m[40] << 12                  # the mapping moved with the guest
    assert dst.memory.read_u32(r.kernel.translate(va) + 8) == 0xCAFEF00D
    r.kernel.map_page(va + 0x1000, 41, writable=False)                 # and Xen accepts new updates
    assert r.kernel.translate(va + 0x1000) == r.p2m[41] << 12
