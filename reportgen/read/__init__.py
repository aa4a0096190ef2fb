"""Read an executed notebook with the field's parsers: what its pages show.

- `markdown`: the site's own Markdown engine (Python-Markdown as mkdocs.yml configures it);
- `terminal`: stream text as a terminal leaves it (carriage returns, backspaces, ANSI), noise out;
- `outputs`: each output by MIME type, as Jupyter Book shows it; long ones cut for the page;
- `glue`: values glued with myst_nb or scrapbook, as named metrics and figures;
- `pasted`: glued values pasted into the prose (`{glue}` roles and directives), as MyST-NB pastes them;
- `notebook`: the whole notebook as sections (fresh prose, executed outputs), and the checks
  other parts ask (`prose_changed`, `expected_errors_only`);
- `page`: the sections as sanitised HTML, and the whole-notebook page;
- `model`: the typed view the pages read.
"""

from reportgen.read.model import Cell, Cut, Glued, NotebookHarvest, Output, Prose, Section
from reportgen.read.notebook import expected_errors_only, prose_changed, read_notebook, until_failure

__all__ = ["Cell", "Cut", "Glued", "NotebookHarvest", "Output", "Prose", "Section", "expected_errors_only",
           "prose_changed", "read_notebook", "until_failure", "glued_records"]


def glued_records(harvest: NotebookHarvest | None) -> list:
    """Glued numbers as metric records, as the Recorder's (cards, comparison, checklists)."""
    from reportgen.results import Metric, Record

    if harvest is None:
        return []
    return [Record("metric", glued.name, glued.stage, metric=Metric(glued.name, glued.value, None, glued.stage))
            for glued in harvest.glued if glued.value is not None]
