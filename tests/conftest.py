"""Fixtures shared by several test folders (each folder's conftest.py decides which it uses)."""
import os
import sys
from pathlib import Path

import pytest

# The browser helpers are imported as ``tests.browser.*`` (by the tests, tools/ and benchmarks/): a plain
# `pytest` puts only test folders on sys.path, so the checkout itself goes there too.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


@pytest.fixture(scope="session")
def jupyter_dirs(tmp_path_factory):
    """Keep Jupyter's and IPython's files (config, runtime, profile) out of the home folder."""
    base = tmp_path_factory.mktemp("jupyter")
    names = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data",
             "JUPYTER_RUNTIME_DIR": "runtime", "IPYTHONDIR": "ipython"}
    saved = {k: os.environ.get(k) for k in names}
    for key, sub in names.items():
        (base / sub).mkdir()
        os.environ[key] = str(base / sub)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    yield base
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
