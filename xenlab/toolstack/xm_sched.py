"""xm's scheduler commands, named as in the Xen release that had each scheduler.

- ``sched-credit -d <Dom> [-w WEIGHT] [-c CAP]`` (3.0.4; without -w/-c prints the values)
- ``sched-sedf <Dom> [-p MS] [-s MS] [-l MS] [-e 0|1] [-w WEIGHT]`` (3.0.4 options; 3.0.0 took
  the five values positionally, which also works; without values prints the table)
- ``sched-bvt <Dom> <mcuadv> <warpback> <warpvalue> <warpl> <warpu>`` and
  ``sched-bvt-ctxallow <allow_ns>`` (3.0.0, from 2.0's ``bvt`` and ``bvt_ctxallow``)
- ``atropos <Dom> <period_ns> <slice_ns> <latency_ns> <xtratime>`` (2.0)
- ``rrobin <slice_ns>`` (2.0: the global slice)

Each goes through DOM0_ADJUSTDOM or DOM0_SCHEDCTL, which answer -EINVAL when the parameters are
wrong or when the machine runs another scheduler; xm then prints Xen's ``Error: (22, 'Invalid
argument')``.
"""
from __future__ import annotations

from xenlab.toolstack.xend import dom0_op
from xenlab.toolstack.xm import XmError, XmResult, command, domain_infos, find_domain
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import errno as E
from xenlab.xen.public.sched_ctl import SCHED_IDS, SCHED_NAMES

MS = 1_000_000
ERRNO_TEXT = {E.EINVAL: "Invalid argument", E.ESRCH: "No such process", E.EPERM: "Operation not permitted"}


def running_scheduler(machine) -> str:
    """DOM0_SCHED_ID: the name of the scheduler Xen runs."""
    op = D.dom0_sched_id()
    dom0_op(machine, D.DOM0_SCHED_ID, op)
    return SCHED_NAMES.get(op.sched_id, str(op.sched_id))


def _error(machine, rc: int, wanted: str) -> XmError:
    text = f"Error: ({-rc}, '{ERRNO_TEXT.get(-rc, E.errno_name(rc))}')"
    running = running_scheduler(machine)
    if running != wanted:
        text += f" -- this machine runs sched={running}, not {wanted}"
    return XmError(text)


def _sched_id(name: str) -> int:
    return SCHED_IDS[name]


def adjustdom(machine, d, sched: str, params: dict | None = None) -> dict:
    """PUT ``params`` (if given), then GET; returns the domain's parameters. Raises XmError."""
    sid = _sched_id(sched)
    if params:
        rc = dom0_op(machine, D.DOM0_ADJUSTDOM, D.dom0_adjustdom(d.domain_id, sid, D.SCHED_INFO_PUT, params))
        if rc < 0:
            raise _error(machine, rc, sched)
    get = D.dom0_adjustdom(d.domain_id, sid, D.SCHED_INFO_GET)
    rc = dom0_op(machine, D.DOM0_ADJUSTDOM, get)
    if rc < 0:
        raise _error(machine, rc, sched)
    return dict(get.params)


def schedctl(machine, sched: str, params: dict) -> dict:
    sid = _sched_id(sched)
    rc = dom0_op(machine, D.DOM0_SCHEDCTL, D.dom0_schedctl(sid, D.SCHED_INFO_PUT, params))
    if rc < 0:
        raise _error(machine, rc, sched)
    get = D.dom0_schedctl(sid, D.SCHED_INFO_GET)
    dom0_op(machine, D.DOM0_SCHEDCTL, get)
    return dict(get.params)


def _int(text: str, what: str, usage: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise XmError(f"Error: {what} must be an integer, got {text!r}. Usage: xm {usage}") from None


def _number(text: str, what: str, usage: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise XmError(f"Error: {what} must be a number, got {text!r}. Usage: xm {usage}") from None


def _options(args: list[str], letters: str, usage: str) -> tuple[dict, list]:
    """getopt-style: -x VALUE / --long=VALUE for the given letters; returns (options, positional)."""
    longs = {"d": "domain", "w": "weight", "c": "cap", "p": "period", "s": "slice", "l": "latency", "e": "extratime"}
    opts, rest, i = {}, [], 0
    while i < len(args):
        a = args[i]
        key = None
        if a.startswith("--") and "=" in a:
            name, value = a[2:].split("=", 1)
            key = next((k for k, v in longs.items() if v == name and k in letters), None)
            if key is None:
                raise XmError(f"Error: option {a!r} not recognized. Usage: xm {usage}")
            opts[key] = value
        elif a.startswith("-") and len(a) >= 2 and not a[1:].lstrip("-").replace(".", "").isdigit():
            key = a[1]
            if key not in letters:
                raise XmError(f"Error: option {a!r} not recognized. Usage: xm {usage}")
            value = a[2:]
            if not value:
                if i + 1 >= len(args):
                    raise XmError(f"Error: option -{key} requires argument. Usage: xm {usage}")
                i += 1
                value = args[i]
            opts[key] = value
        else:
            rest.append(a)
        i += 1
    return opts, rest


# -- Credit (3.0.4) ------------------------------------------------------------------------------------
CREDIT_USAGE = "sched-credit -d <Domain> [-w[=WEIGHT]|-c[=CAP]]"


@command("sched-credit")
def cmd_sched_credit(machine, args) -> XmResult:
    opts, rest = _options([a.replace("=", "", 1) if a[:3] in ("-w=", "-c=", "-d=") else a for a in args],
                          "dwc", CREDIT_USAGE)
    if "d" not in opts:
        if len(rest) == 1:
            opts["d"] = rest.pop()
        else:
            raise XmError(f"Error: no domain given (-d). Usage: xm {CREDIT_USAGE}")
    if rest:
        raise XmError(f"Error: unexpected argument {rest[0]!r}. Usage: xm {CREDIT_USAGE}")
    d = find_domain(machine, opts["d"])
    params = {}
    if "w" in opts:
        params["weight"] = _int(opts["w"], "WEIGHT", CREDIT_USAGE)
    if "c" in opts:
        params["cap"] = _int(opts["c"], "CAP", CREDIT_USAGE)
    values = adjustdom(machine, d, "credit", params)
    text = "" if params else repr({"cap": values["cap"], "weight": values["weight"]})
    return XmResult("sched-credit", text, [{"name": d.name, "domid": d.domain_id, **values}])


# -- SEDF (3.0) ----------------------------------------------------------------------------------------------
SEDF_USAGE = "sched-sedf <Domain> [-p PERIOD_ms] [-s SLICE_ms] [-l LATENCY_ms] [-e 0|1] [-w WEIGHT]"
SEDF_HEADER = "Name                              ID Period(ms) Slice(ms) Lat(ms) Extra Weight"
SEDF_ROW = "%-32s %3d %10.1f %9.1f %7.1f %5d %6d"


def _sedf_row(d, p: dict) -> dict:
    return {"name": d.name, "domid": d.domain_id, "period": p["period"] / MS, "slice": p["slice"] / MS,
            "latency": p["latency"] / MS, "extratime": p["extratime"], "weight": p["weight"]}


@command("sched-sedf")
def cmd_sched_sedf(machine, args) -> XmResult:
    opts, rest = _options(args, "pslew", SEDF_USAGE)
    if not rest:
        if opts:
            raise XmError(f"Error: no domain given. Usage: xm {SEDF_USAGE}")
        rows = [_sedf_row(d, adjustdom(machine, d, "sedf"))
                for d in (machine.domain_record(i.domain) for i in domain_infos(machine))]
        return XmResult("sched-sedf", "\n".join([SEDF_HEADER] + [SEDF_ROW % tuple(r.values())[:7] for r in rows]),
                        rows)
    d = find_domain(machine, rest[0])
    positional = rest[1:]
    if positional:                                    # 3.0.0: period slice latency extratime weight
        if len(positional) != 5 or opts:
            raise XmError(f"Error: give all five values or use options. Usage: xm {SEDF_USAGE}")
        opts = dict(zip("pslew", positional))
        ns = True
    else:
        ns = False
    params = {}
    for key, name in (("p", "period"), ("s", "slice"), ("l", "latency")):
        if key in opts:
            value = _number(opts[key], name, SEDF_USAGE)
            params[name] = int(value if ns else value * MS)
    if "e" in opts:
        params["extratime"] = _int(opts["e"], "extratime", SEDF_USAGE)
        if params["extratime"] not in (0, 1):
            raise XmError(f"Error: extratime must be 0 or 1. Usage: xm {SEDF_USAGE}")
    if "w" in opts:
        params["weight"] = int(_number(opts["w"], "weight", SEDF_USAGE))
    values = adjustdom(machine, d, "sedf", params)
    row = _sedf_row(d, values)
    text = "" if params else "\n".join([SEDF_HEADER, SEDF_ROW % tuple(row.values())[:7]])
    return XmResult("sched-sedf", text, [row])


# -- BVT (2.0, still in 3.0.0) ------------------------------------------------------------------------------
BVT_USAGE = "sched-bvt <Domain> <mcuadv> <warpback> <warpvalue> <warpl> <warpu>"


def _adjust_positional(machine, args, cmd: str, sched: str, names: tuple, count: str, usage: str) -> XmResult:
    """xm CMD <Domain> prints the domain's parameters; xm CMD <Domain> <value ...> sets them (2.0's xm)."""
    if len(args) == 1:
        d = find_domain(machine, args[0])
        values = adjustdom(machine, d, sched)
        return XmResult(cmd, repr(values), [{"name": d.name, "domid": d.domain_id, **values}])
    if len(args) != len(names) + 1:
        raise XmError(f"Error: expected a domain and {count} values. Usage: xm {usage}")
    d = find_domain(machine, args[0])
    params = {n: _int(a, n, usage) for n, a in zip(names, args[1:])}
    values = adjustdom(machine, d, sched, params)
    return XmResult(cmd, "", [{"name": d.name, "domid": d.domain_id, **values}])


@command("sched-bvt")
def cmd_sched_bvt(machine, args) -> XmResult:
    return _adjust_positional(machine, args, "sched-bvt", "bvt",
                              ("mcu_adv", "warpback", "warpvalue", "warpl", "warpu"), "five", BVT_USAGE)


@command("sched-bvt-ctxallow")
def cmd_sched_bvt_ctxallow(machine, args) -> XmResult:
    usage = "sched-bvt-ctxallow <allow_ns>"
    if len(args) != 1:
        raise XmError(f"Error: expected one value. Usage: xm {usage}")
    values = schedctl(machine, "bvt", {"ctx_allow": _int(args[0], "allow", usage)})
    return XmResult("sched-bvt-ctxallow", "", [values])


# -- Atropos and Round Robin (2.0) ----------------------------------------------------------------------------
ATROPOS_USAGE = "atropos <Domain> <period_ns> <slice_ns> <latency_ns> <xtratime>"


@command("atropos")
def cmd_atropos(machine, args) -> XmResult:
    return _adjust_positional(machine, args, "atropos", "atropos", ("period", "slice", "latency", "xtratime"),
                              "four", ATROPOS_USAGE)


@command("rrobin")
def cmd_rrobin(machine, args) -> XmResult:
    usage = "rrobin <slice_ns>"
    if len(args) != 1:
        raise XmError(f"Error: expected one value. Usage: xm {usage}")
    values = schedctl(machine, "rrobin", {"slice": _int(args[0], "slice", usage)})
    return XmResult("rrobin", "", [values])
