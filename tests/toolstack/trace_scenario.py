"""Run one seeded scenario and print its whole trace, one event per line (used by test_determinism.py).

    python trace_scenario.py SEED DIR

Block and network traffic (a disk image in DIR, pings between guests and to the host outside) and a
save/restore round trip, all recorded from the first hypercall on.
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
    return events


def serialise(events) -> str:
    return "\n".join(repr((e.seq, e.time, e.pcpu, e.domid, e.vcpu, e.cls, e.name, e.payload, e.cause))
                     for e in events)


if __name__ == "__main__":
    sys.stdout.write(serialise(run(int(sys.argv[1]), sys.argv[2])))
