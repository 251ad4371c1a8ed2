"""Event-channel ABI (X@RELEASE-3.0.0:xen/include/public/event_channel.h; unmask from 3.0.2).

3.0.0 takes one ``evtchn_op_t {cmd; union u}`` argument through hypercall 16; from 3.0.3 the call is
``event_channel_op(cmd, arg)``. The model accepts both forms.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xenlab.xen.public.xen import DOMID_SELF

EVTCHNOP_bind_interdomain = 0
EVTCHNOP_bind_virq = 1
EVTCHNOP_bind_pirq = 2
EVTCHNOP_close = 3
EVTCHNOP_send = 4
EVTCHNOP_status = 5
EVTCHNOP_alloc_unbound = 6
EVTCHNOP_bind_ipi = 7
EVTCHNOP_bind_vcpu = 8
EVTCHNOP_unmask = 9

EVTCHNSTAT_closed = 0
EVTCHNSTAT_unbound = 1
EVTCHNSTAT_interdomain = 2
EVTCHNSTAT_pirq = 3
EVTCHNSTAT_virq = 4
EVTCHNSTAT_ipi = 5

BIND_PIRQ__WILL_SHARE = 1


@dataclass
class evtchn_alloc_unbound:
    dom: int = DOMID_SELF
    remote_dom: int = DOMID_SELF
    port: int = 0                   # OUT


@dataclass
class evtchn_bind_interdomain:
    remote_dom: int = DOMID_SELF
    remote_port: int = 0
    local_port: int = 0             # OUT


@dataclass
class evtchn_bind_virq:
    virq: int = 0
    vcpu: int = 0
    port: int = 0                   # OUT


@dataclass
class evtchn_bind_pirq:
    pirq: int = 0
    flags: int = 0
    port: int = 0                   # OUT


@dataclass
class evtchn_bind_ipi:
    vcpu: int = 0
    port: int = 0                   # OUT


@dataclass
class evtchn_close:
    port: int = 0


@dataclass
class evtchn_send:
    port: int = 0


@dataclass
class evtchn_status:
    dom: int = DOMID_SELF
    port: int = 0
    status: int = 0                 # OUT: EVTCHNSTAT_*
    vcpu: int = 0                   # OUT
    u: dict = field(default_factory=dict)   # OUT: unbound{dom}, interdomain{dom,port}, pirq, virq


@dataclass
class evtchn_bind_vcpu:
    port: int = 0
    vcpu: int = 0


@dataclass
class evtchn_unmask:
    port: int = 0


@dataclass
class evtchn_op:
    """evtchn_op_t of Xen 3.0.0: a command and the matching struct."""
    cmd: int
    u: Any
