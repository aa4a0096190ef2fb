"""`python -m reportgen new` starts a run that `report` executes without edits."""

from __future__ import annotations

import pytest
import yaml
from bs4 import BeautifulSoup

from reportgen.cli import main
from reportgen.errors import EXIT_CONFIG, EXIT_OK

from conftest import make_project


@pytest.fixture
def project(tmp_path):
    root = make_project(tmp_path / "portfolio")
    (root / "experiments" / "augmentation_xai.ipynb").unlink()  # a student's project of their own
    return root


@pytest.mark.slow
def test_a_new_run_with_a_new_notebook_is_reported_without_edits(project):
    assert main(["--project", str(project), "new", "primera", "--notebook", "mio"]) == EXIT_OK
    run_file = project / "experiments" / "runs" / "primera.yaml"
    assert (project / "experiments" / "mio.ipynb").is_file()
    text = run_file.read_text()
    for field in ("notebook:", "title:", "date:", "language:", "# backend:", "# description:", "# objectives:",
                  "# checklist:", "# references:", "# epochs: 20"):
        assert field in text, f"{field} missing from the run file"
    assert yaml.safe_load(text)["notebook"] == "mio"

    assert main(["--project", str(project), "report", "--quiet"]) == EXIT_OK

    page = BeautifulSoup((project / "site" / "runs" / "primera" / "index.html").read_text(), "html.parser")
    headings = [h.get_text(strip=True).rstrip("¶") for h in page.select("article h3")]
    assert headings[:3] == ["Datos", "Entrenamiento", "Resultados"]
    assert len(page.select("article img")) == 2 and "accuracy:" in page.get_text()


def test_new_uses_the_notebooks_own_parameters_and_refuses_to_overwrite(project):
    assert main(["--project", str(project), "new", "otra"]) == EXIT_OK  # no practice here: a notebook to begin from
    assert yaml.safe_load((project / "experiments" / "runs" / "otra.yaml").read_text())["notebook"] == "mi_notebook"
    assert main(["--project", str(project), "new", "otra"]) == EXIT_CONFIG
    assert main(["--project", str(project), "new", "../fuera"]) == EXIT_CONFIG
    assert not (project / "experiments" / "fuera.yaml").exists()
