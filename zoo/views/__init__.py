"""Views: every way a run record is shown (HTML, Markdown, CSV/JSON, JUnit XML, plots).

A view reads run records and never measures. :mod:`zoo.views.rows` turns a record into
display rows once, so every view shows the same numbers formatted the same way.
"""
