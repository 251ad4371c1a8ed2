"""The model's fixed English phrases, said in the notebook's language.

The model (xen/, guest/ ...) speaks English in its results, the way Xen's own log messages do: a
descriptor verdict's ``rule`` ("DPL 0 refused: ring 0 belongs to Xen"), a trap outcome ("emulated",
"bounced"). Notebook cells that print such a phrase pass it through ``say()``, which finds the phrase's
catalogue message (``narration.*``) and fills in the numbers it carried. A phrase without a message is
returned unchanged, so a new phrase shows up in English (and the Polish notebook's compared output
catches it) instead of breaking the cell.

    >>> from xenlab.i18n import set_language
    >>> from xenlab.i18n.narration import say
    >>> _ = set_language("pl"); say("limit truncated to end at 0xfc400000")
    'granica przycięta do 0xfc400000'
"""
from __future__ import annotations

import re

from xenlab.i18n import t

# (pattern of the model's phrase, catalogue key); named groups become the message's placeholders.
PHRASES: list[tuple[re.Pattern, str]] = [(re.compile(p), k) for p, k in (
    # xen/descriptor.py check_descriptor's rules
    (r"not present: always faults, so harmless", "narration.seg.not_present"),
    (r"DPL 0 refused: ring 0 belongs to Xen", "narration.seg.dpl0"),
    (r"system descriptor other than a call gate refused", "narration.seg.system"),
    (r"call gate to selector (?P<sel>0x[0-9a-f]+): not guest code", "narration.seg.gate_sel"),
    (r"call gate reserved bits set", "narration.seg.gate_reserved"),
    (r"call gate to guest code", "narration.seg.gate_ok"),
    (r"base (?P<base>0x[0-9a-f]+) within a page of Xen's area \((?P<top>0x[0-9a-f]+)\)", "narration.seg.base"),
    (r"expand-down segment would wrap into Xen's area", "narration.seg.expand_down"),
    (r"limit truncated to end at (?P<top>0x[0-9a-f]+)", "narration.seg.truncated"),
    (r"byte-granular segment reaching Xen's area refused", "narration.seg.byte_limit"),
    (r"segment stays below Xen's area", "narration.seg.ok"),
    # hw/segments.py: the #GP of a limit check
    (r"#GP\((?P<code>0x[0-9a-f]+)\): (?P<reg>\w+):(?P<offset>0x[0-9a-f]+)\+(?P<size>\d+) beyond limit (?P<limit>0x[0-9a-f]+)",
     "narration.seg.gp_limit"),
    # hw/paging.py describe_pfec: the words of a page-fault error code (say() each, split on ", ")
    (r"protection", "narration.pfec.protection"),
    (r"not-present", "narration.pfec.not_present"),
    (r"write", "narration.pfec.write"),
    (r"read", "narration.pfec.read"),
    (r"user", "narration.pfec.user"),
    (r"supervisor", "narration.pfec.supervisor"),
    # xen/traps.py outcomes
    (r"direct", "narration.trap.direct"),
    (r"bounced", "narration.trap.bounced"),
    (r"emulated", "narration.trap.emulated"),
    (r"gp", "narration.trap.gp"),
    (r"crash", "narration.trap.crash"),
    # xen/event.py evtchn_set_pending: where delivery stopped
    (r"already pending", "narration.evtchn.already_pending"),
    (r"masked", "narration.evtchn.masked"),
    (r"selector already set", "narration.evtchn.selector_set"),
    (r"upcall already pending", "narration.evtchn.upcall_pending"),
    (r"upcall", "narration.evtchn.upcall"),
    # guest/cpu.py PV_REPLACEMENT: what a PV kernel does instead of a privileged instruction
    (r"mmuext_op\(MMUEXT_TLB_FLUSH_LOCAL\) \(or MMUEXT_NEW_BASEPTR for a new table\)", "narration.pv.write_cr3"),
    (r"set_timer_op\(next tick\) \+ sched_op\(SCHEDOP_block\)", "narration.pv.hlt"),
    (r"dom0: emulated by Xen after physdev_op\(SET_IOPL\); domU: a split driver instead", "narration.pv.port"),
    (r"vcpu_info->evtchn_upcall_mask = 1 \(a plain memory write\)", "narration.pv.cli"),
    (r"vcpu_info->evtchn_upcall_mask = 0, then check evtchn_upcall_pending", "narration.pv.sti"),
)]


def _all_phrases():
    """PHRASES, then the PHRASES of every catalogue area that declares some (``catalogues/pl_output.py``:
    the labels the course's cells print), compiled once."""
    global _PHRASES_ALL
    if _PHRASES_ALL is None:
        from xenlab.i18n.catalogues import AREAS
        _PHRASES_ALL = PHRASES + [(re.compile(p), k) for a in AREAS for p, k in getattr(a, "PHRASES", ())]
    return _PHRASES_ALL


_PHRASES_ALL = None


def say(phrase: str) -> str:
    """``phrase`` (one of the model's fixed phrases) in the current language; several lines are said
    one by one."""
    if "\n" in phrase:
        return "\n".join(say(line) for line in phrase.split("\n"))
    for pattern, key in _all_phrases():
        m = pattern.fullmatch(phrase)
        if m:
            return t(key, **m.groupdict())
    return phrase


__all__ = ["say", "PHRASES"]
