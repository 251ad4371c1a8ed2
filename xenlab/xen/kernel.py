"""xen_version and vm_assist (X@RELEASE-3.0.0:xen/common/kernel.c)."""
from __future__ import annotations

from xenlab.xen.hypercall import hypercall
from xenlab.xen.public import errno as E
from xenlab.xen.public import xen as X


@hypercall("xen_version")
def do_xen_version(current, cmd: int, arg=None) -> int:
    machine = current.domain.machine
    if cmd == X.XENVER_version:
        return (X.XEN_VERSION_MAJOR << 16) | X.XEN_VERSION_MINOR
    if cmd == X.XENVER_extraversion:
        if not isinstance(arg, X.xen_extraversion_t):
            return -E.EFAULT
        arg.extraversion = X.XEN_EXTRAVERSION
        return 0
    if cmd == X.XENVER_capabilities:
        if not isinstance(arg, X.xen_capabilities_info_t):
            return -E.EFAULT
        caps = ["xen-3.0-x86_32p" if machine.paging == "pae" else "xen-3.0-x86_32"]
        if machine.hvm:
            caps.append("hvm-3.0-x86_32p" if machine.paging == "pae" else "hvm-3.0-x86_32")
        arg.info = " ".join(caps)
        return 0
    if cmd == X.XENVER_platform_parameters:
        if not isinstance(arg, X.xen_platform_parameters_t):
            return -E.EFAULT
        arg.virt_start = machine.hypervisor_virt_start
        return 0
    if cmd == X.XENVER_compile_info:
        if not isinstance(arg, X.xen_compile_info_t):
            return -E.EFAULT
        arg.compiler, arg.compile_by, arg.compile_domain, arg.compile_date = (
            "python", "xenlab", "xenlab.invalid", "model")
        return 0
    return -E.ENOSYS


@hypercall("vm_assist")
def do_vm_assist(current, cmd: int, type_: int) -> int:
    # unsigned int type: a "negative" type is a huge one, above MAX_VMASST_TYPE.
    if not 0 <= type_ <= X.MAX_VMASST_TYPE:
        return -E.EINVAL
    d = current.domain
    assists = getattr(d, "vm_assist", 0)
    if cmd == X.VMASST_CMD_enable:
        d.vm_assist = assists | (1 << type_)
        return 0
    if cmd == X.VMASST_CMD_disable:
        d.vm_assist = assists & ~(1 << type_)
        return 0
    return -E.ENOSYS
