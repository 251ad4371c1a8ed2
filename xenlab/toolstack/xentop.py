"""xentop: the domains' use of the machine, as Xen 3.0.4's batch mode prints it (``xm top``).

Models X@3.0.4-branched:tools/xenstat/xentop/xentop.c over libxenstat. One frame is

    xentop - HH:MM:SS   Xen <version>
    %u domains: %u running, %u blocked, %u paused, %u crashed, %u dying, %u shutdown
    Mem: %lluk total, %lluk used, %lluk free    CPUs: %u @ %lluMHz
          NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS NETS NETTX(k) ...
      Domain-0 -----r          0    1.2      65536   25.0 ...

Columns are right-aligned to their widths and separated by one space. STATE is xentop's own order
``d s b c p r`` (dying, shutdown, blocked, crashed, paused, running), not xm's. CPU(%) needs two
samples: (cpu_ns now - cpu_ns before) / 10 / (microseconds between them), so a domain using one
whole CPU shows 100.0 and an SMP domain can show more; with no earlier sample xentop prints 0.0.

    xentop(machine, delay_ns=3_000_000_000)   sample, run the machine for the delay, sample, print
    xm(machine, "top -d 1 -i 2")              the same through xm (``-v`` adds the VCPUs lines)

The time of day is the machine's wall clock: shared_info's wc_sec at boot (xen/time.py) plus system
time, printed in UTC.

Simplifications:
- The domain list comes from DOM0_GETDOMAININFO (as libxenstat), names from the model's domains.
- NETS/NETTX/NETRX and VBDS/VBD_OO/VBD_RD/VBD_WR come from the back-end drivers' counters
  (xend.devices); 0 when a domain has no devices. SSID is 0 (no ACM policy).
- Sorted by domain id; no interactive keys (batch mode only).
"""
from __future__ import annotations

import time as _time
from dataclasses import dataclass, field

from xenlab.toolstack.xend import dom0_op
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public.xen import SHUTDOWN_crash, XENVER_extraversion, XENVER_version, xen_extraversion_t

NS_PER_S = 1_000_000_000
FALLBACK_BOOT_WALLCLOCK = 1133740800      # 2005-12-05 00:00:00 UTC, if the machine has no wall clock
UNLIMITED_PAGES = 0xFFFFFFFF              # max_pages ~0U: MAXMEM shows "no limit"

# (header, width) in xentop.c's order.
FIELDS = (("NAME", 10), ("STATE", 6), ("CPU(sec)", 10), ("CPU(%)", 6), ("MEM(k)", 10), ("MEM(%)", 6),
          ("MAXMEM(k)", 10), ("MAXMEM(%)", 9), ("VCPUS", 5), ("NETS", 4), ("NETTX(k)", 8), ("NETRX(k)", 8),
          ("VBDS", 4), ("VBD_OO", 8), ("VBD_RD", 8), ("VBD_WR", 8), ("SSID", 4))


@dataclass
class DomainSample:
    domid: int
    name: str
    flags: int
    cpu_ns: int
    tot_pages: int
    max_pages: int
    vcpus: int
    vcpu_ns: list = field(default_factory=list)
    nets: int = 0
    net_tx_bytes: int = 0
    net_rx_bytes: int = 0
    vbds: int = 0
    vbd_oo: int = 0
    vbd_rd: int = 0
    vbd_wr: int = 0


@dataclass
class Sample:
    """One libxenstat snapshot: the node and every domain, at system time ``time_ns``."""
    time_ns: int
    wallclock_s: int
    version: str
    num_cpus: int
    cpu_mhz: int
    tot_mem: int                 # bytes
    free_mem: int
    domains: dict = field(default_factory=dict)       # domid -> DomainSample


def state_string(flags: int) -> str:
    """xentop's STATE: d s b c p r, '-' where false."""
    shutdown = bool(flags & D.DOMFLAGS_SHUTDOWN)
    reason = (flags >> D.DOMFLAGS_SHUTDOWNSHIFT) & D.DOMFLAGS_SHUTDOWNMASK
    crashed = shutdown and reason == SHUTDOWN_crash
    bits = (("d", flags & D.DOMFLAGS_DYING), ("s", shutdown and not crashed),
            ("b", flags & D.DOMFLAGS_BLOCKED), ("c", crashed), ("p", flags & D.DOMFLAGS_PAUSED),
            ("r", flags & D.DOMFLAGS_RUNNING))
    return "".join(ch if on else "-" for ch, on in bits)


def cpu_pct(cpu_ns_before: int, cpu_ns_now: int, elapsed_us: float) -> float:
    """get_cpu_pct(): ns must be *1000 to become us and /100 for a percentage, hence /10."""
    if elapsed_us <= 0:
        return 0.0
    return ((cpu_ns_now - cpu_ns_before) / 10.0) / elapsed_us


def wallclock_seconds(machine) -> int:
    t = getattr(machine, "time", None)
    boot = getattr(t, "wc_sec", None)
    if boot is None:
        boot = FALLBACK_BOOT_WALLCLOCK
    return int(boot) + machine.now // NS_PER_S


def _devices(machine, domid: int):
    dev = getattr(getattr(machine, "xend", None), "devices", None)
    if dev is None:
        return {}, {}
    return dev.vif_stats(domid), dev.vbd_stats(domid)


def domain_infolist(machine, batch: int = 16) -> list:
    """xc_domain_getinfolist: DOM0_GETDOMAININFOLIST in batches until a short one comes back."""
    out, first = [], 0
    while True:
        buf: list = []
        u = D.dom0_getdomaininfolist(first_domain=first, max_domains=batch, buffer=buf)
        if dom0_op(machine, D.DOM0_GETDOMAININFOLIST, u) < 0:
            return out
        out.extend(buf)
        if u.num_domains < batch:
            return out
        first = buf[-1].domain + 1


def domain_name(machine, domid: int) -> str:
    """A domain's name is the toolstack's, kept in XenStore (/local/domain/<id>/name): Xen has none."""
    xend = getattr(machine, "xend", None)
    name = xend.xenstored.tools.read(f"/local/domain/{domid}/name") if xend is not None else None
    return name if isinstance(name, str) else f"Domain-{domid}"


def vcpu_times(machine, domid: int, max_vcpu_id: int) -> list[int]:
    """xc_vcpu_getinfo per vcpu: DOM0_GETVCPUINFO's cpu_time (ns)."""
    times = []
    for vcpu in range(max_vcpu_id + 1):
        u = D.dom0_getvcpuinfo(domain=domid, vcpu=vcpu)
        times.append(u.cpu_time if dom0_op(machine, D.DOM0_GETVCPUINFO, u) == 0 else 0)
    return times


def sample(machine) -> Sample:
    """Read everything xentop shows, through dom0's calls (xenstat_get_node) and XenStore."""
    phys = D.dom0_physinfo()
    dom0_op(machine, D.DOM0_PHYSINFO, phys)
    dom0 = machine.dom0
    ver = dom0.hypercall("xen_version", XENVER_version)
    extra = xen_extraversion_t()
    dom0.hypercall("xen_version", XENVER_extraversion, extra)
    s = Sample(machine.now, wallclock_seconds(machine), f"{ver >> 16}.{ver & 0xFFFF}{extra.extraversion}",
               len(machine.cpus), phys.cpu_khz // 1000, phys.total_pages * 4096, phys.free_pages * 4096)
    for info in domain_infolist(machine):
        vifs, vbds = _devices(machine, info.domain)
        s.domains[info.domain] = DomainSample(
            info.domain, domain_name(machine, info.domain), info.flags, info.cpu_time, info.tot_pages,
            info.max_pages, info.nr_online_vcpus, vcpu_times(machine, info.domain, info.max_vcpu_id),
            nets=len(vifs), net_tx_bytes=sum(st.tx_bytes for st in vifs.values()),
            net_rx_bytes=sum(st.rx_bytes for st in vifs.values()), vbds=len(vbds),
            vbd_oo=sum(st.oo_req for st in vbds.values()), vbd_rd=sum(st.rd_req for st in vbds.values()),
            vbd_wr=sum(st.wr_req for st in vbds.values()))
    return s


def domain_row(cur: Sample, prev: Sample | None, dom: DomainSample) -> dict:
    old = prev.domains.get(dom.domid) if prev is not None else None
    pct = 0.0 if old is None else cpu_pct(old.cpu_ns, dom.cpu_ns, (cur.time_ns - prev.time_ns) / 1000.0)
    mem = dom.tot_pages * 4096
    unlimited = dom.max_pages >= UNLIMITED_PAGES
    return {"domid": dom.domid, "name": dom.name, "state": state_string(dom.flags), "cpu_sec": dom.cpu_ns // NS_PER_S,
            "cpu_pct": pct, "mem_k": mem // 1024, "mem_pct": mem / cur.tot_mem * 100,
            "maxmem_k": None if unlimited else dom.max_pages * 4, "maxmem_pct":
            None if unlimited else dom.max_pages * 4096 / cur.tot_mem * 100, "vcpus": dom.vcpus,
            "nets": dom.nets, "nettx_k": dom.net_tx_bytes // 1024, "netrx_k": dom.net_rx_bytes // 1024,
            "vbds": dom.vbds, "vbd_oo": dom.vbd_oo, "vbd_rd": dom.vbd_rd, "vbd_wr": dom.vbd_wr, "ssid": 0,
            "vcpu_sec": [ns // NS_PER_S for ns in dom.vcpu_ns]}


def format_row(r: dict) -> str:
    cells = ["%10.10s" % r["name"], "%s" % r["state"], "%10d" % r["cpu_sec"], "%6.1f" % r["cpu_pct"],
             "%10d" % r["mem_k"], "%6.1f" % r["mem_pct"],
             "%10s" % "no limit" if r["maxmem_k"] is None else "%10d" % r["maxmem_k"],
             "%9s" % "n/a" if r["maxmem_pct"] is None else "%9.1f" % r["maxmem_pct"],
             "%5d" % r["vcpus"], "%4d" % r["nets"], "%8d" % r["nettx_k"], "%8d" % r["netrx_k"],
             "%4d" % r["vbds"], "%8d" % r["vbd_oo"], "%8d" % r["vbd_rd"], "%8d" % r["vbd_wr"], "%4d" % r["ssid"]]
    return " ".join(cells)


def header_line() -> str:
    return " ".join("%*s" % (width, name) for name, width in FIELDS)


def vcpu_line(r: dict) -> str:
    """do_vcpu(): 'VCPUs(sec): ' then '  N:      secs' per vcpu, five to a line."""
    out = "VCPUs(sec): "
    for i, secs in enumerate(r["vcpu_sec"]):
        if i and i % 5 == 0:
            out += "\n        "
        out += " %2d: %10ds" % (i, secs)
    return out


def summary_lines(cur: Sample) -> list[str]:
    counts = dict.fromkeys(("running", "blocked", "paused", "shutdown", "crashed", "dying"), 0)
    for dom in cur.domains.values():
        f = dom.flags
        shutdown = bool(f & D.DOMFLAGS_SHUTDOWN)
        crashed = shutdown and ((f >> D.DOMFLAGS_SHUTDOWNSHIFT) & 0xFF) == SHUTDOWN_crash
        for key, on in (("running", f & D.DOMFLAGS_RUNNING), ("blocked", f & D.DOMFLAGS_BLOCKED),
                        ("paused", f & D.DOMFLAGS_PAUSED), ("shutdown", shutdown and not crashed),
                        ("crashed", crashed), ("dying", f & D.DOMFLAGS_DYING)):
            if on:
                counts[key] += 1
                break
    hms = _time.strftime("%H:%M:%S", _time.gmtime(cur.wallclock_s))
    used = cur.tot_mem - cur.free_mem
    return [f"xentop - {hms}   Xen {cur.version}",
            (f"{len(cur.domains)} domains: {counts['running']} running, {counts['blocked']} blocked, "
             f"{counts['paused']} paused, {counts['crashed']} crashed, {counts['dying']} dying, "
             f"{counts['shutdown']} shutdown "),
            f"Mem: {cur.tot_mem // 1024}k total, {used // 1024}k used, {cur.free_mem // 1024}k free    "
            f"CPUs: {cur.num_cpus} @ {cur.cpu_mhz}MHz"]


def frame(cur: Sample, prev: Sample | None = None, vcpus: bool = False) -> tuple[list[dict], str]:
    """One xentop screen: rows (dicts) and the exact text."""
    rows = [domain_row(cur, prev, dom) for _, dom in sorted(cur.domains.items())]
    lines = summary_lines(cur) + [header_line()]
    for r in rows:
        lines.append(format_row(r))
        if vcpus:
            lines.append(vcpu_line(r))
    return rows, "\n".join(lines)


@dataclass
class XentopResult:
    rows: list
    text: str
    samples: list

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def xentop(machine, delay_ns: int = 3 * NS_PER_S, iterations: int = 1, vcpus: bool = False,
           prev: Sample | None = None) -> XentopResult:
    """Batch mode: take a first sample (or use ``prev``), then ``iterations`` frames ``delay_ns`` apart.

    The machine runs for ``delay_ns`` of simulated time before each printed frame, so CPU(%) is
    measured over that interval (as ``xentop -b -d SECONDS``, whose first screen would show 0.0).
    """
    if delay_ns < 0 or iterations < 1:
        raise ValueError("delay_ns must be >= 0 and iterations >= 1")
    samples = [prev if prev is not None else sample(machine)]
    frames, rows = [], []
    for _ in range(iterations):
        if delay_ns:
            machine.run_for(delay_ns)
        samples.append(sample(machine))
        rows, text = frame(samples[-1], samples[-2], vcpus)
        frames.append(text)
    return XentopResult(rows, "\n\n".join(frames), samples)


def _register_xm() -> None:
    from xenlab.toolstack.xm import XmError, XmResult, command

    @command("top")
    def cmd_top(machine, args) -> XmResult:
        delay_s, iters, show_vcpus = 3.0, 1, False
        it = iter(args)
        try:
            for a in it:
                if a in ("-d", "--delay"):
                    delay_s = float(next(it))
                elif a in ("-i", "--iterations"):
                    iters = int(next(it))
                elif a in ("-v", "--vcpus"):
                    show_vcpus = True
                elif a in ("-b", "--batch", "-n", "--networks", "-x", "--vbds", "-r", "--repeat-header"):
                    continue                       # batch mode is the only mode; -n/-x lines not modelled
                else:
                    raise XmError(f"Error: unknown option {a}. Usage: xm top [-d SECONDS] [-i N] [-v]")
        except (StopIteration, ValueError):
            raise XmError("Error: -d needs seconds and -i a whole number. Usage: xm top [-d SECONDS] [-i N] [-v]") from None
        if delay_s < 0 or iters < 1:
            raise XmError("Error: the delay must be >= 0 and the iterations >= 1")
        res = xentop(machine, int(delay_s * NS_PER_S), iters, show_vcpus)
        return XmResult("top", res.text, res.rows)


_register_xm()
