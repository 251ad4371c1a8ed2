"""xm save and xm migrate lose nothing: refused before the suspend, or the guest resumed after it."""
import io
import os
import shutil
import subprocess

import numpy as np
import pytest

import xenlab
from xenlab.guest.p2m import read_start_info
from xenlab.xen.page_alloc import PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_type_mask
from xenlab.toolstack import migrate as M
from xenlab.toolstack.checkpoint import SaveError, save_to

from toolstack_state import state

MS = 1_000_000
WORK = [("dirty", 2000, 64), ("compute", 400 * MS)]        # finite work: it must be neither lost nor redone
BUSY = [("dirty", 3000, 200), ("compute", 5 * MS), ("loop", 0, None)]


def guest(seed=1, workload=WORK, **kw):
    m = xenlab.Machine(seed=seed, memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="web", memory=8, workload=workload, **kw))
    m.run_for(50 * MS)
    return m, d


def running(m, name="web"):
    d = m.domain_by_name(name)
    return d is not None and not d.is_shutdown and "s" not in xenlab.xm(m, f"list {name}").rows[0]["state"]


def refused(m, d, target, match):
    before, domid = state(m), d.domain_id
    with pytest.raises(xenlab.XmError, match=match) as exc:
        xenlab.xm(m, f"save web {target}")
    assert state(m) == before and m.domains[domid] is d and not d.is_shutdown     # never suspended
    assert "Traceback" not in str(exc.value) and str(exc.value).startswith("Error: ")
    return exc.value


def small_target(monkeypatch, size: int) -> None:
    """Every save target fills up after ``size`` bytes (a full disk half way through the image)."""
    from xenlab.toolstack import checkpoint as C
    real_open = C.Target.open

    def open_small(self):
        real_open(self)
        self.fh.close()
        self.fh = FillsUp(size)
        return self
    monkeypatch.setattr(C.Target, "open", open_small)


def test_missing_directory_directory_and_device_full_are_refused_before_suspending(tmp_path):
    m, d = guest()
    refused(m, d, tmp_path / "no" / "such" / "web.chk", "directory .* does not exist")
    refused(m, d, tmp_path, "it is a directory")
    refused(m, d, "/dev/full", "no space left")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/sys/kernel/notes"), reason="needs a file nobody may write")
def test_unwritable_path_is_refused_before_suspending():
    m, d = guest()
    refused(m, d, "/sys/kernel/notes", "permission denied")


def test_read_only_existing_image_is_refused_and_kept(tmp_path):
    m, d = guest()
    old = tmp_path / "old.chk"
    old.write_bytes(b"an older image")
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(old)]).returncode:
            pytest.skip("root ignores file modes and chattr +i is not available")
    else:
        old.chmod(0o444)
    try:
        refused(m, d, old, "permission denied")
        assert old.read_bytes() == b"an older image"
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(old)])


class FillsUp(io.RawIOBase):
    """A disk that takes `room` bytes, then answers ENOSPC (as a full filesystem does mid-save)."""

    def __init__(self, room):
        self.room = room

    def writable(self):
        return True

    def write(self, b):
        if self.room <= 0:
            raise OSError(28, "No space left on device")
        n = min(len(b), self.room)
        self.room -= n
        return n


def test_disk_full_after_suspend_resumes_the_guest_with_nothing_lost(monkeypatch, tmp_path):
    """The guest suspends, the disk fills; the domain comes back (same id, name) and finishes its
    work exactly once: the compute op ends at the same guest time as in an undisturbed twin."""
    m, d = guest()
    twin, td = guest()
    domid = d.domain_id
    from xenlab.toolstack import checkpoint as C
    real_open = C.Target.open

    def open_small(self):
        real_open(self)
        self.fh.close()
        self.fh = FillsUp(5 << 20)                 # the header and ~5 MiB of pages, then full
        return self
    monkeypatch.setattr(C.Target, "open", open_small)
    with pytest.raises(xenlab.XmError, match="was resumed") as exc:
        xenlab.xm(m, f"save web {tmp_path / 'web.chk'}")
    assert "no space left" in str(exc.value)
    assert list(tmp_path.iterdir()) == []           # no half image left behind
    new = m.domains[domid]
    assert new.name == "web" and running(m)
    assert [ev for ev in m.xend.log if "web" in ev] == []          # xend did not destroy or restart it
    # The work goes on from where it stopped: the compute ends once, at the same guest time.
    m.run_for(600 * MS)
    twin.run_for(600 * MS)
    assert new.kernel.contexts[0].pc == td.kernel.contexts[0].pc == 2
    assert new.cpu_time > 0


def test_save_failure_before_suspend_leaves_it_running(monkeypatch, tmp_path):
    m, d = guest()
    before = state(m)
    from xenlab.toolstack import save as S

    def boom(*a, **k):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(S, "write_header", boom)
    with pytest.raises(SaveError, match="before it was suspended"):
        save_to(m, d, str(tmp_path / "x.chk"))
    assert state(m) == before and not d.is_shutdown and d.name == "web"


def test_successful_save_replaces_an_older_image_atomically(tmp_path):
    m, d = guest()
    path = tmp_path / "web.chk"
    path.write_bytes(b"old")
    xenlab.xm(m, f"save web {path}")
    assert path.read_bytes()[:16] == b"LinuxGuestRecord" and sorted(p.name for p in tmp_path.iterdir()) == ["web.chk"]


def test_failed_live_migration_leaves_the_source_running():
    """The target refuses the image (its copy of a disk file is gone): the source resumes."""
    m, d = guest(seed=2, workload=BUSY)
    target = xenlab.Machine(seed=3, memory_mb=64)
    from xenlab.toolstack import restore as R
    real = R.validate_image
    calls = []

    def refuse_on_target(machine, source, replacing=None):
        if machine is target:
            calls.append(1)
            raise R.RestoreError("Error: Restore failed: the target's disk went away")
        return real(machine, source, replacing)
    R.validate_image = refuse_on_target
    try:
        with pytest.raises(SaveError, match="resumed on this host") as exc:
            M.migrate(m, d, target, live=True)
    finally:
        R.validate_image = real
    assert calls and "disk went away" in str(exc.value)
    assert running(m) and list(target.domains) == [0]
    src = m.domain_by_name("web")
    assert src.domain_id == d.domain_id
    t0 = src.cpu_time
    m.run_for(100 * MS)
    assert src.cpu_time > t0 and running(m)                # and it keeps working


def test_migration_refused_before_anything_moves_when_the_target_is_too_small():
    m, d = guest()
    target = xenlab.Machine(seed=3, memory_mb=24)
    before, tbefore = state(m), state(target)
    with pytest.raises(xenlab.XmError, match="before the domain was suspended.*not enough free memory"):
        M.hosts["small"] = target
        try:
            xenlab.xm(m, "migrate web small -l")
        finally:
            M.hosts.pop("small")
    assert state(m) == before and state(target) == tbefore and not d.is_shutdown


def test_resumed_guest_memory_is_what_it_was(monkeypatch, tmp_path):
    """Byte for byte: every page of the resumed guest equals the page at the suspend."""
    m, d = guest(seed=4)
    from xenlab.toolstack.save import suspend_domain
    suspend_domain(m, d)
    pages = m.memory.data.reshape(-1, 4096)[np.asarray(d.p2m)].copy()
    small_target(monkeypatch, 1 << 20)
    with pytest.raises(SaveError, match="was resumed"):
        save_to(m, d, str(tmp_path / "x"))
    new = m.domain_by_name("web")
    after = m.memory.data.reshape(-1, 4096)[np.asarray(new.p2m)]
    # Page tables and the guest's P2M array hold the new frame numbers and start_info, the console and
    # store rings are rewritten for the new host, as after any restore (test_save_restore checks those);
    # every other page is equal.
    ti = m.frame_table.type_info[np.asarray(new.p2m)] & PGT_type_mask
    same = ~np.isin(ti, [PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table])
    same[:3] = False
    info = read_start_info(new)
    first = (info.mfn_list - 0xC0000000) >> 12
    same[first:first + -(-info.nr_pages * 4 // 4096)] = False
    assert same.sum() > 1500
    assert (after[same] == pages[same]).all()


def test_guest_that_ends_during_a_live_migration_gives_a_clean_error():
    """Its program ends mid pre-copy: it powers off and xend destroys it. An xm-style error, no
    DOM0_SHADOW_CONTROL traceback, and the target holds nothing."""
    m, d = guest(seed=2)
    target = xenlab.Machine(seed=3, memory_mb=64)
    with pytest.raises(SaveError, match="shut down by itself"):
        M.migrate(m, d, target, live=True, rate_mbit=1)
    assert m.domain_by_name("web") is None and list(target.domains) == [0]


def test_resumed_guest_keeps_its_disk_network_and_console(monkeypatch, tmp_path):
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(64 * 512))
    m = xenlab.Machine(seed=1, memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="web", memory=8, disk=[f"file:{img},xvda,w"], vif=["rx=copy"]))
    m.run_for(20 * MS)
    console = list(d.console_output)
    small_target(monkeypatch, 2 << 20)
    with pytest.raises(xenlab.XmError, match="was resumed"):
        xenlab.xm(m, f"save web {tmp_path / 'web.chk'}")
    r = m.domain_by_name("web")
    assert r.console_output[:len(console)] == console
    io_ = r.kernel.vbds["xvda"].write(2, b"\xa5" * 1024)
    ping = r.kernel.net.ping("10.0.0.1", 64)
    m.run_for(20 * MS)
    assert io_.done and img.read_bytes()[1024:2048] == b"\xa5" * 1024
    assert ping.ok


def test_restore_reconnects_xenstore_devices_and_shutdown(tmp_path):
    """XendCheckpoint.restore's completeRestore: the domain is introduced to xenstored again, so its
    devices come back and xm shutdown (a control/shutdown watch) reaches the restored kernel."""
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(64 * 512))
    m = xenlab.Machine(seed=6, memory_mb=64)
    m.create_domain(xenlab.DomainConfig(name="web", memory=8, disk=[f"file:{img},xvda,r"], vif=["rx=copy"]))
    m.run_for(20 * MS)
    free = m.frame_table.free_frames
    xenlab.xm(m, f"save web {tmp_path / 'web.chk'}")
    xenlab.xm(m, f"restore {tmp_path / 'web.chk'}")
    r = m.domain_by_name("web")
    assert m.xend.xenstored.tools.read(f"/local/domain/{r.domain_id}/name") == "web"
    rd = r.kernel.vbds["xvda"].read(0, 2)
    m.run_for(20 * MS)
    assert rd.done and rd.data == bytes(1024)
    xenlab.xm(m, "shutdown -w web")
    assert m.domain_by_name("web") is None and m.frame_table.free_frames >= free


def test_failure_when_the_image_is_committed_resumes_the_guest(monkeypatch, tmp_path):
    """The last step (fsync + rename over the target) fails: the domain was not destroyed yet."""
    m, d = guest()
    domid = d.domain_id

    def no_rename(a, b):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(xenlab.XmError, match="was resumed"):
        xenlab.xm(m, f"save web {tmp_path / 'web.chk'}")
    assert m.domains[domid].name == "web" and running(m) and list(tmp_path.iterdir()) == []


def test_when_the_resume_itself_cannot_be_done_the_message_says_so(monkeypatch, tmp_path):
    """The image of the suspended domain does not check out: it stays suspended, memory untouched,
    and the error says exactly that (state s in xm list)."""
    m, d = guest()
    from xenlab.toolstack import checkpoint as C
    from xenlab.toolstack.restore import RestoreError
    real_open = C.Target.open

    def open_small(self):
        real_open(self)
        self.fh.close()
        self.fh = FillsUp(1 << 20)
        return self

    def no(*a, **k):
        raise RestoreError("Error: Restore failed: checked and refused")
    monkeypatch.setattr(C.Target, "open", open_small)
    monkeypatch.setattr(C, "validate_image", no)
    with pytest.raises(SaveError, match="checked and refused.*stays suspended"):
        save_to(m, d, str(tmp_path / "x"))
    assert m.domain_by_name("web") is d and "s" in xenlab.xm(m, "list web").rows[0]["state"]
    monkeypatch.setattr(C, "validate_image", lambda *a, **k: None)
    monkeypatch.setattr(C, "restore_domain", no)
    with pytest.raises(SaveError, match="the domain is gone"):
        save_to(m, d, str(tmp_path / "x"))
    assert m.domain_by_name("web") is None


def test_suspend_goes_through_the_guests_control_shutdown_watch(tmp_path):
    """3.0.0: xend writes "suspend" into control/shutdown and waits; the guest's own watch handler
    (reboot.c) clears the node and suspends. A running guest answers; a paused one cannot run its
    handler, so the save is refused after the wait and the guest is left paused, not destroyed."""
    from xenlab.dom0.xenstore import domain_path
    from xenlab.toolstack.save import suspend_domain
    m, d = guest()
    node = f"{domain_path(d.domain_id)}/control/shutdown"
    suspend_domain(m, d)
    assert m.xend.xenstored.tools.read(node) == "" and d.is_shutdown     # cleared by the guest's handler

    m, d = guest(seed=2)
    xenlab.xm(m, "pause web")
    with pytest.raises((SaveError, xenlab.XmError), match="not to have suspended"):
        save_to(m, d, str(tmp_path / "paused.chk"))
    assert m.domain_by_name("web") is d and not d.is_shutdown
    assert m.xend.xenstored.tools.read(node) == "suspend"          # never read by the paused guest
