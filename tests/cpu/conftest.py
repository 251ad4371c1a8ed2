import pytest

import xenlab


@pytest.fixture
def m():
    return xenlab.Machine(memory_mb=64, cpus=1)


@pytest.fixture
def two(m):
    """A machine with two idle PV guests (domids 1 and 2)."""
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8))
    b = m.create_domain(xenlab.DomainConfig(name="b", memory=8, vcpus=2))
    return m, a, b
