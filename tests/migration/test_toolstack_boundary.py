"""The toolstack sees Xen only through hypercalls and XenStore, as xenstat and libxc do.

The machine's domain table is replaced by one that refuses any read made from code in
xenlab.toolstack; Xen's own handlers (xenlab.xen) still read it, as the hypervisor reads its own
struct domain list."""
import sys

import xenlab
from xenlab.toolstack import xentop


class GuardedDomains(dict):
    def _check(self):
        caller = sys._getframe(2).f_globals.get("__name__", "")
        if caller.startswith("xenlab.toolstack"):
            raise AssertionError(f"{caller} read the hypervisor's domain table directly")

    def __getitem__(self, k):
        self._check()
        return super().__getitem__(k)

    def get(self, *a):
        self._check()
        return super().get(*a)

    def values(self):
        self._check()
        return super().values()

    def items(self):
        self._check()
        return super().items()

    def __iter__(self):
        self._check()
        return super().__iter__()

    def __contains__(self, k):
        self._check()
        return super().__contains__(k)


def test_the_guard_catches_a_direct_read():
    m = xenlab.Machine(seed=0, memory_mb=64)
    m.domains = GuardedDomains(m.domains)
    ns = {"__name__": "xenlab.toolstack.fake"}
    exec("def peek(m):\n    return m.domains[0]\n", ns)
    try:
        ns["peek"](m)
    except AssertionError as exc:
        assert "xenlab.toolstack.fake" in str(exc)
    else:
        raise AssertionError("the guard let a toolstack read through")


def test_xentop_reads_only_through_dom0_ops_and_xenstore():
    m = xenlab.Machine(cpus=2, seed=3, memory_mb=128)
    d = m.create_domain(xenlab.DomainConfig(name="web", memory=16, vcpus=2, workload="cpu-bound"))
    m.run_for(50_000_000)
    real = {k: v for k, v in m.domains.items()}
    m.domains = GuardedDomains(real)
    s = xentop.sample(m)
    assert sorted(s.domains) == [0, d.domain_id]
    web = s.domains[d.domain_id]
    assert web.name == "web" and len(web.vcpu_ns) == 2
    assert web.vcpu_ns == [v.cpu_time_now for v in real[d.domain_id].vcpus]
    assert web.cpu_ns == real[d.domain_id].cpu_time


def test_vcpu_list_and_pin_through_xens_interface_only():
    m = xenlab.Machine(cpus=2, seed=4, memory_mb=128)
    d = m.create_domain(xenlab.DomainConfig(name="web", memory=16, vcpus=2, workload="cpu-bound"))
    m.run_for(30_000_000)
    real = {k: v for k, v in m.domains.items()}
    m.domains = GuardedDomains(real)
    out = xenlab.xm(m, "vcpu-list web").text.splitlines()
    assert out[0] == "Name                              ID  VCPU  CPU  State  Time(s)  CPU Affinity"
    v1 = real[d.domain_id].vcpus[1]
    # 3.0.0's format: name, id, vcpu, cpu, state (r/- b/- -), seconds, affinity folded to "any cpu".
    assert out[2] == f"{'web':<32s} {d.domain_id:3d}  {1:4d}  {v1.processor:>3d}   " \
                     f"{('r' if v1.is_running else '-') + ('b' if v1.blocked else '-') + '-':<3s}   " \
                     f"{v1.cpu_time_now / 1e9:7.1f}  any cpu"
    xenlab.xm(m, "vcpu-pin web 1 0")
    assert v1.processor == 0 and v1.cpu_affinity == (0,)
    m.run_for(20_000_000)
    assert xenlab.xm(m, "vcpu-list web").rows[1]["affinity"] == "0"
    import pytest
    from xenlab.toolstack.xm import XmError
    with pytest.raises(XmError, match="invalid CPU list"):
        xenlab.xm(m, "vcpu-pin web 1 x-y")
    with pytest.raises(XmError, match="does not exist"):
        xenlab.xm(m, "vcpu-pin nosuch 0 0")


def test_cpumap_formatting_follows_xms_worked_examples():
    # tools/python/xen/xm/main.py's comments: [0,1,4,6,7] -> 0-1,4,6-7; [1,2,4,5] -> 1-2,4-5; [0] -> 0.
    from xenlab.toolstack.xm_vcpu import cpu_make_map, format_cpumap
    assert format_cpumap([0, 1, 4, 6, 7], 8) == "0-1,4,6-7"
    assert format_cpumap([1, 2, 4, 5], 8) == "1-2,4-5"
    assert format_cpumap([0], 8) == "0"
    assert format_cpumap(list(range(32)), 2) == "any cpu"        # CPUMAP_RUNANYWHERE folded modulo 2
    assert cpu_make_map("0-2,5") == [0, 1, 2, 5]


# -- save, restore and migration with Xen's internals out of the toolstack's reach ---------------------------
_XEN_STATE = {"frame_table", "m2p", "memory", "domains"}         # the hypervisor's own tables and the RAM
_DOMAIN_STATE = {"p2m", "vcpus", "shared_info_mfn", "tot_pages", "max_pages", "pause_count"}


def _from_toolstack() -> str | None:
    caller = sys._getframe(2).f_globals.get("__name__", "")
    return caller if caller.startswith("xenlab.toolstack") else None


def guard(machine):
    """Refuse, from code in xenlab.toolstack, reads of Xen's frame table, M2P, memory and domain
    table, and of any domain's P2M, vcpus and page counts (the guest's P2M is the guest's own)."""
    class GuardedMachine(type(machine)):
        def __getattribute__(self, name):
            if name in _XEN_STATE and _from_toolstack():
                raise AssertionError(f"{_from_toolstack()} read machine.{name} directly")
            return object.__getattribute__(self, name)
    real = dict(machine.domains)
    machine.domains = GuardedDomains(real)
    machine.__class__ = GuardedMachine
    for d in real.values():
        _guard_domain(d)
    machine.on_domain_create.append(_guard_domain)
    return real


def _guard_domain(d):
    if type(d).__name__ == "GuardedDomain":
        return

    class GuardedDomain(type(d)):
        def __getattribute__(self, name):
            if name in _DOMAIN_STATE and _from_toolstack():
                raise AssertionError(f"{_from_toolstack()} read domain.{name} directly")
            return object.__getattribute__(self, name)
    d.__class__ = GuardedDomain


def _guest_bytes(m, d):
    """The guest's memory in pfn order, read by the test (not the toolstack)."""
    frames = m.memory.data.reshape(-1, 4096)
    return [frames[mfn].tobytes() for mfn in object.__getattribute__(d, "p2m")]


def test_guard_catches_a_read_of_xens_tables():
    m = xenlab.Machine(seed=0, memory_mb=64)
    guard(m)
    ns = {"__name__": "xenlab.toolstack.fake"}
    exec("def peek(m):\n    return m.frame_table\n", ns)
    exec("def p2m(m, d):\n    return d.p2m\n", ns)
    import pytest
    with pytest.raises(AssertionError, match="machine.frame_table"):
        ns["peek"](m)
    with pytest.raises(AssertionError, match="domain.p2m"):
        ns["p2m"](m, m.domain_by_name("Domain-0"))


def test_xm_save_and_restore_through_hypercalls_only(tmp_path):
    m = xenlab.Machine(seed=7, memory_mb=128)
    d = m.create_domain(xenlab.DomainConfig(name="web", memory=16, workload="cpu-bound"))
    m.run_for(30_000_000)
    guard(m)
    path = str(tmp_path / "web.chk")
    xenlab.xm(m, f"save web {path}")
    assert m.domain_by_name("web") is None
    # What the image must hold: the guest's bytes as they were when it suspended (the destroyed
    # domain's frames are freed but not wiped; the test reads them beside the toolstack).
    before = {pfn: page for pfn, page in enumerate(_guest_bytes(m, d))}
    xenlab.xm(m, f"restore {path}")
    r = m.domain_by_name("web")
    after = _guest_bytes(m, r)
    p2m_new = object.__getattribute__(r, "p2m")
    assert len(after) == len(before) == 4096
    # Plain pages come back byte for byte; page-table pages differ only in their frame numbers, and
    # so does the guest's P2M array if start_info names one (xc_linux_restore rewrites it).
    from xenlab.xen.public.xen import start_info
    info = start_info.unpack(m.memory.read_bytes(object.__getattribute__(r, "start_info_mfn") << 12, 1104))
    p2m_pfns = set()
    if getattr(info, "mfn_list", 0):
        first = (info.mfn_list - 0xC0000000) >> 12
        p2m_pfns = set(range(first, first + (4 * len(p2m_new) + 4095) // 4096))
        words = b"".join(after[p] for p in sorted(p2m_pfns))[:4 * len(p2m_new)]
        assert list(memoryview(words).cast("I")) == list(p2m_new)
    ft = m.frame_table
    plain = [pfn for pfn, mfn in enumerate(p2m_new) if (int(ft.type_info[mfn]) >> 29) not in (1, 2, 3)]
    assert len(plain) > 3500
    changed = [pfn for pfn in plain if after[pfn] != before[pfn] and pfn not in {0, 1, 2} | p2m_pfns]
    assert changed == []
    m.run_for(20_000_000)
    assert r.kernel is not None and not r.is_shutdown


def test_xm_migrate_through_hypercalls_only():
    src = xenlab.Machine(seed=8, memory_mb=128)
    dst = xenlab.Machine(seed=9, memory_mb=128)
    d = src.create_domain(xenlab.DomainConfig(name="db", memory=16, workload="cpu-bound"))
    src.run_for(20_000_000)
    guard(src)
    guard(dst)
    from xenlab.toolstack.migrate import migrate
    migrate(src, d, dst, live=True)
    assert src.domain_by_name("db") is None and dst.domain_by_name("db") is not None
    dst.run_for(10_000_000)


def test_trace_of_xm_save_shows_libxcs_dom0_ops(tmp_path):
    """The dom0_op commands xm save makes, in order, compressed to runs (X@RELEASE-3.0.0:
    tools/libxc/xc_linux_save.c: getinfo, vcpu context, memory list, then per batch the page
    types; the final context; xend then destroys the domain)."""
    from xenlab.xen.public import dom0_ops as D
    names = {v: k for k, v in vars(D).items() if k.startswith("DOM0_") and isinstance(v, int)
             and not k.startswith(("DOM0_SHADOW_CONTROL_OP", "DOM0_INTERFACE"))}
    m = xenlab.Machine(seed=7, memory_mb=128)
    domid = m.create_domain(xenlab.DomainConfig(name="web", memory=16, workload="cpu-bound")).domain_id
    m.run_for(10_000_000)
    seen, maps = [], []

    def on_event(e):
        data = e.data
        if e.name != "hypercall" or e.domid != 0:
            return
        if data["op"] == "dom0_op":
            seen.append(names[dict(data["args"][0][1:])["cmd"]])
        else:
            seen.append(data["op"])
        if data["op"] == "mmu_update" and len(data["args"]) > 3:
            maps.append(data["args"][3])
    m.trace.subscribe(on_event)
    xenlab.xm(m, f"save web {tmp_path / 'web.chk'}")
    ops = [n for n in seen if n.startswith("DOM0_")]
    first = ops.index("DOM0_GETVCPUCONTEXT") - 1
    core = ops[first:ops.index("DOM0_DESTROYDOMAIN") + 1]
    assert core == [
        "DOM0_GETDOMAININFO", "DOM0_GETVCPUCONTEXT",      # xc_linux_save.c:635, 646
        "DOM0_GETMEMLIST",                                # the P2M (3.0.0 maps the guest's own P2M frames)
        "DOM0_GETDOMAININFO", "DOM0_GETDOMAININFO",       # xend's suspend: is it running? has it suspended?
        "DOM0_GETVCPUCONTEXT",                            # suspend_and_state: the stopped vcpu's context
        # 16 MiB = 4096 pages in batches of MAX_BATCH_SIZE 1024: one type query per batch (:938)
        "DOM0_GETPAGEFRAMEINFO2", "DOM0_GETPAGEFRAMEINFO2", "DOM0_GETPAGEFRAMEINFO2", "DOM0_GETPAGEFRAMEINFO2",
        "DOM0_DESTROYDOMAIN"]                             # XendCheckpoint.save: the domain is gone
    # Each batch is mapped (mmu_update with foreigndom = the guest), then its types asked (:932-938);
    # the last mapping is the shared_info page's.
    before = seen[:seen.index("DOM0_GETPAGEFRAMEINFO2")]
    assert before[-1] == "mmu_update" and maps.count(domid) == 4 + 1


def test_xm_create_list_and_destroy_through_hypercalls_only():
    m = xenlab.Machine(seed=11, memory_mb=128)
    guard(m)
    d = m.create_domain(xenlab.DomainConfig(name="app", memory=16, workload="cpu-bound"))
    m.run_for(20_000_000)
    rows = xenlab.xm(m, "list").rows
    assert [r["name"] for r in rows] == ["Domain-0", "app"] and rows[1]["mem"] == 16
    assert object.__getattribute__(d, "tot_pages") == 16 << 8
    xenlab.xm(m, "destroy app")
    assert m.domain_by_name("app") is None


def test_xentop_vcpus_sched_pause_and_shutdown_under_the_full_guard():
    m = xenlab.Machine(cpus=2, seed=3, memory_mb=128)
    d = m.create_domain(xenlab.DomainConfig(name="web", memory=16, vcpus=2, workload="cpu-bound"))
    m.run_for(50_000_000)
    guard(m)
    assert sorted(xentop.sample(m).domains) == [0, d.domain_id]
    xenlab.xm(m, "vcpu-pin web 1 0")
    assert xenlab.xm(m, "vcpu-list web").rows[1]["affinity"] == "0"
    assert "'weight': 256" in xenlab.xm(m, "sched-credit -d web").text
    assert xenlab.xm(m, "info").rows[0]["xen_scheduler"] == "credit"
    xenlab.xm(m, "pause web")
    assert xenlab.xm(m, "list web").rows[0]["state"] == "--p---"         # r b p s c d: paused
    xenlab.xm(m, "unpause web")
    xenlab.xm(m, "shutdown -w web")
    assert m.domain_by_name("web") is None


def test_trace_of_xm_restore_follows_xc_linux_restore(tmp_path):
    """X@RELEASE-3.0.0:tools/libxc/xc_linux_restore.c: the domain's limits, its memory
    (increase_reservation), each new frame's M2P entry (MMU_MACHPHYS_UPDATE), the pages through
    foreign mappings, the page tables pinned (mmuext_op), vcpu 0's context (DOM0_SETDOMAININFO);
    xend then unpauses it."""
    from xenlab.xen.public import dom0_ops as D
    names = {v: k for k, v in vars(D).items() if k.startswith("DOM0_") and isinstance(v, int)
             and not k.startswith(("DOM0_SHADOW_CONTROL_OP", "DOM0_INTERFACE"))}
    m = xenlab.Machine(seed=7, memory_mb=128)
    m.create_domain(xenlab.DomainConfig(name="web", memory=16, workload="cpu-bound"))
    m.run_for(10_000_000)
    xenlab.xm(m, f"save web {tmp_path / 'w.chk'}")
    seen = []

    def on_event(e):
        if e.name == "hypercall" and e.domid == 0:
            data = e.data
            seen.append(names[dict(data["args"][0][1:])["cmd"]] if data["op"] == "dom0_op" else data["op"])
    m.trace.subscribe(on_event)
    xenlab.xm(m, f"restore {tmp_path / 'w.chk'}")
    skeleton = ["DOM0_CREATEDOMAIN", "DOM0_MAX_VCPUS", "DOM0_SETDOMAINMAXMEM", "memory_op", "mmu_update",
                "mmuext_op", "DOM0_SETDOMAININFO", "DOM0_UNPAUSEDOMAIN"]
    pos = [seen.index(s) for s in skeleton]
    assert pos == sorted(pos) and seen.count("memory_op") == 1
    # 4096 frames: 4 batches of MMU_MACHPHYS_UPDATE, then 4 page batches each mapped and unmapped.
    first = seen.index("mmu_update")
    assert seen[first:first + 12] == ["mmu_update"] * 12
    assert "DOM0_GETDOMAININFO" in seen[first + 12:seen.index("DOM0_SETDOMAININFO")]   # shared_info_frame
