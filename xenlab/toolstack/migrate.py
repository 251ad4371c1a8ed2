"""Live migration between two hosts: ``xm migrate <Dom> <Host> [-l] [-r MBIT]``.

Models Xen 3.0's relocation (X@RELEASE-3.0.0:tools/python/xen/xend/XendDomain.py domain_migrate,
XendCheckpoint.py, tools/libxc/xc_linux_save.c) and the pre-copy algorithm of Clark et al.,
"Live Migration of Virtual Machines", NSDI'05:

1. log-dirty mode on (DOM0_SHADOW_CONTROL_OP_ENABLE_LOGDIRTY);
2. iteration 1 sends every page while the guest keeps running;
3. each later iteration sends the pages dirtied during the one before (CLEAN reads and clears the
   bitmap); a page dirtied again since (PEEK, ``to_skip``) is deferred, it would only go stale;
4. the last iteration starts when the rate is already at MAX_MBIT_RATE and more was sent than last
   time (the paper's adaptive algorithm only: 3.0.0 as built has no rate limiter), after DEF_MAX_ITERS iterations, when fewer than 50 pages are left, or when more than
   DEF_MAX_FACTOR x the guest's memory has been sent; then the guest is suspended and the rest goes;
5. the target restores the domain and resumes it; the source destroys its copy.

A migration that fails loses nothing (checkpoint.py): what the target needs (memory, the devices'
files, the name) is checked before the first page moves; a failure during the pre-copy leaves the
guest running with log-dirty mode off, and a failure after the suspend (the target refuses the
image) resumes the guest on the source.

The stream is the same byte stream as ``xm save`` writes (save.py), carried over a simulated link
whose rate starts at 100 Mb/s and rises, after each iteration, to the guest's dirtying rate + 50 Mb/s
(at most 500), as the paper's §5.3 and xc_linux_save's ADAPTIVE_SAVE code do (``algorithm="adaptive"``,
the default); ``algorithm="3.0.0"`` is 3.0.0 as built, where ADAPTIVE_SAVE is undefined: the pages go
at the wire's speed and nothing stops the pre-copy for its rate (save.py). Both machines' clocks move
on by the transfer time; the **downtime** is from the guest's suspend on the source to its resume on
the target.

Hosts are Machines: pass the target itself, or register it by name in ``hosts``
(``xenlab.toolstack.migrate.hosts["hostB"] = machine_b``) and use ``xm migrate web hostB -l``.

Simplifications:
- dom0's CPU time for the copy and the network's effect on the guest are not charged.
- ``activation_ns`` (default 0) stands for the target's restore and device reconnection; the paper
  measured 9 ms for SPECweb99 and 40 ms for Quake 3 (NSDI'05 §6.3-6.4).
- The target's clock is run forward to the end of the transfer before the domain is restored there
  (its own domains run meanwhile); the pages are not applied as they arrive.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field

from xenlab.i18n import t
from xenlab.toolstack.checkpoint import SaveError, check_saveable, recover
from xenlab.toolstack.restore import restore_domain
from xenlab.toolstack.save import (DEF_MAX_FACTOR, DEF_MAX_ITERS, MAX_MBIT_RATE, START_MBIT_RATE, Link,
                                   SaveReport, save_domain)
from xenlab.toolstack.xend import ToolstackError, check_config, dom0_op
from xenlab.xen.public import dom0_ops as D

hosts: dict = {}                    # name -> Machine: the relocation peers `xm migrate` can reach

SPOOL_BYTES = 64 << 20              # keep small streams in memory, spill big ones to a temporary file


@dataclass
class MigrationReport:
    domain: str
    live: bool
    save: SaveReport
    started_at: int                 # ns, source clock
    total_ns: int
    downtime_ns: int
    new_domid: int
    target: object = field(repr=False, default=None)

    @property
    def iterations(self) -> list:
        return self.save.iterations

    @property
    def pages_per_iteration(self) -> list[int]:
        return [it.sent for it in self.save.iterations]

    @property
    def total_sent(self) -> int:
        return self.save.total_sent

    def text(self) -> str:
        """The report in the current language; the table and xc_save's "Total pages sent=" line as they are."""
        from xenlab.i18n import t
        s = self.save
        lines = [t("narration.migrate.head", domain=self.domain,
                   how=t("narration.migrate.live" if self.live else "narration.migrate.stop_and_copy"),
                   pages=s.max_pfn, mib=s.max_pfn * 4096 >> 20),
                 t("out.migrate.columns")]
        suspended = "  " + t("narration.migrate.suspended")
        for it in s.iterations:
            lines.append(f"{it.iteration:5d} {it.sent:6d} {it.skipped:8d} {it.dirtied:8d} {it.rate_mbit:11d} "
                         f"{it.duration_ns / 1e6:9.1f}" + (suspended if it.last else ""))
        lines.append(f"Total pages sent= {s.total_sent} ({s.total_sent / s.max_pfn:.2f}x)")
        lines.append(t("narration.migrate.because", why=stop_reason_text(s.stop_reason)))
        lines.append(t("narration.migrate.total", total_s=self.total_ns / 1e9, downtime_ms=self.downtime_ns / 1e6,
                       mb=s.bytes / 1e6))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()


def resolve_host(target):
    if isinstance(target, str):
        if target not in hosts:
            known = ", ".join(sorted(hosts)) or "none registered"
            raise ToolstackError(f"Error: can't connect to {target}: no such host "
                                 f"(xenlab.toolstack.migrate.hosts: {known})")
        return hosts[target]
    if getattr(target, "xend", None) is None or not hasattr(target, "domain_record"):
        raise ToolstackError(f"Error: {target!r} is not a host (a xenlab.Machine or a name in migrate.hosts)")
    return target


def _host_name(target, source=None) -> str:
    names = [k for k, v in hosts.items() if v is target]
    return names[0] if names else "localhost" if target is source else "the target host"


def stop_reason_text(reason: str) -> str:
    """Why the pre-copy ended (a value of ``precopy_should_stop``), in the current language."""
    from xenlab.i18n import t
    return t("narration.precopy." + reason.replace(" ", "_"))


def precopy_summary(rate: int, report: MigrationReport) -> str:
    """One line for chapter 14's table: dirtying rate, iterations, last copy, downtime and why it stopped."""
    from xenlab.i18n import t
    return t("narration.precopy.summary", rate=rate, iters=len(report.iterations),
             last=report.iterations[-1].sent, downtime_ms=report.downtime_ns / 1e6,
             why=stop_reason_text(report.save.stop_reason))


def migrate(machine, d, target, *, live: bool = True, rate_mbit: int = START_MBIT_RATE,
            activation_ns: int = 0, max_iters: int = DEF_MAX_ITERS, max_factor: int = DEF_MAX_FACTOR,
            adaptive: bool = True, stop_rule=None, algorithm: str = "adaptive") -> MigrationReport:
    """Move domain ``d`` of ``machine`` to ``target`` (a Machine or a name in ``hosts``).

    ``algorithm``: "adaptive" (the paper's rate-limited pre-copy, NSDI'05 §5.3) or "3.0.0" (Xen 3.0.0's
    xc_linux_save as built: unthrottled, stops only at 29 iterations, 3x memory or < 50 pages)."""
    target = resolve_host(target)
    if not 0 < rate_mbit <= MAX_MBIT_RATE:
        raise ToolstackError(f"Error: rate {rate_mbit} Mb/s: must be 1..{MAX_MBIT_RATE}")
    if target.domain_by_name(d.name) is not None and target is not machine:
        raise ToolstackError(f"Error: the target already has a domain called {d.name}")
    check_saveable(machine, d)
    config = machine.xend.configs.get(d.domain_id, d.config)
    try:                                          # what the target will need: checked before anything moves
        check_config(target, config, replacing=d if target is machine else None)
    except ToolstackError as exc:
        raise SaveError(recover(machine, d, d.name, str(exc).removeprefix("Error: "), live=False,
                                key_prefix="toolstack.migrate", host=_host_name(target, machine))) from None
    if target is machine:                         # both copies live here for a moment
        phys = D.dom0_physinfo()
        dom0_op(machine, D.DOM0_PHYSINFO, phys)
        if phys.free_pages < (config.memory << 8) + 4:
            reason = t("toolstack.migrate.no_memory", free=phys.free_pages >> 8, name=d.name, need=config.memory)
            raise SaveError(recover(machine, d, d.name, reason, live=False, key_prefix="toolstack.migrate",
                                    host=_host_name(target, machine)))
    name = d.name
    host = _host_name(target, machine)
    link = Link(rate_mbit)
    src_start, dst_start = machine.now, target.now
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as stream:
        try:
            report = save_domain(machine, d, stream, live=live, link=link, destroy=False, max_iters=max_iters,
                                 max_factor=max_factor, adaptive=adaptive, stop_rule=stop_rule,
                                 algorithm=algorithm)
        except (OSError, ToolstackError) as exc:
            raise SaveError(recover(machine, d, name, str(exc).removeprefix("Error: "), live=live,
                                    key_prefix="toolstack.migrate", host=host)) from None
        if target is not machine:
            target.run(max(target.now, dst_start + (machine.now - src_start)))
        stream.seek(0)
        try:
            new, _ = restore_domain(target, stream, paused=True)
        except ToolstackError as exc:             # the target refused: the source copy resumes here
            raise SaveError(recover(machine, d, name, str(exc).removeprefix("Error: "), live=live,
                                    key_prefix="toolstack.migrate", host=host)) from None
    if activation_ns:
        target.run_for(activation_ns)
        if target is not machine:
            machine.run_for(activation_ns)
    dom0_op(target, D.DOM0_UNPAUSEDOMAIN, D.dom0_domain(new.domain_id))
    dom0_op(machine, D.DOM0_DESTROYDOMAIN, D.dom0_domain(d.domain_id))   # commitment: the source releases its copy
    downtime = machine.now - report.suspended_at
    machine.trace.emit("DOM", "migrated", domid=d.domain_id, name=name, downtime_ns=downtime,
                       iterations=len(report.iterations))
    return MigrationReport(name, live, report, src_start, machine.now - src_start, downtime, new.domain_id, target)


def _register_xm() -> None:
    from xenlab.toolstack.xm import XmError, XmResult, command, find_domain

    @command("migrate")
    def cmd_migrate(machine, args) -> XmResult:
        live, rate, rest = False, START_MBIT_RATE, []
        it = iter(args)
        for a in it:
            if a in ("-l", "--live"):
                live = True
            elif a in ("-r", "--resource"):
                try:
                    rate = int(next(it))
                except (StopIteration, ValueError):
                    raise XmError("Error: -r needs a rate in Mb/s") from None
            elif a in ("-p", "--port"):
                next(it, None)                 # the relocation port (8002): one network in the model
            elif a.startswith("-"):
                raise XmError(f"Error: unknown option {a}. Usage: xm migrate <Domain> <Host> [-l] [-r MBIT]")
            else:
                rest.append(a)
        if len(rest) != 2:
            raise XmError("Error: expected a domain and a host. Usage: xm migrate <Domain> <Host> [-l] [-r MBIT]")
        d = find_domain(machine, rest[0])
        if d.domain_id == 0:
            raise XmError("Error: Domain-0 cannot be migrated")
        try:
            report = migrate(machine, d, rest[1], live=live, rate_mbit=rate)
        except ToolstackError as exc:
            msg = str(exc)
            raise XmError(msg if msg.startswith("Error") else f"Error: {msg}") from None
        rows = [{"iteration": i.iteration, "sent": i.sent, "skipped": i.skipped, "dirtied": i.dirtied,
                 "rate_mbit": i.rate_mbit, "start_ns": i.start_ns, "end_ns": i.end_ns, "last": i.last}
                for i in report.iterations]
        result = XmResult("migrate", report.text(), rows)
        result.report = report
        return result


_register_xm()
