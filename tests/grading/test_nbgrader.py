"""`xenlab nbgrader-export`: the course directory it writes works with nbgrader itself.

nbgrader generate_assignment makes the student version (solution regions stubbed, hidden tests removed);
nbgrader autograde on a correct and a half-done submission gives full and partial marks, the partial
mark being exactly what xenlab's checks of the finished function are worth.
"""
import json
import os
import subprocess
import sys

import pytest

from xenlab.cli import main as xenlab_main
from xenlab.grading import get_exercise

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("nbgrader")]


def _nbgrader(course, *args):
    r = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                       timeout=600, env={**os.environ, "XENLAB_LANG": "en"})
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def test_generate_and_autograde_with_nbgrader(tmp_path):
    if os.environ.get("XENLAB_REQUIRE_CLASS_TOOLS") != "1":
        pytest.importorskip("nbgrader")
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    assert xenlab_main(["nbgrader-export", str(course), "--exercise", "ex01", "--lang", "en"]) == 0
    source = course / "source" / "ex01" / "ex01_domain_states.ipynb"
    _nbgrader(course, "generate_assignment", "ex01", "--force")
    released = json.loads((course / "release" / "ex01" / source.name).read_text(encoding="utf-8"))
    text = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in released["cells"])
    assert "raise NotImplementedError()" in text and "BEGIN SOLUTION" not in text
    assert "assert_check('ex01', 'state_all_combinations'" not in text and "assert_check('ex01', 'state_shape'" in text   # hidden / public

    correct = json.loads(source.read_text(encoding="utf-8"))
    half = json.loads(source.read_text(encoding="utf-8"))
    for cell in half["cells"]:                         # hypercall_allowed left unwritten
        if "def hypercall_allowed" in cell["source"]:
            lines, out, skip = cell["source"].splitlines(), [], False
            for line in lines:
                if "BEGIN SOLUTION" in line:
                    out.append(line.replace("# BEGIN SOLUTION", "raise NotImplementedError()"))
                    skip = True
                elif "END SOLUTION" in line:
                    skip = False
                elif not skip:
                    out.append(line)
            cell["source"] = "\n".join(out)
    for student, nb in (("alice", correct), ("bob", half)):
        path = course / "submitted" / student / "ex01" / source.name
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(nb), encoding="utf-8")
    _nbgrader(course, "autograde", "ex01", "--force")
    ex = get_exercise("ex01")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        alice, bob = gb.find_submission("ex01", "alice"), gb.find_submission("ex01", "bob")
        assert alice.max_score == ex.max_points and alice.score == ex.max_points
        assert bob.score == ex.max_points - ex.points_for("hypercall_allowed") > 0
