"""Toolstack fuzz: mutated config files and mutated save images, seeded and deterministic.

Each mutant must be either refused cleanly (an xm-style "Error: ..." through XmError/ToolstackError,
never another Python exception) with the domain list and the free memory exactly as before, or
accepted correctly: the domain built is the one the config (or image) describes, byte for byte for
the image's pages, and destroying it gives every frame back. XENLAB_FUZZ_N scales the run (default
1000 of each; a soak run sets more).
"""
import io
import os
import random
import re
import struct

import numpy as np
import pytest

import xenlab
from xenlab.guest.p2m import read_start_info
from xenlab.toolstack import save as S
from xenlab.toolstack.config import parse_config
from xenlab.toolstack.restore import restore_domain
from xenlab.toolstack.xend import ToolstackError
from xenlab.xen.public import dom0_ops as D

from toolstack_state import state

N = int(os.environ.get("XENLAB_FUZZ_N", "1000"))
SEED = 20261207
MS = 1_000_000

ABSURD = ["-1", "0", "1", "10**6", "2**64", "1e308", "1.5", "0x10", "-0", "''", "'x' * 3", "None", "True", "[]",
          "{}", "[[[[1]]]]", "'0-100000000'", "'^0-31'", "'\\x00'", "'ąę'", "['mac=zz:zz']", "['bridge=nope']",
          "['file:/nonexistent/img,xvda,w']", "{'slice': 1}", "{'weight': -1}", "{'weight': 2**40}",
          "{'cap': 70000}", "'restart'", "'preserve'", "'0-1,^1'", "'31'", "'3-1'", "'-1'",
          "['mac=00:16:3e:00:00:01', 'mac=00:16:3e:00:00:01']", "['ip=1.2.3.4 5.6.7.8']", "['ip=']",
          "['mac=ff:ff:ff:ff:ff:ff']", "['rx=flip']", "['vifname=a, script=b, type=ioemu']", "'a' * 5000",
          "'" + "a" * 5000 + "'", "[" * 60 + "]" * 60, "{1: 2}", "{(1,): [2]}", "'Domain-0'", "'a b'",
          "'idle'", "'cpu-bound'", "[('compute', -5)]", "[('loop', 'x')]", "[('compute', 10**6), ('loop', 0, None)]",
          "65536", "65537", "4", "8", "32", "33", "'hvm'", "'linux'", "b'bytes'", "-10**30"]
KEYS = ["name", "memory", "maxmem", "vcpus", "cpus", "cpu_weight", "cpu_cap", "weight", "cap", "disk", "vif",
        "on_poweroff", "on_reboot", "on_crash", "workload", "sched", "builder", "extra", "root", "kernel",
        "nonsense", "memroy", "acpi"]


def bases(folder):
    """The configs mutants come from; disk paths are relative (the test runs in ``folder``), so the
    texts, and with them the seeded mutants, are the same in every run."""
    img, img2 = "a.img", "b.img"
    (folder / img).write_bytes(bytes(64 * 512))
    (folder / img2).write_bytes(bytes(32 * 512))
    return [
        "name = 'fz'\nmemory = 4\nvcpus = 1\n",
        "name = 'fz'\nmemory = 4\nvcpus = 2\ncpus = '0'\ncpu_weight = 512\ncpu_cap = 50\non_crash = 'destroy'\n",
        "name = 'fz'\nmemory = 4\nvif = ['mac=00:16:3e:00:00:2a, bridge=xenbr0, ip=10.0.0.42']\n",
        f"name = 'fz'\nmemory = 4\ndisk = ['file:{img},xvda,w', 'file:{img2},hdb,r']\nextra = 'console=xvc0'\n",
        "name = 'fz'\nmemory = 4\nsched = {'weight': 128, 'cap': 0}\nworkload = 'cpu-bound'\n",
    ]


def mutate_config(rng: random.Random, text: str) -> bytes:
    kind = rng.randrange(6)
    raw = bytearray(text.encode())
    if kind == 0:                                              # byte flips, biased to the syntax
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(raw))
            raw[pos] = rng.choice(b"'\"[]{}()=,:-^0123456789\n\\#x ") if rng.random() < 0.7 else rng.randrange(256)
        return bytes(raw)
    if kind == 1:                                              # truncation
        return bytes(raw[:rng.randrange(len(raw))])
    lines = text.splitlines()
    if kind in (2, 3):                                         # field corruption: one value becomes absurd
        i = rng.randrange(len(lines))
        key = lines[i].split("=", 1)[0].strip()
        lines[i] = f"{key} = {rng.choice(ABSURD)}"
    elif kind == 4:                                            # a key added (or repeated) with a value
        lines.insert(rng.randrange(len(lines) + 1), f"{rng.choice(KEYS)} = {rng.choice(ABSURD)}")
    else:                                                      # a line duplicated or dropped
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            lines.insert(i, lines[i])
        else:
            del lines[i]
    return ("\n".join(lines) + "\n").encode()


def test_fuzz_configs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = xenlab.Machine(seed=5, memory_mb=48)
    xenlab.xm(m, "create", config="name = 'warm'\nmemory = 4\nvif = ['rx=copy']\n")   # dom0's first-vif set-up
    xenlab.xm(m, "destroy warm")
    baseline = state(m)
    rng = random.Random(SEED)
    base_texts = bases(tmp_path)
    path = "fuzz.cfg"
    accepted = refused = 0
    for i in range(N):
        raw = mutate_config(rng, rng.choice(base_texts))
        with open(path, "wb") as f:
            f.write(raw)
        try:
            result = xenlab.xm(m, f"create {path}")
        except xenlab.XmError as exc:
            msg = str(exc)
            assert msg.startswith("Error") and "Traceback" not in msg, (i, raw, msg)
            assert state(m) == baseline, (i, raw, msg)
            refused += 1
            continue
        except Exception as exc:                               # anything else is a bug the fuzz found
            pytest.fail(f"mutant {i} raised {type(exc).__name__}: {exc}\n--- config ---\n{raw!r}")
        # Accepted: the domain is the one the text describes.
        cfg = parse_config(raw.decode(), "<check>")
        d = m.domains[result.rows[0]["domid"]]
        assert (d.name, d.tot_pages, len(d.vcpus)) == (cfg.name, cfg.memory << 8, cfg.vcpus), (i, raw)
        xenlab.xm(m, f"destroy {d.domain_id}")
        assert state(m) == baseline, (i, raw)
        accepted += 1
    print(f"configs: {accepted} accepted, {refused} refused")
    assert accepted + refused == N
    assert accepted > N // 20 and refused > N // 2           # the mutants exercise both outcomes


# -- save images -------------------------------------------------------------------------------------------------
class Layout:
    """Offsets of every structure in an image, parsed here independently of restore.py."""

    def __init__(self, raw: bytes):
        self.cfg_len = struct.unpack("!i", raw[16:20])[0]
        self.cfg = (20, 20 + self.cfg_len)
        off = 20 + self.cfg_len
        self.max_pfn_at = off
        self.max_pfn = struct.unpack_from("<I", raw, off)[0]
        off += 4 + 4 * ((self.max_pfn + 1023) // 1024)
        self.counts, self.types, self.pages = [], [], {}     # pages: pfn -> (offset of last copy, tag)
        while True:
            (n,) = struct.unpack_from("<i", raw, off)
            self.counts.append(off)
            if n == 0:
                break
            for j in range(n):
                t = struct.unpack_from("<I", raw, off + 4 + 4 * j)[0]
                self.types.append(off + 4 + 4 * j)
                self.pages[t & 0x0FFFFFFF] = (off + 4 + 4 * n + 4096 * j, t & 0xF0000000)
            off += 4 + 4 * n + 4096 * n
        self.tail = off + 4
        self.ctx = len(raw) - 4096 - S.VCPU_GUEST_CONTEXT_SIZE
        self.tables = [o for o, tag in self.pages.values() if tag & D.LTABTYPE_MASK]
        self.plain = sorted(p for p, (o, tag) in self.pages.items() if tag == D.NOTAB and p > 2)


def ctx_field_offset(index: int) -> int:
    """Byte offset of the index-th value of vcpu_guest_context (as struct.unpack numbers them)."""
    codes = []
    for count, code in re.findall(r"(\d*)([a-zA-Z])", S.VCPU_GUEST_CONTEXT_FMT):
        codes += [f"{count}s"] if code == "s" else [code] * int(count or 1)
    return struct.calcsize("<" + "".join(codes[:index]))


CTX_EDX, CTX_CR3 = ctx_field_offset(S.CTXT_EDX), ctx_field_offset(S.CTXT_CR3)


def corrupt_image(rng: random.Random, raw: bytes, lay: Layout) -> bytes:
    b = bytearray(raw)
    kind = rng.choices(range(7), weights=[30, 12, 25, 12, 6, 8, 7])[0]
    if kind == 0:                                              # byte flips in a structure
        region = rng.choice(["cfg", "count", "type", "table", "ctx", "start_info", "max_pfn", "tail"])
        for _ in range(rng.randint(1, 4)):
            if region == "cfg":
                pos = rng.randrange(*lay.cfg)
            elif region == "count":
                pos = rng.choice(lay.counts) + rng.randrange(4)
            elif region == "type":
                pos = rng.choice(lay.types) + rng.randrange(4)
            elif region == "table":
                pos = rng.choice(lay.tables) + rng.randrange(4096)
            elif region == "ctx":
                pos = lay.ctx + rng.randrange(S.VCPU_GUEST_CONTEXT_SIZE)
            elif region == "start_info":
                pos = lay.pages[0][0] + rng.choice([rng.randrange(1104), 2048 + rng.randrange(200)])
            elif region == "max_pfn":
                pos = lay.max_pfn_at + rng.randrange(4)
            else:
                pos = lay.tail + rng.randrange(8)
            b[pos] ^= 1 << rng.randrange(8)
        return bytes(b)
    if kind == 1:                                              # truncation
        return bytes(b[:rng.randrange(len(b))])
    if kind == 2:                                              # a 32-bit field set to an interesting value
        at = rng.choice([16, lay.max_pfn_at, rng.choice(lay.counts), rng.choice(lay.types), lay.tail - 4, lay.tail,
                         lay.ctx + 4 * rng.randrange(S.VCPU_GUEST_CONTEXT_SIZE // 4),
                         lay.ctx + CTX_EDX, lay.ctx + CTX_CR3, lay.ctx + CTX_CR3])
        value = rng.choice([0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, S.MAX_BATCH_SIZE + 1, lay.max_pfn,
                            lay.max_pfn - 1, lay.max_pfn << 12, 0xF0000000 | rng.randrange(lay.max_pfn),
                            0x10000000 | rng.randrange(lay.max_pfn), rng.randrange(1 << 32)])
        if at == 16:
            struct.pack_into("!I", b, at, value)
        else:
            struct.pack_into("<I", b, at, value)
        return bytes(b)
    if kind == 3:                                              # the config SXP edited (its length kept right)
        text = raw[lay.cfg[0]:lay.cfg[1]].decode()
        edits = [(r"\(memory \d+\)", rng.choice(["(memory 0)", "(memory -1)", "(memory 99999)", "(memory 8)", "(memory x)"])),
                 (r"\(vcpus \d+\)", rng.choice(["(vcpus 0)", "(vcpus 2)", "(vcpus 99)"])),
                 (r"\(name [^)]*\)", rng.choice(['(name "")', "(name Domain-0)", "(name other)", "(name)"])),
                 (r"\(workload [^)]*\)", rng.choice(["(workload garbage)", '(workload "[(1,)]")', '(workload "{}")'])),
                 (r"\(domain", rng.choice(['(domain (cpus "0-100000000")', '(domain (sched "{\'slice\': 1}")',
                                           '(domain (device (vif (spec mac=zz)))', '(domain (sched "[[[")',
                                           '(domain (device (vbd (uname file:/nonexistent,xvda,w)))'])),
                 (r"\)$", rng.choice([")", "))", ""]))]
        pattern, repl = rng.choice(edits)
        text = re.sub(pattern, lambda _: repl, text, count=1)
        cfg = text.encode()
        return raw[:16] + struct.pack("!i", len(cfg)) + cfg + raw[lay.cfg[1]:]
    if kind == 4:                                              # garbage appended
        return raw + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    if kind == 5:                                              # a batch repeated (a live image does this): valid
        first = lay.counts[0]
        n = struct.unpack_from("<i", raw, first)[0]
        batch = raw[first:first + 4 + 4 * n + 4096 * n]
        end = lay.counts[-1]
        return raw[:end] + batch + raw[end:]
    # kind 6: a plain data page changed: a valid image with other contents
    pfn = rng.choice(lay.plain)
    pos = lay.pages[pfn][0] + rng.randrange(4096)
    b[pos] ^= 0xFF
    return bytes(b)


def test_fuzz_save_images():
    src = xenlab.Machine(seed=1, memory_mb=48)
    d = src.create_domain(xenlab.DomainConfig(name="fz", memory=4, workload=[("dirty", 2000, 64),
                                                                             ("compute", 5 * MS), ("loop", 0, None)]))
    src.run_for(30 * MS)
    buf = io.BytesIO()
    S.save_domain(src, d, buf)
    raw = buf.getvalue()
    lay = Layout(raw)
    target = xenlab.Machine(seed=3, memory_mb=48)
    baseline = state(target)
    rng = random.Random(SEED + 1)
    pick = random.Random(SEED + 2)                             # samples checked: apart from the mutations
    accepted = refused = 0
    for i in range(N):
        mutant = corrupt_image(rng, raw, lay)
        try:
            r, _ = restore_domain(target, io.BytesIO(mutant))
        except ToolstackError as exc:
            msg = str(exc)
            assert msg.startswith("Error") and "Traceback" not in msg, (i, msg)
            assert state(target) == baseline, (i, msg)
            refused += 1
            continue
        except Exception as exc:
            pytest.fail(f"mutant {i} raised {type(exc).__name__}: {exc}")
        # Accepted: the restored guest holds the image's pages (the last copy of each), checked on a sample.
        ml = Layout(mutant)
        frames = target.memory.data.reshape(-1, 4096)
        info = read_start_info(r)                               # the P2M array is rewritten for the new
        first = (info.mfn_list - 0xC0000000) >> 12              # host (memcpy(live_p2m, ...)): not a plain copy
        array = range(first, first + -(-info.nr_pages * 4 // 4096)) if info.mfn_list else range(0)
        for pfn in pick.sample([p for p in ml.plain if p not in array], 8):
            off = ml.pages[pfn][0]
            assert (frames[r.p2m[pfn]] == np.frombuffer(mutant, np.uint8, 4096, off)).all(), (i, pfn)
        assert r.tot_pages == ml.max_pfn
        target.domain_destroy(r)
        assert state(target) == baseline, i
        accepted += 1
    print(f"images: {accepted} accepted, {refused} refused")
    assert accepted + refused == N
    assert accepted > N // 20 and refused > N // 2
