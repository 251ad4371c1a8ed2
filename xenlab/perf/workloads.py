"""The six benchmarks of SOSP'03 Figure 3 as programs run in the model's guests, and their operation mixes.

Each benchmark is described by what one unit of its work does (one compiled file, one query, one
transaction, one file-system operation, one web request, one second of SPEC INT): how many processes
it starts, system calls, pages it touches, process switches, disk requests, network segments. Those
PARAMETERS come from published characterisations of the programs (cited next to each number) or, where
none was found, are marked "estimate" with the reasoning. Nothing here reads Figure 3
(tests/perf/test_perf_model.py checks this module's source and imports).

``program(name)`` turns the parameters into a ``guest/workload.py`` Program: ("syscall", nr) with
Linux i386 system-call numbers, ("fault", 14, addr), ("switch",), ("io", "blk", ...) and
("io", "net", "ping", ...). ``measure_mix(name)`` runs it on a XenoLinux guest of a fresh model machine
(with a virtual disk and network interface) and counts, from the model's own counters, what happened:
system calls by number (the trace's guest_handler events), page faults (kernel.cpu_stats), process
switches (one multicall each), disk requests (kernel.io_log), packets and bytes (netfront's stats),
and the hypercalls behind them (d.hypercall_counts). The mix is those counts per unit of work.

``MIXES`` is the frozen result (xenlab/data/perf_mixes.json, written by ``freeze()``); a test checks
that a fresh run gives the same counts.

Simplifications:
- A workload is a sequence of operations, one guest, one vcpu; all work of the unit is done by it (the
  client of OSDB and dbench runs in the same guest as in the paper, but without its own process).
- The network peer is the model's "outside" host: a web response's segment is a ping of that size, its
  echo stands for the client's ACK; only sent bytes count as the server's bytes.
- The model's system calls carry no buffers, so the bytes a unit's reads and writes copy
  (``read_bytes``, ``write_bytes``) are parameters, passed into the mix as "rbyte" and "wbyte"; so is
  which of the page faults counted are on anonymous memory (``anon_faults``, the mix's "zero").
- CPU work outside the kernel is not simulated: its length comes from the cited share of time the
  benchmark spends in the OS (``os_share``), or is given directly (SPEC INT: one second per unit).
"""
from __future__ import annotations

import json
import os
import tempfile
from functools import lru_cache
from importlib import resources

# Linux 2.4 i386 system-call numbers (include/asm-i386/unistd.h)
NR = {"fork": 2, "read": 3, "write": 4, "open": 5, "close": 6, "creat": 8, "unlink": 10, "execve": 11,
      "lseek": 19, "kill": 37, "mmap": 90, "munmap": 91, "socketcall": 102, "ipc": 117, "fsync": 118,
      "wait4": 114, "fstat64": 197, "stat64": 195, "rename": 38}
# Which system calls are operations of their own in the cost model (costs.OPS); the rest are "syscall".
# read, write, lseek and close copy no path or structure (their data is counted in bytes): lmbench's
# "null I/O" prices them ("nullsys"); any other call is priced like lmbench's "stat" ("syscall").
OP_OF_NR = {2: "fork", 11: "exec", 8: "create", 10: "delete", 37: "signal",
            3: "nullsys", 4: "nullsys", 19: "nullsys", 6: "nullsys"}
HZ = 100                        # Linux 2.4 i386 timer interrupts per second (include/asm-i386/param.h)
PAGE = 4096
USER_BASE = 0x0804_8000

BENCHMARKS = ("SPEC INT2000", "Linux build time", "OSDB-IR", "OSDB-OLTP", "dbench", "SPEC WEB99")

# ---------------------------------------------------------------------------------------------------
# The parameters, per unit of work. Each number carries its source or says "estimate".
# ---------------------------------------------------------------------------------------------------
PARAMS = {
    "SPEC INT2000": {
        "unit": "1 s of benchmark CPU time",
        "compute_us": 1_000_000,            # the unit itself
        # SPEC CPU2000 programs have memory footprints up to ~200 MB, most far less (Henning, "SPEC
        # CPU2000: Measuring CPU Performance in the New Millennium", IEEE Computer 33(7), 2000); ~100 MB
        # touched once over a run of ~300 s (estimate) = 85 first-touch faults per second.
        "faults": 85,
        "anon_faults": 85,                  # the data: anonymous memory, each page cleared at its first touch
        "syscalls": 40,                     # reading inputs, writing outputs (estimate)
    },
    "Linux build time": {
        "unit": "one compiled C file of Linux 2.4.21",
        # make runs each command through /bin/sh (GNU make manual, "Command Execution"), gcc 2.96's
        # driver runs cpp0, cc1 and as as separate programs (gcc -v): 5 fork + exec per file.
        "processes": 5,
        # Per process: the dynamic loader's startup, ~25 system calls and ~8 mmaps (strace of a small
        # dynamically linked program; estimate), mostly open, stat, mprotect: priced like lmbench's stat.
        "startup_syscalls": 33,
        # A 2.4 kernel source file includes ~150 headers (gcc -H on kernel/sched.c; estimate); cpp looks
        # each up along the -I path (2 opens), fstats, reads it (2 reads) and closes it.
        "headers": 150, "syscalls_per_header": 6,
        # -pipe (arch/i386/Makefile, 2.4): ~400 KB of preprocessed text cpp0 -> cc1 and ~100 KB of
        # assembly cc1 -> as through 4 KB pipe writes: each write and read, and a switch (estimate).
        "pipe_transfers": 125,
        # cc1 grows to ~8 MB on a typical file (estimate), the other four ~0.6 MB each: first touches.
        "faults": 2600,
        "anon_faults": 2048,                # cc1's 8 MB of heap are anonymous; the rest maps program files
        "creates": 2,                       # the .o and its .flags file (Rules.make, 2.4)
        "disk_writes": 1,                   # the .o written back (8 KB request; estimate)
        # Bytes the kernel copies for the file (see read_bytes below): the pipe_transfers' 4 KB written
        # into and read out of the pipe, and the headers read (~4 KB each; estimate).
        "read_bytes": 125 * 4096 * 2 + 150 * 4096,
        "write_bytes": 8192,                # the .o (the disk_writes' 8 KB)
        # "Native Linux spends about 7% of the CPU time in the OS" on this build (SOSP'03 §4.1, text).
        "os_share": 0.07,
    },
    "OSDB-IR": {
        "unit": "one information-retrieval query (PostgreSQL 7.1.3, 40 MB OSDB database, cached)",
        # client -> backend over a Unix socket: send + recv on each side, a switch each way
        "messages": 2,
        # PostgreSQL 7.1 reads 8 KB blocks with lseek + read (storage/file/fd.c) and its default
        # shared_buffers is 64 blocks (postgresql.conf.sample), so a scan reads through the kernel's
        # cache: ~60 blocks per query (estimate).
        "block_reads": 60,
        "read_bytes": 60 * 8192,            # each block read copies BLCKSZ = 8192 bytes (PostgreSQL 7.1 default)
        "faults": 20,                       # sort and hash memory first touched (estimate)
        "anon_faults": 20,                  # that memory is anonymous (malloc)
        "os_share": 0.25,                   # estimate: a cached read-only query, a quarter in the kernel
    },
    "OSDB-OLTP": {
        "unit": "one OLTP transaction (single-row selects and updates, commit)",
        "messages": 8,                      # ~4 statements per transaction (OSDB oltp mix; estimate)
        "block_reads": 6,
        # PostgreSQL's locks wait on SysV semaphores: a semop and a switch per contended lock (estimate)
        "semops": 4,
        # a commit writes the WAL and fsyncs it (PostgreSQL 7.1 default fsync=true): one disk write
        "disk_writes": 1,
        "read_bytes": 6 * 8192,             # the block_reads, BLCKSZ = 8192 each
        "write_bytes": 8192,                # the commit's WAL page: one BLCKSZ page (PostgreSQL 7.1's xlog)
        "faults": 4,
        "anon_faults": 4,                   # private memory first touched (malloc), as for OSDB-IR (estimate)
        "os_share": 0.35,                   # estimate: OLTP is system-call heavy
    },
    "dbench": {
        "unit": "one SMB request of dbench's NetBench trace (client.txt)",
        # dbench 1.x replays client.txt (A. Tridgell, 1999; its README: "about 4MB ... the 90 thousand
        # operations that a netbench client does", SOSP'03 §4.1: "about 90,000"): 96,535 lines, of
        # which 50,627 SMB requests (REQUEST lines). The system calls are counted by replaying the
        # file with dbench 1.2's rules (child.c, fileio.c; github.com/sahlberg/dbench, client.txt of
        # the 1999 initial revision b2b384f): SMBwrite/writebraw and SMBread/readbraw on an open
        # handle: lseek + write (23,287) or read (4,698); SMBopenX, SMBgetatr and SMBunlink act on the
        # REPLY and only when it is not an error: 3,624 open + fstat (1,171 failed), 6,393 stat
        # (1,571 failed), 961 unlink (43 failed); an open with a size larger than the file's expands
        # it with write()s (10 writes, 139,798 bytes); SMBclose 3,617 close; SMBmv 195 rename;
        # SMBmkdir/rmdir 25; 2 ftruncate; the other requests make no system call. 970 of the opens
        # create a new file (O_CREAT on a name that does not exist at that point of the replay).
        # (The first pass counted REQUEST lines, failed ones included: 7,966 stat, 4,795 opens.)
        "requests": 50_627,
        # every request's system calls but the creates and unlinks, ops of their own (a "create" is
        # lmbench's creat + close: it takes one open and one close of the trace): lseek + read/write,
        # the expanding writes and close, and the calls that take a path or fill a structure (stat,
        # open, fstat, rename, mkdir, rmdir, ftruncate)
        "io_calls": (2 * 27_985 + 10 + 3_617 - 970) / 50_627,
        "path_calls": (6_393 + 2 * 3_624 - 970 + 195 + 25 + 2) / 50_627,
        "creates": 970 / 50_627, "deletes": 961 / 50_627,
        # bytes written (the trace's writes, 94,701,582, and the expansions) and read (37,950,391
        # requested, 37,066,988 of them inside the file: a read past the end copies nothing), replayed
        "write_bytes": (94_701_582 + 139_798) / 50_627, "read_bytes": 37_066_988 / 50_627,
        # Dirty data written back during the run: none (estimate, from the kernel's write-back rules).
        # Linux 2.4 writes a dirty buffer back when it is 30 s old (fs/buffer.c, bdf_prm: age_buffer =
        # 30*HZ) or when dirty buffers pass bdflush's threshold (nfract, 30% of buffer memory; 94.8 MB
        # written, nearly all of it deleted again, against the 2 GB machine of SOSP'03 §4); ext3 in its
        # default data=ordered mode writes a transaction's data blocks when kjournald commits it, every 5 s
        # (fs/jbd/journal.c: j_commit_interval = 5*HZ; Documentation/filesystems/ext3.txt, "commit=").
        # One pass over the trace takes about 0.5 s natively and 3 s on the slowest platform at the
        # model's own prices (50,627 requests x 10-65 us): shorter than one commit interval, and the
        # trace deletes what it writes (replayed: at its end 9 files, 139,798 bytes, remain of the
        # 94.8 MB written). The first pass's 1 request in 10 had no source.
        "disk_writes": 0,
        # dbench "produces only the filesystem load ... all the same IO calls that the smbd server in
        # Samba would produce" and parses client.txt between them (dbench(1) man page): the parsing is
        # the user-mode share, 10% (estimate).
        "os_share": 0.90,
    },
    "SPEC WEB99": {
        "unit": "one HTTP request (Apache 1.3.27 + modspecweb99)",
        # SPECweb99 file set: 35% class 0 (0.1-0.9 KB), 50% class 1 (1-9 KB), 14% class 2 (10-90 KB),
        # 1% class 3 (100-900 KB) (SPECweb99 Release 1.02 design document): mean ~14.7 KB.
        "response_bytes": 14_700, "segment": 1448,
        # accept/read/stat/open/read-or-mmap/writev/close/log (estimate); which of them copy no path or
        # structure is not known, so all are priced like lmbench's stat
        "syscalls": 14,
        "switches": 2,                      # one Apache process per connection (estimate)
        "faults": 2,
        "anon_faults": 0,                   # Apache maps the files it sends (mmap): page-cache pages
        # CGI requests: fork + exec. SOSP'03 §4.1 gives the mix as 30% dynamic content, 16% POST and 0.5%
        # CGI; the last two are shares of the dynamic requests: SPECweb99's request mix (Release 1.02
        # whitepaper, §6 "Percentage of Requests in the workload") is 70% static GET, 12.45% standard
        # dynamic GET, 12.6% GET with custom ad rotation, 4.8% POST (16% of 30%) and 0.15% CGI GET
        # (0.5% of 30%). (The first pass read 0.5% of all requests, and ran too few units to count any.)
        "cgi": 0.0015,
        "disk_reads": 0.2,                  # 2 GB file set, RAM-sized cache: some misses (estimate)
        # Apache spends 20-25% of its CPU time in user code, 35-50% in system calls and 25-40% in
        # interrupt handling (Hu, Nanda, Yang, "Measurement, analysis and performance improvement of
        # the Apache web server", IPCCC 1999; SPECweb96 on AIX): 75-80% in the OS, the middle taken.
        "os_share": 0.775,
    },
}


def _syscalls(nr: int, n: int) -> list:
    return [("syscall", nr)] * n


def _blocks(blocks) -> list:
    """(ops, repeat) blocks -> ops, each repeated with a ("loop", start, repeat - 1)."""
    ops = []
    for body, repeat in blocks:
        if repeat <= 0 or not body:
            continue
        start = len(ops)
        ops.extend(body)
        if repeat > 1:
            ops.append(("compute", 1_000))          # a loop body must compute (Program's rule)
            ops.append(("loop", start, repeat - 1))
    return ops


def _fault_blocks(n: int) -> list:
    full, rest = divmod(int(n), 64)
    out = []
    if full:
        out.append(([("fault", 14, USER_BASE + PAGE * i) for i in range(64)], full))
    if rest:
        out.append(([("fault", 14, USER_BASE + PAGE * i) for i in range(rest)], 1))
    return out


def program_blocks(name: str, units: int, params: dict | None = None) -> list:
    """The (ops, repeat) blocks of ``units`` units of benchmark ``name``."""
    p = dict(PARAMS[name] if params is None else params)
    b = []
    if name == "SPEC INT2000":
        b += [(_syscalls(NR["read"], 1), round(p["syscalls"] * units))]
        b += _fault_blocks(p["faults"] * units)
    elif name == "Linux build time":
        n = p["processes"] * units
        b += [([("syscall", NR["fork"]), ("syscall", NR["execve"])] + _syscalls(NR["mmap"], 8)
               + _syscalls(NR["fstat64"], p["startup_syscalls"] - 8) + [("syscall", NR["wait4"])], n)]
        b += [(_syscalls(NR["open"], 2) + [("syscall", NR["fstat64"])] + _syscalls(NR["read"], 2)
               + [("syscall", NR["close"])], p["headers"] * units)]
        b += [([("syscall", NR["write"]), ("switch",), ("syscall", NR["read"])], p["pipe_transfers"] * units)]
        b += _fault_blocks(p["faults"] * units)
        b += [([("syscall", NR["creat"]), ("syscall", NR["close"])], p["creates"] * units)]
        b += [([("io", "blk", "xvda", "write", 64, 16, 0x5A)], p["disk_writes"] * units)]
    elif name in ("OSDB-IR", "OSDB-OLTP"):
        b += [([("syscall", NR["socketcall"]), ("switch",), ("syscall", NR["socketcall"])], p["messages"] * units)]
        b += [([("syscall", NR["lseek"]), ("syscall", NR["read"])], p["block_reads"] * units)]
        b += [([("syscall", NR["ipc"]), ("switch",)], p.get("semops", 0) * units)]
        b += [([("syscall", NR["write"]), ("syscall", NR["fsync"]), ("io", "blk", "xvda", "write", 128, 16, 0x3C)],
               p.get("disk_writes", 0) * units)]
        b += _fault_blocks(p["faults"] * units)
    elif name == "dbench":
        b += [(_syscalls(NR["read"], 1), round(p["io_calls"] * units))]
        b += [(_syscalls(NR["stat64"], 1), round(p["path_calls"] * units))]
        b += [([("syscall", NR["creat"])], round(p["creates"] * units))]
        b += [([("syscall", NR["unlink"])], round(p["deletes"] * units))]
        b += [([("io", "blk", "xvda", "write", 256, 8, 0x11)], round(p["disk_writes"] * units))]
    elif name == "SPEC WEB99":
        segs = -(-p["response_bytes"] // p["segment"])        # segments of the mean response
        last = p["response_bytes"] - (segs - 1) * p["segment"]
        body = [("io", "net", "ping", "10.0.0.1", p["segment"])] * (segs - 1) + [("io", "net", "ping", "10.0.0.1", last)]
        b += [(body + _syscalls(NR["fstat64"], p["syscalls"]) + [("switch",)] * p["switches"], units)]
        b += _fault_blocks(p["faults"] * units)
        b += [([("syscall", NR["fork"]), ("syscall", NR["execve"])], round(p["cgi"] * units))]
        b += [([("io", "blk", "xvda", "read", 512, 8)], round(p["disk_reads"] * units))]
    else:
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    return b


# How many units one measurement runs (enough that fractional parameters come out whole).
UNITS = {"SPEC INT2000": 10, "Linux build time": 1, "OSDB-IR": 10, "OSDB-OLTP": 10, "dbench": 500,
         "SPEC WEB99": 2000}


def program(name: str, units: int | None = None, params: dict | None = None):
    from xenlab.guest.workload import Program
    units = UNITS[name] if units is None else units
    ops = _blocks(program_blocks(name, units, params)) + [("shutdown", "poweroff")]
    return Program(f"{name} x{units}", tuple(ops))


def measure_mix(name: str, units: int | None = None, params: dict | None = None, seed: int = 0) -> dict:
    """Run ``units`` units of ``name`` on a XenoLinux guest and count its operations per unit of work."""
    import xenlab
    from xenlab.toolstack.domain_config import DomainConfig
    units = UNITS[name] if units is None else units
    prog = program(name, units, params)
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, "xvda.img")
        with open(img, "wb") as f:
            f.truncate(4 << 20)
        m = xenlab.Machine(seed=seed, memory_mb=64)
        by_domain: dict[int, dict[int, int]] = {}

        def on_event(ev):
            if ev.name == "guest_handler" and ev.data.get("name") == "syscall":
                nrs_of = by_domain.setdefault(ev.domid, {})
                nr = ev.data.get("nr")
                nrs_of[nr] = nrs_of.get(nr, 0) + 1
        # subscribed before the create: xend unpauses the guest and waits for its devices to connect,
        # so the workload's first system calls run inside create_domain
        stop = m.trace.subscribe(on_event, classes="HW")
        try:
            d = m.create_domain(DomainConfig(name="bench", memory=16, disk=[f"file:{img},xvda,w"],
                                             vif=["ip=10.0.0.20"], workload=prog))
            for _ in range(20_000):
                m.run_for(1_000_000)
                if d.is_shutdown or d.is_dying:
                    break
            else:
                raise RuntimeError(f"{name}: the workload did not finish")
        finally:
            stop()
        nrs = by_domain.get(d.domain_id, {})
        k = d.kernel
        cpu = {}
        for st in k.cpu_stats.values():
            for key, v in st.items():
                cpu[key] = cpu.get(key, 0) + v
        io = getattr(k, "io_log", [])
        vif = k.vifs[0].stats
        hc = dict(d.hypercall_counts)
    counts = {op: 0 for op in ("syscall", "nullsys", "signal", "fault", "switch", "fork", "exec", "create", "delete",
                               "disk", "packet", "byte", "rbyte", "wbyte", "zero")}
    for nr, n in nrs.items():
        counts[OP_OF_NR.get(nr, "syscall")] += n
    counts["fault"] = cpu.get("#PF", 0)
    counts["switch"] = hc.get("multicall", 0)         # XenoLinux's switch_to makes one multicall
    counts["disk"] = sum(1 for _, op, _ in io if op[1] == "blk")
    # ttcp's price of a sent packet includes receiving its ACKs, so the echoes (the client's ACKs) are
    # counted in "acks", not priced again
    counts["packet"] = vif["tx_packets"]
    counts["acks"] = vif["rx_packets"]
    counts["byte"] = vif["tx_bytes"] - 42 * vif["tx_packets"]   # payload: less Ethernet+IP+ICMP headers
    p = PARAMS[name] if params is None else params
    # the bytes the unit's system calls copy: parameters (the model's calls carry no buffers)
    counts["rbyte"] = p.get("read_bytes", 0) * units
    counts["wbyte"] = p.get("write_bytes", 0) * units
    # of the page faults counted, those on anonymous memory clear a fresh page (a parameter: the
    # model's guest maps no files)
    counts["zero"] = min(p.get("anon_faults", 0) * units, counts["fault"])
    mix = {op: n / units for op, n in counts.items()}
    return {"benchmark": name, "unit": p["unit"], "units_run": units, "mix": mix,
            "hypercalls": {k2: v / units for k2, v in sorted(hc.items())},
            "os_share": p.get("os_share"), "compute_us": p.get("compute_us")}


def measure_all() -> dict:
    return {name: measure_mix(name) for name in BENCHMARKS}


MIXES_FILE = "data/perf_mixes.json"


def freeze(path: str | None = None) -> dict:
    """Measure every mix and write them to xenlab/data/perf_mixes.json (done once; committed)."""
    mixes = measure_all()
    path = path or str(resources.files("xenlab").joinpath(MIXES_FILE))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(mixes, f, indent=1, sort_keys=True)
        f.write("\n")
    return mixes


@lru_cache(maxsize=1)
def frozen() -> dict:
    """The frozen mixes (measured by ``freeze()`` before any comparison with the paper)."""
    return json.loads(resources.files("xenlab").joinpath(MIXES_FILE).read_text(encoding="utf-8"))
