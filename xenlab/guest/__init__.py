"""Guest kernels: a paravirtualised XenLinux-like kernel and an unmodified (HVM) guest."""
from xenlab.guest.workload import Program, cpu_bound, idle, interactive, periodic  # noqa: F401


def make_kernel(d):
    from xenlab.guest.xenlinux import HVMGuest, XenLinux
    return (HVMGuest if d.kind == "hvm" else XenLinux)(d)
