"""xenlab: an interactive course on the Xen hypervisor, built on a runnable model of Xen.

    >>> import xenlab
    >>> m = xenlab.Machine(seed=0)
    >>> xenlab.xm(m, "create name=web memory=64")
    >>> print(xenlab.xm(m, "list"))

Importing xenlab imports the model only (numpy and the standard library): no Jupyter packages.
"""
__version__ = "0.1.0"

from xenlab.machine import Machine, StepRecord  # noqa: E402
from xenlab.xen.domain import Domain, DomainConfig, DomainCreateError, Vcpu  # noqa: E402
from xenlab.toolstack.xm import XmError, XmResult, xm  # noqa: E402

__all__ = ["Machine", "StepRecord", "Domain", "DomainConfig", "DomainCreateError", "Vcpu",
           "xm", "XmError", "XmResult", "__version__"]
