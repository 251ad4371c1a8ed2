"""S-expressions, xend's configuration format (X@RELEASE-3.0.0:tools/python/xen/xend/sxp.py).

A save image carries the domain's configuration as SXP text, e.g.

    (domain (domid 3) (name web) (memory 64) (maxmem 64) (vcpus 1) (on_poweroff destroy)
            (image (linux (kernel /boot/vmlinuz-2.6.16-xen) (args "root=/dev/hda1 ro"))))

A list is ``(name value ...)``; an atom is a bare word or a double-quoted string with backslash
escapes. ``to_sxp`` / ``from_sxp`` convert a DomainConfig both ways; the model adds one key,
``(workload ...)``, holding the guest's program as a Python literal (the program is data).
"""
from __future__ import annotations

import ast
import re
from dataclasses import fields

from xenlab.toolstack.domain_config import DomainConfig

_BARE = re.compile(r"^[A-Za-z0-9_./:@+,=-]+$")
_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([^\s()"]+))')


class SxpError(ValueError):
    """Text that is not a well-formed S-expression."""


def quote(atom) -> str:
    s = str(atom)
    if s and _BARE.match(s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dumps(sxp) -> str:
    if isinstance(sxp, (list, tuple)):
        return "(" + " ".join(dumps(x) for x in sxp) + ")"
    return quote(sxp)


def loads(text: str):
    """Parse one S-expression; nested lists of strings."""
    stack: list[list] = [[]]
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SxpError(f"unexpected character {text[pos]!r} at offset {pos}")
        pos = m.end()
        if m.group(1):
            stack.append([])
        elif m.group(2):
            if len(stack) < 2:
                raise SxpError(f"unbalanced ')' at offset {pos - 1}")
            done = stack.pop()
            stack[-1].append(done)
        elif m.group(3) is not None:
            stack[-1].append(re.sub(r"\\(.)", r"\1", m.group(3)))
        else:
            stack[-1].append(m.group(4))
    if len(stack) != 1 or len(stack[0]) != 1:
        raise SxpError("unbalanced parentheses or more than one expression")
    return stack[0][0]


def child_value(sxp, name: str, default=None):
    for item in sxp[1:]:
        if isinstance(item, list) and item and item[0] == name:
            return item[1] if len(item) > 1 else default
    return default


def child(sxp, name: str):
    for item in sxp[1:]:
        if isinstance(item, list) and item and item[0] == name:
            return item
    return None


def _workload_literal(workload) -> str:
    if isinstance(workload, str):
        return repr(workload)
    ops = getattr(workload, "ops", workload)
    name = getattr(workload, "name", "custom")
    return repr({"name": name, "ops": [list(op) for op in ops]})


def to_sxp(config: DomainConfig, domid: int | None = None) -> list:
    """The domain's configuration as xend writes it into a save image."""
    out: list = ["domain"]
    if domid is not None:
        out.append(["domid", str(domid)])
    for key in ("name", "memory", "maxmem", "vcpus", "on_poweroff", "on_reboot", "on_crash",
                "weight", "cap", "cpus"):
        value = getattr(config, key)
        if value is not None:
            out.append([key, str(value)])
    image = ["linux", ["kernel", config.kernel]]
    if config.ramdisk:
        image.append(["ramdisk", config.ramdisk])
    if config.root:
        image.append(["root", config.root])
    if config.extra:
        image.append(["args", config.extra])
    out.append(["image", ["hvm" if config.kind == "hvm" else "linux", *image[1:]]])
    for disk in config.disk:
        out.append(["device", ["vbd", ["uname", disk]]])
    for vif in config.vif:
        out.append(["device", ["vif", ["spec", vif]]])
    if config.sched_params:
        out.append(["sched", repr(config.sched_params)])
    out.append(["workload", _workload_literal(config.workload)])
    return out


def from_sxp(sxp) -> DomainConfig:
    """Rebuild a DomainConfig from ``to_sxp`` output (raises SxpError when something is missing)."""
    if not isinstance(sxp, list) or not sxp or sxp[0] != "domain":
        raise SxpError("the configuration is not a (domain ...) expression")
    kw: dict = {}
    for key in ("name", "on_poweroff", "on_reboot", "on_crash", "cpus"):
        value = child_value(sxp, key)
        if value is not None:
            kw[key] = value
    for key in ("memory", "maxmem", "vcpus", "weight", "cap"):
        value = child_value(sxp, key)
        if value is not None:
            try:
                kw[key] = int(value)
            except ValueError:
                raise SxpError(f"({key} {value}) is not a whole number") from None
    if "name" not in kw:
        raise SxpError("the configuration has no (name ...)")
    image = child(sxp, "image")
    if image and len(image) > 1 and isinstance(image[1], list):
        kind = image[1][0]
        kw["kind"] = "hvm" if kind == "hvm" else "pv"
        for key, field_name in (("kernel", "kernel"), ("ramdisk", "ramdisk"), ("root", "root"), ("args", "extra")):
            value = child_value(image[1], key)
            if value is not None:
                kw[field_name] = value
    disks, vifs = [], []
    for item in sxp[1:]:
        if isinstance(item, list) and item and item[0] == "device" and len(item) > 1:
            dev = item[1]
            if dev[0] == "vbd":
                disks.append(child_value(dev, "uname"))
            elif dev[0] == "vif":
                vifs.append(child_value(dev, "spec"))
    kw["disk"], kw["vif"] = disks, vifs
    sched = child_value(sxp, "sched")
    if sched:
        kw["sched_params"] = ast.literal_eval(sched)
    workload = child_value(sxp, "workload")
    if workload is not None:
        value = ast.literal_eval(workload)
        if isinstance(value, dict):
            from xenlab.guest.workload import Program
            value = Program(value["name"], tuple(tuple(op) for op in value["ops"]))
        kw["workload"] = value
    known = {f.name for f in fields(DomainConfig)}
    return DomainConfig(**{k: v for k, v in kw.items() if k in known})
