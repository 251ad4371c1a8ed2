"""%xm and %xentop in a real (in-process) IPython shell."""
import pytest

import xenlab
from xenlab import magics


@pytest.fixture
def shell(tmp_path, monkeypatch):
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path))
    from IPython.core.interactiveshell import InteractiveShell
    ip = InteractiveShell.instance()
    yield ip
    InteractiveShell.clear_instance()
    magics._current = None


def test_magics_need_a_machine(shell):
    magics.load_ipython_extension(shell)
    with pytest.raises(RuntimeError, match="xenlab.use"):
        shell.run_line_magic("xm", "list")


def test_xm_magic_acts_on_the_machine_in_use(shell, capsys):
    m = xenlab.Machine(seed=0)
    magics.use(m)                         # loads the extension into the running shell
    shell.run_line_magic("xm", "create name=web memory=64")
    result = shell.run_line_magic("xm", "list")
    assert [row for row in result.text.splitlines() if row.startswith("web")]
    assert "web" in [d.name for d in m.domains.values()]
    shell.run_line_magic("xm", "frobnicate")          # an xm error is printed, not raised
    assert "frobnicate" in capsys.readouterr().out
    shell.run_line_magic("xentop", "")                 # runs `xm top` (or says it is not there yet)
