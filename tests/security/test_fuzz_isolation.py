"""Cross-subsystem stateful fuzzer (issue 10): an unprivileged guest attacks through every interface.

mallory (a domU with a network interface) issues bursts of random hostile mmu_update, mmuext_op,
update_va_mapping, set_gdt/update_descriptor, grant map/unmap/copy/transfer/setup/query, event-channel,
memory_op (balloon), sched_op/set_timer_op/vm_assist, vcpu_op and unimplemented calls (the model has no
vcpu_op handler: -ENOSYS), calls with the wrong number of arguments, scribbles garbage into its network ring
and kicks the backend; peer (another domU) grants it pages and revokes them; meanwhile other domains
shut down, are destroyed, re-created, saved and restored through the toolstack, and the machine runs.
After every step the independent checker (isolation_checker.check: raw page-table bytes and the frame
table only) must find nothing, peer's secret pages must keep their bytes, and no Python exception may
escape a hypercall.

Deterministic: hypothesis is derandomized and each rule derives its arguments from a drawn seed.
At least MIN_OPERATIONS hypercalls per run (asserted); XENLAB_FUZZ_OPS=<n> asks for more (a soak run).
"""
import io
import os
import random
import zlib

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, \
    run_state_machine_as_test

import xenlab
from xenlab.guest.gnttab import guest_grants
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public import grant_table as G
from xenlab.xen.public import xen as X
from xenlab.xen.public.memory import (XENMEM_current_reservation, XENMEM_decrease_reservation,
                                      XENMEM_increase_reservation, XENMEM_populate_physmap, mmu_update_t,
                                      mmuext_op_t, xen_memory_reservation)

from isolation_checker import check

MIN_OPERATIONS = 10_000
TARGET = max(MIN_OPERATIONS, int(os.environ.get("XENLAB_FUZZ_OPS", MIN_OPERATIONS)))
DESCRIPTORS = [0, 0x00CFBA000000FFFF, 0x00CF9A000000FFFF, 0x00CFFA000000FFFF, 0xC010EC00E0191234,
               0x0000E90000000067, 0xFC40B2000000FFFF, 0x00CFB2000000FFFF]
HOSTILE = [-1, -4096, 2 ** 31, 2 ** 32, 2 ** 40, None, "x", 1.5]


class Fuzz(RuleBasedStateMachine):
    ops = 0                                # hypercalls issued, across examples

    @initialize(paging=st.sampled_from(["2level", "pae"]), seed=st.integers(0, 3))
    def boot(self, paging, seed):
        self.m = xenlab.Machine(memory_mb=40, paging=paging, seed=seed, dom0_mem_mb=12)
        self.mal = self.m.create_domain(xenlab.DomainConfig(name="mallory", memory=2, maxmem=3,
                                                            vif=["bridge=xenbr0"]))
        self.peer = self.m.create_domain(xenlab.DomainConfig(name="peer", memory=2, maxmem=3))
        self.other = self.m.create_domain(xenlab.DomainConfig(name="other", memory=2))
        self.handles: list[int] = []
        self.refs: list[int] = []
        self.steps = 0
        self.new_peer()

    def new_peer(self):
        """peer's secret pages (never granted): their bytes must never change."""
        m, p = self.m, self.peer
        self.secret = [p.p2m[i] for i in range(len(p.p2m) - 4, len(p.p2m))]
        for f in self.secret:
            m.memory.write_bytes(f << 12, (b"SECRET%08x" % f) * 256)
        self.secret_crc = self.crc()
        self.refs, self.xfer = [], []

    def crc(self):
        return [zlib.crc32(self.m.memory.data[f << 12:(f + 1) << 12]) for f in self.secret]

    # -- mallory's view of the world --------------------------------------------------------------
    def frame(self, r):
        m, mal = self.m, self.mal
        kind = r.choice(["own", "own", "table", "peer", "secret", "grant", "xen", "other", "bad"])
        if kind == "own":
            return r.choice(mal.p2m) & 0xFFFFF
        if kind == "table" and mal.kernel.mm.pt_pfns:
            return mal.p2m[r.choice(sorted(mal.kernel.mm.pt_pfns))]
        if kind == "peer" and self.peer.domain_id in m.domains:
            return r.choice(self.peer.p2m) & 0xFFFFF
        if kind == "secret":
            return r.choice(self.secret)
        if kind == "grant" and getattr(mal, "grant_table", None) is not None:
            return r.choice(mal.grant_table.shared_mfns)
        if kind == "xen":
            return r.randrange(0, 512)
        if kind == "other" and self.other.domain_id in m.domains:
            return r.choice(self.other.p2m) & 0xFFFFF
        return r.choice([r.randrange(0, m.frame_table.nr_frames), r.randrange(1 << 20), -1, 2 ** 40])

    def value(self, r):
        f = self.frame(r)
        if not isinstance(f, int) or f < 0:
            return r.choice(HOSTILE)
        v = (f & 0xFFFFF) << 12 | r.choice([0x1, 0x3, 0x7, 0x5, 0x67, 0x63, 0x83, 0x103, 0x0, 0x1E7])
        if self.m.paging == "pae" and r.random() < 0.2:
            v |= r.choice([1 << 63, 1 << 52, 1 << 40])
        return v

    def ptr(self, r):
        f = self.frame(r)
        if not isinstance(f, int) or f < 0:
            return r.choice(HOSTILE)
        esize = 8 if self.m.paging == "pae" else 4
        return (f << 12) + r.randrange(4096 // esize) * esize + r.choice([0, 0, 0, 1, 2])

    def scalar(self, r, good):
        return r.choice(HOSTILE) if r.random() < 0.15 else good

    def call(self, name, *args, d=None):
        rc = (d or self.mal).hypercall(name, *args)
        assert type(rc) is int, (name, args, rc)
        Fuzz.ops += 1
        return rc

    # -- mallory's hostile bursts ------------------------------------------------------------------------
    @rule(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 24))
    def mm_ops(self, seed, n):
        r = random.Random(seed)
        for _ in range(n):
            k = r.randrange(5)
            if k == 0:
                reqs = [mmu_update_t(self.ptr(r), self.value(r)) for _ in range(r.randint(1, 3))]
                self.call("mmu_update", reqs, self.scalar(r, len(reqs)), [0], self.scalar(r, X.DOMID_SELF))
            elif k == 1:
                op = mmuext_op_t(r.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 99, -1]), mfn=self.frame(r),
                                 linear_addr=self.scalar(r, r.randrange(1 << 32) & ~0xFFF),
                                 nr_ents=self.scalar(r, r.randrange(9000)))
                self.call("mmuext_op", [op], 1, None, self.scalar(r, X.DOMID_SELF))
            elif k == 2:
                va = r.choice([0xC0000000, 0xC0001000, 0xC0010000, 0x08048000, 0xFC000000, 0xF5800000,
                               0xE0000000]) + 0x1000 * r.randrange(4)
                self.call("update_va_mapping", self.scalar(r, va), self.value(r), r.choice([0, 1, 2, 5, 6]))
            elif k == 3:
                ma = self.frame(r)
                ma = (ma << 12) + 8 * r.randrange(512) if isinstance(ma, int) and ma >= 0 else ma
                self.call("update_descriptor", ma, r.choice(DESCRIPTORS))
            else:
                frames = [self.frame(r) for _ in range(r.randrange(3))]
                self.call("set_gdt", frames, self.scalar(r, r.randrange(512 * max(1, len(frames)))))

    @rule(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 24))
    def grant_ops(self, seed, n):
        r = random.Random(seed)
        pid = self.peer.domain_id
        for _ in range(n):
            k = r.randrange(6)
            if k == 0:
                ref = r.choice(self.refs) if self.refs and r.random() < 0.8 else r.choice([0, 5, 2047, 2048, -1])
                flags = r.choice([G.GNTMAP_host_map, G.GNTMAP_host_map | G.GNTMAP_readonly, G.GNTMAP_device_map,
                                  0, 0xFF])
                op = G.GnttabMapGrantRef(flags=flags, ref=ref, dom=r.choice([pid, pid, X.DOMID_SELF, 0, 999]))
                self.call("grant_table_op", G.GNTTABOP_map_grant_ref, [op], 1)
                if op.status == G.GNTST_okay:
                    self.handles.append(op.handle)
            elif k == 1:
                h = self.handles.pop(r.randrange(len(self.handles))) if self.handles and r.random() < 0.8 \
                    else r.choice([0, 1, 1023, 1024, -1])
                self.call("grant_table_op", G.GNTTABOP_unmap_grant_ref, [G.GnttabUnmapGrantRef(handle=h)], 1)
            elif k == 2 and r.random() < 0.5:
                # A well-formed copy of forged page-table entries or descriptors from mallory's own
                # page to anything: a table, its GDT, a grant, a peer frame, ...
                stage = self.mal.p2m[-1]
                if int(self.m.frame_table.owner[stage]) == self.mal.domain_id:
                    esize = 8 if self.m.paging == "pae" else 4
                    for i in range(8):
                        v = self.value(r) if r.random() < 0.7 else r.choice(DESCRIPTORS)
                        self.m.memory.write(stage * 4096 + i * esize, esize, v if isinstance(v, int) and
                                            0 <= v < 1 << (8 * esize) else 0)
                    gref = self.refs and r.random() < 0.3
                    dst = G.GnttabCopyPtr(r.choice(self.refs) if gref else self.frame(r),
                                          pid if gref else X.DOMID_SELF, esize * r.randrange(4096 // esize - 8))
                    op = G.GnttabCopy(G.GnttabCopyPtr(stage, X.DOMID_SELF, 0), dst, esize * r.randint(1, 8),
                                      G.GNTCOPY_dest_gref if gref else 0)
                    self.call("grant_table_op", G.GNTTABOP_copy, [op], 1)
            elif k == 2:
                side = lambda: G.GnttabCopyPtr(  # noqa: E731
                    r.choice(self.refs) if self.refs and r.random() < 0.5 else self.frame(r),
                    r.choice([X.DOMID_SELF, pid, self.mal.domain_id]),
                    r.choice([0, 0, 0, 8, 64, 4000, 4096, -16, 65520, None]))
                op = G.GnttabCopy(side(), side(), r.choice([0, 8, 8, 96, 96, 4096, 65535, -1]), r.randrange(4))
                self.call("grant_table_op", G.GNTTABOP_copy, [op], 1)
            elif k == 3:
                mfn = self.frame(r)
                if r.random() < 0.5 and isinstance(mfn, int) and 0 <= mfn < self.m.frame_table.nr_frames:
                    pfn = int(self.m.m2p[mfn])                 # drop its own mapping first, as netback does
                    if pfn < 0x10000:
                        self.call("update_va_mapping", 0xC0000000 + (pfn << 12), 0, X.UVMF_INVLPG)
                op = G.GnttabTransfer(mfn=mfn, domid=r.choice([pid, pid, 999]),
                                      ref=r.choice(self.xfer or self.refs or [7]))
                self.call("grant_table_op", G.GNTTABOP_transfer, [op], 1)
            elif k == 4:
                op = G.GnttabSetupTable(dom=r.choice([X.DOMID_SELF, pid]), nr_frames=self.scalar(r, r.randrange(6)))
                self.call("grant_table_op", G.GNTTABOP_setup_table, [op], r.choice([1, 1, 2]))
            else:
                self.call("grant_table_op", G.GNTTABOP_query_size, [G.GnttabQuerySize(dom=r.choice([X.DOMID_SELF, pid]))], 1)

    @rule(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 24))
    def other_ops(self, seed, n):
        r = random.Random(seed)
        pid = self.peer.domain_id
        for _ in range(n):
            k = r.randrange(6)
            if k == 0:
                op = r.choice([
                    ev.evtchn_alloc_unbound(dom=r.choice([X.DOMID_SELF, pid]), remote_dom=r.choice([0, pid, 999])),
                    ev.evtchn_bind_interdomain(remote_dom=r.choice([0, pid]), remote_port=r.randrange(-1, 40)),
                    ev.evtchn_send(port=self.scalar(r, r.randrange(40))),
                    ev.evtchn_close(port=self.scalar(r, r.randrange(1, 40))),
                    ev.evtchn_status(dom=r.choice([X.DOMID_SELF, pid]), port=r.randrange(-1, 40)),
                    ev.evtchn_bind_virq(virq=self.scalar(r, r.randrange(30)), vcpu=r.randrange(-1, 3)),
                    ev.evtchn_unmask(port=self.scalar(r, r.randrange(40))),
                    ev.evtchn_bind_vcpu(port=r.randrange(40), vcpu=r.randrange(-1, 3)),
                ])
                cmd = {ev.evtchn_alloc_unbound: ev.EVTCHNOP_alloc_unbound,
                       ev.evtchn_bind_interdomain: ev.EVTCHNOP_bind_interdomain, ev.evtchn_send: ev.EVTCHNOP_send,
                       ev.evtchn_close: ev.EVTCHNOP_close, ev.evtchn_status: ev.EVTCHNOP_status,
                       ev.evtchn_bind_virq: ev.EVTCHNOP_bind_virq, ev.evtchn_unmask: ev.EVTCHNOP_unmask,
                       ev.evtchn_bind_vcpu: ev.EVTCHNOP_bind_vcpu}[type(op)]
                self.call("event_channel_op", cmd, op)
            elif k == 1:                                   # the balloon, in both directions
                if r.random() < 0.5:
                    res = xen_memory_reservation(extent_start=[self.frame(r) for _ in range(2)], nr_extents=2,
                                                 extent_order=self.scalar(r, 0))
                    self.call("memory_op", XENMEM_decrease_reservation, res)
                else:
                    res = xen_memory_reservation(extent_start=[self.scalar(r, r.randrange(600))],
                                                 nr_extents=self.scalar(r, 1), extent_order=self.scalar(r, 0))
                    self.call("memory_op", r.choice([XENMEM_increase_reservation, XENMEM_populate_physmap]), res)
                self.call("memory_op", XENMEM_current_reservation, r.choice([None, pid, X.DOMID_SELF]))
            elif k == 2:
                if r.random() < 0.5:
                    self.call("sched_op", X.SCHEDOP_yield)
                else:
                    ports = [r.randrange(-1, 40) for _ in range(r.randrange(3))]
                    poll = X.sched_poll(ports=ports, nr_ports=self.scalar(r, len(ports)),
                                        timeout=self.scalar(r, self.m.now + 1000))
                    self.call("sched_op", X.SCHEDOP_poll, poll)
            elif k == 3:
                self.call("set_timer_op", self.scalar(r, self.m.now + r.randrange(10 ** 7)))
            elif k == 4:
                self.call("vm_assist", r.choice([0, 1, 5]), self.scalar(r, r.randrange(5)))
            elif r.random() < 0.5:                         # the wrong number of arguments
                name = r.choice(["mmu_update", "memory_op", "grant_table_op", "event_channel_op", "set_gdt"])
                self.call(name, *[r.choice(HOSTILE + [0, 1]) for _ in range(r.choice([0, 5, 6]))])
            else:                                          # vcpu_op and the calls 3.0's model lacks
                name = r.choice(["vcpu_op", "multicall", "update_va_mapping_otherdomain", "set_segment_base",
                                 r.randrange(-8, 1 << 16)])
                self.call(name, *[r.choice(HOSTILE + [0, 1, 2]) for _ in range(r.randrange(4))])

    @rule(seed=st.integers(0, 2 ** 32 - 1))
    def peer_grants(self, seed):
        """peer grants mallory some of its ordinary pages (not the secret ones), or revokes one."""
        r = random.Random(seed)
        if self.peer.domain_id not in self.m.domains:
            return
        g = guest_grants(self.peer.kernel)
        if self.refs and r.random() < 0.3:
            ref = self.refs.pop(r.randrange(len(self.refs)))
            if not g.end_foreign_access(ref):
                self.refs.append(ref)                      # still mapped: Xen says in use
            return
        pfn = r.randrange(3, len(self.peer.p2m) - 8)
        mfn = self.peer.p2m[pfn]
        if r.random() < 0.2:
            self.xfer.append(g.grant_foreign_transfer(self.mal.domain_id, pfn))
        else:
            self.refs.append(g.grant_foreign_access(self.mal.domain_id, mfn, readonly=r.random() < 0.4))

    @rule(seed=st.integers(0, 2 ** 32 - 1))
    def misbehaving_frontend(self, seed):
        """mallory scribbles garbage into its netfront's TX ring, kicks the backend, lets dom0 run."""
        r = random.Random(seed)
        vifs = getattr(self.mal.kernel, "vifs", None) or []
        nf = vifs[0] if vifs else None
        if nf is not None and nf.tx is not None:
            base = nf.tx.sring.maddr
            for _ in range(r.randint(1, 16)):
                off = r.randrange(0, 4096 - 4)
                self.m.memory.write_u32(base + off, r.choice([0, 1, 0xFFFFFFFF, r.randrange(1 << 32)]))
            self.call("event_channel_op", ev.EVTCHNOP_send, ev.evtchn_send(port=nf.port))
        self.m.run_for(r.randrange(1, 3) * 1_000_000)

    # -- the rest of the machine -------------------------------------------------------------------------
    @precondition(lambda self: self.steps % 12 == 11)
    @rule(seed=st.integers(0, 2 ** 32 - 1))
    def lifecycle(self, seed):
        r = random.Random(seed)
        m = self.m
        k = r.randrange(4)
        if k == 0:                                         # save and restore the bystander
            buf = io.BytesIO()
            from xenlab.toolstack.restore import restore_domain
            from xenlab.toolstack.save import save_domain
            save_domain(m, self.other, buf)
            buf.seek(0)
            self.other, _ = restore_domain(m, buf)
        elif k == 1:                                       # the bystander shuts down and is reaped
            self.other.shutdown("poweroff")
            m.run_for(2_000_000)
            m.domain_destroy(self.other)
            self.other = m.create_domain(xenlab.DomainConfig(name=f"other{self.steps}", memory=2))
        elif k == 2:                                       # the granter dies under mallory's mappings
            m.domain_destroy(self.peer)
            self.peer = m.create_domain(xenlab.DomainConfig(name=f"peer{self.steps}", memory=2, maxmem=3))
            self.new_peer()
        else:                                              # mallory dies with everything it holds
            m.domain_destroy(self.mal)
            self.handles = []
            self.mal = m.create_domain(xenlab.DomainConfig(name=f"mallory{self.steps}", memory=2, maxmem=3,
                                                           vif=["bridge=xenbr0"]))

    @invariant()
    def isolated(self):
        if not hasattr(self, "m"):
            return
        self.steps += 1
        check(self.m)
        if self.peer.domain_id in self.m.domains:
            assert self.crc() == self.secret_crc, "peer's secret pages changed"


def test_fuzz_isolation():
    """Random hostile hypercall bursts across every subsystem, with lifecycle and device traffic,
    checked after every step; at least MIN_OPERATIONS (XENLAB_FUZZ_OPS) hypercalls."""
    Fuzz.ops = 0
    examples = TARGET // 1000 + 2                  # about 1,200 hypercalls per example
    while Fuzz.ops < TARGET:
        Fuzz.ops = 0
        run_state_machine_as_test(Fuzz, settings=settings(
            max_examples=examples, stateful_step_count=200, deadline=None, derandomize=True,
            database=None, suppress_health_check=list(HealthCheck)))
        examples *= 2
    assert Fuzz.ops >= TARGET, f"only {Fuzz.ops} operations"
