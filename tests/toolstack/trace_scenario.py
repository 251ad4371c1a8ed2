"""Run one seeded scenario and print its whole trace, one event per line (used by test_determinism.py).

    python trace_scenario.py SEED DIR

Block and network traffic (a disk image in DIR, pings between guests and to the host outside), a
save/restore round trip and a two-CPU Credit run, all recorded from the first hypercall on.
"""
import io
import os
import sys

import xenlab
from xenlab.toolstack.restore import restore_domain
from xenlab.toolstack.save import save_domain

MS = 1_000_000


def run(seed: int, folder: str) -> list:
    img = os.path.join(folder, "disk.img")
    with open(img, "wb") as f:
        f.write(bytes((i * 7 + i // 512) & 0xFF for i in range(256 * 512)))
    m = xenlab.Machine(memory_mb=64, seed=seed)
    with m.trace.record() as events:
        a = m.create_domain(xenlab.DomainConfig(name="a", memory=8, disk=[f"file:{img},xvda,w"], vif=["rx=copy"]))
        b = m.create_domain(xenlab.DomainConfig(name="b", memory=8, vif=["ip=10.0.0.77, rx=flip"]))
        c = m.create_domain(xenlab.DomainConfig(name="c", memory=4, workload=[("dirty", 2000, 64),
                                                                              ("compute", 3 * MS), ("loop", 1, None)]))
        vbd = a.kernel.vbds["xvda"]
        vbd.write(3, bytes(range(256)) * 20)
        a.kernel.net.ping("10.0.0.77", 300)
        m.run_for(10 * MS)
        vbd.read(0, 40)
        b.kernel.net.ping("10.0.0.1", 100)
        m.xend.devices.outside.ping("10.0.0.77")
        m.run_for(10 * MS)
        image = io.BytesIO()
        save_domain(m, c, image)
        image.seek(0)
        restore_domain(m, image)
        m.run_for(10 * MS)
    # Two pCPUs under Credit with a CPU hog and an interactive guest: scheduling decisions, migrations
    # between runqueues and timers, in the same trace.
    smp = xenlab.Machine(cpus=2, memory_mb=64, seed=seed)
    with smp.trace.record() as more:
        xenlab.xm(smp, "create name=hog memory=8 vcpus=2 workload='cpu-bound'")
        xenlab.xm(smp, "create name=shell memory=8 workload='interactive' cpu_weight=512")
        smp.run_for(60 * MS)
    return events + more


def serialise(events) -> str:
    return "\n".join(repr((e.seq, e.time, e.pcpu, e.domid, e.vcpu, e.cls, e.name, e.payload, e.cause))
                     for e in events)


if __name__ == "__main__":
    sys.stdout.write(serialise(run(int(sys.argv[1]), sys.argv[2])))
