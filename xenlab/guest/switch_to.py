"""A process switch as XenLinux 3.0.0 makes it: switch_mm's mmuext_op, then ONE multicall.

The sources (X@RELEASE-3.0.0:linux-2.6-xen-sparse/...):

- ``include/asm-xen/asm-i386/mmu_context.h`` ``switch_mm``: when the next task has another address
  space, ``MMUEXT_NEW_BASEPTR`` (and ``MMUEXT_SET_LDT`` if the LDT differs) in one ``mmuext_op``;
- ``arch/xen/i386/kernel/process.c:464-561`` ``__switch_to``: instead of trapping into Xen for each
  privileged step, it fills ``multicall_entry_t _mcl[8]`` in this order and makes ONE
  ``HYPERVISOR_multicall``:

  1. ``fpu_taskswitch(1)``, only if the outgoing task used the FPU since it was switched in
     (``TS_USEDFPU``): its state is saved and CR0.TS set, so the next FPU use traps (lazy FPU);
  2. ``stack_switch(tss->ss0, next->esp0)``, always: the ring-1 stack Xen will use for the next
     exception or interrupt from user mode (``load_esp0``);
  3. ``update_descriptor(GDT entry 6 + i, next->tls_array[i])`` for each of the three TLS slots whose
     descriptor differs between the two tasks (``load_TLS``);
  4. ``physdev_op(PHYSDEVOP_SET_IOPL)`` if the tasks' ``io_pl`` differ (iopl 0 is sent as 1: the kernel
     itself keeps ring-1 I/O);
  5. ``physdev_op(PHYSDEVOP_SET_IOBITMAP)`` if either task has an I/O bitmap (ioperm).

  The result of the multicall is ignored (``(void)HYPERVISOR_multicall(...)``): the kernel trusts
  each entry to succeed, and Xen has written each entry's own result into it.

So a switch between two processes is two crossings into Xen whatever the number of operations, and a
switch between two threads of one process (same ``mm``) is one.

Simplifications:
- Each vcpu runs two tasks by default, ``A`` (pid 1, the boot stack) and ``B`` (pid 2), each its own
  process, and ``("switch",)`` alternates between them; ``new_task`` adds more. Their kernel stacks are
  4 KiB (i386 Linux's CONFIG_4KSTACKS) carved from the vcpu's 8 KiB stack area, so Xen's exception
  frames land in memory the kernel keeps for that alone; a task added later gets a free page.
- The tasks' processes share the kernel's page tables (guest/process.py builds real separate ones), so
  switch_mm's ``MMUEXT_NEW_BASEPTR`` reloads the root CR3 already holds (a TLB flush in effect).
- TLS descriptors go into the domain's one GDT page (guest/gdt.py, vcpu 0's): only tasks on vcpu 0
  may have TLS. No I/O bitmaps (SET_IOBITMAP is not modelled, xen/physdev.py), no LDTs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xenlab.xen.public import xen as X
from xenlab.xen.public.arch_x86_32 import FLAT_KERNEL_DS
from xenlab.xen.public.memory import mmuext_op_t

GDT_ENTRY_TLS_MIN = 6             # include/asm-xen/asm-i386/segment.h
GDT_ENTRY_TLS_ENTRIES = 3
TASK_STACK = 0x1000               # 4 KiB kernel stacks (CONFIG_4KSTACKS)
PHYSDEVOP_SET_IOPL = 6            # public/physdev.h (xen/physdev.py's PHYSDEVOP_set_iopl)


@dataclass(eq=False)
class Task:
    """What __switch_to reads of a task: thread_struct's esp0, tls_array, io_pl; TS_USEDFPU; its mm."""
    pid: int
    name: str
    esp0: int
    mm: object = None                                        # tasks with the same mm are threads
    tls: list = field(default_factory=lambda: [0] * GDT_ENTRY_TLS_ENTRIES)
    io_pl: int = 0
    used_fpu: bool = False

    def __repr__(self) -> str:
        tls = sum(1 for t in self.tls if t)
        return (f"<Task {self.pid} {self.name!r} esp0={self.esp0:#x} tls={tls} io_pl={self.io_pl}"
                f"{' used_fpu' if self.used_fpu else ''}>")


@dataclass
class RunQueue:
    """The tasks of one vcpu and the one running (``current``)."""
    tasks: list
    current: Task


def stack_top(v) -> int:
    from xenlab.guest.layout import KERNEL_STACK_TOP, STACK_SIZE
    return KERNEL_STACK_TOP - STACK_SIZE * v.vcpu_id


def runqueue(kernel, v) -> RunQueue:
    """The vcpu's tasks, made on first use: A on the boot stack (what stack_switch set at boot), B below."""
    rqs = kernel.__dict__.setdefault("runqueues", {})
    rq = rqs.get(v.vcpu_id)
    if rq is None:
        top = stack_top(v)
        base = 1 + 2 * v.vcpu_id
        a = Task(base, "A", top, mm=("mm", base))
        b = Task(base + 1, "B", top - TASK_STACK, mm=("mm", base + 1))
        rq = rqs[v.vcpu_id] = RunQueue([a, b], a)
    return rq


def new_task(kernel, v, name: str, thread_of: Task | None = None) -> Task:
    """fork, or clone(CLONE_VM) with ``thread_of`` (a thread shares its mm, TLS and io_pl): a task on
    vcpu ``v`` whose 4 KiB kernel stack is a fresh page of the kernel's direct map."""
    from xenlab.guest.layout import PAGE_OFFSET
    rq = runqueue(kernel, v)
    pfn = kernel.mm.alloc_pfn()
    if pfn >= kernel.mm.lowmem_pages:
        raise ValueError(f"pfn {pfn:#x} is not in the direct map: no room for a kernel stack")
    pid = max(t.pid for r in kernel.runqueues.values() for t in r.tasks) + 1
    t = Task(pid, name, PAGE_OFFSET + ((pfn + 1) << 12), mm=thread_of.mm if thread_of is not None else ("mm", pid),
             tls=list(thread_of.tls) if thread_of is not None else [0] * GDT_ENTRY_TLS_ENTRIES,
             io_pl=thread_of.io_pl if thread_of is not None else 0)
    rq.tasks.append(t)
    return t


def set_thread_area(kernel, v, task: Task, slot: int, desc: int) -> int:
    """sys_set_thread_area: TLS slot ``slot`` (0-2) of ``task`` holds descriptor ``desc`` (a raw u64 or
    a SegmentDescriptor). If the task is running, load_TLS writes it into the GDT at once with
    update_descriptor; returns that hypercall's result (0 otherwise)."""
    from xenlab.guest.gdt import guest_gdt
    if v.vcpu_id != 0:
        raise ValueError("the model's GDT is vcpu 0's: TLS only for tasks on vcpu 0 (module docstring)")
    if not 0 <= slot < GDT_ENTRY_TLS_ENTRIES:
        raise ValueError(f"TLS slot {slot}: Linux has {GDT_ENTRY_TLS_ENTRIES} (GDT entries 6-8)")
    raw = desc if isinstance(desc, int) else desc.encode()
    gdt = guest_gdt(kernel.d)                      # cpu_gdt_init at boot in XenLinux; here on first use
    task.tls[slot] = raw
    if runqueue(kernel, v).current is task:
        return kernel.hypercall(v, "update_descriptor", gdt.maddr(GDT_ENTRY_TLS_MIN + slot), raw)
    return 0


def switch_entries(kernel, v, prev: Task, nxt: Task) -> list:
    """__switch_to's multicall array for prev -> nxt, in process.c's order (nothing is sent)."""
    from xenlab.xen.public.physdev import physdev_set_iopl
    mcl = []
    if prev.used_fpu:                                      # __unlazy_fpu, queued instead of trapping
        mcl.append(X.multicall_entry_t(X.__HYPERVISOR_fpu_taskswitch, [1]))
    mcl.append(X.multicall_entry_t(X.__HYPERVISOR_stack_switch, [FLAT_KERNEL_DS, nxt.esp0]))
    for i in range(GDT_ENTRY_TLS_ENTRIES):
        if nxt.tls[i] != prev.tls[i]:
            from xenlab.guest.gdt import guest_gdt
            ma = guest_gdt(kernel.d).maddr(GDT_ENTRY_TLS_MIN + i)
            mcl.append(X.multicall_entry_t(X.__HYPERVISOR_update_descriptor, [ma, nxt.tls[i]]))
    if prev.io_pl != nxt.io_pl:
        mcl.append(X.multicall_entry_t(X.__HYPERVISOR_physdev_op,
                                       [PHYSDEVOP_SET_IOPL, physdev_set_iopl(1 if nxt.io_pl == 0 else nxt.io_pl)]))
    return mcl


def context_switch(kernel, v, nxt: Task | None = None) -> list:
    """schedule()'s context_switch on vcpu ``v``: switch_mm (one mmuext_op when the address space
    changes), then __switch_to (one multicall). ``nxt`` defaults to the next task in the run queue.
    Returns the multicall's entries, each with the result Xen wrote into it."""
    rq = runqueue(kernel, v)
    prev = rq.current
    if nxt is None:
        nxt = rq.tasks[(rq.tasks.index(prev) + 1) % len(rq.tasks)]
    elif nxt not in rq.tasks:
        raise ValueError(f"{nxt!r} is not a task of vcpu {v.vcpu_id}")
    if nxt.mm != prev.mm:                                  # switch_mm: only for another address space
        # load_cr3(next->pgd): the tasks share the kernel's tables here, so the root loaded is the one
        # CR3 holds (Xen takes the new root's reference before it drops the old: the same frame is fine)
        op = mmuext_op_t(cmd=X.MMUEXT_NEW_BASEPTR, mfn=v.cr3 >> 12) if getattr(v, "cr3", 0) else \
            mmuext_op_t(cmd=X.MMUEXT_TLB_FLUSH_LOCAL)
        kernel.hypercall(v, "mmuext_op", [op], 1, None, X.DOMID_SELF)
    mcl = switch_entries(kernel, v, prev, nxt)
    prev.used_fpu = False                                  # its FPU state is saved; TS is set
    kernel.hypercall(v, "multicall", mcl, len(mcl))        # (void)HYPERVISOR_multicall(_mcl, mcl - _mcl)
    rq.current = nxt
    return mcl


def fpu_used(kernel, v) -> None:
    """math_state_restore (the #NM handler): the running task now owns the FPU (TS_USEDFPU)."""
    runqueue(kernel, v).current.used_fpu = True
