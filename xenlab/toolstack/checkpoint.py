"""A save or a migration that fails loses nothing: ``xm save`` and the failure path of XendCheckpoint.save.

Models X@RELEASE-3.0.0:tools/python/xen/xend/XendDomain.py (domain_save) and XendCheckpoint.py (save),
with the recovery Xen 3.1 added (X@3.1.0-branched:tools/python/xen/xend/XendCheckpoint.py: on an
exception, ``dominfo.resumeDomain()``):

1. Everything that can be checked is checked **before** the guest is asked to suspend: the domain
   (not Domain-0, a PV guest with a kernel that can suspend) and the target. xend opens the file
   first (``os.open(dst, O_WRONLY | O_CREAT | O_TRUNC)``) and reports "can't write guest state file";
   here a missing directory, a directory, a path the user may not write and a device that takes no
   bytes (``/dev/full``) are all refused while the guest still runs, and nothing is suspended.
2. A regular file is written under a temporary name in the same directory and renamed over the
   target only when the image is complete, so a failed save never leaves half an image behind (or
   destroys an older image of the same name).
3. A failure after the guest suspended (the disk fills up, the target host refuses the image) resumes
   the guest and reports an xm-style error; a failure during a live pre-copy, before the suspend,
   switches log-dirty mode off and leaves the guest running. The domain keeps its name and domid.

Simplifications:
- Xen 3.0 cannot cancel a suspend (XEN_DOMCTL_resumedomain and xend's resumeDomain came with 3.1).
  The model resumes the way 3.0's own tools could: it images the suspended domain into memory, checks
  the image, destroys the suspended shell and restores the image on the same host under the same domid.
  The guest carries on where it stopped with its devices reconnected and its console log kept; its
  machine frames are new and its CPU time starts again from 0, as after any restore.
"""
from __future__ import annotations

import errno
import io
import os
import tempfile

from xenlab.i18n import t
from xenlab.toolstack.restore import RestoreError, restore_domain, validate_image
from xenlab.toolstack.save import save_domain, write_header, xc_linux_save
from xenlab.toolstack.xend import ToolstackError, dom0_op
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public.xen import SHUTDOWN_suspend


class SaveError(ToolstackError):
    """A save or migration failed; the message says what became of the domain (resumed, running ...)."""


class ResumeLost(ToolstackError):
    """Xen refused to rebuild a domain whose suspended shell was already released (should not happen:
    the image was checked first), so the message must not claim it is still there."""


def _err(key: str, **kw) -> str:
    return "Error: " + t(key, **kw)


# -- 1. what can be checked before the suspend ------------------------------------------------------------
def check_saveable(machine, d) -> None:
    """The domain side of the checks (XendCheckpoint.save would fail on each of these later)."""
    if d.domain_id == 0:
        raise ToolstackError("Error: Domain-0 cannot be saved")
    if d.kind != "pv":
        raise ToolstackError(f"Error: domain {d.name} is an HVM guest; Xen 3.0 saves only PV guests")
    if not hasattr(getattr(d, "kernel", None), "contexts"):
        raise ToolstackError(f"Error: domain {d.name} cannot be suspended (only PV guests save in 3.0)")
    info = domain_info(machine, d.domain_id)
    if info is None or info.flags & D.DOMFLAGS_DYING or info.flags & D.DOMFLAGS_SHUTDOWN and not _suspended(info):
        raise ToolstackError(f"Error: domain {d.name} has shut down; there is nothing to save")


def target_reason(path: str, exc: OSError) -> str:
    """An OSError on the target, as a sentence (the catalogue's words, not Python's)."""
    code = exc.errno
    if code == errno.ENOENT:
        reason = t("toolstack.target.no_dir", folder=os.path.dirname(os.path.abspath(path)))
    elif code == errno.EISDIR:
        reason = t("toolstack.target.is_dir")
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = t("toolstack.target.denied")
    elif code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        reason = t("toolstack.target.no_space")
    else:
        reason = t("toolstack.target.other", reason=exc.strerror or str(exc))
    return t("toolstack.target.prefix", path=path, reason=reason)


class Target:
    """Where ``xm save`` writes: a regular file through a temporary name, or a device directly."""

    def __init__(self, path: str):
        self.path = path
        self.fh = None
        self.temp: str | None = None

    def open(self) -> "Target":
        path = self.path
        folder = os.path.dirname(os.path.abspath(path))
        try:
            if not os.path.isdir(folder):
                raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
            if os.path.isdir(path):
                raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
            if os.path.exists(path) and not os.path.isfile(path):
                self.fh = open(path, "wb", buffering=0)           # a device (/dev/full, /dev/null)
                return self
            if os.path.exists(path):
                with open(path, "ab"):                            # may we write it? (not truncated)
                    pass
            fd, self.temp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part", dir=folder)
            self.fh = os.fdopen(fd, "wb", buffering=0)
        except OSError as exc:
            self.abort()
            raise ToolstackError("Error: " + target_reason(path, exc)) from None
        return self

    def commit(self) -> None:
        """The image is complete: make it durable (a full disk may only say so now), then rename."""
        if self.temp is not None:
            os.fsync(self.fh.fileno())
        self.fh.close()
        if self.temp is not None:
            os.replace(self.temp, self.path)
            self.temp = None

    def abort(self) -> None:
        if self.fh is not None:
            try:
                self.fh.close()
            except OSError:
                pass
        if self.temp is not None:
            try:
                os.unlink(self.temp)
            except OSError:
                pass
            self.temp = None


# -- 3. after a failure: resume -------------------------------------------------------------------------------
def domain_info(machine, domid: int):
    """DOM0_GETDOMAININFO for one domain, or None when it no longer exists (as xend asks Xen)."""
    info = D.dom0_getdomaininfo(domain=domid)
    if dom0_op(machine, D.DOM0_GETDOMAININFO, info) < 0 or info.domain != domid:
        return None
    return info


def _suspended(info) -> bool:
    reason = (info.flags >> D.DOMFLAGS_SHUTDOWNSHIFT) & D.DOMFLAGS_SHUTDOWNMASK
    return bool(info.flags & D.DOMFLAGS_SHUTDOWN) and reason == SHUTDOWN_suspend


def resume_domain(machine, d):
    """Bring a domain that suspended for a save that failed back to life on this host, same domid.

    Raises ToolstackError (and leaves the domain suspended, memory untouched) when it cannot.
    """
    config = machine.xend.configs.get(d.domain_id, d.config)
    info = domain_info(machine, d.domain_id)
    phys = D.dom0_physinfo()
    dom0_op(machine, D.DOM0_PHYSINFO, phys)
    need = (config.memory << 8) + 4
    if phys.free_pages + info.tot_pages < need:
        raise ToolstackError(t("toolstack.resume.no_memory", need=need))
    image = io.BytesIO()
    write_header(machine, d, image)
    xc_linux_save(machine, d, image)                   # already suspended: its memory as it stopped
    image.seek(0)
    validate_image(machine, image, replacing=d)        # never destroy it for an image we cannot restore
    image.seek(0)
    domid, console = d.domain_id, list(d.console_output)
    dom0_op(machine, D.DOM0_DESTROYDOMAIN, D.dom0_domain(domid))
    try:
        new, _ = restore_domain(machine, image, domid=domid)
    except ToolstackError as exc:                      # checked above, so only Xen itself can refuse now
        raise ResumeLost(str(exc).removeprefix("Error: ")) from None
    new.console_output[:0] = console
    machine.trace.emit("DOM", "save_cancelled", domid=domid, name=new.name)
    return new


def recover(machine, d, name: str, reason: str, *, live: bool, key_prefix: str, **kw) -> str:
    """After a failed save: put the name back, stop log-dirty mode, resume if suspended; the message."""
    d.name = name
    info = domain_info(machine, d.domain_id)
    if info is None:                                   # it shut down (and xend destroyed it) meanwhile
        return _err("toolstack.save.gone", name=name, reason=reason)
    if not _suspended(info):
        if live:
            dom0_op(machine, D.DOM0_SHADOW_CONTROL,
                    D.dom0_shadow_control(domain=d.domain_id, op=D.DOM0_SHADOW_CONTROL_OP_OFF))
        return _err(f"{key_prefix}.running", name=name, reason=reason, **kw)
    try:
        new = resume_domain(machine, d)
    except ResumeLost as exc:
        return _err("toolstack.save.lost", name=name, reason=reason, why=exc)
    except ToolstackError as exc:
        why = str(exc).removeprefix("Error: ")
        return _err("toolstack.save.stuck", name=name, reason=reason, why=why)
    return _err(f"{key_prefix}.resumed", name=name, reason=reason, domid=new.domain_id, **kw)


def _reason(exc: BaseException, path: str | None) -> str:
    if isinstance(exc, OSError):
        return target_reason(path or "?", exc)
    return str(exc).removeprefix("Error: ")


def save_to(machine, d, path: str):
    """XendDomain.domain_save: check, open the target, save, and on failure recover; returns the report."""
    check_saveable(machine, d)
    target = Target(path).open()
    name = d.name
    try:
        report = save_domain(machine, d, target.fh, destroy=False)
        target.commit()                                # the image is safe on disk: only now
        dom0_op(machine, D.DOM0_DESTROYDOMAIN, D.dom0_domain(d.domain_id))      # does the domain go
    except (OSError, ToolstackError) as exc:
        target.abort()
        raise SaveError(recover(machine, d, name, _reason(exc, path), live=False,
                                key_prefix="toolstack.save")) from None
    except Exception:
        target.abort()
        if domain_info(machine, d.domain_id) is not None:    # a bug in the model: still give the guest back
            recover(machine, d, name, "internal error", live=False, key_prefix="toolstack.save")
        raise
    return report


def _register_xm() -> None:
    from xenlab.toolstack.xm import XmError, XmResult, command, find_domain

    @command("save")
    def cmd_save(machine, args) -> XmResult:
        rest = [a for a in args if not a.startswith("-")]
        if len(rest) != 2:
            raise XmError("Error: expected a domain and a file. Usage: xm save <Domain> <CheckpointFile>")
        d = find_domain(machine, rest[0])
        try:
            report = save_to(machine, d, rest[1])
        except ToolstackError as exc:
            msg = str(exc)
            raise XmError(msg if msg.startswith("Error") else f"Error: {msg}") from None
        return XmResult("save", "", [{"name": report.domain, "file": rest[1], "pages": report.total_sent,
                                      "bytes": report.bytes}])


_register_xm()
__all__ = ["SaveError", "Target", "check_saveable", "recover", "resume_domain", "save_to", "RestoreError"]
