"""The course view: every student's portfolio in one MkDocs Material site, for the reviewer.

    roster.yaml --roster--> students --fetch--> plain files --summary--> one summary per run
                --cache (by commit)--> the course site (site.py): roster table, a page per student,
                cross-student views, flags, a CSV for grading

`python -m reportgen course ROSTER.yaml [--out DIR]` (`build_course`). Every portfolio is hostile
input: nothing of a student's is executed, imported or used as a template, and a portfolio that
cannot be fetched or read gets a row saying why while the rest of the course builds.
"""

from reportgen.course.build import build_course

__all__ = ["build_course"]
