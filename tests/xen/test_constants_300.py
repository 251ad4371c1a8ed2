"""Constants that exist only in Xen 3.0-era sources, compared with the values cited from 3.0.0's files.

Debian's libxen-dev (4.17) no longer has these names or gives them other values, so the oracle is the
3.0.0 source itself, quoted here with file and line (X@RELEASE-3.0.0)."""
import pytest

from xenlab.xen import shadow, timer
from xenlab.xen.public import errno as E
from xenlab.xen.public import xen as X

CITED = [
    # xen/include/public/xen.h:209-212
    (X, "VMASST_TYPE_4gb_segments", 0), (X, "VMASST_TYPE_4gb_segments_notify", 1),
    (X, "VMASST_TYPE_writable_pagetables", 2), (X, "MAX_VMASST_TYPE", 2),
    # xen/include/xen/softirq.h:5-12
    (timer, "AC_TIMER_SOFTIRQ", 0), (timer, "SCHEDULE_SOFTIRQ", 1),
    (timer, "NEW_TLBFLUSH_CLOCK_PERIOD_SOFTIRQ", 2), (timer, "KEYPRESS_SOFTIRQ", 3), (timer, "NMI_SOFTIRQ", 4),
    (timer, "PAGE_SCRUB_SOFTIRQ", 5), (timer, "DOMAIN_SHUTDOWN_FINALISE_SOFTIRQ", 6), (timer, "NR_SOFTIRQS", 7),
    # xen/include/asm-x86/shadow.h:42-52
    (shadow, "SHM_enable", 1 << 0), (shadow, "SHM_refcounts", 1 << 1), (shadow, "SHM_write_all", 1 << 2),
    (shadow, "SHM_log_dirty", 1 << 3), (shadow, "SHM_translate", 1 << 4), (shadow, "SHM_external", 1 << 5),
    (shadow, "SHM_wr_pt_pte", 1 << 6),
]


@pytest.mark.parametrize("module,name,value", CITED, ids=[c[1] for c in CITED])
def test_constant_as_in_300(module, name, value):
    assert getattr(module, name) == value


def test_vm_assist_refuses_303s_pae_extended_cr3():
    # 3.0.0's do_vm_assist: `if ( type > MAX_VMASST_TYPE ) return -EINVAL;` and type 3 came in 3.0.3.
    import xenlab
    from xenlab.xen.hypercall import hypercall_from_guest
    m = xenlab.Machine(seed=0, memory_mb=64)
    v = m.dom0.vcpus[0]
    assert hypercall_from_guest(v, "vm_assist", X.VMASST_CMD_enable, X.VMASST_TYPE_pae_extended_cr3) == -E.EINVAL
    assert hypercall_from_guest(v, "vm_assist", X.VMASST_CMD_enable, X.VMASST_TYPE_writable_pagetables) == 0
