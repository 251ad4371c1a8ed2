"""What the views share: showing their widget as a cell's value, and callbacks that show their errors.

A view keeps ``self.widget`` (what a notebook shows when the view is a cell's value) and, if it has
buttons or observers, ``self.errors`` (the tracebacks of failed callbacks) and ``self.error_box`` (an
HTML widget in its layout). ``self._guarded(fn)`` wraps a callback so that an exception is caught,
its traceback kept in ``errors`` and its message shown in red in ``error_box``: shown, never lost in
the browser's console.
"""
from __future__ import annotations

import traceback

from xenlab.i18n import t

ERROR_HTML = "<pre style='color:#b00'>{}</pre>"


class View:
    """Base of the views: ``_ipython_display_`` shows ``self.widget``; ``_guarded`` wraps callbacks."""

    ERROR_KEY: str | None = None        # i18n message for a failed callback, given {error}; None: the error alone
    CLEAR_ERROR: bool = True            # a callback that succeeds clears the error box

    def error_text(self, exc: Exception) -> str:
        """What the error box says about ``exc``."""
        error = f"{type(exc).__name__}: {exc}"
        return t(self.ERROR_KEY, error=error) if self.ERROR_KEY else error

    def _guarded(self, fn):
        """Run a button or observer callback; show an error in the widget instead of losing it in a log."""
        def callback(*args):
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001  (the view's bug or the student's: shown, never lost)
                self.errors.append(traceback.format_exc())
                self.error_box.value = ERROR_HTML.format(self.error_text(exc))
                return
            if self.CLEAR_ERROR:
                self.error_box.value = ""
        return callback

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
