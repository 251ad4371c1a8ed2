"""multicall: many hypercalls for one crossing into Xen (X@RELEASE-3.0.0:xen/common/multicall.c).

Every hypercall costs a trap into ring 0 and a return. XenLinux therefore batches: its context switch
(``__switch_to``, X@RELEASE-3.0.0:linux-2.6-xen-sparse/arch/xen/i386/kernel/process.c:464-561; the model's
guest/switch_to.py) queues ``fpu_taskswitch``, ``stack_switch``, the TLS descriptor updates and
``physdev_op`` (IOPL) as entries of a ``multicall_entry_t`` array and makes ONE ``HYPERVISOR_multicall``;
netfront zaps the PTEs of the pages it gives away and gives them back (``update_va_mapping`` entries and
a ``memory_op``) in one multicall. Xen walks the array in order:

- each entry's hypercall runs exactly as a direct call would, and its return value is written back to
  that entry's ``result``; a failing entry does NOT stop the entries after it: the caller must look
  at every ``result`` (Xen's debug build even scribbles 0xAA over the rest of each entry to enforce it);
- a multicall inside a multicall is refused (``_MCSF_in_multicall``: -EINVAL);
- the array must be readable (``array_access_ok``), else -EFAULT before any entry runs;
- the multicall itself returns 0 once the batch is done (the entries' results say what happened).

The whole batch is ONE crossing into Xen: ``hypercall_from_guest`` counts the multicall once
(``machine.stats["hypercalls"]``, a ``hypercall`` trace event), each entry adds a ``multicall_entry``
event and ``machine.stats["multicall_entries"]``, and ``multicall_done`` closes the batch with its
number of hypercalls; ``crossing_counts`` sums a trace up as "N hypercalls, 1 crossing".

Preemption (described, not needed by the model): after each entry Xen checks
``hypercall_preempt_check()``; if softirq work is pending it creates a continuation for the remaining
entries (``hypercall2_create_continuation(__HYPERVISOR_multicall, &call_list[i], nr_calls - i)``), so the
guest re-enters the multicall for the rest when it next runs. An entry that was itself preempted is
copied back so that it resumes where it stopped.

Simplifications:
- No preemption and no continuations (the model runs a batch to completion, as its other hypercalls do).
- Entries carry Python arguments (ints or the dataclass a pointer points to), like direct calls.
- The debug build's 0xAA scribbling is not modelled: ``op`` and ``args`` are left as they were.
"""
from __future__ import annotations

from xenlab.xen.hypercall import dispatch, hypercall, hypercall_table
from xenlab.xen.public import errno as E
from xenlab.xen.public.xen import NR_hypercalls, multicall_entry_t


def _call_entry(current, entry: multicall_entry_t) -> int:
    """do_multicall_call: the table lookup of entry.S (op masked with NR_hypercalls - 1), then the same
    checks and call as a direct hypercall (hypercall.dispatch)."""
    op = entry.op
    if isinstance(op, bool) or not isinstance(op, int) or op < 0:
        return -E.ENOSYS
    args = entry.args if isinstance(entry.args, (list, tuple)) else None
    if args is None or len(args) > 6:
        return -E.EFAULT                                   # not six argument slots' worth: a bad entry
    return dispatch(current, hypercall_table.get(op & (NR_hypercalls - 1)), tuple(args))


def _name(op) -> str:
    slot = hypercall_table.get(op & (NR_hypercalls - 1)) if isinstance(op, int) and not isinstance(op, bool) \
        and op >= 0 else None
    return slot.name if slot is not None else f"#{op}"


@hypercall("multicall")
def do_multicall(current, call_list, nr_calls: int) -> int:
    """Run ``call_list[:nr_calls]`` in order, each result written back; 0, -EINVAL (re-entry), -EFAULT."""
    pcpu = current.domain.machine.cpus[current.processor]
    if pcpu.in_multicall:
        return -E.EINVAL                                   # "Multicall reentry is disallowed."
    if (isinstance(nr_calls, bool) or not isinstance(nr_calls, int) or nr_calls < 0
            or not isinstance(call_list, (list, tuple)) or nr_calls > len(call_list)):
        return -E.EFAULT                                   # array_access_ok fails
    machine = current.domain.machine
    trace = machine.trace
    pcpu.in_multicall = True
    try:
        for i in range(nr_calls):
            entry = call_list[i]
            if not isinstance(entry, multicall_entry_t):
                return -E.EFAULT                           # __copy_from_user of entry i fails
            name = _name(entry.op)
            seq = trace.emit("PV", "multicall_entry", domid=current.domid, vcpu=current.vcpu_id,
                             pcpu=current.processor, index=i, op=name, args=tuple(entry.args)
                             if isinstance(entry.args, (list, tuple)) else ()) if trace.active else None
            with trace.cause(seq):
                rc = _call_entry(current, entry)
            entry.result = rc
            machine.stats["multicall_entries"] = machine.stats.get("multicall_entries", 0) + 1
            if trace.active:
                trace.emit("PV", "multicall_result", domid=current.domid, vcpu=current.vcpu_id,
                           pcpu=current.processor, index=i, op=name, rc=rc, errno=E.errno_name(rc))
        if trace.active:                                   # "N hypercalls, 1 crossing" in the trace
            trace.emit("PV", "multicall_done", domid=current.domid, vcpu=current.vcpu_id,
                       pcpu=current.processor, hypercalls=nr_calls, crossings=1,
                       failed=sum(1 for e in call_list[:nr_calls] if e.result < 0))
        return 0
    finally:
        pcpu.in_multicall = False


def crossing_counts(events, domid: int | None = None) -> dict:
    """From a PV trace (``machine.trace.record("PV")``): ``crossings``, the entries into Xen (one per
    ``int $0x82``, a multicall being one), and ``hypercalls``, the hypercalls Xen ran (each multicall
    entry counts, the multicall itself does not); only domain ``domid``'s when given."""
    mine = [e for e in events if domid is None or e.domid == domid]
    crossings = sum(1 for e in mine if e.name == "hypercall")
    multicalls = sum(1 for e in mine if e.name == "hypercall" and e["op"] == "multicall")
    entries = sum(1 for e in mine if e.name == "multicall_entry")
    return {"crossings": crossings, "hypercalls": crossings - multicalls + entries}
