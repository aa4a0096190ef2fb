"""practice/stages: the practice records its facts only through the contract (reportgen/facts.py)."""

from __future__ import annotations

import json

import numpy as np
import pydantic
import pytest

from reportgen.facts import FactError, TsneFacts, read_facts
from reportgen.practice.stages import Practice

TSNE = {"index": [0, 1], "labels": [2, 0], "points": {"baseline": [[0.5, 1.0], [2.0, -1.0]]}}


def test_the_notebooks_parameters_are_validated_again_and_an_unknown_section_field_fails(tmp_path):
    practice = Practice.from_notebook(str(tmp_path), data={"image_size": 32, "num_classes": 6})
    assert practice.params.data.image_size == 32
    with pytest.raises(pydantic.ValidationError, match="imagesize"):
        Practice.from_notebook(str(tmp_path), data={"imagesize": 32})


def test_a_fact_is_written_as_its_model_says_and_read_back_by_attribute(tmp_path):
    practice = Practice.from_notebook(str(tmp_path))
    # NumPy values are what the stages produce; the file holds plain JSON.
    checked = practice.record("tsne", {**TSNE, "index": np.array([0, 1]), "labels": np.array([2, 0])})
    assert isinstance(checked, TsneFacts)
    written = json.loads((tmp_path / "tsne.json").read_text())
    assert written == TSNE
    assert read_facts({"tsne": written}).tsne.points["baseline"][1] == [2.0, -1.0]


def test_a_fact_that_breaks_the_contract_fails_in_the_notebook_and_writes_nothing(tmp_path):
    practice = Practice.from_notebook(str(tmp_path))
    with pytest.raises(pydantic.ValidationError, match="labels"):
        practice.record("tsne", {**TSNE, "labels": "two"})
    with pytest.raises(pydantic.ValidationError, match="Extra inputs"):  # a renamed key is caught too
        practice.record("tsne", {**TSNE, "point": TSNE["points"]})
    assert not (tmp_path / "tsne.json").exists()


def test_a_results_file_that_breaks_the_contract_names_the_file_and_field_when_read():
    with pytest.raises(FactError, match=r"tsne\.json .*labels"):
        read_facts({"tsne": {**TSNE, "labels": "two"}})
