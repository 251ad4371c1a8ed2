"""vcpu runstates (Xen 3.0.2+: X@3.0.4-branched:xen/include/public/vcpu.h, xen/common/schedule.c
vcpu_runstate_change, vcpu_sleep_nosync, vcpu_wake, __enter_scheduler).

Oracles: the header's numbers (Debian's libxen-dev vcpu.h, and the 3.0.0 defines extracted from the
RELEASE-3.0.0 tag, which lack them: a 3.0.2 addition), the conservation law Xen's accounting gives (every
ns between two state changes goes to exactly one state), and the state rules of 3.0.4's schedule.c,
each worked on a scenario whose timing is fixed by construction.
"""
from __future__ import annotations

import json
import pathlib
import re

import pytest

import xenlab
from xenlab.xen.public import vcpu as VC

ROOT = pathlib.Path(__file__).resolve().parents[2]
HEADER = pathlib.Path("/usr/include/xen/vcpu.h")
MS = 1_000_000


def _info(d, vcpu: int = 0) -> VC.vcpu_runstate_info:
    info = VC.vcpu_runstate_info()
    assert d.hypercall("vcpu_op", VC.VCPUOP_get_runstate_info, vcpu, info, vcpu=vcpu) == 0
    return info


def test_constants_are_the_headers_and_absent_from_3_0_0():
    names = ("VCPUOP_get_runstate_info", "RUNSTATE_running", "RUNSTATE_runnable", "RUNSTATE_blocked",
             "RUNSTATE_offline")
    xen30 = json.loads((ROOT / "tests/data/xen_3_0_0_defines.json").read_text())["defines"]
    assert not any(n in xen30 for n in names)                  # 3.0.0's vcpu.h stops at VCPUOP_is_up
    assert "VCPUOP_is_up" in xen30
    if not HEADER.exists():
        pytest.skip("libxen-dev's vcpu.h is not installed")
    text = HEADER.read_text()
    for n in names:
        m = re.search(rf"#define\s+{n}\s+(\d+)", text)
        assert m is not None, n
        assert getattr(VC, n) == int(m.group(1)), n
    # struct vcpu_runstate_info: int state; uint64_t state_entry_time; uint64_t time[4];
    body = re.search(r"struct vcpu_runstate_info\s*\{(.*?)\};", text, re.DOTALL).group(1)
    fields = re.findall(r"^\s*(?:int|uint64_t)\s+(\w+)(?:\[(\d+)\])?;", body, re.MULTILINE)
    assert fields == [("state", ""), ("state_entry_time", ""), ("time", "4")]
    info = VC.vcpu_runstate_info()
    assert list(vars(info)) == ["state", "state_entry_time", "time"] and len(info.time) == 4


def test_two_guests_every_vcpu_sums_to_elapsed_time_exactly():
    # One pCPU: a cpu-bound guest, an interactive one and dom0, created at different times; one of
    # them paused for a while, another with two vcpus.
    m = xenlab.Machine(seed=11)
    m.run_for(7 * MS + 123)
    t_busy = m.now
    busy = m.create_domain(xenlab.DomainConfig(name="busy", memory=16, workload="cpu-bound", vcpus=2))
    m.run_for(50 * MS + 7)
    t_web = m.now
    web = m.create_domain(xenlab.DomainConfig(name="web", memory=16, workload="interactive"))
    m.run_for(200 * MS + 11)
    busy.pause()
    m.run_for(30 * MS)
    busy.unpause()
    m.run_for(100 * MS + 3)
    created = {0: 0, busy.domain_id: t_busy, web.domain_id: t_web}
    for d in (m.dom0, busy, web):
        for v in d.vcpus:
            info = _info(d, v.vcpu_id)
            assert sum(info.time) == m.now - created[d.domain_id], (d.name, v.vcpu_id, info)
            assert info.time[VC.RUNSTATE_running] == v.cpu_time_now
            assert info.state == v.runstate and info.state_entry_time <= m.now
        # the domain's virtual time is the sum of its vcpus' running time
        assert d.cpu_time == sum(_info(d, v.vcpu_id).time[VC.RUNSTATE_running] for v in d.vcpus)
    # cpu-bound never blocks; it was paused 30 ms while it wanted the CPU: 30 ms offline per vcpu
    for v in busy.vcpus:
        t = _info(busy, v.vcpu_id).time
        assert t[VC.RUNSTATE_blocked] == 0 and t[VC.RUNSTATE_offline] == 30 * MS


def test_blocked_dominates_and_a_paused_waker_goes_offline():
    # 3.0.4: a vcpu descheduled while blocked is blocked even if its domain is paused; vcpu_wake of a
    # vcpu that still may not run moves blocked -> offline once _VCPUF_blocked is clear.
    from xenlab.xen import schedule as S
    m = xenlab.Machine(seed=4)
    d = m.create_domain(xenlab.DomainConfig(name="idle", memory=16, workload="idle"))
    m.run_for(20 * MS)
    v = d.vcpus[0]
    assert v.blocked and v.runstate == VC.RUNSTATE_blocked
    d.pause()
    assert v.runstate == VC.RUNSTATE_blocked                  # blocked dominates offline
    t = m.now
    S.vcpu_unblock(m, v)                                      # an event arrives while paused
    assert v.runstate == VC.RUNSTATE_offline and v.state_entry_time == t
    m.run_for(5 * MS)
    assert _info(d).time[VC.RUNSTATE_offline] == 5 * MS
    d.unpause()
    assert v.runstate in (VC.RUNSTATE_runnable, VC.RUNSTATE_running)
