"""Views over the model: ipywidgets and bqplot live here and nowhere else.

Each view computes its drawing with a pure function (numpy arrays, testable without a browser) and
pushes the result into widgets in one batch. Importing xenlab.viz does not import the widget
libraries; each view module does when it is imported.
"""
