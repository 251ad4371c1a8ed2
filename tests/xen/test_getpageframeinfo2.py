"""DOM0_GETPAGEFRAMEINFO2 (X@RELEASE-3.0.0:xen/arch/x86/dom0_ops.c:249-330) and privcmd's foreign
mappings (linux-2.6-xen-sparse/drivers/xen/privcmd/privcmd.c: MMAPBATCH marks refusals 0xF0000000)."""
import xenlab
from xenlab.dom0 import privcmd
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import errno as E


def _machine():
    m = xenlab.Machine(seed=2, memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="g", memory=8))
    m.run_for(5_000_000)
    return m, d


def _plain(m, d) -> int:
    """A frame of d that is no page table (the kernel's tables sit at its lowest free pfns)."""
    return next(mfn for mfn in d.p2m[3:] if int(m.frame_table.type_info[mfn]) >> 29 not in (1, 2, 3))


def _op(m, u, caller=None):
    return (caller or m.dom0).hypercall("dom0_op", D.dom0_op(D.DOM0_GETPAGEFRAMEINFO2, u))


def test_numbers_are_3_0_0s():
    assert D.DOM0_GETPAGEFRAMEINFO2 == 29 and D.L1TAB == 1 << 28 and D.LPINTAB == 1 << 31 and D.XTAB == 0xF << 28


def test_tags_each_frame_with_its_table_type():
    m, d = _machine()
    root = d.vcpus[0].cr3 >> 12                       # the pinned L2 the kernel booted on
    plain = _plain(m, d)
    other = m.dom0.p2m[3]                             # not d's frame
    arr = [root, plain, other, m.memory.nr_frames + 7]
    u = D.dom0_getpageframeinfo2(domain=d.domain_id, num=4, array=list(arr))
    assert _op(m, u) == 0
    assert u.array == [root | D.L2TAB | D.LPINTAB, plain, other | D.XTAB, (m.memory.nr_frames + 7) | D.XTAB]


def test_hostile_input_gets_xens_errors_and_changes_nothing():
    m, d = _machine()
    arr = [d.p2m[5]]
    assert _op(m, D.dom0_getpageframeinfo2(domain=999, num=1, array=list(arr))) == -E.ESRCH
    assert _op(m, D.dom0_getpageframeinfo2(domain=d.domain_id, num=1025, array=[0] * 1025)) == -E.E2BIG
    u = D.dom0_getpageframeinfo2(domain=d.domain_id, num=3, array=list(arr))      # array too short
    assert _op(m, u) == -E.EINVAL and u.array == arr
    u = D.dom0_getpageframeinfo2(domain=d.domain_id, num=1, array=list(arr))
    assert _op(m, u, caller=d) == -E.EPERM and u.array == arr                      # only dom0


def test_privcmd_maps_read_only_and_refuses_a_writable_page_table():
    m, d = _machine()
    root = d.vcpus[0].cr3 >> 12
    frames = [_plain(m, d), root]
    before = m.frame_table.count_info[frames].copy()
    with privcmd.mmapbatch(m, d.domain_id, frames) as ro:
        assert not ro.err.any()
        assert (m.frame_table.count_info[frames] == before + 1).all()       # each mapping holds a reference
        assert ro.read_pages()[0].tobytes() == m.memory.read_bytes(frames[0] << 12, 4096)
    assert (m.frame_table.count_info[frames] == before).all()               # unmapped: references dropped
    with privcmd.mmapbatch(m, d.domain_id, frames, writable=True) as rw:
        assert rw.err.tolist() == [False, True]                             # a page table is never writable
        assert rw.marked() == [frames[0], root | privcmd.MMAPBATCH_ERROR]
    assert (m.frame_table.count_info[frames] == before).all()
