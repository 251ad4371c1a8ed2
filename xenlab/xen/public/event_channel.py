"""Event-channel ABI (X@RELEASE-3.0.0:xen/include/public/event_channel.h; unmask from 3.0.2).

3.0.0 takes one ``evtchn_op_t {cmd; union u}`` argument through hypercall 16; from 3.0.3 the call is
``event_channel_op(cmd, arg)``. The model accepts both forms.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from xenlab.xen.public.cstruct import CStruct, StructLayout, UnionLayout
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
class evtchn_alloc_unbound(CStruct):
    dom: int = DOMID_SELF
    remote_dom: int = DOMID_SELF
    port: int = 0                   # OUT
    LAYOUT: ClassVar = StructLayout("evtchn_alloc_unbound", [("dom", "domid_t"), ("remote_dom", "domid_t"), ("port", "evtchn_port_t")])


@dataclass
class evtchn_bind_interdomain(CStruct):
    remote_dom: int = DOMID_SELF
    remote_port: int = 0
    local_port: int = 0             # OUT
    LAYOUT: ClassVar = StructLayout("evtchn_bind_interdomain", [("remote_dom", "domid_t"), ("remote_port", "evtchn_port_t"), ("local_port", "evtchn_port_t")])


@dataclass
class evtchn_bind_virq(CStruct):
    virq: int = 0
    vcpu: int = 0
    port: int = 0                   # OUT
    LAYOUT: ClassVar = StructLayout("evtchn_bind_virq", [("virq", "uint32_t"), ("vcpu", "uint32_t"), ("port", "evtchn_port_t")])


@dataclass
class evtchn_bind_pirq(CStruct):
    pirq: int = 0
    flags: int = 0
    port: int = 0                   # OUT
    LAYOUT: ClassVar = StructLayout("evtchn_bind_pirq", [("pirq", "uint32_t"), ("flags", "uint32_t"), ("port", "evtchn_port_t")])


@dataclass
class evtchn_bind_ipi(CStruct):
    vcpu: int = 0
    port: int = 0                   # OUT
    LAYOUT: ClassVar = StructLayout("evtchn_bind_ipi", [("vcpu", "uint32_t"), ("port", "evtchn_port_t")])


@dataclass
class evtchn_close(CStruct):
    port: int = 0
    LAYOUT: ClassVar = StructLayout("evtchn_close", [("port", "evtchn_port_t")])


@dataclass
class evtchn_send(CStruct):
    port: int = 0
    LAYOUT: ClassVar = StructLayout("evtchn_send", [("port", "evtchn_port_t")])


@dataclass
class evtchn_status:
    dom: int = DOMID_SELF
    port: int = 0
    status: int = 0                 # OUT: EVTCHNSTAT_*
    vcpu: int = 0                   # OUT
    u: dict = field(default_factory=dict)   # OUT: unbound{dom}, interdomain{dom,port}, pirq, virq
    LAYOUT: ClassVar = StructLayout("evtchn_status", [
        ("dom", "domid_t"), ("port", "evtchn_port_t"), ("status", "uint32_t"), ("vcpu", "uint32_t"),
        ("u", UnionLayout("evtchn_status.u", [
            ("unbound", StructLayout("evtchn_status.u.unbound", [("dom", "domid_t")], inline=True)),
            ("interdomain", StructLayout("evtchn_status.u.interdomain",
                                         [("dom", "domid_t"), ("port", "evtchn_port_t")], inline=True)),
            ("pirq", "uint32_t"), ("virq", "uint32_t")]))])


@dataclass
class evtchn_bind_vcpu(CStruct):
    port: int = 0
    vcpu: int = 0
    LAYOUT: ClassVar = StructLayout("evtchn_bind_vcpu", [("port", "evtchn_port_t"), ("vcpu", "uint32_t")])


@dataclass
class evtchn_unmask(CStruct):
    port: int = 0
    LAYOUT: ClassVar = StructLayout("evtchn_unmask", [("port", "evtchn_port_t")])


@dataclass
class evtchn_op:
    """evtchn_op_t of Xen 3.0.0: a command and the matching struct."""
    cmd: int
    u: Any
    # evtchn_unmask is not in 3.0.0's union (3.0.2 added EVTCHNOP_unmask): 3.0.0's layout here.
    LAYOUT: ClassVar = StructLayout("evtchn_op", [
        ("cmd", "uint32_t"),
        ("u", UnionLayout("evtchn_op.u", [
            ("alloc_unbound", evtchn_alloc_unbound), ("bind_interdomain", evtchn_bind_interdomain),
            ("bind_virq", evtchn_bind_virq), ("bind_pirq", evtchn_bind_pirq), ("bind_ipi", evtchn_bind_ipi),
            ("close", evtchn_close), ("send", evtchn_send), ("status", evtchn_status.LAYOUT),
            ("bind_vcpu", evtchn_bind_vcpu)]))])

    def pack(self, arch: str = "x86_32") -> bytes:
        """evtchn_op_t's bytes as a 3.0.0 guest passes them: cmd, then the union with ``u`` live."""
        union = self.LAYOUT.members[1][1]
        return self.LAYOUT.pack([self.cmd, union.arm(UNION_ARM_OF_CMD[self.cmd], self.u._values(), arch)], arch)


# EVTCHNOP_* -> the member of evtchn_op_t's union it uses (3.0.0 has no unmask member)
UNION_ARM_OF_CMD = {EVTCHNOP_bind_interdomain: "bind_interdomain", EVTCHNOP_bind_virq: "bind_virq",
                 EVTCHNOP_bind_pirq: "bind_pirq", EVTCHNOP_close: "close", EVTCHNOP_send: "send",
                 EVTCHNOP_status: "status", EVTCHNOP_alloc_unbound: "alloc_unbound",
                 EVTCHNOP_bind_ipi: "bind_ipi", EVTCHNOP_bind_vcpu: "bind_vcpu"}
