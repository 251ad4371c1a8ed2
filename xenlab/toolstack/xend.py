"""xend: dom0's management daemon (X@RELEASE-3.0.0:tools/python/xen/xend/XendDomainInfo.py).

It builds domains from their configuration through dom0_op hypercalls, wires up their consoles, and
watches for domains that shut down (VIRQ_DOM_EXC) to apply on_poweroff / on_reboot / on_crash:
``destroy`` frees the domain, ``restart`` builds it again (with a new domid), ``preserve`` leaves it
shut down for inspection, ``rename-restart`` keeps the old one under another name and starts a new one.
"""
from __future__ import annotations

from dataclasses import replace

from xenlab.dom0.console import ConsoleDaemon
from xenlab.dom0.xenstored import Xenstored
from xenlab.guest.workload import resolve as resolve_workload
from xenlab.i18n import t
from xenlab.toolstack.domain_config import DomainConfig, DomainCreateError
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.errno import errno_name
from xenlab.hw.clock import PRIO_DEFAULT
from xenlab.toolstack.devices import DeviceManager
from xenlab.toolstack.errors import ConfigValueError, ToolstackError  # noqa: F401  (re-exported for xend's users)
from xenlab.toolstack.xc import dom0_op, domain_getinfo, sched_id, write_foreign_page
from xenlab.xen.public.sched_ctl import SCHED_NAMES as SCHED_NAMES_BY_ID
from xenlab.xen.public.xen import SHUTDOWN_NAMES

HVM_UNAVAILABLE = ("HVM guest support is unavailable: is VT/AMD-V supported by your CPU "
                   "and enabled in your BIOS?")


def _check(rc: int, what: str) -> None:
    if rc < 0:
        raise ToolstackError(f"{what} failed: {errno_name(rc)}")


def create_domain_from_config(machine, config: DomainConfig):
    """xm create: CREATEDOMAIN, MAX_VCPUS, SETDOMAINMAXMEM, build, console, UNPAUSEDOMAIN."""
    if config.kind == "hvm" and not machine.hvm:
        raise ToolstackError(f"Error creating domain {config.name!r}: {HVM_UNAVAILABLE} "
                             "(this Machine was built with hvm=False; use xenlab.Machine(hvm=True))")
    try:
        resolve_workload(config.workload)
    except (ValueError, TypeError) as exc:
        raise ToolstackError(f"Error creating domain {config.name!r}: {exc}") from None
    if machine.domain_by_name(config.name) is not None:
        raise ToolstackError(f"Error: domain '{config.name}' already exists")
    check_config(machine, config)
    nr_pages = config.memory << 8
    create = D.dom0_createdomain()
    _check(dom0_op(machine, D.DOM0_CREATEDOMAIN, create), "DOM0_CREATEDOMAIN")
    d = machine.domain_record(create.domain)
    d.config, d.name, d.kind = config, config.name, config.kind
    try:
        _check(dom0_op(machine, D.DOM0_MAX_VCPUS, D.dom0_max_vcpus(d.domain_id, config.vcpus)), "DOM0_MAX_VCPUS")
        _check(dom0_op(machine, D.DOM0_SETDOMAINMAXMEM, D.dom0_setdomainmaxmem(d.domain_id, config.maxmem << 10)),
               "DOM0_SETDOMAINMAXMEM")
        if config.cpus is not None:
            affinity = parse_cpus(config.cpus, len(machine.cpus))
            cpumap = sum(1 << c for c in affinity)
            for vcpu in range(config.vcpus):          # xc.domain_pincpu: one DOM0_PINCPUDOMAIN per vcpu
                _check(dom0_op(machine, D.DOM0_PINCPUDOMAIN, D.dom0_pincpudomain(d.domain_id, vcpu, cpumap)),
                       "DOM0_PINCPUDOMAIN")
        # weight/cap are Credit's; pass them only when set, so another scheduler keeps its defaults.
        params = sched_params(machine, config)
        if params:
            _check(dom0_op(machine, D.DOM0_ADJUSTDOM, D.dom0_adjustdom(d.domain_id, sched_id(machine),
                                                                       D.SCHED_INFO_PUT, params)),
                   f"DOM0_ADJUSTDOM {params}")
        # The model's one domain-builder call (public/dom0_ops.py: DOM0_XENLAB_BUILDDOMAIN) where
        # xc_linux_build would load a kernel image through memory_op, mmu_update and SETDOMAININFO.
        build = D.dom0_builddomain(domain=d.domain_id, nr_pages=nr_pages)
        _check(dom0_op(machine, D.DOM0_XENLAB_BUILDDOMAIN, build), "DOM0_XENLAB_BUILDDOMAIN")
        info = build.info
    except ToolstackError as exc:
        dom0_op(machine, D.DOM0_DESTROYDOMAIN, D.dom0_domain(d.domain_id))
        raise ToolstackError(f"Error creating domain {config.name!r}: {exc}") from None
    if d.kind == "pv":
        # The console channel: allocated in the guest for dom0, bound by xenconsoled.
        alloc = ev.evtchn_alloc_unbound(dom=d.domain_id, remote_dom=0)
        _check(machine.dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_alloc_unbound, alloc)),
               "EVTCHNOP_alloc_unbound")
        d.console_port = alloc.port
        machine.xend.consoled.attach(d, alloc.port)
        store_port = machine.xend.xenstored.introduce(d, d.store_mfn)
        _check(store_port, "XS_INTRODUCE")
        d.store_port = store_port
        info = replace(info, console_evtchn=alloc.port, store_mfn=d.store_mfn, store_evtchn=store_port)
        write_foreign_page(machine, d.domain_id, build.start_info_mfn, info.pack())
        machine.xend.xenstored.write_domain_home(d, alloc.port, store_port)
    machine._attach_kernel(d)
    for hook in machine.xend.on_create:
        hook(d)
    _check(dom0_op(machine, D.DOM0_UNPAUSEDOMAIN, D.dom0_domain(d.domain_id)), "DOM0_UNPAUSEDOMAIN")
    if d.kind == "pv" and (config.disk or config.vif):
        machine.xend.devices.wait_connected(d)    # the guest's front ends finish the handshake as it runs
    machine.xend.configs[d.domain_id] = config
    return d


NR_CPUS = 32                       # Xen 3.0's x86 build (xen/include/asm-x86/config.h)
MAX_MEMORY_MB = 64 << 10           # 36-bit physical addresses: all x86_32 Xen 3.0 (PAE) can address


def _digits(text: str) -> bool:
    text = text.strip()
    return text.isascii() and text.isdigit()


def parse_cpus(spec: str, nr_cpus: int) -> tuple[int, ...]:
    """xm's cpus syntax: "0-3,5,^1". Every number must be a CPU Xen could have (< NR_CPUS), so a
    range like "0-100000000" is refused at once instead of being expanded."""
    chosen: set[int] = set()
    excluded: set[int] = set()
    spec = str(spec)
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        target = excluded if part.startswith("^") else chosen
        body = part[1:] if part.startswith("^") else part
        lo, dash, hi = body.partition("-")
        if not _digits(lo) or (dash and not _digits(hi)):
            raise ConfigValueError("cpus", t("toolstack.config.cpus_syntax", spec=spec, part=part))
        lo_n, hi_n = int(lo), int(hi if dash else lo)
        for cpu in (lo_n, hi_n):
            if cpu >= NR_CPUS:
                raise ConfigValueError("cpus", t("toolstack.config.cpus_range", spec=spec, cpu=cpu, limit=NR_CPUS))
        if hi_n < lo_n:
            raise ConfigValueError("cpus", t("toolstack.config.cpus_syntax", spec=spec, part=part))
        target.update(range(lo_n, hi_n + 1))
    cpus = tuple(sorted(c for c in chosen - excluded if 0 <= c < nr_cpus))
    if not cpus:
        raise ConfigValueError("cpus", f"cpus={spec!r} leaves no CPU of the {nr_cpus} this machine has")
    return cpus


def scheduler_params(machine) -> dict:
    """The parameters this host's scheduler takes: DOM0_ADJUSTDOM(SCHED_INFO_GET) on Domain-0."""
    get = D.dom0_adjustdom(0, sched_id(machine), D.SCHED_INFO_GET)
    return dict(get.params) if dom0_op(machine, D.DOM0_ADJUSTDOM, get) == 0 else {}


def sched_params(machine, config) -> dict:
    """The scheduler parameters DOM0_ADJUSTDOM gets: the config's sched = {...} as checked by
    check_config, plus weight/cap when they are not Credit's defaults and this scheduler has them."""
    known = scheduler_params(machine)
    params = {k: v for k, v in (("weight", config.weight), ("cap", config.cap))
              if v != {"weight": 256, "cap": 0}[k] and k in known}
    params.update(config.sched_params)
    return params


def _plain_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_config(machine, config, replacing=None) -> None:
    """Everything about a config that can be checked before DOM0_CREATEDOMAIN, so an absurd value
    is refused at once, names its key, and creates nothing. ``replacing``: a domain about to go
    (its memory counts as free)."""
    try:
        resolve_workload(config.workload)
    except (ValueError, TypeError, IndexError) as exc:
        raise ConfigValueError("workload", t("toolstack.config.bad_value", option="workload", problem=exc)) from None
    for key in ("memory", "maxmem"):
        value = getattr(config, key)
        if not _plain_number(value) or value > MAX_MEMORY_MB:
            raise ConfigValueError(key, t("toolstack.config.too_much", option=key, value=value, limit=MAX_MEMORY_MB))
    for key in ("weight", "cap"):
        value = getattr(config, key)
        if not _plain_number(value) or not 0 <= value <= 0xFFFF:
            raise ConfigValueError(key, t("toolstack.config.bad_value", option=key,
                                          problem=f"{value!r} is not a number in 0..65535"))
    if config.cpus is not None:
        parse_cpus(config.cpus, len(machine.cpus))
    if not isinstance(config.sched_params, dict):
        raise ConfigValueError("sched", t("toolstack.config.bad_value", option="sched",
                                          problem=f"{config.sched_params!r} is not a dict"))
    known = scheduler_params(machine)
    for param, value in config.sched_params.items():
        if param not in known:
            raise ConfigValueError("sched", t("toolstack.config.sched_key", param=param, sched=SCHED_NAMES_BY_ID.get(sched_id(machine), "?"),
                                              known=", ".join(sorted(known))))
        if not (_plain_number(value) or isinstance(known[param], list) and isinstance(value, list)):
            raise ConfigValueError("sched", t("toolstack.config.sched_value", param=param, value=value))
    nr_pages = config.memory << 8
    phys = D.dom0_physinfo()
    dom0_op(machine, D.DOM0_PHYSINFO, phys)
    free = phys.free_pages
    if replacing is not None:                          # its pages come back before this one is built
        info = D.dom0_getdomaininfo(domain=replacing.domain_id)
        if dom0_op(machine, D.DOM0_GETDOMAININFO, info) == 0 and info.domain == replacing.domain_id:
            free += info.tot_pages
    if nr_pages + 4 > free:
        raise ConfigValueError("memory", f"not enough free memory for domain {config.name!r} "
                                         f"({config.memory} MiB asked, {free >> 8} MiB free)")
    machine.xend.devices.check_config(config)


class Xend:
    def __init__(self, machine):
        self.machine = machine
        self.consoled = ConsoleDaemon(machine)
        self.xenstored = Xenstored(machine)
        machine.xenstore = self.xenstored.store
        machine.on_domain_destroy.append(self.xenstored.release)
        self.configs: dict[int, DomainConfig] = {}
        self.on_create: list = []         # device set-up hooks (block and network chapters)
        self.log: list[str] = []
        self._timer = machine.timers.init_timer("xend", self._act, None, 0, PRIO_DEFAULT)
        self._pending: list[int] = []
        machine.on_domain_shutdown.append(self._shutdown_seen)
        self.devices = DeviceManager(self)   # disk = [...] and vif = [...]: vbd/vif set-up and teardown

    def _shutdown_seen(self, d) -> None:
        if d.domain_id == 0:
            return
        self._pending.append(d.domain_id)
        self.machine.timers.set_timer(self._timer, self.machine.now)   # after the hypercall returns

    def _act(self, _data) -> None:
        pending, self._pending = self._pending, []
        for domid in pending:
            info = domain_getinfo(self.machine, domid)         # DOM0_GETDOMAININFO, as xend polls it
            if info is None or not info.flags & D.DOMFLAGS_SHUTDOWN:
                continue
            code = (info.flags >> D.DOMFLAGS_SHUTDOWNSHIFT) & D.DOMFLAGS_SHUTDOWNMASK
            reason = SHUTDOWN_NAMES.get(code, "?")
            d = self.machine.domain_record(domid)
            if reason == "suspend":
                continue                  # save/migrate picks it up
            action = getattr(d.config, f"on_{reason}", "destroy")
            self.log.append(f"Domain {d.name} ({domid}) shut down ({reason}): {action}")
            if action == "preserve":
                continue
            config = self.configs.get(domid, d.config)
            if action == "rename-restart":
                d.name = f"{d.name}-{domid}"
            else:
                dom0_op(self.machine, D.DOM0_DESTROYDOMAIN, D.dom0_domain(domid))
            if action in ("restart", "rename-restart"):
                new = create_domain_from_config(self.machine, config)
                new.restart_count = d.restart_count + 1
