"""vcpu_op: a guest brings up its own vcpus (X@RELEASE-3.0.0:xen/common/domain.c:372-437, do_vcpu_op
and boot_vcpu; xen/arch/x86/domain.c:333-430, arch_set_info_guest).

A domain gets all its vcpus at DOM0_MAX_VCPUS, but only vcpu 0 is given a context by the domain
builder; every other vcpu starts *down* and *uninitialised* (alloc_vcpu sets _VCPUF_down for
vcpu_id != 0). An SMP XenLinux kernel (arch/i386/kernel/smpboot.c in linux-2.6-xen-sparse) then, for
each further CPU, fills a ``vcpu_guest_context`` (its page-table root, kernel stack, callbacks, virtual
IDT) and calls ``VCPUOP_initialise``, then ``VCPUOP_up`` to make it runnable. ``VCPUOP_down`` and
``VCPUOP_is_up`` serve CPU hot-plug.

Xen's rules, each below where it applies:
- vcpuid outside 0..MAX_VIRT_CPUS-1: -EINVAL; a vcpu the domain does not have: -ENOENT;
- initialise an initialised vcpu: -EEXIST; a context whose CS or SS has RPL 0: -EINVAL; a root table
  that cannot take the base-page-table type: -EINVAL (get_page_and_type fails);
- up on an uninitialised vcpu: -EINVAL; up/down are idempotent (test_and_clear/test_and_set of _VCPUF_down);
- is_up returns 1 or 0;
- 3.0.0's switch has no ``default``: an unknown command returns 0 (3.0.4 sends it to arch_do_vcpu_op,
  -ENOSYS). VCPUOP_get_runstate_info is 3.0.2's, offered because chapter 08 reads runstate times.

Simplifications:
- No FPU area and no debug registers in the context; HVM (VGCF_VMX_GUEST) contexts are not accepted
  here: the HVM builder brings an HVM domain's vcpus up itself.
- The trap table is copied as given, as 3.0.0 does (later Xen fixes up code selectors).
"""
from __future__ import annotations

from xenlab.xen import schedule as S
from xenlab.xen.hypercall import hypercall
from xenlab.xen.mm import new_guest_cr3
from xenlab.xen.mm_types import put_page_and_type
from xenlab.xen.public import errno as E
from xenlab.xen.public import vcpu as VC
from xenlab.xen.public.arch_x86_32 import trap_info
from xenlab.xen.public.xen import MAX_VIRT_CPUS
from xenlab.xen.traps import arch


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def arch_set_info_guest(v, c: VC.vcpu_guest_context) -> int:
    """Load a starting context into vcpu ``v`` and mark it initialised; 0 or -errno, nothing kept on failure."""
    if c.flags & VC.VGCF_VMX_GUEST:
        return -E.EINVAL                            # see Simplifications
    regs = c.user_regs
    if not isinstance(regs, VC.cpu_user_regs) or not all(_is_int(x) for x in (regs.cs, regs.ss)):
        return -E.EFAULT
    if (regs.cs & 3) == 0 or (regs.ss & 3) == 0:
        return -E.EINVAL                            # a guest may not start itself in ring 0
    if not _is_int(c.ctrlreg[3]) or not all(_is_int(x) for x in (c.kernel_ss, c.kernel_sp, c.event_callback_cs,
                                                                  c.event_callback_eip, c.failsafe_callback_cs,
                                                                  c.failsafe_callback_eip)):
        return -E.EFAULT
    if not isinstance(c.trap_ctxt, (list, tuple)) or not all(isinstance(t, trap_info) for t in c.trap_ctxt):
        return -E.EFAULT
    mfn = c.ctrlreg[3] >> 12
    if not 0 <= mfn < v.domain.machine.memory.nr_frames or not new_guest_cr3(v, mfn):
        return -E.EINVAL                            # get_page_and_type(PGT_base_page_table) failed
    if c.gdt_ents:
        from xenlab.xen.descriptor import do_set_gdt
        rc = do_set_gdt(v, list(c.gdt_frames), c.gdt_ents)
        if rc != 0:
            put_page_and_type(v.domain.machine, mfn)     # undo the root's reference
            v.mm.guest_table, v.cr3 = 0, 0
            return rc
    a = arch(v)
    table = [trap_info(vector=i) for i in range(256)]
    for t in c.trap_ctxt:
        if 0 <= t.vector < 256:
            table[t.vector] = t
    a.trap_ctxt = table
    a.event_callback_cs, a.event_callback_eip = c.event_callback_cs, c.event_callback_eip
    a.failsafe_callback_cs, a.failsafe_callback_eip = c.failsafe_callback_cs, c.failsafe_callback_eip
    a.kernel_ss, a.kernel_sp = c.kernel_ss, c.kernel_sp
    a.iopl = (regs.eflags >> 12) & 3 if _is_int(regs.eflags) else 0     # IOPL is virtualised (domain.c:365)
    # 3.0.0 sets up the direct int $0x80 gate only in do_set_trap_table, not here: a vcpu started this
    # way bounces its system calls through Xen until its kernel calls set_trap_table itself.
    a.ctrlreg = [x if _is_int(x) else 0 for x in list(c.ctrlreg)[:8]] + [0] * max(0, 8 - len(c.ctrlreg))
    if v.vcpu_id == 0:
        v.domain.vm_assist = c.vm_assist
    v.initialised = True                            # set_bit(_VCPUF_initialised): "don't redo final setup"
    return 0


@hypercall("vcpu_op")
def do_vcpu_op(current, cmd, vcpuid, arg=None) -> int:
    d = current.domain
    if not _is_int(vcpuid) or not 0 <= vcpuid < MAX_VIRT_CPUS:
        return -E.EINVAL
    if vcpuid >= len(d.vcpus):
        return -E.ENOENT
    v = d.vcpus[vcpuid]
    machine = d.machine
    if cmd == VC.VCPUOP_initialise:
        if not isinstance(arg, VC.vcpu_guest_context):
            return -E.EFAULT                        # copy_from_user failed
        if v.initialised:
            return -E.EEXIST
        rc = arch_set_info_guest(v, arg)
    elif cmd == VC.VCPUOP_up:
        if not v.initialised:
            return -E.EINVAL
        rc = 0
        if v.down:
            v.down = False
            S.vcpu_wake(machine, v)
    elif cmd == VC.VCPUOP_down:
        rc = 0
        if not v.down:
            v.down = True
            S.vcpu_sleep_nosync(machine, v)
    elif cmd == VC.VCPUOP_is_up:
        rc = 0 if v.down else 1
    elif cmd == VC.VCPUOP_get_runstate_info:
        if not isinstance(arg, VC.vcpu_runstate_info):
            return -E.EFAULT
        now = machine.now
        arg.state, arg.state_entry_time = v.runstate, v.state_entry_time
        arg.time = list(v.runstate_time)
        arg.time[v.runstate] += now - v.state_entry_time     # vcpu_runstate_get: the current stretch too
        rc = 0
    else:
        rc = 0                                      # 3.0.0: no default case
    if machine.trace.active:
        machine.trace.emit("SCHED", "vcpu_op", domid=d.domain_id, vcpu=current.vcpu_id, target=vcpuid,
                           cmd=cmd, rc=rc)
    return rc
