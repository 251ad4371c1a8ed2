"""XenStore and xenbus against the rules of xen-facts section 12."""
from __future__ import annotations

import copy

import pytest

from xenlab.dom0.xenbus import (
    XenbusDevice,
    XenbusError,
    backend_path,
    frontend_path,
    read_state,
    switch_state,
    transaction,
)
from xenlab.dom0.xenstore import OK, XenStore, XsError
from xenlab.xen.public.io.xenbus import XenbusState as S


@pytest.fixture
def store():
    st = XenStore()
    d0 = st.connect(0)
    for domid in (1, 2):  # what the toolstack does: a home each domain owns
        assert d0.mkdir(f"/local/domain/{domid}") == OK
        assert d0.set_perms(f"/local/domain/{domid}", [f"n{domid}"]) == OK
    return st, d0, st.introduce(1, 0x100, 1), st.introduce(2, 0x200, 1)


def test_write_creates_parents_and_directory_is_sorted(store):
    st, d0, d1, _ = store
    assert d0.write("/a/b/c", "x") == OK
    assert d0.read("/a") == "" and d0.read("/a/b") == ""
    d0.write("/a/b/a", "1")
    d0.write("/a/b/b", "2")
    assert d0.directory("/a/b") == ["a", "b", "c"]
    assert d0.read("/missing") == XsError("ENOENT")


def test_relative_paths_are_under_the_domain_home(store):
    st, d0, d1, _ = store
    assert d1.write("name", "guest1") == OK
    assert d0.read("/local/domain/1/name") == "guest1"
    assert d1.get_domain_path(1) == "/local/domain/1"
    assert d1.get_perms("name") == ["n1"]              # a domain owns what it creates


def test_permissions(store):
    st, d0, d1, d2 = store
    d1.write("secret", "s")
    assert d2.read("/local/domain/1/secret") == XsError("EACCES")
    assert d2.write("/local/domain/1/x", "y") == XsError("EACCES")
    assert d2.read("/local/domain/1/absent") == XsError("EACCES")   # cannot even see that it is absent
    assert d1.set_perms("secret", ["n1", "r2"]) == OK
    assert d2.read("/local/domain/1/secret") == "s"
    assert d2.write("/local/domain/1/secret", "t") == XsError("EACCES")
    assert d2.set_perms("/local/domain/1/secret", ["b2"]) == XsError("EACCES")
    assert d1.set_perms("secret", ["b1"]) == OK           # everyone else: read and write
    assert d2.write("/local/domain/1/secret", "t") == OK
    assert d0.read("/local/domain/1/secret") == "t"        # dom0 can do anything
    assert d1.set_perms("secret", ["x1"]) == XsError("EINVAL")


def test_rm_subtree_absent_ok_root_invalid(store):
    st, d0, *_ = store
    d0.write("/t/a/b", "1")
    assert d0.rm("/t/a") == OK
    assert d0.directory("/t") == []
    assert d0.rm("/t/a") == OK                            # absent, parent exists: fine
    assert d0.rm("/t/a/b") == XsError("ENOENT")           # parent absent too
    assert d0.rm("/") == XsError("EINVAL")
    assert d0.read("bad//path") == XsError("EINVAL")
    with pytest.raises(TypeError):
        d0.read(42)


def test_mkdir_existing_is_ok_and_silent(store):
    st, d0, *_ = store
    d0.write("/m", "v")
    d0.watch("/m", "t")
    d0.pop_events()
    assert d0.mkdir("/m") == OK and d0.read("/m") == "v"
    assert d0.pop_events() == []


def test_watch_fires_once_on_registration_then_on_descendants(store):
    st, d0, d1, _ = store
    assert d1.watch("device", "tok") == OK
    assert d1.pop_events() == [("device", "tok")]         # fires once at once, path as given
    assert d1.watch("device", "tok") == XsError("EEXIST")
    d1.write("device/vbd/768/state", "1")
    assert d1.pop_events() == [("device/vbd/768/state", "tok")]
    d0.watch("/local/domain/1/device/vbd/768/state", "deep")
    d0.pop_events()
    d0.rm("/local/domain/1/device")                        # rm fires watches below the node too
    assert d0.pop_events() == [("/local/domain/1/device/vbd/768/state", "deep")]
    assert d1.pop_events() == [("device", "tok")]
    assert d1.unwatch("device", "tok") == OK and d1.unwatch("device", "tok") == XsError("ENOENT")
    d1.write("device/x", "1")
    assert d1.pop_events() == []


def test_transaction_commit_fires_only_on_commit(store):
    st, d0, d1, _ = store
    d0.watch("/local/domain/1", "w")
    d0.pop_events()
    tx = d1.transaction_start()
    assert d1.write("device/vbd/768/ring-ref", "8", tx) == OK
    assert d1.write("device/vbd/768/event-channel", "5", tx) == OK
    assert d1.read("device/vbd/768/ring-ref") == XsError("ENOENT")   # not visible outside
    assert d1.read("device/vbd/768/ring-ref", tx) == "8"
    assert d0.pop_events() == []
    assert d1.transaction_end(tx) == OK
    assert [p for p, _ in d0.pop_events()] == ["/local/domain/1/device/vbd/768/ring-ref",
                                              "/local/domain/1/device/vbd/768/event-channel"]
    assert d1.read("device/vbd/768/event-channel") == "5"


def test_conflicting_commit_gets_eagain_and_retry_succeeds(store):
    st, d0, d1, _ = store
    tx = d1.transaction_start()
    d1.write("a", "from-tx", tx)
    d0.write("/tool/x", "meanwhile")                       # any change: 3.0 fails the commit
    assert d1.transaction_end(tx) == XsError("EAGAIN")
    assert d1.read("a") == XsError("ENOENT")
    assert d1.transaction_end(tx) == XsError("ENOENT")     # the transaction is gone

    calls = []

    def body(t):
        calls.append(t)
        if len(calls) == 1:
            d0.write("/tool/y", "again")                   # conflict on the first try only
        return d1.write("a", "retried", t)

    assert transaction(d1, body) == (OK, 2)
    assert d1.read("a") == "retried"


def test_abort_discards(store):
    st, d0, d1, _ = store
    tx = d1.transaction_start()
    d1.write("gone", "1", tx)
    assert d1.transaction_end(tx, commit=False) == OK
    assert d1.read("gone") == XsError("ENOENT")
    tx = d1.transaction_start()
    assert store[3].read("/local/domain/2", tx) == XsError("ENOENT")  # not dom2's transaction


def test_special_watches_introduce_and_release(store):
    st, d0, d1, _ = store
    assert d0.watch("@introduceDomain", "i") == OK
    assert d0.watch("@releaseDomain", "r") == OK
    assert d0.watch("@bogus", "b") == XsError("EINVAL")
    d0.pop_events()
    assert d0.introduce(3, 0x300, 2) == OK
    assert d0.pop_events() == [("@introduceDomain", "i")]
    assert d0.release(3) == OK
    assert d0.pop_events() == [("@releaseDomain", "r")]
    assert d0.release(3) == XsError("ENOENT")
    assert d1.introduce(4, 1, 1) == XsError("EACCES")    # only dom0's tools introduce domains


def test_trace_callback_and_determinism():
    def run():
        seen = []
        st = XenStore(on_event=lambda name, **p: seen.append((name, tuple(sorted(p.items())))))
        c = st.connect(0)
        c.watch("/x", "t")
        for i in range(5):
            c.write(f"/x/{4 - i}", str(i))
        return seen, st.dump()
    assert run() == run()
    seen, dump = run()
    assert ("write", (("domid", 0), ("path", "/x/4"), ("tx", 0), ("value", "0"))) in seen
    assert dump.splitlines()[2].strip().startswith("0 =")   # children listed sorted


def test_deepcopy_store():
    st = XenStore()
    c = st.connect(0)
    c.write("/a", "1")
    st2 = copy.deepcopy(st)
    st2.connections[0].write("/a", "2")
    assert c.read("/a") == "1"


def _device_pair(st, d0, d1):
    fe, be = frontend_path(1, "vbd", 768), backend_path(0, "vbd", 1, 768)
    for path, owner, peer in ((fe, 1, 0), (be, 0, 1)):     # as xend writes them
        d0.write(f"{path}/state", str(int(S.Initialising)))
        d0.set_perms(path, [f"n{owner}", f"r{peer}"])
        d0.set_perms(f"{path}/state", [f"n{owner}", f"r{peer}"])
    return fe, be


def test_xenbus_handshake(store):
    st, d0, d1, _ = store
    fe, be = _device_pair(st, d0, d1)
    back, front = XenbusDevice(d0, be, fe), XenbusDevice(d1, fe, be)
    assert back.poll() == [S.Initialising] and front.poll() == [S.Initialising]
    back.switch(S.InitWait)
    assert front.poll() == [S.InitWait]
    result, tries = transaction(d1, lambda tx: d1.write(f"{fe}/ring-ref", "8", tx))
    assert (result, tries) == (OK, 1)
    front.switch(S.Initialised)
    assert back.poll() == [S.Initialised]
    back.switch(S.Connected)
    front.switch(S.Connected)
    assert front.poll() == [S.Connected] and back.poll() == [S.Connected]
    assert read_state(d0, fe) == S.Connected
    with pytest.raises(XenbusError):
        front.switch(S.InitWait)
    assert switch_state(d1, fe, S.Connected) == OK         # same state: no write, no event
    assert back.poll() == []
    back.switch(S.Closing)
    front.switch(S.Closing)
    front.switch(S.Closed)
    back.switch(S.Closed)
    assert front.transitions[-1] == (S.Closing, S.Closed)
    assert read_state(d0, "/nowhere") == S.Unknown
