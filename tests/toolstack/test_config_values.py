"""Config values that parse but are absurd: a clear error naming the key (and its line), at once,
and nothing created."""
import os
import shutil
import subprocess
import time

import pytest

import xenlab

from toolstack_state import state


@pytest.fixture(scope="module")
def machine():
    return xenlab.Machine(seed=2, memory_mb=48)


@pytest.fixture
def img(tmp_path):
    path = tmp_path / "disk.img"
    path.write_bytes(bytes(64 * 512))
    return path


def create_fails(m, text, match):
    before = state(m)
    t0 = time.perf_counter()
    with pytest.raises(xenlab.XmError, match=match) as exc:
        xenlab.xm(m, "create", config=text)
    assert time.perf_counter() - t0 < 2.0                  # refused at once (no 10^8-element range)
    assert state(m) == before
    return str(exc.value)


@pytest.mark.parametrize("line,match", [
    ("cpus = '0-100000000'", r"line 3: cpus='0-100000000': CPU 100000000 does not exist"),
    ("cpus = '3-1'", r"line 3: cpus='3-1': '3-1' is not a CPU number or range"),
    ("cpus = '^0'", r"line 3: cpus='\^0' leaves no CPU"),
    ("vif = ['mac=zz:zz']", r"line 3: vif 'mac=zz:zz': 'zz:zz' is not a MAC address"),
    ("vif = ['mac=01:16:3e:00:00:01']", r"line 3: .*multicast"),
    ("vif = ['mac=00:16:3e:00:00:01', 'mac=00:16:3E:00:00:01']", r"line 3: vif: the MAC address .* two interfaces"),
    ("vif = ['bridge=xenbr7']", r"line 3: vif 'bridge=xenbr7': bridge 'xenbr7' does not exist in domain 0"),
    ("vif = ['ip=10.0.0.300']", r"line 3: .*'10.0.0.300' is not an IPv4 address"),
    ("vif = ['colour=blue']", r"line 3: vif 'colour=blue': unknown key 'colour'"),
    ("vif = ['rx=teleport']", r"line 3: .*rx='teleport'"),
    ("sched = {'slice': 5}", r"line 3: sched: the credit scheduler has no parameter 'slice'"),
    ("sched = {'weight': [1]}", r"line 3: sched: parameter 'weight' must be a number"),
    ("cpu_weight = 100000", r"line 3: weight: 100000 is not a number in 0..65535"),
    ("maxmem = 10 ** 12", r"line 3: the value of 'maxmem' must be a literal"),
    ("maxmem = 1000000000000", r"line 3: maxmem=1000000000000: more than the 65536 MiB"),
    ("x = {[1]: 2}", r"line 3: the value of 'x' must be a literal"),
])
def test_absurd_values_name_their_key_and_line(machine, line, match):
    create_fails(machine, f"name = 'g'\nmemory = 4\n{line}\n", match)


def test_absurd_memory(machine):
    create_fails(machine, "name = 'g'\nmemory = 4000000\n", r"line 2: memory=4000000: more than")
    create_fails(machine, "name = 'g'\n\nmemory = 40000\n", r"line 3: not enough free memory for domain 'g'")


def test_duplicate_disks(machine, img):
    create_fails(machine, f"name = 'g'\nmemory = 4\ndisk = ['file:{img},xvda,w', 'file:{img},xvda,r']\n",
                 "line 3: disk: device xvda is given twice")
    create_fails(machine, f"name = 'g'\nmemory = 4\ndisk = ['file:{img},xvda,w', 'file:{img},xvdb,r']\n",
                 "line 3: disk: the file .* is attached twice")
    os.symlink(img, img.with_name("alias.img"))
    create_fails(machine, f"name = 'g'\nmemory = 4\ndisk = ['file:{img},xvda,w', "
                          f"'file:{img.with_name('alias.img')},xvdb,w']\n", "attached twice")
    # Two read-only attachments of one file are fine (xend allows sharing 'r').
    xenlab.xm(machine, "create", config=f"name = 'g'\nmemory = 4\ndisk = ['file:{img},xvda,r', 'file:{img},xvdb,r']\n")
    xenlab.xm(machine, "destroy g")


def test_read_only_backing_image_attached_w_is_refused(machine, img):
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(img)]).returncode:
            pytest.skip("root ignores file modes and chattr +i is not available")
    else:
        img.chmod(0o444)
    try:
        create_fails(machine, f"name = 'g'\nmemory = 4\ndisk = ['file:{img},xvda,w']\n",
                     r"line 3: disk .*cannot be opened for writing .*attach it with mode r")
        xenlab.xm(machine, "create", config=f"name = 'g'\nmemory = 4\ndisk = ['file:{img},xvda,r']\n")
        xenlab.xm(machine, "destroy g")
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(img)])


def test_xm_create_dev_zero_and_a_huge_file_are_refused_by_size(machine, tmp_path):
    before = state(machine)
    t0 = time.perf_counter()
    with pytest.raises(xenlab.XmError, match="/dev/zero is larger than 1048576 bytes"):
        xenlab.xm(machine, "create /dev/zero")
    huge = tmp_path / "huge.cfg"
    with open(huge, "wb") as f:
        f.truncate(1 << 34)                                   # 16 GiB, sparse: must not be read
    with pytest.raises(xenlab.XmError, match="larger than"):
        xenlab.xm(machine, f"create {huge}")
    assert time.perf_counter() - t0 < 2.0
    with pytest.raises(xenlab.XmError, match="not a regular file"):
        xenlab.xm(machine, f"create {tmp_path}")
    binary = tmp_path / "bin.cfg"
    binary.write_bytes(b"name = 'x'\n\xff\xfe")
    with pytest.raises(xenlab.XmError, match=r"not UTF-8 text \(byte 11\)"):
        xenlab.xm(machine, f"create {binary}")
    assert state(machine) == before


def test_messages_in_polish(machine):
    xenlab.set_language("pl")
    msg = create_fails(machine, "name = 'g'\nmemory = 4\nvif = ['bridge=br1']\n", "most 'br1' nie istnieje")
    assert "domenie 0" in msg
