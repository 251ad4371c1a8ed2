"""Strings of the toolstack's save and restore when Xen refuses one of their hypercalls.

xm prints every error as ``Error: <message>``; the word "Error:" is xm's own output and stays as it
is, the message after it comes from here.
"""

PL: dict[str, object] = {
    "toolstack2.save.not_own_frame": "domena nie wygląda na zawieszoną: {what} {mfn:#x} nie jest jedną "
                                     "z jej ramek",
    "toolstack2.restore.map_refused": "Xen odmówił odwzorowania {n} stron nowej domeny",
    "toolstack2.restore.context_refused": "DOM0_SETDOMAININFO odrzuciło kontekst vcpu 0 ({errno}): CR3 "
                                          "{cr3:#x} nie wskazuje poprawnej tablicy stron najwyższego poziomu",
    "toolstack2.xc.reservation": "XENMEM_increase_reservation przydzieliło {done} z {nr} stron",
    "toolstack2.xc.map_refused": "Xen odmówił odwzorowania ramki {mfn:#x} domeny {domid}",
}

EN: dict[str, object] = {
    "toolstack2.save.not_own_frame": "Domain appears not to have suspended: {what} {mfn:#x} is not one of "
                                     "its frames",
    "toolstack2.restore.map_refused": "Xen refused to map {n} of the new domain's pages",
    "toolstack2.restore.context_refused": "DOM0_SETDOMAININFO refused vcpu 0's context ({errno}): CR3 "
                                          "{cr3:#x} is not a valid top-level page table",
    "toolstack2.xc.reservation": "XENMEM_increase_reservation gave {done} of {nr} pages",
    "toolstack2.xc.map_refused": "Xen refused to map frame {mfn:#x} of domain {domid}",
}
