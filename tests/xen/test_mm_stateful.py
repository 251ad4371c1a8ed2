"""Random sequences of mmu_update, mmuext_op, update_va_mapping, set_gdt, update_descriptor and
balloon operations from several domUs (some sending garbage); after every step a full memory scan
(mm_invariants.check) must find no violation. 30 examples of up to 500 steps: >= 10,000 operations."""
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, rule,
                                 run_state_machine_as_test)

import xenlab
from xenlab.guest.mm import GuestMMError
from xenlab.xen.public.memory import (XENMEM_decrease_reservation, XENMEM_increase_reservation,
                                      mmu_update_t, mmuext_op_t, xen_memory_reservation)

from mm_invariants import check

DESCRIPTORS = [0, 0x00CFBA000000FFFF, 0x00CFB2000000FFFF, 0x00CF9A000000FFFF, 0x00CFFA000000FFFF,
               0xC010EC00E0191234, 0xC010EC00E0081234, 0x0000E90000000067, 0x00CFB6000000FFFF,
               0xFC40B2000000FFFF, 0x0040B2000000FFFF, 0x00CFBA001000FFFF]


class MMMachine(RuleBasedStateMachine):
    total_ops = 0                  # across examples, for the MIN_OPERATIONS floor

    @initialize(paging=st.sampled_from(["2level", "pae"]), seed=st.integers(0, 3))
    def boot(self, paging, seed):
        self.m = xenlab.Machine(memory_mb=64, paging=paging, seed=seed)
        self.doms = [self.m.create_domain(xenlab.DomainConfig(name=f"u{i}", memory=2, maxmem=3))
                     for i in range(2)]
        self.gmm = [d.kernel.mm for d in self.doms]        # built by each kernel at boot
        self.esize = 4 if paging == "2level" else 8
        self.ops = 0

    # -- choosing frames and values --------------------------------------------------------------
    def frame(self, data, i):
        """An own frame, an own page-table frame, another domain's frame, Xen's, or no frame."""
        d, g = self.doms[i], self.gmm[i]
        kind = data.draw(st.sampled_from(["own", "own", "table", "foreign", "xen", "bad"]))
        if kind == "own":
            return d.p2m[data.draw(st.integers(0, len(d.p2m) - 1))] & 0xFFFFF
        if kind == "table" and g.pt_pfns:
            return d.p2m[data.draw(st.sampled_from(sorted(g.pt_pfns)))]
        if kind == "foreign":
            o = self.doms[1 - i]
            return o.p2m[data.draw(st.integers(0, len(o.p2m) - 1))] & 0xFFFFF
        if kind == "xen":
            return data.draw(st.integers(0, 511))
        return data.draw(st.integers(0, 1 << 20))

    def value(self, data, i):
        mfn = self.frame(data, i)
        flags = data.draw(st.sampled_from([0x1, 0x3, 0x7, 0x5, 0x83, 0x103, 0x0, 0x67, 0x1E7]))
        v = mfn << 12 | flags
        if self.esize == 8 and data.draw(st.booleans()):
            v |= data.draw(st.sampled_from([1 << 63, 1 << 52, 1 << 40]))
        return v & ((1 << (8 * self.esize)) - 1)

    def ptr(self, data, i):
        return (self.frame(data, i) << 12) + data.draw(st.integers(0, 4096 // self.esize - 1)) * self.esize

    def call(self, i, *args):
        rc = self.doms[i].hypercall(*args)
        assert isinstance(rc, int) and (rc <= 0 or args[0] == "memory_op"), rc
        self.ops += 1
        MMMachine.total_ops += 1
        return rc

    # -- rules -------------------------------------------------------------------------------------------
    @rule(data=st.data(), i=st.integers(0, 1), n=st.integers(1, 4))
    def mmu_update(self, data, i, n):
        reqs = [mmu_update_t(self.ptr(data, i) | data.draw(st.sampled_from([0, 0, 1, 2])), self.value(data, i))
                for _ in range(n)]
        ft = self.m.frame_table
        before = (ft.count_info.copy(), ft.type_info & 0x0800FFFF) if n == 1 else None
        done = [0]
        rc = self.call(i, "mmu_update", reqs, n, done)
        assert (rc == 0) == (done[0] == n)
        if rc and before is not None:             # a refused request changes no reference
            assert (ft.count_info == before[0]).all() and ((ft.type_info & 0x0800FFFF) == before[1]).all()

    @rule(data=st.data(), i=st.integers(0, 1))
    def mmuext(self, data, i):
        cmd = data.draw(st.sampled_from([0, 1, 2, 3, 4, 4, 5, 6, 7, 10, 13, 99]))
        op = mmuext_op_t(cmd, mfn=self.frame(data, i), linear_addr=data.draw(st.integers(0, 2**32 - 1)) & ~0xFFF,
                         nr_ents=data.draw(st.integers(0, 9000)))
        self.call(i, "mmuext_op", [op])

    @rule(data=st.data(), i=st.integers(0, 1))
    def update_va_mapping(self, data, i):
        va = data.draw(st.sampled_from([0xC0000000, 0xC0001000, 0x08048000, 0xFC000000, 0xF5800000,
                                        0xFFFFF000, 0x00400000])) + 0x1000 * data.draw(st.integers(0, 3))
        self.call(i, "update_va_mapping", va, self.value(data, i), data.draw(st.sampled_from([0, 1, 2, 5, 6])))

    @rule(data=st.data(), i=st.integers(0, 1))
    def descriptors(self, data, i):
        ma = (self.frame(data, i) << 12) + 8 * data.draw(st.integers(0, 511))
        self.call(i, "update_descriptor", ma, data.draw(st.sampled_from(DESCRIPTORS)))
        frames = [self.frame(data, i) for _ in range(data.draw(st.integers(0, 2)))]
        self.call(i, "set_gdt", frames, data.draw(st.integers(0, 512 * max(1, len(frames)))))

    @rule(data=st.data(), i=st.integers(0, 1))
    def balloon(self, data, i):
        if data.draw(st.booleans()):
            res = xen_memory_reservation(extent_start=[self.frame(data, i) for _ in range(2)], nr_extents=2)
            assert 0 <= self.call(i, "memory_op", XENMEM_decrease_reservation, res) <= 2
        else:
            res = xen_memory_reservation(nr_extents=data.draw(st.integers(1, 3)))
            assert 0 <= self.call(i, "memory_op", XENMEM_increase_reservation, res) <= 3
        assert self.doms[i].tot_pages <= self.doms[i].max_pages

    @rule(data=st.data(), i=st.integers(0, 1))
    def guest_api(self, data, i):
        g = self.gmm[i]
        va = 0x08000000 + 0x1000 * data.draw(st.integers(0, 2048))
        try:
            if data.draw(st.booleans()):
                g.map_page(va, data.draw(st.integers(2, len(self.doms[i].p2m) - 1)), writable=data.draw(st.booleans()))
            else:
                g.unmap_page(va)
        except (GuestMMError, ValueError):
            pass
        self.ops += 1
        MMMachine.total_ops += 1

    @invariant()
    def safe(self):
        if hasattr(self, "m"):
            check(self.m)


SETTINGS = settings(max_examples=50, stateful_step_count=500, deadline=None,
                    suppress_health_check=list(HealthCheck))
MIN_OPERATIONS = 10_000          # the floor for one CI run


def test_mm_stateful():
    """Random mmu_update/mmuext_op/update_va_mapping/set_gdt/balloon sequences from two domUs (some
    malicious); the invariants are checked after every step. Runs until at least MIN_OPERATIONS."""
    total = 0
    for _ in range(5):
        MMMachine.total_ops = 0
        run_state_machine_as_test(MMMachine, settings=SETTINGS)
        total += MMMachine.total_ops
        if total >= MIN_OPERATIONS:
            break
    assert total >= MIN_OPERATIONS, f"only {total} operations were driven"
