import pytest


@pytest.fixture(scope="session", autouse=True)
def _jupyter_dirs(jupyter_dirs):
    """Every test here runs Jupyter with its files in a temporary folder (tests/conftest.py)."""
    return jupyter_dirs
