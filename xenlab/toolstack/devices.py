"""xend's device controllers: virtual disks and network interfaces from a domain's config.

Models X@RELEASE-3.0.0:tools/python/xen/xend/server/{DevController,blkif,netif}.py. For each entry
of ``disk = ['file:/img,xvda,w']`` and ``vif = ['mac=00:16:3e:..., bridge=xenbr0']`` xend writes the
front-end directory ``/local/domain/<domU>/device/<class>/<devid>`` and the back-end directory
``/local/domain/0/backend/<class>/<domU>/<devid>``, both in state Initialising (1), and nothing
else: the drivers meet through XenStore watches (xen-facts section 12). dom0's back-end bus
(guest/xenbus.py ``XenbusProbe``, watching ``backend``) probes the new directory and the back end goes
InitWait; the guest's front-end bus (watching ``device``) probes its directory when the guest runs,
the front end publishes its ring and channel (Initialised); the back end's watch on the front end's
state connects it (Connected), and the front end's watch on the back end's state connects the front
end (Connected). Each state change is a trace event XS/xenbus_state, each watch delivered to a
driver XS/xenbus_watch.

As 3.0.0's ``xm create``, xend waits (``waitForDevices``, at most DEVICE_CREATE_TIMEOUT = 10 s of
machine time) for each back end's ``hotplug-status`` before unpausing the domain.

Simplifications:
- After unpausing, xend also runs the machine until every device is Connected at both ends (or the
  timeout), so that a created domain's disks and interfaces are ready to use at once; 3.0.0 returns
  at the unpause and lets the guest finish the handshake while it boots.
- When a domain dies, its back ends are torn down at once (``domain_destroyed``: unmap, close the
  channel, remove the directories) before its frames are freed; the back-end bus drops the device
  when its watch sees the directory gone. ``destroy_device`` (xm block-detach) goes through the
  watches: back end Closing (written by xend), front end Closing, back end Closed, front end Closed.
- The guest's network address and rx mode (``ip=``, ``rx=``) are handed to the guest kernel as its
  own configuration (``kernel.netfront_params``), not through XenStore.
- Guests get addresses 10.0.0.<domid + 10> unless the vif says ``ip=``.
"""
from __future__ import annotations

import functools
import os
import re

from xenlab.dom0.blkback import Blkback
from xenlab.dom0.bridge import Bridge, NicPort
from xenlab.dom0.netback import Netback
from xenlab.dom0.xenbus import XenbusProbe, backend_path, frontend_path, read_state
from xenlab.hw.ethernet import XEN_OUI, mac_str
from xenlab.hw.nic import NIC_PIRQ, ExternalHost, Lan, Nic
from xenlab.i18n import t
from xenlab.toolstack.domain_config import DomainCreateError
from xenlab.toolstack.errors import ConfigValueError
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.io.xenbus import XenbusState

DEVICE_CREATE_TIMEOUT = 10_000_000_000      # ns: DevController.DEVICE_CREATE_TIMEOUT = 10 (seconds)
_DEV = re.compile(r"^(?:ioemu:)?(xvd|hd|sd)([a-z])(\d*)(?::(?:disk|cdrom))?$")


# xm create's vif keys (X@RELEASE-3.0.0:tools/python/xen/xm/create.py preprocess_vifs), and the model's rx
VIF_KEYS = ("type", "mac", "be_mac", "bridge", "script", "backend", "ip", "vifname", "rx")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def _is_ipv4(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(p.isascii() and p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts)


class DeviceError(DomainCreateError):
    pass


def blkdev_name_to_number(name: str) -> int:
    """xvda -> 202*256, hda -> 3*256, sdb -> 8*256+16 (xend's blkdev_name_to_number)."""
    m = _DEV.match(name)
    if not m:
        raise DeviceError(f"{name!r} is not a virtual disk name (xvda, hda, sda ...)")
    kind, letter, part = m.group(1), ord(m.group(2)) - ord("a"), int(m.group(3) or 0)
    if kind == "xvd":
        return (202 << 8) | (letter << 4) | part
    if kind == "sd":
        return (8 << 8) | (letter << 4) | part
    major = (3, 22, 33, 34)[letter // 2] if letter < 8 else 56
    return (major << 8) | ((letter % 2) << 6) | part


def parse_disk(spec: str) -> tuple[str, str, str, str]:
    """'file:/img,xvda,w' -> ('file', '/img', 'xvda', 'w')."""
    parts = [p.strip() for p in spec.split(",")]
    if len(parts) != 3 or ":" not in parts[0]:
        raise DeviceError(f"disk {spec!r}: expected 'file:PATH,DEVICE,MODE' (e.g. 'file:/img,xvda,w')")
    kind, path = parts[0].split(":", 1)
    if kind == "tap" and ":" in path:
        kind, path = "file", path.split(":", 1)[1]
    if kind not in ("file", "phy"):
        raise DeviceError(f"disk {spec!r}: only file: and phy: backends exist here")
    mode = parts[2]
    if mode not in ("r", "w", "w!"):
        raise DeviceError(f"disk {spec!r}: mode must be r or w, got {mode!r}")
    return kind, path, parts[1], "r" if mode == "r" else "w"


def parse_vif(spec: str) -> dict[str, str]:
    """'mac=00:16:3e:00:00:01, bridge=xenbr0' -> {'mac': ..., 'bridge': ...}."""
    out = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise DeviceError(f"vif {spec!r}: {item!r} is not key=value")
        out[key.strip()] = value.strip()
    return out


class DeviceManager:
    """Installed in xend: sets up each new domain's disks and interfaces, tears them down at death."""

    def __init__(self, xend, netback_rx_mode: str = "copy"):
        self.xend = xend
        m = self.machine = xend.machine
        self.blkback = Blkback(m)
        self.lan = Lan(m.timers)
        self.nic = Nic(self.lan)
        self.outside = ExternalHost(self.lan)
        self.bridge = Bridge(m)
        self.bridge.add_port(self.nic.name, NicPort(self.nic))
        self.netback = Netback(m, self.bridge, netback_rx_mode)
        self.nic_port = 0
        self.backend_bus: XenbusProbe | None = None
        xend.on_create.append(self.domain_created)
        m.on_domain_destroy.append(self.domain_destroyed)

    @property
    def tools(self):
        return self.xend.xenstored.tools

    # -- dom0's network ------------------------------------------------------------------------------------
    def _bind_nic(self) -> None:
        """dom0's NIC driver binds the card's interrupt (once, when the first vif appears)."""
        if self.nic_port:
            return
        dom0 = self.machine.dom0
        bind = ev.evtchn_bind_pirq(pirq=NIC_PIRQ)
        if dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_pirq, bind)) == 0:
            self.nic_port = bind.port
            dom0.kernel.port_handlers[bind.port] = functools.partial(self._nic_interrupt)
            self.nic.interrupt = functools.partial(self.machine.raise_irq, NIC_PIRQ)

    def _nic_interrupt(self, v, port: int) -> None:
        frames, self.nic.rx_queue = self.nic.rx_queue, []
        for frame in frames:
            self.bridge.receive(self.nic.name, frame)

    # -- before creation: the config's devices, checked while nothing exists yet ------------------------------
    def check_config(self, config) -> None:
        """Refuse, naming the key, every disk and vif this host cannot attach: raised before
        DOM0_CREATEDOMAIN (and before a restore builds anything), so nothing is created."""
        devs: set[str] = set()
        files: dict[str, list[str]] = {}
        for spec in config.disk:
            try:
                kind, path, dev, mode = parse_disk(spec)
                blkdev_name_to_number(dev)
            except DeviceError as exc:
                raise ConfigValueError("disk", str(exc)) from None
            if dev in devs:
                raise ConfigValueError("disk", t("toolstack.config.disk_dup_dev", dev=dev))
            devs.add(dev)
            real = os.path.realpath(path)
            files.setdefault(real, []).append(mode)
            if "w" in files[real] and len(files[real]) > 1:
                raise ConfigValueError("disk", t("toolstack.config.disk_dup_file", path=path))
            devid = blkdev_name_to_number(dev)
            if not os.path.isfile(path):
                raise ConfigValueError("disk", f"Device {devid} (vbd) could not be connected. {path} does not exist.")
            if os.path.getsize(path) < 512:
                raise ConfigValueError("disk", f"Device {devid} (vbd) could not be connected. {path} is smaller "
                                               "than one sector.")
            if mode == "w":
                try:
                    with open(path, "r+b"):        # blkback writes it in place (r+b): may it?
                        pass
                except OSError as exc:
                    raise ConfigValueError("disk", t("toolstack.config.disk_readonly", spec=spec, path=path,
                                                     reason=exc.strerror or exc)) from None
        macs: set[str] = set()
        for spec in config.vif:
            try:
                opts = parse_vif(spec)
            except DeviceError as exc:
                raise ConfigValueError("vif", str(exc)) from None
            for key in opts:
                if key not in VIF_KEYS:
                    raise ConfigValueError("vif", t("toolstack.config.vif_key", spec=spec, param=key,
                                                    known=", ".join(VIF_KEYS)))
            mac = opts.get("mac")
            if mac is not None:
                if not _MAC.match(mac):
                    raise ConfigValueError("vif", t("toolstack.config.vif_mac", spec=spec, mac=mac))
                if int(mac[:2], 16) & 1:
                    raise ConfigValueError("vif", t("toolstack.config.vif_multicast", spec=spec, mac=mac))
                if mac.lower() in macs:
                    raise ConfigValueError("vif", t("toolstack.config.vif_dup_mac", mac=mac))
                macs.add(mac.lower())
            for ip in opts.get("ip", "").split():
                if not _is_ipv4(ip):
                    raise ConfigValueError("vif", t("toolstack.config.vif_ip", spec=spec, ip=ip))
            if "ip" in opts and not opts["ip"].split():
                raise ConfigValueError("vif", t("toolstack.config.vif_ip", spec=spec, ip=opts["ip"]))
            if opts.get("rx", "copy") not in ("copy", "flip"):
                raise ConfigValueError("vif", t("toolstack.config.vif_rx", spec=spec, rx=opts["rx"]))
            bridge = opts.get("bridge", self.bridge.name)
            if bridge != self.bridge.name:
                raise ConfigValueError("vif", t("toolstack.config.bridge", spec=spec, bridge=bridge,
                                                known=self.bridge.name))

    # -- creation -------------------------------------------------------------------------------------------
    def domain_created(self, d) -> None:
        if d.kind != "pv" or getattr(d, "xs", None) is None:
            if d.config.disk or d.config.vif:
                d.kernel.d.console_output.append("(devices need a PV guest with XenStore)")
            return
        if not (d.config.disk or d.config.vif):
            return
        try:
            for i, spec in enumerate(d.config.disk):
                self.add_vbd(d, spec)
            for i, spec in enumerate(d.config.vif):
                self.add_vif(d, i, spec)
            self.wait_for_devices(d)
        except (DeviceError, OSError) as exc:
            self.machine.dom0.hypercall("dom0_op", D.dom0_op(D.DOM0_DESTROYDOMAIN, D.dom0_domain(d.domain_id)))
            raise DeviceError(f"Error creating domain {d.name!r}: {exc}") from None

    def _nodes(self, d, devclass: str, devid: int, front: dict, back: dict) -> tuple[str, str]:
        self._start_backend_bus()
        t = self.tools
        fe, be = frontend_path(d.domain_id, devclass, devid), backend_path(0, devclass, d.domain_id, devid)
        for path, values, owner, reader in ((be, back, 0, d.domain_id), (fe, front, d.domain_id, 0)):
            t.mkdir(path)
            t.set_perms(path, [f"n{owner}", f"r{reader}"])
            for key, value in values.items():
                t.write(f"{path}/{key}", str(value))
        t.write(f"{fe}/backend", be)
        t.write(f"{fe}/backend-id", "0")
        t.write(f"{be}/frontend", fe)
        t.write(f"{be}/frontend-id", str(d.domain_id))
        t.write(f"{be}/state", str(int(XenbusState.Initialising)))
        t.write(f"{fe}/state", str(int(XenbusState.Initialising)))
        return fe, be

    def _start_backend_bus(self) -> None:
        """dom0's xenbus_probe_backend: watch ``backend`` (started with the first device, so a machine
        without devices runs exactly as before)."""
        if self.backend_bus is None:
            self.xend.xenstored.kernel_conn               # dom0's kernel connects to xenstored
            self.backend_bus = XenbusProbe(self.machine.dom0.kernel, "/local/domain/0/backend",
                                           {"vbd": self.blkback, "vif": self.netback}, depth=3,
                                           who="backend", otherend_key="frontend").start()

    def _run_until(self, done, timeout_ns: int = DEVICE_CREATE_TIMEOUT) -> bool:
        """xend waiting on a watch: the machine runs (dom0 and the guests handle their watches)
        until ``done()`` or the timeout."""
        m = self.machine
        deadline = m.now + timeout_ns
        while not done():
            if m.step(deadline) is None:
                return done()
        return True

    def paths(self, domid: int) -> list[tuple[str, str]]:
        """(front end, back end) directories of every device of ``domid`` xend wrote."""
        out = []
        for devclass in ("vbd", "vif"):
            base = f"/local/domain/0/backend/{devclass}/{domid}"
            kids = self.tools.directory(base)
            if isinstance(kids, list):
                for devid in kids:
                    out.append((frontend_path(domid, devclass, int(devid)), f"{base}/{devid}"))
        return out

    def wait_for_devices(self, d) -> None:
        """DevController.waitForDevices: each back end's ``hotplug-status``, before the unpause."""
        pairs = self.paths(d.domain_id)
        if not pairs:
            return
        ok = self._run_until(lambda: all(self.tools.read(f"{be}/hotplug-status") == "connected"
                                         or read_state(self.tools, be) >= XenbusState.Closing for _, be in pairs))
        for _, be in pairs:
            if self.tools.read(f"{be}/hotplug-status") != "connected":
                devclass, devid = be.split("/")[-3], be.split("/")[-1]
                raise DeviceError(f"Device {devid} ({devclass}) could not be connected. "
                                  + ("Hotplug scripts not working." if ok else "Backend device not found."))

    def wait_connected(self, d) -> bool:
        """The model's extra wait after the unpause: both ends Connected (or given up)."""
        pairs = self.paths(d.domain_id)
        final = (XenbusState.Connected, XenbusState.Closing, XenbusState.Closed)
        return self._run_until(lambda: d.domain_id not in self.machine.domains or all(
            read_state(self.tools, fe) in final and read_state(self.tools, be) in final for fe, be in pairs))

    def add_vbd(self, d, spec: str):
        kind, path, dev, mode = parse_disk(spec)
        devid = blkdev_name_to_number(dev)
        if not os.path.isfile(path):
            raise DeviceError(f"Device {devid} (vbd) could not be connected. {path} does not exist.")
        if os.path.getsize(path) < 512:
            raise DeviceError(f"Device {devid} (vbd) could not be connected. {path} is smaller than one sector.")
        fe, be = self._nodes(d, "vbd", devid, {"virtual-device": devid, "device-type": "disk"},
                             {"dev": dev, "type": kind, "params": os.path.abspath(path), "mode": mode,
                              "dev-num": devid})
        return fe, be

    def add_vif(self, d, index: int, spec: str):
        opts = parse_vif(spec)
        mac = opts.get("mac") or self.random_mac(d, index)
        bridge = opts.get("bridge", self.bridge.name)
        # xend takes a list ("ip=a b"): the addresses vif-route lets through; the guest uses the first
        ip = (opts.get("ip") or f"10.0.0.{(d.domain_id + 10) % 250 + 2}").split()[0]
        fe, be = self._nodes(d, "vif", index, {"handle": index, "mac": mac},
                             {"handle": index, "mac": mac, "bridge": bridge, "script": "/etc/xen/scripts/vif-bridge",
                              "ip": ip})
        self._bind_nic()
        d.kernel.__dict__.setdefault("netfront_params", {})[index] = (ip, opts.get("rx", "copy") != "flip")
        return fe, be

    def destroy_device(self, d, devclass: str, devid: int) -> None:
        """DevController.destroyDevice (3.0.0): write the back end's state Closing and nothing else;
        the front end's watch sees it and closes, the back end's watch sees that, unmaps and goes
        Closed, and the front end frees its ring and goes Closed."""
        be = self.tools.read(f"{frontend_path(d.domain_id, devclass, devid)}/backend")
        if not isinstance(be, str) or not be:
            raise DeviceError(f"Device {devid} not connected")
        self.tools.write(f"{be}/state", str(int(XenbusState.Closing)))

    def random_mac(self, d, index: int) -> str:
        """xend's randomMAC: 00:16:3e, then 0x00-0x7f and two random bytes (seeded here)."""
        rng = self.machine.child_rng(f"mac.{d.domain_id}.{index}.{d.name}")
        tail = bytes([int(rng.integers(0, 0x80)), int(rng.integers(0, 0x100)), int(rng.integers(0, 0x100))])
        return mac_str(XEN_OUI + tail)

    # -- death -------------------------------------------------------------------------------------------------
    def domain_destroyed(self, d) -> None:
        self.blkback.remove(d.domain_id)
        self.netback.remove(d.domain_id)
        self.tools.rm(f"/local/domain/0/backend/vbd/{d.domain_id}")
        self.tools.rm(f"/local/domain/0/backend/vif/{d.domain_id}")

    # -- for xentop and the views -------------------------------------------------------------------------------
    def vbd_stats(self, domid: int) -> dict:
        return {b.devid: b.stats for (dd, _), b in self.blkback.blkifs.items() if dd == domid}

    def vif_stats(self, domid: int) -> dict:
        return {n.devid: n.stats for (dd, _), n in self.netback.netifs.items() if dd == domid}


def devices(machine) -> DeviceManager:
    """The machine's device manager (xend installs it)."""
    return machine.xend.devices
