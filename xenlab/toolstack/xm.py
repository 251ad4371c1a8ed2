"""xm, Xen 3.0's command-line toolstack (X@RELEASE-3.0.0:tools/python/xen/xm/main.py).

``xm(machine, "list")`` returns an :class:`XmResult` with ``.rows`` (structured) and ``.text``
(exactly what xm prints). Commands act through dom0's privileged hypercalls, as xend does.
Other chapters add commands with :func:`command`.

Simplifications:
- ``shutdown``/``reboot`` write ``control/shutdown`` in the guest's XenStore home, as xend does; the
  guest's watch fires and it calls SCHEDOP_shutdown. An HVM guest without PV drivers ignores it, as
  in 3.0. ``-w`` runs the machine (at most 10 s of simulated time) until the domain has gone.
- ``console`` shows what the guest printed so far (there is no interactive terminal); ``create -c``
  first runs the machine for up to 100 ms of simulated time so the guest can boot.
"""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from typing import Callable

from xenlab.toolstack.config import KEYS, ConfigError, parse_config, parse_override, read_config_file
from xenlab.toolstack.xc import domain_getinfo, sched_id
from xenlab.xen.public.sched_ctl import SCHED_NAMES
from xenlab.toolstack.xend import ConfigValueError, ToolstackError, dom0_op
from xenlab.toolstack.domain_config import DomainCreateError
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import errno as E
from xenlab.xen.public.xen import (SHUTDOWN_crash, SHUTDOWN_poweroff, SHUTDOWN_reboot, XENVER_capabilities,
                                   XENVER_extraversion, XENVER_version, xen_capabilities_info_t,
                                   xen_extraversion_t)

MS = 1_000_000


class XmError(Exception):
    """What xm prints as 'Error: ...' (the command changed nothing)."""


@dataclass
class XmResult:
    command: str
    text: str = ""
    rows: list = field(default_factory=list)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(self.text)


COMMANDS: dict[str, Callable] = {}


def command(name: str):
    def register(fn):
        COMMANDS[name] = fn
        return fn
    return register


def xm(machine, line: str, *, config: str | None = None) -> XmResult:
    """Run one xm command line against ``machine``. ``config=`` gives config text for ``create``."""
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise XmError(f"Error: cannot parse the command line {line!r}: {exc}") from None
    if not argv:
        raise XmError("Error: no subcommand given. Try: " + ", ".join(sorted(COMMANDS)))
    if argv[0] in ("xm", "xl"):      # the xl-only commands (sched-credit2, sched-rtds) are typed as xl
        argv = argv[1:]
    if not argv:
        raise XmError("Error: no subcommand given. Try: " + ", ".join(sorted(COMMANDS)))
    name, args = argv[0], argv[1:]
    if name not in COMMANDS:
        raise XmError(f"Error: Subcommand {name} not found. Known subcommands: {', '.join(sorted(COMMANDS))}")
    kwargs = {"config": config} if name == "create" else {}
    result = COMMANDS[name](machine, args, **kwargs)
    result.command = line
    machine.run(machine.now)          # let xend and the schedulers react to what was done, at this instant
    return result


def find_domain(machine, ident: str):
    """xm accepts a domain name or a numeric domid."""
    if ident.isdigit() and domain_getinfo(machine, int(ident)) is not None:   # DOM0_GETDOMAININFO
        return machine.domain_record(int(ident))
    d = machine.domain_by_name(ident)
    if d is None:
        raise XmError(f"Error: Domain '{ident}' does not exist.")
    return d


def _one_domain(args: list[str], usage: str) -> str:
    rest = [a for a in args if not a.startswith("-")]
    if len(rest) != 1:
        raise XmError(f"Error: expected one domain. Usage: xm {usage}")
    return rest[0]


# -- create ----------------------------------------------------------------------------------------------
@command("create")
def cmd_create(machine, args, config: str | None = None) -> XmResult:
    attach = False
    path = None
    overrides: dict[str, object] = {}
    for a in args:
        if a in ("-c", "--console_autoconnect"):
            attach = True
        elif a.startswith("-f"):
            path = a[2:] or None
        elif "=" in a:
            k, v = parse_override(a)
            overrides[k] = v
        elif path is None:
            path = a
        else:
            raise XmError(f"Error: unexpected argument {a!r}. Usage: xm create [-c] <ConfigFile> [key=value ...]")
    lines: dict = {}
    try:
        if config is not None:
            text, source = config, "<config>"
        elif path is not None:
            if not os.path.exists(path):
                raise XmError(f"Error: config file {path!r} not found")
            text, source = read_config_file(path), path
        elif overrides:
            text, source = "", "<command line>"
        else:
            raise XmError("Error: no config file given. Usage: xm create [-c] <ConfigFile> [key=value ...]")
        cfg = parse_config(text, source, overrides, lines_out=lines)
        d = machine.create_domain(cfg)
    except ConfigError as exc:
        raise XmError(f"Error: {exc}") from None
    except ConfigValueError as exc:                   # a value that parsed but cannot be: name its line
        key = next((k for k in lines if k == exc.key or KEYS.get(k, (None, None))[1] == exc.key), None)
        raise XmError(f"Error: {ConfigError(source, lines.get(key), str(exc))}") from None
    except (ToolstackError, DomainCreateError) as exc:
        msg = str(exc)
        raise XmError(msg if msg.startswith("Error") else f"Error: {msg}") from None
    lines = [f"Using config file \"{source}\".", f"Started domain {d.name}"]
    if attach:
        deadline = machine.now + 100 * MS
        while machine.now < deadline and not d.console_output:
            if machine.step(deadline) is None:
                break
        lines.extend(d.console_output)
    return XmResult("create", "\n".join(lines), [{"name": d.name, "domid": d.domain_id}])


# -- list ------------------------------------------------------------------------------------------------------
LIST_HEADER = "Name                              ID Mem(MiB) VCPUs State  Time(s)"
LIST_ROW = "%-32s %3d %8d %5d %5s %7.1f"      # Xen 3.0.0 xm/main.py


def state_string(flags: int) -> str:
    """The 6-letter state field, always in the order r b p s c d, '-' where false."""
    shutdown = bool(flags & D.DOMFLAGS_SHUTDOWN)
    reason = (flags >> D.DOMFLAGS_SHUTDOWNSHIFT) & D.DOMFLAGS_SHUTDOWNMASK
    crashed = shutdown and reason == SHUTDOWN_crash
    bits = (("r", flags & D.DOMFLAGS_RUNNING), ("b", flags & D.DOMFLAGS_BLOCKED),
            ("p", flags & D.DOMFLAGS_PAUSED), ("s", shutdown and not crashed), ("c", crashed),
            ("d", flags & D.DOMFLAGS_DYING))
    return "".join(ch if on else "-" for ch, on in bits)


def domain_infos(machine) -> list[D.dom0_getdomaininfo]:
    """Every domain's info, by walking DOM0_GETDOMAININFO from domid 0 as xend does."""
    infos, next_id = [], 0
    while True:
        info = D.dom0_getdomaininfo(domain=next_id)
        if dom0_op(machine, D.DOM0_GETDOMAININFO, info) < 0:
            return infos
        infos.append(info)
        next_id = info.domain + 1


@command("list")
def cmd_list(machine, args) -> XmResult:
    wanted = [a for a in args if not a.startswith("-")]
    if any(a in ("-l", "--long") for a in args):
        raise XmError("Error: 'xm list --long' (SXP output) is not modelled; use machine.domains[ID].dump()")
    rows = []
    for info in domain_infos(machine):
        d = machine.domain_record(info.domain)
        if wanted and d.name not in wanted and str(d.domain_id) not in wanted:
            continue
        rows.append({"name": d.name, "id": info.domain, "mem": (info.tot_pages * 4096) >> 20,
                     "vcpus": info.nr_online_vcpus, "state": state_string(info.flags),
                     "time": info.cpu_time / 1e9})
    for w in wanted:
        if not any(w in (r["name"], str(r["id"])) for r in rows):
            raise XmError(f"Error: Domain '{w}' does not exist.")
    lines = [LIST_HEADER] + [LIST_ROW % (r["name"], r["id"], r["mem"], r["vcpus"], r["state"], r["time"])
                             for r in rows]
    return XmResult("list", "\n".join(lines), rows)


# -- lifecycle ----------------------------------------------------------------------------------------------------
def _domctl(machine, cmd: int, d, what: str) -> None:
    rc = dom0_op(machine, cmd, D.dom0_domain(d.domain_id))
    if rc < 0:
        reason = {-E.EINVAL: "it is not in a state that allows this"}.get(rc, E.errno_name(rc))
        raise XmError(f"Error: cannot {what} domain {d.name}: {reason} ({E.errno_name(rc)})")


@command("pause")
def cmd_pause(machine, args) -> XmResult:
    d = find_domain(machine, _one_domain(args, "pause <Domain>"))
    if d.domain_id == 0:
        raise XmError("Error: Domain-0 cannot be paused (xm runs in it)")
    _domctl(machine, D.DOM0_PAUSEDOMAIN, d, "pause")
    return XmResult("pause", "", [{"name": d.name, "domid": d.domain_id}])


@command("unpause")
def cmd_unpause(machine, args) -> XmResult:
    d = find_domain(machine, _one_domain(args, "unpause <Domain>"))
    _domctl(machine, D.DOM0_UNPAUSEDOMAIN, d, "unpause")
    return XmResult("unpause", "", [{"name": d.name, "domid": d.domain_id}])


@command("destroy")
def cmd_destroy(machine, args) -> XmResult:
    d = find_domain(machine, _one_domain(args, "destroy <Domain>"))
    if d.domain_id == 0:
        raise XmError("Error: Domain-0 cannot be destroyed")
    _domctl(machine, D.DOM0_DESTROYDOMAIN, d, "destroy")
    return XmResult("destroy", "", [{"name": d.name, "domid": d.domain_id}])


def _request_shutdown(machine, args, reason: int, usage: str) -> XmResult:
    targets = [a for a in args if not a.startswith("-")]
    flags = "".join(a.lstrip("-") for a in args if a.startswith("-"))
    if any(f not in "waRH" for f in flags):
        raise XmError(f"Error: unknown option in {flags!r}. Usage: xm {usage}")
    if "a" in flags:
        doms = [machine.domain_record(info.domain) for info in domain_infos(machine) if info.domain != 0]
    else:
        doms = [find_domain(machine, _one_domain(targets, usage))]
    names = {SHUTDOWN_poweroff: "poweroff", SHUTDOWN_reboot: "reboot"}
    for d in doms:
        if d.domain_id == 0:
            raise XmError("Error: Domain-0 cannot be shut down from xm in the model")
        machine.xend.xenstored.request_shutdown(d, names[reason])
    if "w" in flags:
        ids = {d.domain_id for d in doms}
        deadline = machine.now + 10_000 * MS
        while ids & {info.domain for info in domain_infos(machine)} and machine.step(deadline) is not None:
            pass
    return XmResult(usage.split()[0], "", [{"name": d.name, "domid": d.domain_id} for d in doms])


@command("shutdown")
def cmd_shutdown(machine, args) -> XmResult:
    reason = SHUTDOWN_reboot if "-R" in args else SHUTDOWN_poweroff
    return _request_shutdown(machine, [a for a in args if a not in ("-R", "-H")], reason,
                             "shutdown [-waRH] <Domain>")


@command("reboot")
def cmd_reboot(machine, args) -> XmResult:
    return _request_shutdown(machine, args, SHUTDOWN_reboot, "reboot [-wa] <Domain>")


# -- information ------------------------------------------------------------------------------------------------
@command("console")
def cmd_console(machine, args) -> XmResult:
    d = find_domain(machine, _one_domain(args, "console <Domain>"))
    return XmResult("console", "\n".join(d.console_output), [{"line": s} for s in d.console_output])


@command("dmesg")
def cmd_dmesg(machine, args) -> XmResult:
    u = D.dom0_readconsole(clear=int("-c" in args or "--clear" in args))
    dom0_op(machine, D.DOM0_READCONSOLE, u)
    return XmResult("dmesg", u.buffer.rstrip("\n"), [{"text": u.buffer}])


@command("info")
def cmd_info(machine, args) -> XmResult:
    phys = D.dom0_physinfo()
    dom0_op(machine, D.DOM0_PHYSINFO, phys)
    dom0 = machine.dom0
    version = dom0.hypercall("xen_version", XENVER_version)
    extra, caps = xen_extraversion_t(), xen_capabilities_info_t()
    dom0.hypercall("xen_version", XENVER_extraversion, extra)
    dom0.hypercall("xen_version", XENVER_capabilities, caps)
    rows = {"nr_cpus": len(machine.cpus), "cpu_mhz": phys.cpu_khz // 1000,
            "total_memory": phys.total_pages >> 8, "free_memory": phys.free_pages >> 8,
            "xen_major": version >> 16, "xen_minor": version & 0xFFFF, "xen_extra": extra.extraversion,
            "xen_caps": caps.info, "xen_scheduler": SCHED_NAMES.get(sched_id(machine), "?")}
    text = "\n".join(f"{k:<20}: {v}" for k, v in rows.items())
    return XmResult("info", text, [rows])


@command("domid")
def cmd_domid(machine, args) -> XmResult:
    d = find_domain(machine, _one_domain(args, "domid <DomainName>"))
    return XmResult("domid", str(d.domain_id), [{"domid": d.domain_id}])


@command("domname")
def cmd_domname(machine, args) -> XmResult:
    d = find_domain(machine, _one_domain(args, "domname <DomainId>"))
    return XmResult("domname", d.name, [{"name": d.name}])


def _unused(*_):  # keep linters quiet about imported names used only by other chapters
    return ToolstackError
