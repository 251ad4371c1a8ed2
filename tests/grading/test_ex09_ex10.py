"""Exercises 09, 10 and 10b: their reference answers agree with the model they are graded against,
get full marks in-process, stubs and typical wrong answers lose points, and the harnesses guard
what a back end may touch."""
import numpy as np
import pytest

from xenlab.grading.checks import ex09_front_ring as E9
from xenlab.grading.checks import ex10_blkback as E10
from xenlab.grading.checks import ex10b_grant_map as E10b
from xenlab.grading.mapcase import GrantLab
from xenlab.grading.runner import run_checks
from xenlab.xen.public.io import blkif as B

M32 = 0xFFFF_FFFF


def stub(*args):
    raise NotImplementedError("stub")


class _Ctx:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)


# -- ex09 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_ring_references_agree_with_the_model_in_random_sessions(seed):
    seen = {"push": 0, "final": 0, "notify": 0, "wrapped": 0}

    def on_push(state):
        want, want_state = E9.model_run("push_requests_and_check_notify", state)
        bare = E9.BareFront(state)
        assert E9.reference_push(bare) == want
        assert E9.state_of(bare) == {k: v for k, v in want_state.items()}
        seen["push"] += 1
        seen["notify"] += want
        seen["wrapped"] += state["req_prod_pvt"] < state["req_prod"]

    def on_final(state):
        want, want_state = E9.model_run("final_check_for_responses", state)
        bare = E9.BareFront(state)
        assert E9.reference_final_check(bare) == want
        assert E9.state_of(bare) == want_state
        seen["final"] += 1

    E9.random_session(_Ctx(seed), on_push=on_push, on_final=on_final, steps=3000)
    assert seen["push"] > 100 and seen["final"] > 100
    assert 0 < seen["notify"] < seen["push"]          # both sent and held-off pushes happen


def test_ex09_reference_full_marks_stub_zero():
    ns = {"push_requests_and_check_notify": E9.reference_push,
          "final_check_for_responses": E9.reference_final_check}
    for seed in (1, 99):
        results = run_checks("ex09", ns, hidden=True, seed=seed)
        assert all(r["status"] == "pass" for r in results), results
    results = run_checks("ex09", {k: stub for k in ns}, hidden=True)
    assert sum(r["points"] for r in results) == 0


def test_ex09_typical_mistakes_are_caught():
    def naive_push(f):                                  # no modular arithmetic
        old = f.sring.req_prod
        f.sring.req_prod = f.req_prod_pvt
        return old < f.sring.req_event <= f.req_prod_pvt

    def no_second_look(f):
        work = (f.sring.rsp_prod - f.rsp_cons) & M32
        if not work:
            f.sring.rsp_event = (f.rsp_cons + 1) & M32
        return work

    def model_macro(f):                                 # calling the model is not an answer
        return f.push_requests_and_check_notify()

    ns = {"push_requests_and_check_notify": naive_push, "final_check_for_responses": no_second_look}
    results = {r["name"]: r for r in run_checks("ex09", ns, hidden=True, seed=3, lang="en")}
    assert results["push_wrap"]["status"] == "fail"
    assert results["final_race"]["status"] == "fail"
    assert results["final_idle"]["status"] == "pass"
    results = run_checks("ex09", {"push_requests_and_check_notify": model_macro,
                                  "final_check_for_responses": E9.reference_final_check}, lang="en")
    push = [r for r in results if r["function"] == "push_requests_and_check_notify"]
    assert all(r["status"] == "fail" and "bare" in r["message"] for r in push)


def test_student_ring_drives_a_real_disk():
    from xenlab.viz.ex09 import _disk_run
    yours = _disk_run(E9.reference_push, E9.reference_final_check)
    model = _disk_run()
    assert yours["done"] == yours["total"] and yours["image"] and yours["read"]
    assert (yours["sent"], yours["held"]) == (model["sent"], model["held"])


# -- ex10 -------------------------------------------------------------------------------------------------
def test_blkback_reference_agrees_with_the_models_blkback(tmp_path):
    """The same requests, straight on a real ring: the model's blkback vs the reference handler."""
    import xenlab
    from xenlab.guest.gnttab import guest_grants
    from xenlab.viz.ex10 import plug_handler

    outcomes = []
    for use_reference in (False, True):
        img = tmp_path / f"d{use_reference}.img"
        img.write_bytes(bytes(i % 239 for i in range(512 * 64)))
        m = xenlab.Machine(memory_mb=64, seed=0)
        d = m.create_domain(xenlab.DomainConfig(name="g", memory=16, disk=[f"file:{img},xvda,w"]))
        if use_reference:
            plug_handler(m, E10.reference_handle_request)
        vbd = d.kernel.vbds["xvda"]
        k = d.kernel
        grants = guest_grants(k)
        pages = [d.p2m[k.alloc_page()] for _ in range(4)]
        for i, mfn in enumerate(pages):
            m.memory.write_bytes(mfn << 12, bytes([i + 1]) * 4096)
        rw = [grants.grant_foreign_access(0, mfn) for mfn in pages[:2]]
        ro = [grants.grant_foreign_access(0, mfn, readonly=True) for mfn in pages[2:]]
        seg = B.BlkifRequestSegment
        reqs = [B.BlkifRequest(1, 2, 0, 901, 3, [seg(ro[0], 0, 7), seg(ro[1], 2, 3)]),     # good write
                B.BlkifRequest(0, 1, 0, 902, 60, [seg(rw[0], 0, 3)]),                      # good read
                B.BlkifRequest(1, 1, 0, 903, 0, [seg(rw[1], 0, 7)]),                       # write, rw grant: fine
                B.BlkifRequest(0, 1, 0, 904, 0, [seg(ro[0], 0, 7)]),                       # read into a ro grant
                B.BlkifRequest(0, 1, 0, 905, 61, [seg(rw[0], 0, 7)]),                      # past the end
                B.BlkifRequest(1, 2, 0, 906, 0, [seg(ro[0], 0, 7), seg(2000, 0, 7)]),      # bad gref
                B.BlkifRequest(0, 0, 0, 907, 0, []),                                      # no segments
                B.BlkifRequest(0, 1, 0, 908, 0, [seg(rw[0], 4, 1)]),                       # first > last
                B.BlkifRequest(5, 1, 0, 909, 0, [seg(rw[0], 0, 7)])]                       # unknown op
        statuses = {}
        with m.trace.record("IO") as events:
            for req in reqs:
                vbd.ring.produce_request(req)
                if vbd.ring.push_requests_and_check_notify():
                    vbd.notify()
                m.run_for(2_000_000)
        from xenlab.xen.gnttab import grant_table
        for mfn in pages:
            statuses.setdefault("pages", []).append(m.memory.read_bytes(mfn << 12, 4096))
        ring = vbd.ring
        for idx in range(ring.rsp_cons - len(reqs), ring.rsp_cons):
            rsp = ring.get_response(idx)
            statuses[rsp.id] = rsp.status
        statuses["image"] = img.read_bytes()
        statuses["mappings"] = len(grant_table(m.dom0).mappings())
        outcomes.append(statuses)
        del events
    model, ref = outcomes
    assert [model[i] for i in range(901, 910)] == [0, 0, 0, -1, -1, -1, -1, -1, -1]
    assert model == ref


def test_ex10_reference_full_marks_stub_zero():
    results = run_checks("ex10", {"handle_request": E10.reference_handle_request}, hidden=True, seed=5)
    assert all(r["status"] == "pass" for r in results), results
    results = run_checks("ex10", {"handle_request": stub}, hidden=True)
    assert sum(r["points"] for r in results) == 0


def test_ex10_a_handler_that_forgets_to_unmap_or_maps_writes_writable_fails():
    def sloppy(be, req):
        pages = []
        for s in req.seg[:req.nr_segments]:
            status, page = be.map_grant(s.gref, readonly=False)
            if status:
                return be.respond(req.id, req.operation, B.BLKIF_RSP_ERROR)
            pages.append(page)
        be.respond(req.id, req.operation, B.BLKIF_RSP_OKAY)
    results = {r["name"]: r for r in run_checks("ex10", {"handle_request": sloppy}, lang="en")}
    assert results["write_many"]["status"] == "fail"
    assert results["bad_gref"]["status"] == "fail" and "mappings were left" in results["bad_gref"]["message"]


def test_blkbackio_refuses_access_outside_the_image(tmp_path):
    from xenlab.dom0.blkreq import BlkbackIO, ImageAccessError
    img = tmp_path / "x.img"
    img.write_bytes(bytes(512 * 4))
    be = BlkbackIO(None, 1, img, 4, False)
    with pytest.raises(ImageAccessError):
        be.read_sectors(3, 2)
    with pytest.raises(ImageAccessError):
        be.write_sectors(-1, bytes(512))
    with pytest.raises(ImageAccessError):
        be.write_sectors(0, bytes(100))
    be.write_sectors(3, b"\x01" * 512)
    assert img.read_bytes()[-512:] == b"\x01" * 512 and len(img.read_bytes()) == 2048


# -- ex10b ------------------------------------------------------------------------------------------------
def test_grant_map_reference_agrees_with_gnttab_on_random_cases():
    lab = GrantLab(3)
    rng = np.random.default_rng(11)
    statuses = set()
    for _ in range(1500):
        case = lab.random_case(rng)
        want = lab.xen(case)
        assert E10b.reference_map_grant_ref(case) == want, case
        statuses.add(want[0])
    assert statuses == {0, -1, -2, -3, -7}


def test_ex10b_reference_full_marks_stub_zero():
    results = run_checks("ex10b", {"map_grant_ref": E10b.reference_map_grant_ref}, hidden=True, seed=8)
    assert all(r["status"] == "pass" for r in results), results
    results = run_checks("ex10b", {"map_grant_ref": stub}, hidden=True)
    assert sum(r["points"] for r in results) == 0


def test_ex10b_wrong_order_is_caught_by_a_hidden_check():
    def domain_first(c):
        if c.dom not in c.domains or c.dom == c.caller:
            return -2, c.sha_flags
        return E10b.reference_map_grant_ref(c)
    results = {r["name"]: r for r in run_checks("ex10b", {"map_grant_ref": domain_first}, hidden=True, seed=1)}
    assert results["check_order"]["status"] == "fail"
