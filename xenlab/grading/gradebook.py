"""The durable gradebook: one SQLite file, written as each notebook finishes.

Tables: `submissions` (one row per student and exercise: notebook, its sha256, seed, points, maximum,
problems, flags, seconds, sandbox tier, time, the assignment's fingerprint) and `results` (one row
per check: student, exercise, check, function, hidden, status, score, maximum, message, time, seed).
A notebook's rows are replaced in one transaction, so a grader killed at any moment leaves either the
old grade or the new one. `done()` tells a resumed batch what it need not grade again: the same
notebook bytes under the same assignment settings.
"""
from __future__ import annotations

import csv
import json
import sqlite3
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    student TEXT NOT NULL, exercise TEXT NOT NULL, notebook TEXT, sha256 TEXT, seed INTEGER,
    points INTEGER NOT NULL, max_points INTEGER NOT NULL, problems TEXT NOT NULL, flags TEXT NOT NULL,
    seconds REAL, sandbox TEXT, graded_at TEXT NOT NULL, fingerprint TEXT, lang TEXT, hints INTEGER,
    PRIMARY KEY (student, exercise));
CREATE TABLE IF NOT EXISTS results (
    student TEXT NOT NULL, exercise TEXT NOT NULL, check_name TEXT NOT NULL, function TEXT, title TEXT,
    hidden INTEGER NOT NULL, status TEXT NOT NULL, score INTEGER NOT NULL, max_score INTEGER NOT NULL,
    message TEXT, traceback TEXT, time TEXT NOT NULL, seed INTEGER,
    PRIMARY KEY (student, exercise, check_name));
CREATE TABLE IF NOT EXISTS notes (
    student TEXT NOT NULL, note TEXT NOT NULL, PRIMARY KEY (student, note));
"""


class Gradebook:
    def __init__(self, path):
        self.path = Path(path)
        self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def done(self, student: str, exercise: str, sha256: str, fingerprint: str) -> bool:
        row = self.db.execute("SELECT sha256, fingerprint FROM submissions WHERE student=? AND exercise=?",
                              (student, exercise)).fetchone()
        return row is not None and row[0] == sha256 and row[1] == fingerprint and sha256 is not None

    def record(self, report: dict, fingerprint: str | None = None) -> None:
        """Replace the rows of (student, exercise) with `report`, in one transaction."""
        stamp = time.time()
        now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + f".{int(stamp * 1000) % 1000:03d}Z"
        s, e = report["student"], report["exercise"]
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM results WHERE student=? AND exercise=?", (s, e))
            self.db.execute(
                "INSERT OR REPLACE INTO submissions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (s, e, report.get("notebook"), report.get("sha256"), report.get("seed"), int(report["points"]),
                 int(report["max_points"]), json.dumps(report.get("problems", []), ensure_ascii=False),
                 json.dumps(report.get("flags", []), ensure_ascii=False), report.get("seconds"),
                 report.get("sandbox"), now, fingerprint, report.get("lang"), int(report.get("hints") or 0)))
            for r in report.get("checks", []):
                self.db.execute("INSERT OR REPLACE INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                (s, e, r["name"], r.get("function"), r.get("title"), int(bool(r.get("hidden"))),
                                 r["status"], int(r["points"]), int(r["max_points"]), r.get("message", ""),
                                 r.get("traceback", ""), now, report.get("seed")))

    def note(self, student: str, text: str) -> None:
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO notes VALUES (?, ?)", (student, text))

    def clear_notes(self) -> None:
        with self.db:
            self.db.execute("DELETE FROM notes")

    def report(self, student: str, exercise: str) -> dict | None:
        row = self.db.execute("SELECT * FROM submissions WHERE student=? AND exercise=?", (student, exercise)).fetchone()
        if row is None:
            return None
        cols = [d[0] for d in self.db.execute("SELECT * FROM submissions LIMIT 0").description]
        sub = dict(zip(cols, row))
        checks = []
        for r in self.db.execute("SELECT check_name, function, title, hidden, status, score, max_score, message, "
                                 "traceback FROM results WHERE student=? AND exercise=? ORDER BY rowid",
                                 (student, exercise)):
            checks.append({"name": r[0], "function": r[1], "title": r[2], "hidden": bool(r[3]), "status": r[4],
                           "points": r[5], "max_points": r[6], "message": r[7] or "", "traceback": r[8] or ""})
        return {"student": student, "exercise": exercise, "notebook": sub["notebook"], "sha256": sub["sha256"],
                "seed": sub["seed"], "points": sub["points"], "max_points": sub["max_points"],
                "problems": json.loads(sub["problems"]), "flags": json.loads(sub["flags"]),
                "seconds": sub["seconds"], "sandbox": sub["sandbox"], "graded_at": sub["graded_at"],
                "lang": sub["lang"], "hints": sub.get("hints") or 0, "checks": checks}

    def students(self) -> list[str]:
        rows = self.db.execute("SELECT student FROM submissions UNION SELECT student FROM notes ORDER BY 1")
        return [r[0] for r in rows]

    def notes(self, student: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT note FROM notes WHERE student=? ORDER BY rowid", (student,))]

    def export_csv(self, csv_path, exercises: list, max_points: dict) -> int:
        """One row per student: points, maximum, seed and hints taken per exercise, totals, problems, flags."""
        header = ["student"]
        for ex in exercises:
            header += [ex, f"{ex}_max", f"{ex}_seed", f"{ex}_hints"]
        header += ["total", "max_total", "problems", "flags"]
        students = self.students()
        with open(csv_path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            for s in students:
                row, total, problems, flags = [s], 0, list(self.notes(s)), []
                for ex in exercises:
                    rep = self.report(s, ex)
                    points = rep["points"] if rep else 0
                    row += [points, max_points[ex], rep["seed"] if rep else "", rep["hints"] if rep else ""]
                    total += points
                    if rep:
                        problems += [f"{ex}: {p}" for p in rep["problems"]]
                        flags += [f"{ex}: {p}" for p in rep["flags"]]
                row += [total, sum(max_points[e] for e in exercises), "; ".join(problems), "; ".join(flags)]
                w.writerow(row)
        return len(students)
