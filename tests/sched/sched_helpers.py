"""Shared set-up for the scheduler tests: a machine, some domains, a recorder."""
import xenlab
from xenlab.guest.workload import cpu_bound
from xenlab.sched_lab import SchedRecorder

MS = 1_000_000
S = 1_000_000_000


def machine_with(sched, specs, cpus=1, seed=0):
    """specs: [(name, workload, DomainConfig kwargs)]. Returns (machine, [domains], recorder)."""
    m = xenlab.Machine(sched=sched, cpus=cpus, seed=seed, memory_mb=128)
    doms = [m.create_domain(xenlab.DomainConfig(name=n, memory=16, workload=w or cpu_bound(), **kw))
            for n, w, kw in specs]
    rec = SchedRecorder(m)
    return m, doms, rec


def share(d, seconds):
    return d.cpu_time / (seconds * S)
