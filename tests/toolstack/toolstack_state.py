"""Shared by the toolstack tests (a module of its own: several test folders have a conftest)."""


def state(m):
    """What a refusal must leave unchanged: the domains (id, name, pages) and the free frames."""
    return (sorted((d.domain_id, d.name, d.tot_pages) for d in m.domains.values()), m.frame_table.free_frames)
