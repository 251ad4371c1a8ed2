"""Exercise 02: which operations of a paravirtualised guest go through Xen, and how.

Oracle: reference/xen-facts.md and Xen 3.0's x86_32 sources, as chapters 02 and 05 show them on the
model's trace:
- a system call (int $0x80 registered with DPL 3 and no IF flag) goes 3 -> 1 through the direct trap
  gate Xen writes into the real IDT (X@RELEASE-3.0.0:xen/arch/x86/x86_32/traps.c, set_int80_direct_trap);
- an exception (page fault, #NM after a task switch, #DE, a #GP from a privileged instruction) enters Xen
  in ring 0, which builds a bounce frame to the guest kernel's handler (xen/arch/x86/traps.c, do_page_fault,
  do_general_protection; x86_32/entry.S create_bounce_frame): 3 -> 0 -> 1 from an application,
  1 -> 0 -> 1 from the kernel;
- a hypercall is the kernel's deliberate entry into Xen (int $0x82) and back: 1 -> 0 -> 1;
- some things a native kernel does with privileged instructions need no crossing at all in a PV guest:
  masking events is a write to vcpu_info->evtchn_upcall_mask, the system time is read from shared_info
  and the TSC, the M2P table is mapped read-only at 0xFC000000.
tests/grading/test_exercises_i12.py checks this table against the live model's trace.
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect

EX = exercise("ex02", chapter=2, functions=("crossing_kind", "ring_path"),
              title={"pl": "Przez Xena czy obok: hiperwywołania, wywołania systemowe, wyjątki",
                     "en": "Through Xen or past it: hypercalls, system calls, exceptions"})

KINDS = ("syscall", "hypercall", "exception", "none")
# op -> (kind, ring path)
OPS = {
    "app_syscall": ("syscall", (3, 1)),
    "app_page_fault": ("exception", (3, 0, 1)),
    "app_fpu_first_use": ("exception", (3, 0, 1)),
    "app_divide_by_zero": ("exception", (3, 0, 1)),
    "app_cli": ("exception", (3, 0, 1)),
    "kernel_page_fault": ("exception", (1, 0, 1)),
    "kernel_port_io": ("exception", (1, 0, 1)),
    "kernel_pte_update": ("hypercall", (1, 0, 1)),
    "kernel_switch_page_table": ("hypercall", (1, 0, 1)),
    "kernel_idle": ("hypercall", (1, 0, 1)),
    "kernel_send_event": ("hypercall", (1, 0, 1)),
    "kernel_set_timer": ("hypercall", (1, 0, 1)),
    "kernel_fpu_taskswitch": ("hypercall", (1, 0, 1)),
    "kernel_disable_events": ("none", (1,)),
    "kernel_read_system_time": ("none", (1,)),
    "kernel_read_m2p": ("none", (1,)),
}


def reference_kind(op: str) -> str:
    return OPS[op][0]


def reference_path(op: str) -> tuple:
    return OPS[op][1]


def _kind(ctx, op):
    got = ctx.fn("crossing_kind")(op)
    expect(got in KINDS, pl=f"crossing_kind({op!r}) powinna zwrócić jedno z {KINDS}, a zwróciła {got!r}.",
           en=f"crossing_kind({op!r}) should return one of {KINDS}, but returned {got!r}.")
    return got


def _path(ctx, op):
    got = ctx.fn("ring_path")(op)
    try:
        got = tuple(int(r) for r in got)
    except Exception:  # noqa: BLE001
        expect(False, pl=f"ring_path({op!r}) powinna zwrócić krotkę numerów pierścieni, a zwróciła {got!r}.",
               en=f"ring_path({op!r}) should return a tuple of ring numbers, but returned {got!r}.")
    expect(got and all(r in (0, 1, 3) for r in got),
           pl=f"ring_path({op!r}) = {got!r}: gość PV na x86_32 używa tylko pierścieni 0, 1 i 3.",
           en=f"ring_path({op!r}) = {got!r}: a PV guest on x86_32 uses rings 0, 1 and 3 only.")
    return got


@EX.check(points=1, function="crossing_kind", title={"pl": "wywołanie systemowe aplikacji",
                                                     "en": "an application's system call"})
def kind_syscall(ctx):
    expect(_kind(ctx, "app_syscall") == "syscall",
           pl="Wywołanie systemowe aplikacji źle zaklasyfikowane: kto je obsługuje w Xenie 3.0 na x86_32?",
           en="An application's system call is misclassified: who serves it in Xen 3.0 on x86_32?")


@EX.check(points=1, function="crossing_kind", title={"pl": "zmiana wpisu tablicy stron i maskowanie zdarzeń",
                                                     "en": "a page-table update and masking events"})
def kind_pte_and_cli(ctx):
    expect(_kind(ctx, "kernel_pte_update") == "hypercall",
           pl="Zmiana wpisu tablicy stron przez jądro gościa PV: źle (tablice stron są tylko do odczytu dla gościa).",
           en="A PV kernel updating a page-table entry: wrong (page tables are read-only to the guest).")
    expect(_kind(ctx, "kernel_disable_events") == "none",
           pl="Maskowanie zdarzeń przez jądro PV (zamiast cli): źle; gdzie leży evtchn_upcall_mask?",
           en="A PV kernel masking events (instead of cli): wrong; where does evtchn_upcall_mask live?")


@EX.check(points=1, function="crossing_kind", title={"pl": "błąd strony aplikacji", "en": "an application's page fault"})
def kind_page_fault(ctx):
    expect(_kind(ctx, "app_page_fault") == "exception",
           pl="Błąd strony aplikacji źle zaklasyfikowany: kto może odczytać CR2?",
           en="An application's page fault is misclassified: who may read CR2?")


@EX.check(points=1, function="ring_path", title={"pl": "droga wywołania systemowego i hiperwywołania",
                                                 "en": "the path of a system call and of a hypercall"})
def path_syscall_hypercall(ctx):
    expect(_path(ctx, "app_syscall") == (3, 1),
           pl="Droga wywołania systemowego przez pierścienie jest zła (czy Xen w ogóle w niej jest?).",
           en="The ring path of a system call is wrong (is Xen on it at all?).")
    expect(_path(ctx, "kernel_send_event") == (1, 0, 1),
           pl="Droga hiperwywołania przez pierścienie jest zła.", en="The ring path of a hypercall is wrong.")


@EX.check(points=1, function="ring_path", title={"pl": "droga wyjątku aplikacji i operacji bez Xena",
                                                 "en": "the path of an application's exception and of a Xen-free operation"})
def path_exception_none(ctx):
    expect(_path(ctx, "app_page_fault") == (3, 0, 1),
           pl="Droga błędu strony aplikacji jest zła: gdzie trafia wyjątek, zanim dotrze do jądra gościa?",
           en="The path of an application's page fault is wrong: where does the exception go before the guest kernel?")
    expect(_path(ctx, "kernel_read_system_time") == (1,),
           pl="Odczyt czasu systemowego przez jądro: zła droga (operacja bez przejścia to krotka z jednym pierścieniem).",
           en="The kernel reading the system time: wrong path (an operation with no crossing is a one-ring tuple).")


@EX.check(points=3, function="crossing_kind", hidden=True, title={"pl": "wszystkie operacje", "en": "every operation"})
def kind_all(ctx):
    for op in ctx.rng.permutation(sorted(OPS)):
        op = str(op)
        want, got = reference_kind(op), _kind(ctx, op)
        expect(got == want, pl=f"crossing_kind({op!r}): oczekiwano {want!r}, jest {got!r}.",
               en=f"crossing_kind({op!r}): expected {want!r}, got {got!r}.")


@EX.check(points=3, function="ring_path", hidden=True, title={"pl": "wszystkie drogi", "en": "every path"})
def path_all(ctx):
    for op in ctx.rng.permutation(sorted(OPS)):
        op = str(op)
        want, got = reference_path(op), _path(ctx, op)
        expect(got == want, pl=f"ring_path({op!r}): oczekiwano {want}, jest {got}.",
               en=f"ring_path({op!r}): expected {want}, got {got}.")
