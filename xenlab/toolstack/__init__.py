"""The toolstack: xend and xm, acting on Xen through dom0's privileged hypercalls."""
from xenlab.toolstack.xm import XmError, XmResult, xm  # noqa: F401
from xenlab.toolstack import checkpoint, migrate, restore, save, xentop  # noqa: F401,E402  (xm save/restore/migrate/top)
from xenlab.toolstack import xm_sched  # noqa: F401,E402  (sched-credit, sched-sedf, sched-bvt ...)
from xenlab.toolstack import xl_sched  # noqa: F401,E402  (xl sched-credit2, sched-rtds)
from xenlab.toolstack import xm_vcpu  # noqa: F401,E402  (vcpu-list, vcpu-pin)
