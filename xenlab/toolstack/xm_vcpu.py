"""xm vcpu-list and xm vcpu-pin (X@RELEASE-3.0.0:tools/python/xen/xm/main.py: xm_vcpu_list, xm_vcpu_pin;
xend's getVCPUInfo and domain_pincpu).

Both go through Xen's interface only: the domain is found by its name in XenStore and by
DOM0_GETDOMAININFOLIST, each vcpu is read with DOM0_GETVCPUINFO (xc.vcpu_getinfo) and pinned with
DOM0_PINCPUDOMAIN (xc.domain_pincpu).

The listing is 3.0.0's: ``%(name)-32s %(domid)3d  %(number)4d  %(c)3s   %(s)-3s   %(cpu_time)7.1f  %(cpumap)s``;
State is r/- (running), b/- (blocked) and -, or ``--p`` for an offline vcpu, whose CPU shows ``-``; the
affinity folds the cpumap modulo the number of CPUs and prints ``any cpu`` when that covers them all.
"""
from __future__ import annotations

from xenlab.toolstack.xend import dom0_op
from xenlab.toolstack.xentop import domain_infolist, domain_name
from xenlab.toolstack.xm import XmError, XmResult, command
from xenlab.xen.public import dom0_ops as D

HEADER = "Name                              ID  VCPU  CPU  State  Time(s)  CPU Affinity"


def resolve_domid(machine, ident: str) -> int:
    """A name (from XenStore) or a numeric domid, checked against DOM0_GETDOMAININFOLIST."""
    infos = domain_infolist(machine)
    ids = [i.domain for i in infos]
    if ident.isdigit() and int(ident) in ids:
        return int(ident)
    for domid in ids:
        if domain_name(machine, domid) == ident:
            return domid
    raise XmError(f"Error: Domain '{ident}' does not exist.")


def cpumap_list(cpumap: int) -> list[int]:
    """xc.vcpu_getinfo's cpumap: the numbers of the set bits (64 bits of cpumap_t)."""
    return [i for i in range(64) if cpumap >> i & 1]


def format_cpumap(cpus: list[int], nr_cpus: int) -> str:
    """Fold modulo nr_cpus; 'any cpu' if all of them; else ranges like 0-1,3."""
    folded = sorted({c % nr_cpus for c in cpus})
    if len(folded) == nr_cpus:
        return "any cpu"
    if not folded:
        return "no cpus"
    pairs, start = [], folded[0]
    for a, b in zip(folded, folded[1:] + [None]):
        if b is None or b - a > 1:
            pairs.append(f"{start}" if start == a else f"{start}-{a}")
            start = b
    return ",".join(pairs)


def cpu_make_map(spec: str) -> list[int]:
    """'0-2,5' -> [0, 1, 2, 5], as xm's cpu_make_map."""
    cpus = []
    try:
        for part in spec.split(","):
            if "-" in part:
                lo, hi = part.split("-")
                cpus.extend(range(int(lo), int(hi) + 1))
            else:
                cpus.append(int(part))
    except ValueError:
        raise XmError(f"Error: invalid CPU list {spec!r} (use e.g. 0-1,3)") from None
    if any(c < 0 or c > 31 for c in cpus):
        raise XmError(f"Error: invalid CPU list {spec!r}: CPUs are numbered 0 to 31")
    return sorted(cpus)


@command("vcpu-list")
def cmd_vcpu_list(machine, args) -> XmResult:
    phys = D.dom0_physinfo()
    dom0_op(machine, D.DOM0_PHYSINFO, phys)
    nr_cpus = phys.threads_per_core * phys.cores_per_socket * phys.sockets_per_node * phys.nr_nodes
    wanted = [resolve_domid(machine, a) for a in args] if args else [i.domain for i in domain_infolist(machine)]
    infos = {i.domain: i for i in domain_infolist(machine)}
    lines, rows = [HEADER], []
    for domid in wanted:
        name = domain_name(machine, domid)
        for number in range(infos[domid].max_vcpu_id + 1):
            u = D.dom0_getvcpuinfo(domain=domid, vcpu=number)
            if dom0_op(machine, D.DOM0_GETVCPUINFO, u) < 0:
                continue
            if u.online:
                c, s = str(u.cpu), ("r" if u.running else "-") + ("b" if u.blocked else "-") + "-"
            else:
                c, s = "-", "--p"
            affinity = format_cpumap(cpumap_list(u.cpumap), nr_cpus)
            cpu_time = u.cpu_time / 1e9
            lines.append(f"{name:<32s} {domid:3d}  {number:4d}  {c:>3s}   {s:<3s}   {cpu_time:7.1f}  {affinity}")
            rows.append({"name": name, "domid": domid, "vcpu": number, "cpu": None if c == "-" else u.cpu,
                         "state": s, "time_s": round(cpu_time, 1), "affinity": affinity})
    return XmResult("", "\n".join(lines), rows)


@command("vcpu-pin")
def cmd_vcpu_pin(machine, args) -> XmResult:
    if len(args) != 3:
        raise XmError("Error: 'xm vcpu-pin' requires 3 arguments. Usage: xm vcpu-pin <DomId> <VCPU> <CPUs>")
    domid = resolve_domid(machine, args[0])
    if not args[1].isdigit():
        raise XmError(f"Error: invalid VCPU number {args[1]!r}")
    cpumap = sum(1 << c for c in cpu_make_map(args[2]))
    rc = dom0_op(machine, D.DOM0_PINCPUDOMAIN, D.dom0_pincpudomain(domid, int(args[1]), cpumap))
    if rc < 0:
        raise XmError(f"Error: Cannot pin vcpu: {args[1]} to cpu: {args[2]} ({rc})")
    return XmResult("", "", [])
