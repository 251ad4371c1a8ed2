"""Layers point one way: importing the model never imports Jupyter or widget packages."""
import subprocess
import sys


def test_import_xenlab_and_run_a_machine_without_widget_packages():
    code = ("import sys, xenlab; m = xenlab.Machine(); xenlab.xm(m, 'create name=a memory=16'); "
            "m.run_for(10**7); bad = sorted(k for k in sys.modules if k.split('.')[0] in "
            "('ipywidgets', 'bqplot', 'IPython', 'ipykernel', 'nbclient', 'jupyterlab')); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
