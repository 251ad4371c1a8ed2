"""Measuring what a scheduler delivers, from the SCHED trace (the way xentrace + xenalyze do it).

A :class:`SchedRecorder` subscribes to the machine's trace bus and keeps plain lists: who ran on
each pCPU from when to when (and why it was picked), wake-ups, and workload marks. Pure functions
turn those into the numbers a chapter needs:

- :func:`shares`: CPU time of each domain over a window, as a fraction of one pCPU;
- :func:`wake_latencies`: for every wake-up, the time until the vcpu is next switched in;
- :func:`deadline_misses`: for periodic workloads (``guest.workload.periodic``), jobs that finished
  later than one period after their release;
- :func:`context_switches`: how often each domain was switched in;
- :func:`window_times`: CPU time of one domain in consecutive periods (does it get its slice?).

The promised share is ``sched.promise``: what the scheduler's rule gives each domain when it is
capped at its demand (its workload's compute fraction, ``guest.workload.compute_fraction``) and the
rest is handed on by the same rule; for a scheduler whose rule the model does not know, the
entitlement if every domain were CPU-bound, and the table says so.

``run_experiment`` builds a machine, creates the domains, runs it and returns a :class:`Report`.

This module sits above the model (it builds machines and reads guest workloads), so it lives at the top
of the package, not in xen/sched/: Xen's schedulers know nothing of the guests' programs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xenlab.guest.workload import Program

MS = 1_000_000


@dataclass
class Interval:
    """One stretch of a pCPU running one vcpu (domid None = idle)."""
    pcpu: int
    start: int
    end: int
    domid: int | None
    vcpu: int | None
    reason: str = ""
    decision: dict | None = None

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass
class SchedRecorder:
    """Collects intervals, wake-ups and marks from the SCHED trace class."""
    machine: object
    intervals: list = field(default_factory=list)      # finished Intervals
    open: dict = field(default_factory=dict)           # pcpu -> Interval still running
    wakes: list = field(default_factory=list)          # (time, domid, vcpu)
    marks: list = field(default_factory=list)          # (time, domid, vcpu, mark)
    decisions: list = field(default_factory=list)      # (time, pcpu, domid, vcpu, reason, decision, switched)
    _unsubscribe: object = None

    def __post_init__(self):
        now = self.machine.now
        for pcpu in self.machine.cpus:
            cur = pcpu.curr
            self.open[pcpu.id] = Interval(pcpu.id, now, now, cur.domid, None if cur.is_idle else cur.vcpu_id,
                                          "running when recording began")
        self._unsubscribe = self.machine.trace.subscribe(self._on_event, classes="SCHED")

    def _on_event(self, ev) -> None:
        name = ev.name
        if name == "switch" or name == "continue":
            data = dict(ev.payload)
            decision = dict(data["decision"]) if data.get("decision") else None
            self.decisions.append((ev.time, ev.pcpu, ev.domid, ev.vcpu, data.get("reason", ""), decision,
                                   name == "switch"))
            if name == "switch":
                old = self.open.get(ev.pcpu)
                if old is not None:
                    old.end = ev.time
                    if old.end > old.start:
                        self.intervals.append(old)
                self.open[ev.pcpu] = Interval(ev.pcpu, ev.time, ev.time, ev.domid, ev.vcpu,
                                              data.get("reason", ""), decision)
        elif name == "wake":
            if not any(i.domid == ev.domid and i.vcpu == ev.vcpu for i in self.open.values()):
                self.wakes.append((ev.time, ev.domid, ev.vcpu))      # not woken while still on a pCPU
        elif name == "mark":
            self.marks.append((ev.time, ev.domid, ev.vcpu, ev["mark"]))

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def all_intervals(self, now: int | None = None) -> list:
        """Finished intervals plus the running ones, cut at ``now``."""
        now = self.machine.now if now is None else now
        tail = [Interval(i.pcpu, i.start, now, i.domid, i.vcpu, i.reason, i.decision)
                for i in self.open.values() if now > i.start]
        return self.intervals + tail


# -- pure functions over recorded data ------------------------------------------------------------------
def shares(intervals, t0: int, t1: int) -> dict:
    """domid -> CPU time in [t0, t1) as a fraction of one pCPU (idle excluded)."""
    span = t1 - t0
    out: dict = {}
    for i in intervals:
        if i.domid is None:
            continue
        overlap = min(i.end, t1) - max(i.start, t0)
        if overlap > 0:
            out[i.domid] = out.get(i.domid, 0) + overlap
    return {d: t / span for d, t in sorted(out.items())}


def window_times(intervals, domid: int, start: int, period: int, count: int) -> list:
    """CPU time (ns) of ``domid`` in each of ``count`` windows [start + k*period, start + (k+1)*period)."""
    out = [0] * count
    for i in intervals:
        if i.domid != domid:
            continue
        k0 = max(0, (i.start - start) // period)
        k1 = min(count - 1, (i.end - 1 - start) // period)
        for k in range(k0, k1 + 1):
            w0, w1 = start + k * period, start + (k + 1) * period
            overlap = min(i.end, w1) - max(i.start, w0)
            if overlap > 0:
                out[k] += overlap
    return out


def wake_latencies(wakes, intervals) -> dict:
    """domid -> [ns from each wake-up to the vcpu's next switch-in], in wake order."""
    starts: dict = {}
    for i in intervals:
        if i.domid is not None:
            starts.setdefault((i.domid, i.vcpu), []).append(i.start)
    for lst in starts.values():
        lst.sort()
    out: dict = {}
    import bisect
    for t, domid, vcpu in wakes:
        lst = starts.get((domid, vcpu), [])
        k = bisect.bisect_left(lst, t)
        if k < len(lst):
            out.setdefault(domid, []).append(lst[k] - t)
    return out


def deadline_misses(marks, period_of: dict) -> dict:
    """domid -> (jobs, misses) for periodic domains: a job misses if done > release + period."""
    out: dict = {}
    release: dict = {}
    for t, domid, vcpu, mark in marks:
        if domid not in period_of:
            continue
        key = (domid, vcpu)
        if mark == "release":
            release[key] = t
        elif mark == "done" and key in release:
            jobs, misses = out.get(domid, (0, 0))
            out[domid] = (jobs + 1, misses + (t - release.pop(key) > period_of[domid]))
    return out


def context_switches(intervals) -> dict:
    out: dict = {}
    for i in intervals:
        if i.domid is not None and i.reason != "running when recording began":
            out[i.domid] = out.get(i.domid, 0) + 1
    return out


def periodic_period(program: Program) -> int | None:
    """The period of a ``workload.periodic`` program (compute + sleep), else None."""
    ops = program.ops
    computes = [op[1] for op in ops if op[0] == "compute"]
    sleeps = [op[1] for op in ops if op[0] == "sleep"]
    if any(op[0] == "mark" for op in ops) and len(computes) == 1 and len(sleeps) == 1:
        return computes[0] + sleeps[0]
    return None


# -- experiments ------------------------------------------------------------------------------------------
@dataclass
class Report:
    sched: str
    duration: int
    domids: dict                    # name -> domid
    achieved: dict                  # domid -> share of one pCPU
    promised: dict                  # domid -> share of one pCPU
    latencies: dict                 # domid -> [ns]
    misses: dict                    # domid -> (jobs, misses)
    switches: dict                  # domid -> count
    intervals: list
    decisions: list
    demand: dict = field(default_factory=dict)       # domid -> compute fraction of its workload (None: unknown)
    promised_kind: str = "demand"    # "demand": capped at each demand; "cpu-bound": entitlement if CPU-bound

    def table(self) -> str:
        lines = [f"{'domain':<12} {'demand':>7} {'promised':>9} {'achieved':>9} {'switches':>9} {'lat p50':>9} "
                 f"{'lat max':>9} {'misses':>9}"]
        for name, domid in self.domids.items():
            lat = sorted(self.latencies.get(domid, []))
            p50 = f"{lat[len(lat) // 2] / 1e6:.2f}ms" if lat else "-"
            mx = f"{lat[-1] / 1e6:.2f}ms" if lat else "-"
            jobs, miss = self.misses.get(domid, (0, 0))
            want = self.demand.get(domid)
            lines.append(f"{name:<12} {(f'{want:.3f}' if want is not None else '-'):>7} "
                         f"{self.promised.get(domid, 0):>9.3f} {self.achieved.get(domid, 0):>9.3f} "
                         f"{self.switches.get(domid, 0):>9} {p50:>9} {mx:>9} "
                         f"{(f'{miss}/{jobs}' if jobs else '-'):>9}")
        if self.promised_kind == "cpu-bound":
            lines.append("(promised: the entitlement if CPU-bound; this scheduler's rule for lighter domains is unknown)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Report sched={self.sched} {self.duration / 1e9:g}s>\n{self.table()}"


def run_experiment(sched: str, domains: list, duration_ns: int = 1000 * MS, cpus: int = 1, seed: int = 0,
                   warmup_ns: int = 0):
    """Create ``domains`` (DomainConfig list) on a fresh machine, run, measure. Returns (machine, Report)."""
    from xenlab.machine import Machine
    m = Machine(cpus=cpus, sched=sched, seed=seed, memory_mb=max(64, 32 + 16 * len(domains)))
    made = [m.create_domain(cfg) for cfg in domains]
    if warmup_ns:
        m.run_for(warmup_ns)
    rec = SchedRecorder(m)
    t0 = m.now
    m.run_for(duration_ns)
    rec.stop()
    return m, report_from(m, rec, made, t0)


def report_from(m, rec: SchedRecorder, made: list, t0: int) -> Report:
    intervals = rec.all_intervals()
    from xenlab.guest.workload import compute_fraction
    from xenlab.xen.sched import promise
    periods, demand = {}, {}
    for d in made:
        kernel = d.kernel
        p = periodic_period(kernel.program) if kernel is not None else None
        if p:
            periods[d.domain_id] = p
        demand[d.domain_id] = compute_fraction(kernel.program) if kernel is not None else None
    promised = promise(m.scheduler, made, demand)
    return Report(m.scheduler.opt_name, m.now - t0, {d.name: d.domain_id for d in made},
                  shares(intervals, t0, m.now), promised.shares,
                  wake_latencies(rec.wakes, intervals), deadline_misses(rec.marks, periods),
                  context_switches(intervals), intervals, rec.decisions, demand, promised.kind)
