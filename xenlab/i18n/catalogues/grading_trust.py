"""Strings of the sandboxed grader (`xenlab grade` for marks): sandbox, gradebook, assignment."""

PL: dict[str, object] = {
    "grade.cell_skipped": "komórka zawiesiła się mimo limitu {seconds} s albo zakończyła proces notatnika; przy ponownym uruchomieniu ją pominięto",
    "grade.submission_gone": "Rozwiązanie przestało odpowiadać i zostało zatrzymane ({why}); to sprawdzenie nie mogło się wykonać.",
    "grade.not_in_assignment": "Notatnik {notebook} (zadanie {exercise}) nie należy do tego zestawu; nie był oceniany.",
    "grade.several": "Kilka notatników z zadaniem {exercise}; oceniono {notebook}.",
    "grade.grader_error": "Błąd samego programu oceniającego (nie rozwiązania): {error}",
    "grade.weak_sandbox": "Piaskownica w trybie „{tier}”: bez przestrzeni nazw (namespaces) rozwiązanie widzi pliki systemu; oceniaj jako root albo w kontenerze.",
    "grade.flag": "do sprawdzenia przez prowadzącego: {what}",
    "grade.resumed": "Pominięto już ocenione notatniki: {n}.",
    "grade.need_assignment": "Do oceny folderu potrzebna jest lista zadań: --config PLIK albo --exercise exNN.",
    "grade.wrote_feedback": "Zapisano informacje zwrotne dla studentów w {path}.",
    "cli.opt.config": "plik zestawu (TOML/JSON): lista zadań i limity",
    "cli.opt.exercise": "zadanie należące do zestawu (można powtórzyć)",
    "cli.opt.gradebook": "plik dziennika ocen SQLite (domyślnie <folder>.gradebook.sqlite)",
    "cli.opt.feedback": "folder na pliki z informacją zwrotną dla każdego studenta",
    "cli.opt.no_resume": "oceń wszystko od nowa, także to, co już jest w dzienniku",
}

EN: dict[str, object] = {
    "grade.cell_skipped": "the cell hung past its limit of {seconds} s or ended the notebook's process; it was skipped on a fresh run",
    "grade.submission_gone": "The submission stopped answering and was stopped ({why}); this check could not run.",
    "grade.not_in_assignment": "Notebook {notebook} (exercise {exercise}) is not part of this assignment; not graded.",
    "grade.several": "Several notebooks for {exercise}; graded {notebook}.",
    "grade.grader_error": "An error in the grader itself (not in the submission): {error}",
    "grade.weak_sandbox": "Sandbox tier '{tier}': without namespaces the submission can see the system's files; grade as root or in a container.",
    "grade.flag": "for the instructor to look at: {what}",
    "grade.resumed": "Skipped notebooks already graded: {n}.",
    "grade.need_assignment": "Grading a folder needs the list of exercises: --config FILE or --exercise exNN.",
    "grade.wrote_feedback": "Feedback for each student written to {path}.",
    "cli.opt.config": "assignment file (TOML/JSON): the exercises and the limits",
    "cli.opt.exercise": "an exercise of the assignment (repeatable)",
    "cli.opt.gradebook": "the SQLite gradebook file (default <folder>.gradebook.sqlite)",
    "cli.opt.feedback": "a folder for one feedback file per student",
    "cli.opt.no_resume": "grade everything again, also what the gradebook already has",
}
