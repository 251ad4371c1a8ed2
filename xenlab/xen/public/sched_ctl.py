"""Scheduler identifiers, as DOM0_SCHED_ID returns them and DOM0_ADJUSTDOM / DOM0_SCHEDCTL name them.

X@RELEASE-3.0.0:xen/include/public/sched_ctl.h has SCHED_BVT 0 and SCHED_SEDF 4;
X@RELEASE-2.0.0's had SCHED_ATROPOS 2 and SCHED_RROBIN 3; the later schedulers carry the numbers of
public/domctl.h (XEN_SCHEDULER_CREDIT 5 from 3.0.4, CREDIT2 6, RTDS 8). ``SCHED_NAMES`` is the
``sched=`` boot-option name xm prints for each.
"""
SCHED_BVT = 0
SCHED_ATROPOS = 2                 # Xen 2.0
SCHED_RROBIN = 3                  # Xen 2.0
SCHED_SEDF = 4
XEN_SCHEDULER_CREDIT = 5          # 3.0.4
XEN_SCHEDULER_CREDIT2 = 6
XEN_SCHEDULER_RTDS = 8

SCHED_NAMES = {SCHED_BVT: "bvt", SCHED_ATROPOS: "atropos", SCHED_RROBIN: "rrobin", SCHED_SEDF: "sedf",
               XEN_SCHEDULER_CREDIT: "credit", XEN_SCHEDULER_CREDIT2: "credit2", XEN_SCHEDULER_RTDS: "rtds"}
SCHED_IDS = {name: sid for sid, name in SCHED_NAMES.items()}
