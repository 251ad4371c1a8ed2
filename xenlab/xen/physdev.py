"""physdev_op: the guest's access to physical devices (X@RELEASE-3.0.0:xen/arch/x86/physdev.c).

Only what the CPU chapter needs: SET_IOPL, with which dom0's kernel asks Xen to emulate its IN/OUT
instructions (a PV kernel in ring 1 always faults on them; Xen checks the virtual IOPL and the
domain's I/O-port permissions in its #GP handler), and IRQ_STATUS_QUERY.

Simplifications:
- 3.0 passes one ``physdev_op_t {cmd; union}``; the model takes ``physdev_op(cmd, arg)`` (3.0.3+ form).
- dom0 may access every I/O port; other domains none (no ioport_permission ranges).
- The other 3.0.0 commands are not modelled and return -ENOSYS (an unknown command gets Xen's -EINVAL): IRQ_UNMASK_NOTIFY, SET_IOBITMAP,
  APIC_READ/APIC_WRITE, ASSIGN_VECTOR (xen/include/public/physdev.h). They serve dom0's real interrupt
  controllers and device drivers; the model's dom0 has no physical devices (its back ends serve
  disk images and a bridge in memory), so no driver of it needs them. A PIRQ bound with
  EVTCHNOP_bind_pirq would need IRQ_UNMASK_NOTIFY; the model binds none.
"""
from __future__ import annotations

from xenlab.xen.hypercall import hypercall
from xenlab.xen.public import errno as E
from xenlab.xen.public.physdev import (PHYSDEVOP_irq_status_query, PHYSDEVOP_set_iopl,  # noqa: F401
                                       XENIRQSTAT_needs_eoi, physdev_irq_status_query, physdev_set_iopl)
from xenlab.xen.traps import arch

# IRQ_UNMASK_NOTIFY 4, SET_IOBITMAP 7, APIC_READ 8, APIC_WRITE 9, ASSIGN_VECTOR 10 (public/physdev.h)
UNMODELLED = frozenset({4, 7, 8, 9, 10})


@hypercall("physdev_op")
def do_physdev_op(current, cmd: int, arg=None) -> int:
    if cmd == PHYSDEVOP_set_iopl:
        if not isinstance(arg, physdev_set_iopl):
            return -E.EFAULT
        if not 0 <= arg.iopl <= 3:
            return -E.EINVAL
        arch(current).iopl = arg.iopl
        return 0
    if cmd == PHYSDEVOP_irq_status_query:
        if not isinstance(arg, physdev_irq_status_query):
            return -E.EFAULT
        if not 0 <= arg.irq < 256:
            return -E.EINVAL
        arg.flags = 0
        return 0
    if cmd in UNMODELLED:
        return -E.ENOSYS                 # a real 3.0.0 command the model does not offer (see Simplifications)
    return -E.EINVAL                     # physdev.c's `default: ret = -EINVAL;`
