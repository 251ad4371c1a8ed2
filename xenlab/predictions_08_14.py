"""The model runs behind the predict-then-reveal cells of chapters 8-14.

Each function builds its own small, seeded scenario (so a prediction's answer does not depend on what
else the notebook ran, or in which order) and returns ``{"answer": ..., **numbers}``: the answer the
student's prediction is checked against, plus the numbers the explanation quotes. A notebook cell calls
one lazily, ``xenlab.predict(qid, lambda: P.paused_clocks(ms), ...)``, so the model runs only after the
student has committed to an answer. The texts are ``learn.<qid>.*`` in i18n/catalogues/learn_08_14.py.
"""
from __future__ import annotations

import pathlib
import tempfile

MS = 1_000_000


# -- chapter 8: time --------------------------------------------------------------------------------
def paused_clocks(ms: int) -> dict:
    """Pause a domain for `ms` ms: which of its four clocks stands still (and by how much each moved)."""
    import xenlab
    from xenlab.guest.time import four_clocks
    m = xenlab.Machine(seed=0)
    web = m.create_domain(xenlab.DomainConfig(name="web", memory=16, workload="cpu-bound"))
    m.run_for(50 * MS)
    before = four_clocks(web)
    web.pause()
    m.run_for(ms * MS)
    after = four_clocks(web)
    web.unpause()
    keys = {"tsc": "tsc", "system": "system_ns", "virtual": "virtual_ns", "wallclock": "wall_ns"}
    moved = {k: after[v] - before[v] for k, v in keys.items()}
    still = [k for k, d in moved.items() if d == 0]
    return {"answer": still[0] if len(still) == 1 else "none", "system_ms": moved["system"] / MS,
            "virtual_ms": moved["virtual"] / MS}


def tsc_shift(mhz: int) -> dict:
    """set_time_scale's shift and multiplier for a CPU of `mhz` MHz."""
    from xenlab.xen.time import set_time_scale
    s = set_time_scale(mhz * 1_000_000)
    return {"answer": s.shift, "mul": s.mul_frac, "shifted_mhz": _shifted_mhz(mhz, s.shift)}


def _shifted_mhz(mhz: int, shift: int) -> float:
    return mhz * 2.0 ** shift


def guest_system_time(mhz: int, ticks: int, base_ns: int = 1_000_000_000) -> dict:
    """What a guest computes from vcpu_time_info `ticks` TSC ticks after Xen's stamp."""
    from xenlab.xen.time import scale_delta, set_time_scale
    s = set_time_scale(mhz * 1_000_000)
    delta = scale_delta(ticks, s.shift, s.mul_frac)
    return {"answer": base_ns + delta, "delta_ns": delta, "shift": s.shift, "mul": s.mul_frac}


# -- chapter 9: rings -----------------------------------------------------------------------------
def ring_steps(seed: int) -> list[str]:
    """A per-student sequence of RingLab steps ending with the guest's push in question."""
    first = 1 + seed % 3                       # requests in the first batch
    rearm = bool((seed >> 4) & 1)              # half the students: the back end runs dry and re-arms
    taken = first if rearm else (seed >> 2) % (first + 1)
    steps = ["produce"] * first + ["push"] + ["consume"] * taken
    if rearm:
        steps.append("bfinal")                 # nothing left: the back end asks to be woken
    return steps + ["produce", "push"]


def ring_push_notifies(steps: list[str]) -> dict:
    """Does the last push of `steps` send an event? ("yes"/"no"), with req_event and the window."""
    from xenlab.viz.ring import RingLab
    lab = RingLab(8)
    for s in steps[:-1]:
        lab.step(s)
    old = lab.sring.req_prod
    notify = lab.front.push_requests_and_check_notify()
    return {"answer": "yes" if notify else "no", "req_event": lab.sring.req_event, "old": old,
            "new": lab.sring.req_prod}


def ring_free_slots(size: int, produced: int, taken: int, answered: int, collected: int) -> dict:
    """Free request slots of the guest (RING_FREE_REQUESTS) after the given counts of each step."""
    from xenlab.viz.ring import RingLab
    lab = RingLab(size)
    for name, n in (("produce", produced), ("push", 1), ("consume", taken), ("respond", answered),
                    ("bpush", 1), ("gconsume", collected)):
        for _ in range(n):
            lab.step(name)
    return {"answer": lab.front.free_requests()}


def ring_slot_after_wrap(size: int, index: int) -> dict:
    """The slot a request with free-running index `index` lands in (``idx & (size-1)``)."""
    from xenlab.xen.public.io.ring import FrontRing, SharedRing
    f = FrontRing(SharedRing(size))
    f.req_prod_pvt = f.rsp_cons = index          # an empty ring whose indices have run up to `index`
    slots = []
    f.sring.on_event = lambda name, **kw: slots.append(kw.get("slot"))
    f.produce_request(1)
    return {"answer": slots[-1]}


# -- chapter 10: block devices ----------------------------------------------------------------------
def _disk_machine(seed: int = 0):
    import xenlab
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="xenlab-predict-"))
    img = tmp / "disk.img"
    img.write_bytes(bytes(512 * 4096))
    m = xenlab.Machine(memory_mb=64, seed=seed)
    d = m.create_domain(xenlab.DomainConfig(name="web", memory=16, disk=[f"file:{img},xvda,w"]))
    m.run_for(MS)
    return m, d.kernel.vbds["xvda"], img


def blk_requests_for_write(nr_sectors: int) -> dict:
    """How many ring requests blkfront makes for one write of `nr_sectors` sectors."""
    m, vbd, img = _disk_machine()
    try:
        with m.trace.record("IO") as events:
            io = vbd.write(0, bytes(512 * nr_sectors))
            m.run_for(20 * MS)
        n = sum(e.name == "blkfront_produce_request" for e in events)
        return {"answer": n, "status": io.status}
    finally:
        _remove(img)


def blk_reorder(sectors: tuple[int, ...]) -> dict:
    """Three one-sector reads in one batch: which completes first, and the request/response slots."""
    from xenlab.viz.blkio import io_timeline
    m, vbd, img = _disk_machine()
    try:
        with m.trace.record("IO") as events:
            for s in sectors:
                vbd.read(s, 1)
            m.run_for(10 * MS)
        req_slots = [e["slot"] for e in events if e.name == "blkfront_produce_request"]
        rsp_slots = [e["slot"] for e in events if e.name == "blkif_produce_response"]
        tl = io_timeline(events)
        done = [int(s) for s, st in zip(tl["sector"], tl["status"]) if st == 0]
        rsp_of = dict(zip(done, rsp_slots))
        return {"answer": done[0], "order": done, "req_slot": dict(zip(sectors, req_slots)), "rsp_slot": rsp_of}
    finally:
        _remove(img)


def blk_order_for(seed: int) -> tuple[int, int, int]:
    """Three distinct sectors, per student, submitted so that the first is not the lowest."""
    lo = 10 + seed % 600
    mid = lo + 50 + (seed >> 10) % 600
    hi = mid + 50 + (seed >> 20) % 600
    return (mid, lo, hi) if seed & 1 else (hi, lo, mid)


def blk_response_slot(sectors: tuple[int, ...], sector: int) -> dict:
    """The ring slot of the response to the read of `sector` (the reads of blk_reorder)."""
    r = blk_reorder(sectors)
    return {"answer": r["rsp_slot"][sector], "order": r["order"], "req_slot": r["req_slot"][sector]}


def _remove(img: pathlib.Path) -> None:
    img.unlink(missing_ok=True)
    try:
        img.parent.rmdir()
    except OSError:
        pass


# -- chapter 11: network --------------------------------------------------------------------------------
def _two_guests(seed: int = 0):
    import xenlab
    m = xenlab.Machine(memory_mb=64, seed=seed)
    a = m.create_domain(xenlab.DomainConfig(name="alpha", memory=8, vif=["ip=10.0.0.11"]))
    b = m.create_domain(xenlab.DomainConfig(name="beta", memory=8, vif=["ip=10.0.0.12, rx=flip"]))
    return m, a, b


def tx_frames_for_pings(count: int) -> dict:
    """Frames leaving alpha's TX ring for `count` pings to beta, starting with an empty ARP cache."""
    m, a, _b = _two_guests()
    with m.trace.record("IO") as events:
        for _ in range(count):
            a.kernel.net.ping("10.0.0.12", 56)
            m.run_for(2 * MS)
    n = sum(e.name == "netfront_tx_produce_request" and e.domid == a.domain_id for e in events)
    return {"answer": n}


def flipped_page_owner() -> dict:
    """After netback flips a received frame to beta, who owns the machine frame that held it."""
    m, a, _b = _two_guests()
    owners = []                  # read at the moment of the transfer: beta may give the page back later

    def on_event(e):
        if e.name == "transfer" and e["status"] == 0:
            owners.append((e["mfn"], int(m.frame_table.owner[e["mfn"]])))
    unsubscribe = m.trace.subscribe(on_event, classes="GNTTAB")
    a.kernel.net.ping("10.0.0.12", 56)
    m.run_for(2 * MS)
    unsubscribe()
    names = {d.domain_id: d.name for d in m.domains.values()}
    mfn, owner = owners[0]
    return {"answer": names.get(owner, "Xen"), "mfn": hex(mfn), "flips": len(owners)}


def rx_requests_after(frames: int) -> dict:
    """Requests (posted empty pages) waiting in alpha's RX ring before and after `frames` pings."""
    from xenlab.viz.ring import ring_arrays
    m, a, _b = _two_guests()
    front, back = a.kernel.vifs[0], m.xend.devices.netback.netifs[(a.domain_id, 0)]
    before = ring_arrays(front.rx, back.rx)["counts"]["request"]
    for _ in range(frames):
        a.kernel.net.ping("10.0.0.12", 56)
        m.run_for(2 * MS)
    after = ring_arrays(front.rx, back.rx)["counts"]["request"]
    return {"answer": after, "before": before}


# -- chapter 12: performance -----------------------------------------------------------------------------
def slowest_null_call() -> dict:
    from xenlab import perf
    t3 = perf.lmbench("table3_processes_us")
    names = {"L-UP": "L", "Xen": "X", "VMW": "V", "UML": "U"}
    worst = max(names, key=lambda c: t3[c]["null call"])
    return {"answer": names[worst], "us": t3[worst]["null call"], "linux_us": t3["L-UP"]["null call"]}


def relative_score(benchmark: str, system: str) -> dict:
    """SOSP'03 Figure 3: `system`'s score relative to native Linux, in percent."""
    from xenlab import perf
    fig = perf.fig3()
    rel = perf.relative(fig)[benchmark][fig["configs"].index(system)]
    return {"answer": round(100 * rel)}


def costlier_guest() -> dict:
    """perf.measure: which guest spends more cycles crossing into Xen for the same work."""
    from xenlab import perf
    r = perf.measure(run_ns=200 * MS)
    pv, hvm = r["pv"], r["hvm"]
    return {"answer": "HVM" if hvm["cycles"] > pv["cycles"] else "PV", "pv_cycles": pv["cycles"],
            "hvm_cycles": hvm["cycles"], "pv_crossings": pv["hypercalls"] + pv["traps"],
            "hvm_crossings": hvm["vmexits"]}


# -- chapter 13: domain management ---------------------------------------------------------------------------
def id_after_reboot(others: int) -> dict:
    """`others` domains, then db; `xm reboot db`: db's id before and after."""
    import xenlab
    m = xenlab.Machine(seed=0, memory_mb=128)
    for i in range(others):
        xenlab.xm(m, f"create name=g{i} memory=8")
    xenlab.xm(m, "create name=db memory=16 workload='interactive'")
    old = m.domain_by_name("db").domain_id
    xenlab.xm(m, "reboot db")
    m.run_for(200 * MS)
    return {"answer": m.domain_by_name("db").domain_id, "old": old}


def running_letters(cpus: int, busy: int) -> dict:
    """How many rows of `xm list` show r with `busy` cpu-bound domains on `cpus` physical CPUs."""
    import xenlab
    m = xenlab.Machine(seed=0, cpus=cpus, memory_mb=128)
    for i in range(busy):
        xenlab.xm(m, f"create name=busy{i} memory=8 workload='cpu-bound'")
    m.run_for(30 * MS)
    rows = xenlab.xm(m, "list").rows
    return {"answer": sum(r["state"][0] == "r" for r in rows),
            "runnable": sum(r["state"] == "------" for r in rows)}


def xentop_cpu(vcpus: int, cpus: int = 4) -> dict:
    """xentop's CPU(%) of a cpu-bound domain with `vcpus` virtual CPUs on a `cpus`-CPU machine."""
    import xenlab
    from xenlab.toolstack.xentop import xentop
    m = xenlab.Machine(seed=0, cpus=cpus, memory_mb=128)
    xenlab.xm(m, f"create name=web memory=16 vcpus={vcpus} workload='cpu-bound'")
    m.run_for(20 * MS)
    top = xentop(m, delay_ns=200 * MS)
    row = next(r for r in top.rows if r["name"] == "web")
    return {"answer": round(row["cpu_pct"])}


# -- chapter 14: save, restore, migration ----------------------------------------------------------------
def after_save() -> dict:
    """What `xm list` shows for a domain after `xm save`: "paused", "shutdown" or "gone"."""
    import os

    import xenlab
    m = xenlab.Machine(seed=0, memory_mb=64)
    xenlab.xm(m, "create name=web memory=16 workload='interactive'")
    m.run_for(20 * MS)
    path = os.path.join(tempfile.mkdtemp(prefix="xenlab-predict-"), "web.chk")
    xenlab.xm(m, f"save web {path}")
    rows = [r for r in xenlab.xm(m, "list").rows if r["name"] in ("web", "migrating-web")]
    os.unlink(path)
    os.rmdir(os.path.dirname(path))
    if not rows:
        return {"answer": "gone"}
    return {"answer": "paused" if rows[0]["state"][2] == "p" else "shutdown"}


def id_after_restore(others: int) -> dict:
    """`others` domains, then web; `xm save` and `xm restore` web: its id before and after."""
    import os

    import xenlab
    m = xenlab.Machine(seed=0, memory_mb=128)
    for i in range(others):
        xenlab.xm(m, f"create name=g{i} memory=8")
    xenlab.xm(m, "create name=web memory=16 workload='interactive'")
    m.run_for(20 * MS)
    old = m.domain_by_name("web").domain_id
    path = os.path.join(tempfile.mkdtemp(prefix="xenlab-predict-"), "web.chk")
    xenlab.xm(m, f"save web {path}")
    xenlab.xm(m, f"restore {path}")
    os.unlink(path)
    os.rmdir(os.path.dirname(path))
    return {"answer": m.domain_by_name("web").domain_id, "old": old}


def precopy_stop(rate: int, wss: int = 1500) -> dict:
    """Live-migrate a guest dirtying `rate` pages/s over `wss` pages: why the pre-copy ended."""
    import xenlab
    from xenlab.toolstack import migrate as M
    a, b = xenlab.Machine(seed=1, memory_mb=96), xenlab.Machine(seed=2, memory_mb=96)
    w = [("dirty", rate, wss), ("compute", 5_000_000), ("loop", 1, None)] if rate else "idle"
    d = a.create_domain(xenlab.DomainConfig(name="g", memory=16, workload=w))
    a.run_for(50 * MS)
    r = M.migrate(a, d, b, live=True)
    return {"answer": r.save.stop_reason.replace(" ", "_"), "iterations": len(r.iterations),
            "downtime_ms": round(r.downtime_ns / MS, 1)}
