"""libxc: the toolstack's only way into Xen (X@RELEASE-3.0.0:tools/libxc/xc_private.c, xc_domain.c).

Every function here is one hypercall (or a batch of them) made from dom0, with the structures of
``xen/include/public`` (``xenlab.xen.public``), plus ``privcmd`` mappings of another domain's frames
(xc_map_foreign_batch, dom0/privcmd.py). Nothing here reads the hypervisor's own objects: save,
restore, migration, xentop and xm build on these calls, as xend and xc_linux_save do on libxc.
"""
from __future__ import annotations

from xenlab.dom0 import privcmd
from xenlab.i18n import t
from xenlab.toolstack.errors import ToolstackError
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import memory as M
from xenlab.xen.public.errno import errno_name
from xenlab.xen.public.vcpu import vcpu_guest_context

GETPAGEFRAMEINFO2_MAX = 1024          # DOM0_GETPAGEFRAMEINFO2 refuses more (-E2BIG)


def dom0_op(machine, cmd: int, u) -> int:
    """do_dom0_op: one privileged call from dom0 (xc_private.h's do_dom0_op)."""
    return machine.dom0.hypercall("dom0_op", D.dom0_op(cmd, u))


def _check(rc: int, what: str) -> int:
    if rc < 0:
        raise ToolstackError(f"{what} failed: {errno_name(rc)}")
    return rc


def domain_getinfo(machine, domid: int):
    """xc_domain_getinfo for one domain: its dom0_getdomaininfo, or None if it does not exist
    (DOM0_GETDOMAININFO returns the next domain up, so the id is checked)."""
    info = D.dom0_getdomaininfo(domain=domid)
    if dom0_op(machine, D.DOM0_GETDOMAININFO, info) < 0 or info.domain != domid:
        return None
    return info


def get_vcpu_context(machine, domid: int, vcpu: int = 0) -> vcpu_guest_context:
    """xc_domain_get_vcpu_context: DOM0_GETVCPUCONTEXT."""
    op = D.dom0_getvcpucontext(domain=domid, vcpu=vcpu, ctxt=vcpu_guest_context())
    _check(dom0_op(machine, D.DOM0_GETVCPUCONTEXT, op), "DOM0_GETVCPUCONTEXT")
    return op.ctxt


def set_vcpu_context(machine, domid: int, vcpu: int, ctxt: vcpu_guest_context) -> int:
    """DOM0_SETDOMAININFO (3.0.0's name for setting a vcpu's context); 0 or -errno."""
    return dom0_op(machine, D.DOM0_SETDOMAININFO, D.dom0_setdomaininfo(domain=domid, vcpu=vcpu, ctxt=ctxt))


def get_pfn_list(machine, domid: int, max_pfns: int) -> list[int]:
    """xc_get_pfn_list: DOM0_GETMEMLIST, the domain's machine frames."""
    op = D.dom0_getmemlist(domain=domid, max_pfns=max_pfns, buffer=[])
    _check(dom0_op(machine, D.DOM0_GETMEMLIST, op), "DOM0_GETMEMLIST")
    return list(op.buffer[:op.num_pfns])


def get_pfn_type_batch(machine, domid: int, mfns) -> list[int]:
    """xc_get_pfn_type_batch: DOM0_GETPAGEFRAMEINFO2, each frame | its LxTAB tag (XTAB: not ours)."""
    out: list[int] = []
    mfns = [int(m) for m in mfns]
    for i in range(0, len(mfns), GETPAGEFRAMEINFO2_MAX):
        chunk = mfns[i:i + GETPAGEFRAMEINFO2_MAX]
        op = D.dom0_getpageframeinfo2(domain=domid, num=len(chunk), array=list(chunk))
        _check(dom0_op(machine, D.DOM0_GETPAGEFRAMEINFO2, op), "DOM0_GETPAGEFRAMEINFO2")
        out.extend(op.array[:len(chunk)])
    return out


def shadow_control(machine, domid: int, op: int, bitmap=None, pages: int = 0) -> D.dom0_shadow_control:
    """xc_shadow_control: DOM0_SHADOW_CONTROL (log-dirty ENABLE/CLEAN/PEEK/OFF)."""
    sc = D.dom0_shadow_control(domain=domid, op=op, pages=pages, dirty_bitmap=bitmap)
    _check(dom0_op(machine, D.DOM0_SHADOW_CONTROL, sc), f"DOM0_SHADOW_CONTROL op {op}")
    return sc


def map_foreign_batch(machine, domid: int, mfns, writable: bool = False) -> privcmd.ForeignMapping:
    """xc_map_foreign_batch: privcmd's MMAPBATCH (mmu_update with foreigndom = domid)."""
    return privcmd.mmapbatch(machine, domid, mfns, writable)


def write_foreign_page(machine, domid: int, mfn: int, data: bytes, offset: int = 0) -> None:
    """Write ``data`` into frame ``mfn`` of ``domid`` through a writable privcmd mapping."""
    with map_foreign_batch(machine, domid, [mfn], writable=True) as page:
        if page.err.any():
            raise ToolstackError(t("toolstack2.xc.map_refused", mfn=mfn, domid=domid))
        page.write(0, offset, data)


def sched_id(machine) -> int:
    """DOM0_SCHED_ID: the id of the scheduler Xen runs (public/sched_ctl.h)."""
    op = D.dom0_sched_id()
    dom0_op(machine, D.DOM0_SCHED_ID, op)
    return op.sched_id


def memory_increase_reservation(machine, domid: int, nr: int) -> list[int]:
    """xc_domain_memory_increase_reservation: memory_op(XENMEM_increase_reservation) for domid."""
    res = M.xen_memory_reservation(extent_start=[], nr_extents=nr, extent_order=0, domid=domid)
    done = machine.dom0.hypercall("memory_op", M.XENMEM_increase_reservation, res)
    if done != nr:
        raise ToolstackError(t("toolstack2.xc.reservation", done=done if done >= 0 else errno_name(done), nr=nr))
    return list(res.extent_start[:nr])


def mmu_update(machine, reqs, foreigndom: int) -> int:
    """xc_add_mmu_update / xc_finish_mmu_updates: one batch of mmu_update_t for ``foreigndom``."""
    done = [0]
    return machine.dom0.hypercall("mmu_update", list(reqs), len(reqs), done, foreigndom)


def mmuext_op(machine, ops, foreigndom: int, done: list | None = None) -> int:
    """xc_mmuext_op: one batch of mmuext_op_t on behalf of ``foreigndom``."""
    done = done if done is not None else [0]
    return machine.dom0.hypercall("mmuext_op", list(ops), len(ops), done, foreigndom)
