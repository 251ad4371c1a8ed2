"""xm configuration files (X@RELEASE-3.0.0:tools/python/xen/xm/create.py, tools/examples/xmexample1).

A config file is Python: ``name = "web"``, ``memory = 64``, ``disk = ['file:/img,xvda,w']``. xm
executes it; the model parses it with ``ast`` and accepts only assignments of literals, so a file can
never run code. A bad file gets an error naming the file, the line and the problem, and creates nothing.
"""
from __future__ import annotations

import ast
import difflib
import os
import stat
import warnings

from xenlab.i18n import t
from xenlab.toolstack.domain_config import DomainConfig, DomainCreateError

# key: (type(s), DomainConfig field or None when only recorded)
KEYS = {
    "name": (str, "name"), "memory": (int, "memory"), "maxmem": (int, "maxmem"), "vcpus": (int, "vcpus"),
    "kernel": (str, "kernel"), "ramdisk": (str, "ramdisk"), "extra": (str, "extra"), "root": (str, "root"),
    "builder": (str, None), "cpus": ((str, int), "cpus"), "cpu_weight": (int, "weight"),
    "cpu_cap": (int, "cap"), "weight": (int, "weight"), "cap": (int, "cap"),
    "disk": (list, "disk"), "vif": (list, "vif"), "on_poweroff": (str, "on_poweroff"),
    "on_reboot": (str, "on_reboot"), "on_crash": (str, "on_crash"), "workload": ((str, list), "workload"),
    "bootloader": (str, None), "device_model": (str, None), "kernel_args": (str, None),
    "acpi": (int, None), "apic": (int, None), "pae": (int, None), "boot": (str, None), "vnc": (int, None),
    "sdl": (int, None), "serial": (str, None), "restart": (str, None), "sched": (dict, "sched_params"),
}


class ConfigError(ValueError):
    """A config file problem, with the file and line where it is."""

    def __init__(self, source: str, line: int | None, problem: str):
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {problem}")


MAX_CONFIG_BYTES = 1 << 20        # xmexample1 is 7 KB; anything near this is not a config file


def read_config_file(path: str) -> str:
    """The text of a config file, read with a bound: ``xm create /dev/zero`` is refused by its size."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode) or stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode):
            raise ConfigError(path, None, t("toolstack.config.not_file", path=path))
        if stat.S_ISREG(st.st_mode) and st.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(path, None, t("toolstack.config.too_big", path=path, limit=MAX_CONFIG_BYTES))
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)        # a device (/dev/zero) never ends: read a bounded amount
    except OSError as exc:
        raise ConfigError(path, None, t("toolstack.config.unreadable", path=path, reason=exc.strerror or exc)) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(path, None, t("toolstack.config.too_big", path=path, limit=MAX_CONFIG_BYTES))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, t("toolstack.config.not_text", path=path, offset=exc.start)) from None


def parse_config(text: str, source: str = "<config>", overrides: dict | None = None,
                 lines_out: dict | None = None) -> DomainConfig:
    """Parse xm config text (and command-line ``key=value`` overrides) into a DomainConfig.

    ``lines_out``, when given, receives each key's line (so a later check can name it too)."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(source, None, t("toolstack.config.too_big", path=source, limit=MAX_CONFIG_BYTES))
    try:
        with warnings.catch_warnings():            # a bad escape in the user's text is not our warning
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=source)
    except SyntaxError as exc:
        raise ConfigError(source, exc.lineno, f"syntax error: {exc.msg}") from None
    except ValueError as exc:                          # e.g. a NUL byte in the text
        raise ConfigError(source, None, f"syntax error: {exc}") from None
    except (RecursionError, MemoryError):
        raise ConfigError(source, None, t("toolstack.config.too_deep")) from None
    values: dict[str, object] = {}
    lines: dict[str, int] = {} if lines_out is None else lines_out
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ConfigError(source, node.lineno, "only 'name = value' assignments are allowed")
        key = node.targets[0].id
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError):
            raise ConfigError(source, node.lineno, f"the value of {key!r} must be a literal "
                                                   "(a number, a 'string', a [list] or a {dict})") from None
        except (RecursionError, MemoryError):
            raise ConfigError(source, node.lineno, t("toolstack.config.too_deep")) from None
        values[key] = value
        lines[key] = node.lineno
    for key, value in (overrides or {}).items():
        values[key] = value
        lines[key] = None
    return config_from_values(values, lines, source)


def config_from_values(values: dict, lines: dict, source: str) -> DomainConfig:
    kwargs: dict[str, object] = {}
    for key, value in values.items():
        line = lines.get(key)
        if key not in KEYS:
            hint = difflib.get_close_matches(key, KEYS, n=1)
            raise ConfigError(source, line, f"unknown option {key!r}"
                              + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        types, field = KEYS[key]
        if key == "vif" and isinstance(value, str):
            value = [value]
        if isinstance(value, bool) or not isinstance(value, types):
            want = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
            raise ConfigError(source, line, f"{key} must be {want}, got {value!r}")
        if key in ("disk", "vif") and not all(isinstance(x, str) for x in value):
            raise ConfigError(source, line, f"{key} must be a list of strings, got {value!r}")
        if field is not None:
            kwargs[field] = str(value) if key == "cpus" else value
    if "name" not in kwargs:
        raise ConfigError(source, None, "no 'name' given: every domain needs a name")
    if "kernel" in values and isinstance(values.get("builder"), str) and values["builder"] == "hvm":
        kwargs["kind"] = "hvm"
    if values.get("builder") == "hvm":
        kwargs["kind"] = "hvm"
    try:
        return DomainConfig(**kwargs)
    except DomainCreateError as exc:
        bad = next((k for k in values if k in str(exc)), None)
        raise ConfigError(source, lines.get(bad) if bad else None, str(exc)) from None


def parse_override(arg: str) -> tuple[str, object]:
    """A command-line variable ``key=value``: a Python literal, or else a bare string."""
    key, _, raw = arg.partition("=")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return key.strip(), value
