"""What one guest operation costs on native Linux (L), XenoLinux (X), VMware Workstation 3.2 (V) and UML (U).

Every platform runs the same Linux 2.4.21 kernel work; what differs is how that kernel reaches the
hardware. The cost of an operation on platform P is

    cost_P(op) = native(op) + sum over P's mechanisms m of  RECIPES[P][op][m] * unit(m)

``native(op)`` is the L-UP column of lmbench (SOSP'03 Tables 3-5) or ttcp (Table 6); a recipe says how
many times each mechanism happens in one operation (written down below, with the reason); ``unit(m)``,
the price of one mechanism in microseconds, is the only thing calibrated, and only on the
micro-benchmarks: ``calibrate()`` solves a non-negative least-squares problem over the rows listed in
``CALIBRATION`` (relative error, so that a 20 ms fork and a 0.5 us system call weigh the same).

The mechanisms (MECHANISMS has one line each):

X  XenoLinux runs its kernel in ring 1 and asks Xen for what it may not do itself.
   x_hyp     one hypercall: ring 1 -> ring 0 and back, arguments checked (mmuext_op, a multicall ...)
   x_bounce  one exception bounced through Xen to the guest's handler (page fault, event upcall)
   x_pte     one page-table entry validated inside a batched mmu_update (up to 2048 per hypercall)
   x_split   one split-driver round trip: a request on a shared ring, an event channel to dom0,
             dom0's driver, the answer and its event (virtual disk request, network packet)
   A system call needs nothing: Xen installs the guest's int 0x80 handler as a trap gate (fast path).
V  VMware Workstation 3.2 runs the unmodified kernel under binary translation in a hosted VMM.
   v_trap    a trap from guest user mode reflected into the translated guest kernel, and its return
   v_bt      the slowdown of translated kernel code, per microsecond of native kernel work
   v_hidden  a hidden page fault: the shadow page table lacks an entry the guest's table has
   v_shadow  one traced guest page-table write kept in step with the shadow table
   v_cr3     a guest address-space switch: the VMM changes shadow tables (and refills them)
   v_world   one emulated device request: the world switch to the host's Linux, which does the real
             I/O, and back (pcnet32, the disk); the device's other register accesses are emulated in
             the VMM, one v_trap each (NIC_VMM_ACCESSES per packet, IDE_VMM_ACCESSES per disk request)
U  User-Mode Linux (skas3) runs the guest kernel as a host process that ptraces the guest's processes.
   u_ptrace  one system call intercepted with ptrace: the host stops the process, switches to the
             UML kernel, which reads and writes its registers and resumes it
   u_uaccess the UML kernel reading or writing a guest process's memory (copy_to_user ...): a host call
   u_newmm   a host process holding a new guest address space (made at fork, gone at exit)
   u_signal  a host signal turned into a guest fault (SIGSEGV for a page fault) through ptrace
   u_hostmm  one host mmap/munmap/mprotect on a guest address space (/proc/mm)
   u_switch  switching the host address space under a guest process (PTRACE_SWITCH_MM)
   u_io      one host I/O system call made for the guest (TUN/TAP write, ubd read) and its SIGIO
   v_meta, u_meta  one file-system metadata update (ext3: inode, directory entry, journal) made by
             the translated (V) or UML (U) kernel: creat and unlink rows
   v_copy, u_copy  per network byte: the host copies the frame for the guest (X flips or copies in dom0
             at wire speed: its 1500-byte rows are at the wire's rate)
lmbench's lat_ctx reports the switch time with the cost of passing the token through a pipe taken out,
so a context switch row holds no system call; a fork, exec or mmap row is a whole lmbench loop (fork +
exit + wait, fork + exec + exit + wait, mmap + munmap). A workload's "exec" op is therefore the
difference of the exec and fork rows: its fork is counted as a "fork" op of its own.

Data moved by system calls is priced per byte, on top of the call: "wbyte" (written into a file) from
lmbench's 10K create row less its 0K create row and one write() (SOSP'03 Table 5, which also calibrates
what V and U add: V's translated kernel work, v_bt, explains VMware's 10K row by itself); "rbyte" (copied
from the page cache or a pipe) at the native copy's rate, translated on V, one u_uaccess per page on U.
"zero" is clearing a fresh page at a first touch of anonymous memory (lmbench's page fault maps a cached
file page and clears nothing).

Simplifications:
- Costs add up: no caches, no overlap of CPU work and device time, no SMP; a mechanism has one price.
- The recipe counts for fork, exec and mmap (how many PTEs a small lmbench process has) are estimates
  written down below, not measurements; the calibration absorbs the rest into the unit prices.
- Some lmbench rows are not used to calibrate (``VALIDATION``), each with the reason; the notebook
  shows them with their error too.
- A byte read from the page cache or a pipe costs the native copy's estimated rate (COPY_BYTE_US, about
  1 GB/s): the paper has no read-bandwidth row. Clearing a page is priced at the same rate.
- On V, a device register access that the VMM emulates without the host costs one v_trap, and only the
  access that starts a transfer costs a world switch: Sugerman et al. (USENIX ATC 2001) show this for
  the NIC after Workstation's optimisations; that the IDE emulation of version 3.2 works the same way is
  an assumption.
- One price per context switch: Table 4's rows with 8 and 16 processes show VMware's extra over native
  growing with the number of processes (17 us at 2, 21-27 us at 8, 35-38 us at 16) and hardly with the
  working set, but the workloads' process counts are not known well enough to use them; the 2p/0K row
  prices every switch.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

PLATFORMS = ("L", "X", "V", "U")
TABLE_CONFIG = {"L": "L-UP", "X": "Xen", "V": "VMW", "U": "UML"}       # lmbench's column names
TTCP_CONFIG = {"L": "Linux", "X": "Xen", "V": "VMW", "U": "UML"}

OPS = ("syscall", "nullsys", "signal", "fault", "ptupdate", "switch", "fork", "exec", "mmap", "create", "delete",
       "disk", "packet", "byte", "irq", "rbyte", "wbyte", "zero")

MECHANISMS = {
    "x_hyp": ("X", "hypercall (ring 1 -> Xen -> ring 1, arguments validated)"),
    "x_bounce": ("X", "exception bounced through Xen to the guest kernel"),
    "x_pte": ("X", "one page-table entry validated in a batched mmu_update"),
    "x_split": ("X", "split-driver round trip: ring request, event channel to dom0, answer"),
    "v_trap": ("V", "trap reflected into the translated guest kernel"),
    "v_bt": ("V", "binary-translation slowdown per us of kernel work"),
    "v_hidden": ("V", "hidden page fault: shadow page table filled"),
    "v_shadow": ("V", "traced page-table write kept in the shadow table"),
    "v_cr3": ("V", "address-space switch: shadow tables changed and refilled"),
    "v_world": ("V", "emulated device request: world switch to the host and back"),  # + v_trap per access
    "u_ptrace": ("U", "system call intercepted with ptrace (host round trip)"),
    "u_uaccess": ("U", "the UML kernel touching a guest process's memory (copy_to/from_user)"),
    "u_newmm": ("U", "a host process for a new guest address space (made at fork, gone at exit)"),
    "u_signal": ("U", "host signal turned into a guest fault through ptrace"),
    "u_hostmm": ("U", "host mmap/munmap/mprotect on a guest address space"),
    "u_switch": ("U", "host address-space switch (PTRACE_SWITCH_MM)"),
    "u_io": ("U", "host I/O system call for the guest (TUN/TAP, ubd) and its SIGIO"),
    "v_meta": ("V", "a file-system metadata update (inode, directory, ext3 journal) by the translated kernel"),
    "u_meta": ("U", "a file-system metadata update by the UML kernel (its buffers live in a host process)"),
    "v_copy": ("V", "per byte: the host copies the frame between VMnet and the guest"),
    "u_copy": ("U", "per byte: the frame copied between the host and the UML kernel"),
}

NULL_CALL_US = 0.45            # L-UP "null call": entering and leaving the kernel, no work
# A small lmbench process (lat_proc: a dynamically linked C program) maps about 100 pages; fork copies
# and write-protects their PTEs in the parent and the child, exit tears them down.  Estimates.
FORK_PTES = 400
FORK_FAULTS = 20               # copy-on-write and first-touch faults of parent and child until exit
EXEC_PTES = 800                # fork + exec of /bin/hello: the new image's mappings
EXEC_FAULTS = 60
MMAP_PAGES = 320               # lat_mmap maps and unmaps a file region; PTEs written per loop, estimate
NET_BYTE_US = 0.001            # native copy + checksum per byte (about 1 GB/s on a 2.4 GHz Xeon)
# A byte copied by the kernel between a process and a page it already has (a file read from the page
# cache, a pipe): the same native copy, an estimate (the paper's tables have no read-bandwidth row).
COPY_BYTE_US = NET_BYTE_US
# lmbench's "10K create" is "0K create" plus one write() of 10 KB into the new file (lat_fs: creat,
# write, close); the bytes need pages in the page cache and blocks on disk (ext3), three 4 KB pages.
FILE_KB_BYTES = 10 * 1024
FILE_KB_PAGES = 3


def _sys(n: int = 1) -> dict:
    """n system calls: what each platform adds for entering its kernel."""
    return {"X": {}, "V": {"v_trap": n}, "U": {"u_ptrace": n}}


def _lm_native(table: str, col: str) -> float:
    from xenlab.perf.paper import data
    t = data()["lmbench"][table]
    return t[TABLE_CONFIG["L"]][t["columns"].index(col)]


def _write_work_us() -> float:
    """Native kernel work of lmbench's write(10 KB) into a new file: 10K create - 0K create - a null call."""
    return _lm_native("table5_fs_vm_us", "10K create") - _lm_native("table5_fs_vm_us", "0K create") - NULL_CALL_US


def _free_work_us() -> float:
    """Native work of freeing a 10 KB file's blocks: 10K delete - 0K delete."""
    return _lm_native("table5_fs_vm_us", "10K delete") - _lm_native("table5_fs_vm_us", "0K delete")


# One entry per lmbench / ttcp row: (table, column, native value source, recipe per platform).
# ``work`` = native kernel work beyond entering and leaving it (scaled by v_bt).
def _row_recipes() -> dict:
    r = {}

    def syscalls(n, work, uaccess):
        """n system calls doing ``work`` us of native kernel work and ``uaccess`` user-memory copies."""
        rec = _sys(n)
        rec["V"] = dict(rec["V"], v_bt=work)
        rec["U"] = dict(rec["U"], u_uaccess=uaccess)
        return rec

    r[("table3_processes_us", "null call")] = syscalls(1, 0.0, 0)          # getppid
    r[("table3_processes_us", "null I/O")] = syscalls(1, 0.05, 0)          # 1-byte write to /dev/null
    r[("table3_processes_us", "stat")] = syscalls(1, 1.28 - NULL_CALL_US, 2)        # path in, stat out
    r[("table3_processes_us", "open close")] = syscalls(2, 1.92 - 2 * NULL_CALL_US, 2)  # path in
    r[("table3_processes_us", "sig inst")] = syscalls(1, 0.68 - NULL_CALL_US, 2)    # sigaction in/out
    r[("table3_processes_us", "sig hndl")] = {"X": {"x_bounce": 1}, "V": {"v_trap": 2, "v_bt": 2.0},
                                               "U": {"u_ptrace": 2, "u_signal": 1, "u_uaccess": 2}}
    r[("table3_processes_us", "fork proc")] = {
        "X": {"x_pte": FORK_PTES, "x_hyp": 8 + FORK_FAULTS, "x_bounce": FORK_FAULTS},
        "V": {"v_shadow": FORK_PTES, "v_cr3": 2, "v_trap": 3, "v_hidden": FORK_FAULTS},
        "U": {"u_ptrace": 3, "u_newmm": 1, "u_hostmm": FORK_PTES + FORK_FAULTS, "u_switch": 2,
              "u_signal": FORK_FAULTS}}
    r[("table3_processes_us", "exec proc")] = {
        "X": {"x_pte": EXEC_PTES, "x_hyp": 12 + EXEC_FAULTS, "x_bounce": EXEC_FAULTS},
        "V": {"v_shadow": EXEC_PTES, "v_cr3": 4, "v_trap": 6, "v_hidden": EXEC_FAULTS},
        # exec flushes the host address space the fork made (no new host process) and maps the image
        "U": {"u_ptrace": 6, "u_newmm": 1, "u_hostmm": EXEC_PTES + EXEC_FAULTS, "u_switch": 4,
              "u_signal": EXEC_FAULTS, "u_uaccess": 4}}
    r[("table4_ctxsw_us", "2p/0K")] = {"X": {"x_hyp": 2}, "V": {"v_cr3": 1}, "U": {"u_switch": 1}}
    r[("table5_fs_vm_us", "0K create")] = dict(syscalls(2, 0.0, 1), V={"v_trap": 2, "v_meta": 1},
                                                     U={"u_ptrace": 2, "u_uaccess": 1, "u_meta": 1})  # creat, close
    r[("table5_fs_vm_us", "0K delete")] = dict(syscalls(1, 0.0, 1), V={"v_trap": 1, "v_meta": 1},
                                                     U={"u_ptrace": 1, "u_uaccess": 1, "u_meta": 1})  # unlink
    # creat + write(10 KB) + close: the 0K row and one more system call carrying the data. The data's
    # kernel work (page-cache pages, block allocation, the copy) runs natively on X, translated on V
    # (v_bt per us of it); UML copies each page from the process (u_uaccess) and updates the block
    # bitmap and the inode's size once more (u_meta).
    write_work = _write_work_us()
    r[("table5_fs_vm_us", "10K create")] = {
        "X": dict(r[("table5_fs_vm_us", "0K create")]["X"]),
        "V": {"v_trap": 3, "v_meta": 1, "v_bt": write_work},
        "U": {"u_ptrace": 3, "u_uaccess": 1 + FILE_KB_PAGES, "u_meta": 2}}
    # unlink of a 10 KB file: the 0K row plus freeing its blocks (native work; one more metadata
    # update on U and V: the block bitmap)
    free_work = _free_work_us()
    r[("table5_fs_vm_us", "10K delete")] = {
        "X": dict(r[("table5_fs_vm_us", "0K delete")]["X"]),
        "V": {"v_trap": 1, "v_meta": 1, "v_bt": free_work},
        "U": {"u_ptrace": 1, "u_uaccess": 1, "u_meta": 2}}
    r[("table5_fs_vm_us", "mmap lat")] = {
        "X": {"x_pte": MMAP_PAGES, "x_hyp": 2},
        "V": {"v_shadow": MMAP_PAGES, "v_trap": 2, "v_bt": 60},
        "U": {"u_ptrace": 2, "u_hostmm": MMAP_PAGES}}
    r[("table5_fs_vm_us", "prot fault")] = {"X": {"x_bounce": 1}, "V": {"v_hidden": 1, "v_trap": 1},
                                             "U": {"u_signal": 1}}
    # X: the fault bounced to the guest, then one mmu_update (a hypercall, one PTE validated)
    r[("table5_fs_vm_us", "page fault")] = {"X": {"x_bounce": 1, "x_hyp": 1, "x_pte": 1},
                                             "V": {"v_hidden": 1, "v_trap": 1, "v_shadow": 1},
                                             "U": {"u_signal": 1, "u_hostmm": 1}}
    return r


ROWS = _row_recipes()

# -- VMware's emulated devices, access by access ----------------------------------------------------
# The guest's driver reaches an emulated device with IN/OUT instructions, each a trap into the VMM.
# Sugerman, Venkitachalam, Lim, "Virtualizing I/O Devices on VMware Workstation's Hosted Virtual
# Machine Monitor" (USENIX ATC 2001; usenix.org HTML version): §2.3 (Figure 4) - the accesses to the
# Lance's address register are handled in the VMM, those to its data register went to the VMApp in the
# host world; §3.3.1 - after the optimisations "the only virtual I/O accesses that require a world
# switch to the host are the ones that require a physical I/O device access", the others are emulated in
# the VMM; Table 2 - such an access costs 0.78 us (the PIC) to 0.91 us (the Lance status register) on
# their 733 MHz Pentium III, about 0.25 us at the 2.4 GHz of SOSP'03. That is what one reflected trap
# costs here (v_trap, 0.28 us, calibrated on lmbench's null call), so v_trap prices such an access.
# Only the access that starts the transfer is a world switch (v_world: to the host, its read()/write()
# and back). We assume the IDE emulation follows the same rule (the paper measures only the NIC).
#
# A sent packet, Linux 2.4's pcnet32.c (VMware emulates an AMD PCnet-PCI, 79C970 or 79C970A; for those
# chips pcnet32_probe1 sets no LTINT, so every frame sent raises a TX-done interrupt): start_xmit writes
# CSR0 (RAP write, then the RDP write that sets TDMD: the world switch); the interrupt handler reads RAP,
# reads CSR0 (RAP + RDP), acks it (RAP + RDP), reads it again to leave its loop (RAP + RDP), writes
# 0x7940 (RAP + RDP) and restores RAP: 10; the 8259A (arch/i386/kernel/i8259.c, master):
# mask_and_ack_8259A (dummy IMR read, IMR write, specific EOI) and enable_8259A_irq at the end (IMR
# write): 4. One interrupt per packet is an estimate (no coalescing).
NIC_VMM_ACCESSES = 1 + 10 + 4
# A disk request, Linux 2.4.21's ide-disk.c __ide_do_rw_disk (LBA28) and ide-dma.c (DMA read or write;
# quoted from 2.4.21-pre4 by B. Herrenschmidt, linux-kernel, 5 Feb 2003): the ATA command block
# (ATA/ATAPI-6 §7: device control, features, sector count, LBA low, mid, high, device): 7; bus-master
# setup: PRD table address, command (direction), status read and clear: 4; the command register: 1; DMA
# start: command read and write (the start bit, which starts the transfer: the world switch): 2; the
# completion interrupt: __ide_dma_end reads and writes the command (stop) and the status (clear): 4,
# ide_dma_intr reads the status register: 1; the 8259A (IRQ 14, slave): dummy read, IMR write, two
# specific EOIs, unmask: 5. 24 accesses, one of them the world switch.
IDE_ACCESSES = 7 + 4 + 1 + 2 + 4 + 1 + 5
IDE_VMM_ACCESSES = IDE_ACCESSES - 1

# ttcp (Table 6): the CPU time per packet is 8 * bytes / rate when the rate is below the wire's.
# L and X at 1500 bytes are at the wire's rate: the model's number is then the wire's time per packet.
PACKET_RECIPE = {"X": {"x_split": 1}, "V": {"v_world": 1, "v_trap": NIC_VMM_ACCESSES}, "U": {"u_io": 1}}
DISK_RECIPE = {"X": {"x_split": 1}, "V": {"v_world": 1, "v_trap": IDE_VMM_ACCESSES}, "U": {"u_io": 1}}
BYTE_RECIPE = {"X": {}, "V": {"v_copy": 1}, "U": {"u_copy": 1}}

# Which rows calibrate; the others are shown as checks with the reason they are left out.
CALIBRATION = [
    ("table3_processes_us", "null call"), ("table3_processes_us", "stat"), ("table3_processes_us", "open close"),
    ("table3_processes_us", "fork proc"), ("table3_processes_us", "exec proc"),
    ("table4_ctxsw_us", "2p/0K"),
    ("table5_fs_vm_us", "0K create"), ("table5_fs_vm_us", "0K delete"), ("table5_fs_vm_us", "10K create"),
    ("table5_fs_vm_us", "mmap lat"),
    ("table5_fs_vm_us", "prot fault"), ("table5_fs_vm_us", "page fault"),
    ("ttcp", "MTU500 TX"), ("ttcp", "MTU1500 TX"),
]
VALIDATION = {
    ("table5_fs_vm_us", "10K delete"): "freeing a file's blocks: a check of the file-system path",
    ("table3_processes_us", "null I/O"): "same path as null call; a check",
    ("table3_processes_us", "sig inst"): "a check of the system-call path",
    ("table3_processes_us", "sig hndl"): "Xen is 30% faster than native here (the paper: cache alignment);"
                                         " no mechanism makes an operation cheaper than native",
    ("ttcp", "MTU500 RX"): "receiving is cheaper per packet than sending on V and U; one price per"
                           " packet is calibrated on sending (what a web server mostly does)",
    ("ttcp", "MTU1500 RX"): "VMware receives 1500-byte packets faster per packet than 500-byte ones"
                            " (the host batches received frames?): one price per packet cannot do both",
}
# Rows calibrated for some platforms but only a check for one of them, with the reason.
CHECK_ONLY = {
    (("table5_fs_vm_us", "prot fault"), "V"): "VMware's protection fault costs less than a hidden page"
        " fault; the model has one price for a fault the VMM must inspect",
    (("table3_processes_us", "exec proc"), "U"): "UML's exec costs more than a fork's host process plus"
        " remapping the image; the model has no mechanism for the rest (shown as a check)",
}
WIRE_MBPS = 897.0              # the best any configuration reaches (Table 6): TCP goodput on the GbE link


def _tables():
    from xenlab.perf.paper import data
    d = data()
    return d["lmbench"], d["ttcp_Mbps"]


def native_row(key) -> float:
    lm, tt = _tables()
    table, col = key
    if table == "ttcp":             # the CPU time of a 500-byte packet, plus the bytes beyond 500
        return packet_us_from_rate(tt, "L", "MTU500 " + col.split()[1]) + (_size(key) - 500) * NET_BYTE_US
    t = lm[table]
    return t[TABLE_CONFIG["L"]][t["columns"].index(col)]


def published_row(key, platform: str) -> float:
    lm, tt = _tables()
    table, col = key
    if table == "ttcp":
        return packet_us_from_rate(tt, platform, col)
    t = lm[table]
    return t[TABLE_CONFIG[platform]][t["columns"].index(col)]


def packet_us_from_rate(tt, platform: str, col: str) -> float:
    """CPU microseconds per packet implied by a ttcp rate: 8 * bytes / (Mb/s)."""
    size = 1500 if col.startswith("MTU1500") else 500
    rate = tt[TTCP_CONFIG[platform]][tt["columns"].index(col)]
    return 8 * size / rate


def _size(key) -> int:
    return 1500 if key[1].startswith("MTU1500") else 500


def row_recipe(key, platform: str) -> dict:
    if platform == "L":
        return {}
    if key[0] == "ttcp":
        extra = _size(key) - 500          # bytes beyond the 500-byte packet native_row is measured at
        rec = dict(PACKET_RECIPE[platform])
        rec.update({m: n * extra for m, n in BYTE_RECIPE[platform].items()})
        return rec
    return ROWS[key][platform]


def wire_us(key) -> float:
    return 8 * _size(key) / WIRE_MBPS


def model_row(key, platform: str, units: dict) -> float:
    value = native_row(key) + sum(n * units[m] for m, n in row_recipe(key, platform).items())
    if key[0] == "ttcp":
        value = max(value, wire_us(key))      # nobody sends faster than the wire
    return value


def _nnls(A, b):
    """Non-negative least squares (Lawson-Hanson active set), small and dependency-free."""
    n = A.shape[1]
    x = np.zeros(n)
    passive = np.zeros(n, bool)
    for _ in range(3 * n + 10):
        w = A.T @ (b - A @ x)
        if passive.all() or w[~passive].max(initial=0) <= 1e-12:
            break
        j = np.argmax(np.where(passive, -np.inf, w))
        passive[j] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(A[:, passive], b, rcond=None)[0]
            if (z[passive] > 0).all():
                x = z
                break
            neg = passive & (z <= 0)
            alpha = np.min(x[neg] / (x[neg] - z[neg]))
            x = x + alpha * (z - x)
            passive &= x > 1e-12
    return x


@lru_cache(maxsize=1)
def calibrate() -> dict:
    """Unit price (us) of every mechanism, by least squares over the CALIBRATION rows (relative error)."""
    units = {}
    for p in ("X", "V", "U"):
        mechs = [m for m, (plat, _) in MECHANISMS.items() if plat == p]
        A, b = [], []
        for key in CALIBRATION:
            target = published_row(key, p)
            if (key, p) in CHECK_ONLY or key[0] == "ttcp" and target <= wire_us(key) * 1.001:
                continue                      # at the wire's rate: says nothing about the CPU
            rec = row_recipe(key, p)
            A.append([rec.get(m, 0) / target for m in mechs])
            b.append((target - native_row(key)) / target)
        x = _nnls(np.array(A, float), np.array(b, float))
        units.update({m: float(v) for m, v in zip(mechs, x)})
    return units


def calibration_table(units: dict | None = None) -> list[dict]:
    """Every row: published, model, relative error, and whether it calibrates."""
    units = units or calibrate()
    rows = []
    for key in CALIBRATION + list(VALIDATION):
        for p in PLATFORMS:
            pub, mod = published_row(key, p), model_row(key, p, units)
            rows.append({"table": key[0], "row": key[1], "platform": p, "published": pub, "model": mod,
                         "error": (mod - pub) / pub, "calibrates": is_calibration(key, p),
                         "why_not": _why_not(key, p)})
    return rows


def _why_not(key, platform: str) -> str:
    if is_calibration(key, platform) or platform == "L":
        return ""
    if key in VALIDATION:
        return VALIDATION[key]
    if (key, platform) in CHECK_ONLY:
        return CHECK_ONLY[(key, platform)]
    return "at the wire's rate (897 Mb/s): the row says nothing about the CPU"


def is_calibration(key, platform: str) -> bool:
    """Does this row calibrate this platform's prices? (L's rows are its own costs, by definition.)"""
    return key in CALIBRATION and (key, platform) not in CHECK_ONLY and not (
        key[0] == "ttcp" and platform != "L" and published_row(key, platform) <= wire_us(key) * 1.001)


def calibration_text(units: dict | None = None) -> str:
    from xenlab.i18n import t
    lines = [f"{t('perf.text.row'):<24}" + "".join(f"{t('perf.text.paper', p=p):>11}{t('perf.text.model', p=p):>11}"
                                                  for p in PLATFORMS[1:])]
    rows = calibration_table(units)
    for key in CALIBRATION + list(VALIDATION):
        rs = {r["platform"]: r for r in rows if (r["table"], r["row"]) == key}
        lines.append(f"{key[1]:<24}" + "".join(
            f"{rs[p]['published']:>11.3g}{rs[p]['model']:>10.3g}{' ' if rs[p]['calibrates'] else '*'}"
            for p in PLATFORMS[1:]))
    lines.append(t("perf.text.cal_note"))
    return "\n".join(lines)


# -- per-operation costs for the macro-benchmarks ------------------------------------------------------
# What one operation of a workload's mix is, in terms of the rows above (recipe per platform) and its
# native cost.  A generic system call is lmbench's "stat" (a call that does a little kernel work and
# copies a path in and a structure out); read, write, lseek and close are lmbench's "null I/O".
def op_recipes() -> dict:
    r = {}
    r["syscall"] = ("table3_processes_us", "stat")
    # a call that copies no path or structure (read, write, lseek, close; their data is priced per byte)
    r["nullsys"] = ("table3_processes_us", "null I/O")
    r["signal"] = ("table3_processes_us", "sig hndl")
    r["fault"] = ("table5_fs_vm_us", "page fault")
    r["switch"] = ("table4_ctxsw_us", "2p/0K")
    r["fork"] = ("table3_processes_us", "fork proc")
    r["exec"] = ("table3_processes_us", "exec proc")
    r["mmap"] = ("table5_fs_vm_us", "mmap lat")
    r["create"] = ("table5_fs_vm_us", "0K create")
    r["delete"] = ("table5_fs_vm_us", "0K delete")
    return r


# lmbench's "exec proc" is fork + exec + exit + wait, and "fork proc" is fork + exit + wait: a mix
# counts a fork (the "fork" op, its whole row) and then an execve in the child, so the "exec" op is
# only what exec adds, the difference of the two rows. (Pricing it as the whole "exec proc" row
# would count every fork + exec as two forks.)
EXEC_MINUS = ("table3_processes_us", "fork proc")


def _per_byte(recipe: dict, n_bytes: float) -> dict:
    return {m: v / n_bytes for m, v in recipe.items()}


# Operations with no lmbench row of their own: native cost and recipe written here.
EXTRA_OPS = {
    # one page-table update outside a fault (e.g. mprotect, munmap): X batches it (x_pte + share of a
    # hypercall), V traces the write, U calls the host.
    "ptupdate": (0.05, {"X": {"x_pte": 1, "x_hyp": 1 / 32}, "V": {"v_shadow": 1}, "U": {"u_hostmm": 1}}),
    # a disk request: the driver's CPU work (like a small packet's) plus the platform's I/O path; on V
    # the IDE controller's 23 emulated register accesses and the world switch (DISK_RECIPE)
    "disk": (None, DISK_RECIPE),
    "packet": (None, PACKET_RECIPE),
    "byte": (NET_BYTE_US, BYTE_RECIPE),
    # an interrupt (timer tick, completion): X an event upcall, V a world switch to the host (the VMM
    # hands every hardware interrupt to the host, Sugerman et al. §2.2) and the guest's 8259A accesses
    # emulated in the VMM (mask_and_ack and unmask, as for the NIC), U a signal
    "irq": (1.0, {"X": {"x_bounce": 1}, "V": {"v_world": 1, "v_trap": 4}, "U": {"u_signal": 1}}),
    # a byte a system call copies between a process and a page the kernel already has (a read from the
    # page cache, a pipe): kernel work, so translated on V; on U one u_uaccess per 4 KB page copied
    "rbyte": (COPY_BYTE_US, {"X": {}, "V": {"v_bt": COPY_BYTE_US}, "U": {"u_uaccess": 1 / 4096}}),
    # a byte written into a file: lmbench's 10K create row less its 0K row and the write's system call,
    # per byte (page-cache pages, blocks, the copy); V and U as in that row's recipe
    "wbyte": (None, {"X": {}, "V": None,
                     "U": _per_byte({"u_uaccess": FILE_KB_PAGES, "u_meta": 1}, FILE_KB_BYTES)}),
    # a first touch of anonymous memory (heap, stack, bss): Linux 2.4's do_anonymous_page() clears a
    # fresh page (clear_user_highpage, mm/memory.c) on top of the fault itself ("fault": lmbench's
    # page fault maps a cached file page, which needs no clearing): 4096 bytes written at the native
    # copy's rate, kernel work (translated on V); UML's kernel clears the page in its own mapping of
    # the guest's memory, so no u_uaccess
    "zero": (4096 * COPY_BYTE_US, {"X": {}, "V": {"v_bt": 4096 * COPY_BYTE_US}, "U": {}}),
}


def op_costs(units: dict | None = None) -> dict[str, dict[str, float]]:
    """{platform: {op: microseconds}} for every op in OPS."""
    units = units or calibrate()
    rows = op_recipes()
    small_packet = native_row(("ttcp", "MTU500 TX")) - 500 * NET_BYTE_US
    wbyte = _write_work_us() / FILE_KB_BYTES
    out = {}
    for p in PLATFORMS:
        c = {}
        for op in OPS:
            if op in rows:
                c[op] = model_row(rows[op], p, units)
                if op == "exec":
                    c[op] -= model_row(EXEC_MINUS, p, units)
                continue
            native, rec = EXTRA_OPS[op]
            if op == "wbyte":
                native = wbyte
                rec = dict(rec, V={"v_bt": wbyte})
            elif native is None:
                native = small_packet
            c[op] = native + (sum(n * units[m] for m, n in rec[p].items()) if p != "L" else 0.0)
        out[p] = c
    return out
