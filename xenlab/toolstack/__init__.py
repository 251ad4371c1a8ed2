"""The toolstack: xend and xm, acting on Xen through dom0's privileged hypercalls."""
from xenlab.toolstack.xm import XmError, XmResult, xm  # noqa: F401
