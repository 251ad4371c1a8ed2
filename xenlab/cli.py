"""The `xenlab` command.

    xenlab lab [--lang pl|en] [--no-browser] [--port N] [--ip ADDR] [--token T] [--dir PATH] [-- JUPYTER-ARGS...]
    xenlab grade PATH [--json] [--csv FILE] [--student ID] [--jobs N] [--cell-timeout S] [--notebook-timeout S]
                 [--config ASSIGNMENT.toml | --exercise exNN ...] [--gradebook FILE] [--feedback DIR] [--no-resume]
    xenlab present CHAPTER [--lang pl|en] [--port N] [--ip ADDR] [--no-browser] [-- VOILA-ARGS...]
    xenlab report GRADEBOOK [--html FILE] [--notebook FILE]
    xenlab hub [--ip ADDR] [--port N] [--state DIR] [--lang pl|en] [--admin USER ...] [--mem 2G]
    xenlab hub-collect HOMES DEST [--lang pl|en]
    xenlab nbgrader-export DIR [--exercise exNN ...] [--lang pl|en] [--course-id ID]
    xenlab xm COMMAND...           (runs xenlab.toolstack.xm on a fresh Machine, once it exists)
    xenlab --version

Where the course is found (`xenlab lab`): --dir, else $XENLAB_COURSE_DIR, else the checkout the package
was installed from (the folder above xenlab/, which holds notebooks/; this is what `pip install -e .`
gives), else the current folder. The folder must contain notebooks/<lang>/00_*.ipynb.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import sys
from pathlib import Path

from xenlab.i18n import LANGUAGES, get_language, set_language, t

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def version() -> str:
    try:
        from importlib.metadata import version as dist_version
        return dist_version("xenlab")
    except Exception:
        import xenlab
        return getattr(xenlab, "__version__", "unknown")


# --- xenlab lab -----------------------------------------------------------------------------------

def find_course(lang: str, explicit: str | None = None) -> Path | None:
    candidates = [explicit, os.environ.get("XENLAB_COURSE_DIR"), PACKAGE_ROOT, Path.cwd()]
    for c in candidates:
        if c and list((Path(c) / "notebooks" / lang).glob("00_*.ipynb")):
            return Path(c).resolve()
    return None


def has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def port_is_free(port: int, ip: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((ip, port))
        except OSError:
            return False
    return True


def free_port(start: int = 8888, ip: str = "127.0.0.1") -> int:
    for port in range(start, start + 50):
        if port_is_free(port, ip):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def lab_command(root: Path, start: Path, *, ip: str, port: int, token: str, open_browser: bool,
                extra: list) -> list:
    rel = start.relative_to(root).as_posix()
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}", f"--ip={ip}",
           f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--LabApp.default_url=/lab/tree/{rel}"]
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd + list(extra)


def cmd_lab(args) -> int:
    lang = args.lang or get_language()
    root = find_course(lang, args.dir)
    if root is None:
        print(t("cli.no_course", language=lang), file=sys.stderr)
        return 1
    start = sorted((root / "notebooks" / lang).glob("00_*.ipynb"))[0]
    if shutil.which("jupyter") is None:
        try:
            import jupyterlab  # noqa: F401
        except ImportError:
            print(t("cli.no_jupyter"), file=sys.stderr)
            return 1
    port = args.port or free_port(8888, args.ip)
    if args.port and not port_is_free(args.port, args.ip):
        print(t("cli.port_busy", port=args.port), file=sys.stderr)
        return 1
    token = args.token or secrets.token_hex(16)
    display = has_display()
    open_browser = display and not args.no_browser
    rel = start.relative_to(root).as_posix()
    host = "127.0.0.1" if args.ip in ("0.0.0.0", "") else args.ip
    url = f"http://{host}:{port}/lab/tree/{rel}?token={token}"
    cmd = lab_command(root, start, ip=args.ip, port=port, token=token, open_browser=open_browser,
                      extra=args.jupyter_args)
    print(t("cli.starting", language=lang, root=root))
    print(t("cli.url", url=url))
    if not display and not args.no_browser:
        print(t("cli.headless", port=port))
    print(t("cli.stop"), flush=True)
    env = {**os.environ, "XENLAB_LANG": lang}
    if args.dry_run:
        print(" ".join(cmd), flush=True)
        return 0
    if os.name == "posix":
        os.execvpe(cmd[0], cmd, env)  # the server takes this process's PID: Ctrl+C and kill reach it
    import subprocess
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 130


# --- xenlab grade ---------------------------------------------------------------------------------

def cmd_grade(args) -> int:
    from xenlab.grading.grader import export, format_report, grade_folder, grade_one, write_gradebook
    path = Path(args.path)
    lang = get_language()
    if not path.exists():
        print(t("cli.not_found", path=path), file=sys.stderr)
        return 1
    options = {"cell_timeout": args.cell_timeout, "notebook_timeout": args.notebook_timeout}
    if path.is_dir():
        from xenlab.grading.assignment import Assignment, load
        try:
            if args.config:
                assignment = load(args.config)
            elif args.exercise:
                assignment = Assignment(name=path.name, exercises=args.exercise)
            else:
                print(t("grade.need_assignment"), file=sys.stderr)
                return 2
        except (OSError, ValueError) as exc:
            print(str(exc), file=sys.stderr)
            return 2
        for key in ("cell_timeout", "notebook_timeout"):
            if getattr(args, key) is not None:
                setattr(assignment, key, getattr(args, key))

        def progress(report):
            if not args.json:
                print(format_report(report, lang), flush=True)
        if not any(path.iterdir()):
            print(t("grade.nothing", path=path), file=sys.stderr)
            return 1
        gradebook = Path(args.gradebook) if args.gradebook else path.resolve().with_name(
            path.resolve().name + ".gradebook.sqlite")
        reports = grade_folder(path, assignment=assignment, gradebook=gradebook, lang=lang, on_report=progress,
                               jobs=args.jobs, resume=not args.no_resume)
        if args.json:
            print(json.dumps(reports, ensure_ascii=False, indent=2))
        out = sys.stderr if args.json else sys.stdout
        if args.csv:
            n = export(gradebook, args.csv, exercises=assignment.exercises, lang=lang)
            print(t("grade.wrote_csv", path=args.csv, n=n), file=out)
        if args.feedback:
            export(gradebook, feedback_dir=args.feedback, exercises=assignment.exercises, lang=lang)
            print(t("grade.wrote_feedback", path=args.feedback), file=out)
        return 0
    options = {k: v for k, v in options.items() if v is not None}
    report = grade_one(path, args.student, lang=lang, **options)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(format_report(report, lang))
    if args.csv:
        n = write_gradebook([report], args.csv)
        print(t("grade.wrote_csv", path=args.csv, n=n), file=sys.stderr if args.json else sys.stdout)
    return 0


# --- xenlab present ---------------------------------------------------------------------------------

def find_chapter(root: Path, lang: str, chapter: str) -> Path | None:
    """notebooks/<lang>/<chapter>*.ipynb: "09", "9", "09_rings" or "04a" all name a chapter."""
    chapter = chapter.strip()
    if chapter.isdigit():
        chapter = f"{int(chapter):02d}"
    hits = sorted((root / "notebooks" / lang).glob(f"{chapter}*.ipynb"))
    exact = [h for h in hits if h.stem == chapter or h.stem.split("_")[0] == chapter]
    return (exact or hits or [None])[0]


def present_command(notebook: Path, *, ip: str, port: int, open_browser: bool, extra: list) -> list:
    cmd = [sys.executable, "-m", "voila", str(notebook), f"--Voila.ip={ip}", f"--port={port}",
           "--Voila.port_retries=0", "--strip_sources=True", "--show_tracebacks=False", "--theme=light"]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd + list(extra)


def cmd_present(args) -> int:
    lang = args.lang or get_language()
    root = find_course(lang, args.dir)
    if root is None:
        print(t("cli.no_course", language=lang), file=sys.stderr)
        return 1
    notebook = find_chapter(root, lang, args.chapter)
    if notebook is None:
        print(t("cli.present.no_chapter", chapter=args.chapter, path=root / "notebooks" / lang), file=sys.stderr)
        return 1
    import importlib.util
    if importlib.util.find_spec("voila") is None:
        print(t("cli.present.no_voila"), file=sys.stderr)
        return 1
    port = args.port or free_port(8866, args.ip)
    if args.port and not port_is_free(args.port, args.ip):
        print(t("cli.port_busy", port=args.port), file=sys.stderr)
        return 1
    open_browser = has_display() and not args.no_browser
    cmd = present_command(notebook, ip=args.ip, port=port, open_browser=open_browser, extra=args.voila_args)
    host = "127.0.0.1" if args.ip in ("0.0.0.0", "") else args.ip
    print(t("cli.present.starting", notebook=notebook.name, url=f"http://{host}:{port}/"))
    print(t("cli.stop"), flush=True)
    env = {**os.environ, "XENLAB_LANG": lang}
    if args.dry_run:
        print(" ".join(cmd), flush=True)
        return 0
    os.chdir(notebook.parent)
    if os.name == "posix":
        os.execvpe(cmd[0], cmd, env)
    import subprocess
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 130


# --- xenlab nbgrader-export ---------------------------------------------------------------------------

def cmd_nbgrader_export(args) -> int:
    from xenlab.grading.nbgrader_export import export
    from xenlab.grading.registry import all_exercises
    unknown = [e for e in (args.exercise or []) if e not in all_exercises()]
    if unknown:
        print(t("check.unknown_exercise", exercise=", ".join(unknown), known=", ".join(all_exercises())),
              file=sys.stderr)
        return 2
    written = export(args.dir, args.exercise, lang=args.lang or get_language(), course_id=args.course_id)
    print(t("cli.nbgrader.wrote", n=len(written), path=Path(args.dir) / "source"))
    return 0


# --- xenlab report -------------------------------------------------------------------------------------

def cmd_report(args) -> int:
    from xenlab.grading.class_report import write
    if not Path(args.gradebook).is_file():
        print(t("cli.not_found", path=args.gradebook), file=sys.stderr)
        return 1
    data = write(args.gradebook, args.html, args.notebook)
    for ex, d in data.items():
        print(f"{ex}: {d['students']} / mean {d['mean']} of {d['max']}")
    return 0


# --- xenlab hub, xenlab hub-collect ----------------------------------------------------------------

def cmd_hub(args) -> int:
    import importlib.util
    if importlib.util.find_spec("jupyterhub") is None or shutil.which("configurable-http-proxy") is None:
        print(t("cli.hub.missing"), file=sys.stderr)
        return 1
    env = {**os.environ, "XENLAB_HUB_IP": args.ip, "XENLAB_HUB_PORT": str(args.port),
           "XENLAB_HUB_STATE": str(Path(args.state).resolve()), "XENLAB_HUB_LANG": args.lang or get_language()}
    if args.admin:
        env["XENLAB_HUB_ADMINS"] = ",".join(args.admin)
    if args.mem:
        env["XENLAB_HUB_MEM"] = args.mem
    config = Path(__file__).resolve().parent / "hub_config.py"
    cmd = [sys.executable, "-m", "jupyterhub", "-f", str(config), *args.jupyterhub_args]
    print(t("cli.hub.starting", url=f"http://{args.ip}:{args.port}/"), flush=True)
    if args.dry_run:
        print(" ".join(cmd), flush=True)
        return 0
    os.execvpe(cmd[0], cmd, env)


def cmd_hub_collect(args) -> int:
    from xenlab.hub import collect
    got = collect(args.homes, args.dest, lang=args.lang)
    print(t("cli.hub.collected", n=sum(len(v) for v in got.values()), students=len(got), path=args.dest))
    return 0


# --- xenlab xm ------------------------------------------------------------------------------------

def cmd_xm(args) -> int:
    try:
        from xenlab.toolstack import xm
        from xenlab import Machine
    except ImportError:
        print(t("cli.xm_missing"), file=sys.stderr)
        return 1
    import shlex
    try:
        result = xm(Machine(), shlex.join(args.xm_args))
    except Exception as exc:  # XmError: what xm itself prints as "Error: ..."
        print(exc, file=sys.stderr)
        return 1
    print(getattr(result, "text", result))
    return 0


# --- the parser -----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xenlab", description=t("cli.description"))
    parser.add_argument("--version", action="version", version=f"xenlab {version()}")
    sub = parser.add_subparsers(dest="command", metavar="{lab,grade,report,present,nbgrader-export,hub,hub-collect,xm}")
    sub.required = True

    lab = sub.add_parser("lab", help=t("cli.lab.help"), description=t("cli.lab.help"))
    lab.add_argument("--lang", choices=LANGUAGES, default=None,
                     help=t("cli.opt.lang"))
    lab.add_argument("--no-browser", action="store_true", help=t("cli.opt.no_browser"))
    lab.add_argument("--port", type=int, default=None, help=t("cli.opt.port"))
    lab.add_argument("--ip", default="127.0.0.1", help=t("cli.opt.ip"))
    lab.add_argument("--token", default=None, help=t("cli.opt.token"))
    lab.add_argument("--dir", default=None, help=t("cli.opt.dir"))
    lab.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    lab.add_argument("jupyter_args", nargs="*", metavar="-- JUPYTER-ARGS",
                     help=t("cli.opt.jupyter_args"))
    lab.set_defaults(func=cmd_lab)

    grade = sub.add_parser("grade", help=t("cli.grade.help"), description=t("cli.grade.help"))
    grade.add_argument("path", help=t("cli.opt.path"))
    grade.add_argument("--json", action="store_true", help=t("cli.opt.json"))
    grade.add_argument("--csv", metavar="FILE", help=t("cli.opt.csv"))
    grade.add_argument("--student", default=None, help=t("cli.opt.student"))
    grade.add_argument("--cell-timeout", type=float, default=None, metavar="S",
                       help=t("cli.opt.cell_timeout"))
    grade.add_argument("--notebook-timeout", type=float, default=None, metavar="S",
                       help=t("cli.opt.notebook_timeout"))
    grade.add_argument("--config", metavar="FILE", help=t("cli.opt.config"))
    grade.add_argument("--exercise", action="append", metavar="exNN", help=t("cli.opt.exercise"))
    grade.add_argument("--gradebook", metavar="FILE", help=t("cli.opt.gradebook"))
    grade.add_argument("--feedback", metavar="DIR", help=t("cli.opt.feedback"))
    grade.add_argument("--no-resume", action="store_true", help=t("cli.opt.no_resume"))
    grade.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), metavar="N",
                       help=t("cli.opt.jobs"))
    grade.set_defaults(func=cmd_grade)

    present = sub.add_parser("present", help=t("cli.present.help"), description=t("cli.present.help"))
    present.add_argument("chapter", help=t("cli.opt.chapter"))
    present.add_argument("--lang", choices=LANGUAGES, default=None, help=t("cli.opt.lang"))
    present.add_argument("--no-browser", action="store_true", help=t("cli.opt.no_browser"))
    present.add_argument("--port", type=int, default=None, help=t("cli.opt.port"))
    present.add_argument("--ip", default="127.0.0.1", help=t("cli.opt.ip"))
    present.add_argument("--dir", default=None, help=t("cli.opt.dir"))
    present.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    present.add_argument("voila_args", nargs="*", metavar="-- VOILA-ARGS", help=t("cli.opt.voila_args"))
    present.set_defaults(func=cmd_present)

    nbg = sub.add_parser("nbgrader-export", help=t("cli.nbgrader.help"), description=t("cli.nbgrader.help"))
    nbg.add_argument("dir", help=t("cli.opt.nbgrader_dir"))
    nbg.add_argument("--exercise", action="append", metavar="exNN", help=t("cli.opt.exercise"))
    nbg.add_argument("--lang", choices=LANGUAGES, default=None, help=t("cli.opt.lang"))
    nbg.add_argument("--course-id", default="xenlab", help=t("cli.opt.course_id"))
    nbg.set_defaults(func=cmd_nbgrader_export)

    rep = sub.add_parser("report", help=t("cli.report.help"), description=t("cli.report.help"))
    rep.add_argument("gradebook", help=t("cli.opt.gradebook"))
    rep.add_argument("--html", metavar="FILE", help=t("cli.opt.report_html"))
    rep.add_argument("--notebook", metavar="FILE", help=t("cli.opt.report_notebook"))
    rep.set_defaults(func=cmd_report)

    hub = sub.add_parser("hub", help=t("cli.hub.help"), description=t("cli.hub.help"))
    hub.add_argument("--ip", default="127.0.0.1", help=t("cli.opt.ip"))
    hub.add_argument("--port", type=int, default=8000, help=t("cli.opt.port"))
    hub.add_argument("--state", default="xenlab-hub", help=t("cli.opt.hub_state"))
    hub.add_argument("--lang", choices=LANGUAGES, default=None, help=t("cli.opt.lang"))
    hub.add_argument("--admin", action="append", metavar="USER", help=t("cli.opt.hub_admin"))
    hub.add_argument("--mem", default=None, metavar="SIZE", help=t("cli.opt.hub_mem"))
    hub.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    hub.add_argument("jupyterhub_args", nargs="*", metavar="-- JUPYTERHUB-ARGS", help=t("cli.opt.jupyter_args"))
    hub.set_defaults(func=cmd_hub)

    coll = sub.add_parser("hub-collect", help=t("cli.hub_collect.help"), description=t("cli.hub_collect.help"))
    coll.add_argument("homes", help=t("cli.opt.hub_homes"))
    coll.add_argument("dest", help=t("cli.opt.hub_dest"))
    coll.add_argument("--lang", choices=LANGUAGES, default=None, help=t("cli.opt.lang"))
    coll.set_defaults(func=cmd_hub_collect)

    xm = sub.add_parser("xm", help=t("cli.xm.help"), description=t("cli.xm.help"))
    xm.add_argument("xm_args", nargs=argparse.REMAINDER, help=t("cli.opt.xm_args"))
    xm.set_defaults(func=cmd_xm)
    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Pick the language early so --help is printed in it too.
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv) and argv[i + 1] in LANGUAGES:
            set_language(argv[i + 1])
        elif a.startswith("--lang=") and a.split("=", 1)[1] in LANGUAGES:
            set_language(a.split("=", 1)[1])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
