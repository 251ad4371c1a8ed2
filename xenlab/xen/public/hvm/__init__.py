"""Xen's ``xen/include/public/hvm/``: the interface between Xen and an HVM domain's device model."""
