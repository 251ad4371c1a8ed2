"""DOM0_XENLAB_BUILDDOMAIN, the model's one domain-builder call (not Xen's: see public/dom0_ops.py):
privileged, and hostile input gets an errno with nothing changed."""
import xenlab
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import errno as E


def _op(m, cmd, u, caller=None):
    return (caller or m.dom0).hypercall("dom0_op", D.dom0_op(cmd, u))


def _empty(m):
    c = D.dom0_createdomain()
    assert _op(m, D.DOM0_CREATEDOMAIN, c) == 0
    assert _op(m, D.DOM0_MAX_VCPUS, D.dom0_max_vcpus(c.domain, 1)) == 0
    assert _op(m, D.DOM0_SETDOMAINMAXMEM, D.dom0_setdomainmaxmem(c.domain, 4 << 10)) == 0
    return c.domain


def test_build_gives_memory_and_start_info_once():
    m = xenlab.Machine(seed=0, memory_mb=64)
    domid = _empty(m)
    free = m.frame_table.free_frames
    b = D.dom0_builddomain(domain=domid, nr_pages=1024)
    assert _op(m, D.DOM0_XENLAB_BUILDDOMAIN, b) == 0
    assert m.frame_table.free_frames == free - 1024
    assert b.info.nr_pages == 1024 and b.start_info_mfn == m.domains[domid].p2m[0]
    assert m.memory.read_bytes(b.start_info_mfn << 12, 14) == b"xen-3.0-x86_32"
    assert _op(m, D.DOM0_XENLAB_BUILDDOMAIN, D.dom0_builddomain(domain=domid, nr_pages=1)) == -E.EINVAL


def test_hostile_builds_change_nothing():
    m = xenlab.Machine(seed=0, memory_mb=64)
    domid = _empty(m)
    d = m.domains[domid]
    guest = m.create_domain(xenlab.DomainConfig(name="g", memory=4))
    free = m.frame_table.free_frames
    cases = [(D.dom0_builddomain(domain=999, nr_pages=16), -E.ESRCH),
             (D.dom0_builddomain(domain=0, nr_pages=16), -E.ESRCH),              # dom0 is Xen's to build
             (D.dom0_builddomain(domain=domid, nr_pages=0), -E.EINVAL),
             (D.dom0_builddomain(domain=domid, nr_pages="16"), -E.EINVAL),
             (D.dom0_builddomain(domain=domid, nr_pages=2048), -E.ENOMEM),       # over max_pages (1024)
             (D.dom0_builddomain(domain=guest.domain_id, nr_pages=16), -E.EINVAL)]   # built and running
    for u, rc in cases:
        assert _op(m, D.DOM0_XENLAB_BUILDDOMAIN, u) == rc, u
    assert _op(m, D.DOM0_XENLAB_BUILDDOMAIN, D.dom0_builddomain(domain=domid, nr_pages=16), caller=guest) == -E.EPERM
    assert m.frame_table.free_frames == free and d.tot_pages == 0 and d.p2m == []
