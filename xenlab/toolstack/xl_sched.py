"""xl's commands for the modern schedulers (X@master:tools/xl/xl_sched.c, xl_cmdtable.c).

These are **xl** commands: Credit2 and RTDS arrived long after xm was retired, so xm never had them.
They are registered in the same command table as the xm ones (``xm(machine, "sched-rtds -d a")``).

- ``sched-credit2 [-d DOM [-w WEIGHT] [-c CAP]] [-s [-r RATELIMIT_us]]``: without -w/-c prints the
  domain's weight and cap; without -d lists every domain; -s shows (or with -r sets) the pool's
  rate limit.
- ``sched-rtds [-d DOM [-v VCPU|all ...] [-p PERIOD_us -b BUDGET_us] [-e 0|1]]``: without values
  prints the domain's (or with -v the listed vcpus') period, budget and extratime; -p and -b go
  together; without -v the values apply to every vcpu.

Both go through the privileged scheduler call (DOM0_ADJUSTDOM / DOM0_SCHEDCTL in the model, which
stand for XEN_DOMCTL_scheduler_op / XEN_SYSCTL_scheduler_op); Xen's -EINVAL comes back as the same
``Error: (22, 'Invalid argument')`` the xm commands print.

Simplifications
- The table layouts (``%-33s %4s %6s %4s`` for Credit2, ``%-33s %4s %4s %9s %9s %10s`` for RTDS vcpus)
  and the "Cpupool Pool-0: ..." lines are written from memory of xl_sched.c, not checked against it.
- One cpupool (Pool-0); no -p POOL option. Error texts are the model's, not libxl's log lines,
  except the weight range message.
"""
from __future__ import annotations

from xenlab.toolstack.xm import XmError, XmResult, command, domain_infos, find_domain
from xenlab.toolstack.xm_sched import adjustdom, schedctl

CREDIT2_USAGE = "sched-credit2 [-d <Domain> [-w[=WEIGHT]|-c[=CAP]]] [-s [-r[=RLIMIT]]]"
CREDIT2_HEADER = "%-33s %4s %6s %4s" % ("Name", "ID", "Weight", "Cap")
CREDIT2_ROW = "%-33s %4d %6d %4d"
RTDS_USAGE = "sched-rtds [-d <Domain> [-v[=VCPUID/all]] [-p[=PERIOD]] [-b[=BUDGET]] [-e[=EXTRATIME]]]"
RTDS_DOM_HEADER = "%-33s %4s %9s %9s %10s" % ("Name", "ID", "Period", "Budget", "Extra time")
RTDS_DOM_ROW = "%-33s %4d %9d %9d %10s"
RTDS_VCPU_HEADER = "%-33s %4s %4s %9s %9s %10s" % ("Name", "ID", "VCPU", "Period", "Budget", "Extra time")
RTDS_VCPU_ROW = "%-33s %4d %4d %9d %9d %10s"

LONG = {"domain": "d", "weight": "w", "cap": "c", "schedparam": "s", "ratelimit_us": "r", "vcpuid": "v",
        "period": "p", "budget": "b", "extratime": "e"}


def _getopt(args: list[str], with_value: str, flags: str, usage: str) -> dict:
    """-x VALUE, -xVALUE, -x=VALUE, --long=VALUE; repeated options collect into a list."""
    opts: dict[str, list] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            name, _, value = a[2:].partition("=")
            key = LONG.get(name)
            if key is None or key not in with_value + flags:
                raise XmError(f"Error: option {a!r} not recognized. Usage: xl {usage}")
        elif a.startswith("-") and len(a) >= 2:
            key, value = a[1], a[2:].lstrip("=")
            if key not in with_value + flags:
                raise XmError(f"Error: option {a!r} not recognized. Usage: xl {usage}")
        else:
            raise XmError(f"Error: unexpected argument {a!r}. Usage: xl {usage}")
        if key in with_value and not value:
            if i + 1 >= len(args):
                raise XmError(f"Error: option -{key} requires an argument. Usage: xl {usage}")
            i += 1
            value = args[i]
        opts.setdefault(key, []).append(value if key in with_value else True)
        i += 1
    return opts


def _int(text: str, what: str, usage: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise XmError(f"Error: {what} must be an integer, got {text!r}. Usage: xl {usage}") from None


def _one(opts: dict, key: str):
    return opts[key][-1] if key in opts else None


# -- Credit2 ----------------------------------------------------------------------------------------------
@command("sched-credit2")
def cmd_sched_credit2(machine, args) -> XmResult:
    opts = _getopt(args, "dwcr", "s", CREDIT2_USAGE)
    if "s" in opts:
        if set(opts) - {"s", "r"}:
            raise XmError(f"Error: -s takes only -r. Usage: xl {CREDIT2_USAGE}")
        params = {"ratelimit_us": _int(_one(opts, "r"), "RLIMIT", CREDIT2_USAGE)} if "r" in opts else {}
        values = schedctl(machine, "credit2", params)
        text = "" if params else f"Cpupool Pool-0: ratelimit={values['ratelimit_us']}us"
        return XmResult("sched-credit2", text, [values])
    if "r" in opts:
        raise XmError(f"Error: -r needs -s. Usage: xl {CREDIT2_USAGE}")
    if "d" not in opts:
        if opts:
            raise XmError(f"Error: -w and -c need a domain (-d). Usage: xl {CREDIT2_USAGE}")
        ctl = schedctl(machine, "credit2", {})
        rows = [{"name": d.name, "domid": d.domain_id, **adjustdom(machine, d, "credit2")}
                for d in (machine.domain_record(i.domain) for i in domain_infos(machine))]
        lines = [f"Cpupool Pool-0: ratelimit={ctl['ratelimit_us']}us", CREDIT2_HEADER]
        lines += [CREDIT2_ROW % (r["name"], r["domid"], r["weight"], r["cap"]) for r in rows]
        return XmResult("sched-credit2", "\n".join(lines), rows)
    d = find_domain(machine, _one(opts, "d"))
    params = {}
    if "w" in opts:
        params["weight"] = _int(_one(opts, "w"), "WEIGHT", CREDIT2_USAGE)
        if not 1 <= params["weight"] <= 65535:
            raise XmError("Error: Cpu weight out of range, valid range is from 1 to 65535")
    if "c" in opts:
        params["cap"] = _int(_one(opts, "c"), "CAP", CREDIT2_USAGE)
    values = adjustdom(machine, d, "credit2", params)
    row = {"name": d.name, "domid": d.domain_id, **values}
    text = "" if params else "\n".join([CREDIT2_HEADER, CREDIT2_ROW % (d.name, d.domain_id, values["weight"],
                                                                       values["cap"])])
    return XmResult("sched-credit2", text, [row])


# -- RTDS -------------------------------------------------------------------------------------------------
def _yes(flag) -> str:
    return "yes" if flag else "no"


def _rtds_vcpu_rows(d, values: dict, vcpuids) -> list:
    by_id = {p["vcpuid"]: p for p in values["vcpus"]}
    return [{"name": d.name, "domid": d.domain_id, **by_id[i]} for i in vcpuids]


def _vcpu_list(d, given: list, usage: str) -> list:
    if "all" in given:
        return [v.vcpu_id for v in d.vcpus]
    ids = [_int(x, "VCPUID", usage) for x in given]
    for i in ids:
        if not 0 <= i < len(d.vcpus):
            raise XmError(f"Error: Invalid vcpu id {i} for domain {d.name} ({len(d.vcpus)} vcpus)")
    return ids


@command("sched-rtds")
def cmd_sched_rtds(machine, args) -> XmResult:
    opts = _getopt(args, "dvpbe", "", RTDS_USAGE)
    if "d" not in opts:
        if opts:
            raise XmError(f"Error: -v, -p, -b and -e need a domain (-d). Usage: xl {RTDS_USAGE}")
        rows = [{"name": d.name, "domid": d.domain_id, **adjustdom(machine, d, "rtds")}
                for d in (machine.domain_record(i.domain) for i in domain_infos(machine))]
        lines = ["Cpupool Pool-0: sched=RTDS", RTDS_DOM_HEADER]
        lines += [RTDS_DOM_ROW % (r["name"], r["domid"], r["period"], r["budget"], _yes(r["extratime"]))
                  for r in rows]
        return XmResult("sched-rtds", "\n".join(lines), rows)
    d = find_domain(machine, _one(opts, "d"))
    if ("p" in opts) != ("b" in opts):
        raise XmError("Error: Must specify period and budget together (-p and -b)")
    current = adjustdom(machine, d, "rtds")
    vcpuids = _vcpu_list(d, opts["v"], RTDS_USAGE) if "v" in opts else None
    setting = any(k in opts for k in "pbe")
    if not setting:
        if vcpuids is None:
            row = {"name": d.name, "domid": d.domain_id, **current}
            text = "\n".join([RTDS_DOM_HEADER, RTDS_DOM_ROW % (d.name, d.domain_id, current["period"],
                                                               current["budget"], _yes(current["extratime"]))])
            return XmResult("sched-rtds", text, [row])
        rows = _rtds_vcpu_rows(d, current, vcpuids)
        lines = [RTDS_VCPU_HEADER] + [RTDS_VCPU_ROW % (r["name"], r["domid"], r["vcpuid"], r["period"], r["budget"],
                                                       _yes(r["extratime"])) for r in rows]
        return XmResult("sched-rtds", "\n".join(lines), rows)
    targets = vcpuids if vcpuids is not None else [v.vcpu_id for v in d.vcpus]
    by_id = {p["vcpuid"]: p for p in current["vcpus"]}
    new = []
    for i in targets:
        p = dict(by_id[i])
        if "p" in opts:
            p["period"] = _int(_one(opts, "p"), "PERIOD", RTDS_USAGE)
            p["budget"] = _int(_one(opts, "b"), "BUDGET", RTDS_USAGE)
        if "e" in opts:
            p["extratime"] = _int(_one(opts, "e"), "EXTRATIME", RTDS_USAGE)
            if p["extratime"] not in (0, 1):
                raise XmError(f"Error: extratime must be 0 or 1. Usage: xl {RTDS_USAGE}")
        new.append(p)
    values = adjustdom(machine, d, "rtds", {"vcpus": new})       # putvcpuinfo, as libxl does
    return XmResult("sched-rtds", "", _rtds_vcpu_rows(d, values, targets))
