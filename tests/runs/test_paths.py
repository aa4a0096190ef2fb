"""runs/paths: path parameters are taken from the project root, checked before a kernel starts, and
the data they name is part of the results cache key."""

from __future__ import annotations

import os

import pytest

from reportgen.errors import RunFailed
from reportgen.runs.paths import data_identity, injected_paths, resolve, resolve_paths


def test_a_relative_path_is_taken_from_the_project_root_and_words_that_are_not_paths_stay(tmp_path):
    values = {"data": {"path": "datos/flores", "source": "folder"}, "model": {"weights": "imagenet"}}
    resolved = resolve_paths(values, tmp_path)
    assert resolved["data"]["path"] == str((tmp_path / "datos" / "flores").resolve())
    assert resolved["model"]["weights"] == "imagenet" and resolved["data"]["source"] == "folder"
    assert values["data"]["path"] == "datos/flores"  # the run file's spelling is kept for the parameters' hash
    assert resolve("/abs/x", tmp_path) == "/abs/x"


def test_a_missing_folder_fails_before_the_notebook_starts_naming_the_field_and_both_spellings(tmp_path):
    with pytest.raises(RunFailed) as error:
        injected_paths({"data": {"path": "no/existe"}}, tmp_path)
    message = str(error.value)
    assert "data.path 'no/existe'" in message and str(tmp_path / "no" / "existe") in message
    assert "project root" in message


def test_only_the_sections_holding_paths_are_injected_made_absolute(tmp_path):
    (tmp_path / "imgs").mkdir()
    injected = injected_paths({"data": {"path": "imgs", "image_size": 32}, "training": {"epochs": 1}}, tmp_path)
    assert injected == {"data": {"path": str((tmp_path / "imgs").resolve()), "image_size": 32}}


def test_the_datas_identity_follows_the_files_it_names_and_is_empty_without_paths(tmp_path):
    folder = tmp_path / "imgs"
    (folder / "a").mkdir(parents=True)
    image = folder / "a" / "1.png"
    image.write_bytes(b"x")
    params = {"data": {"path": "imgs"}}
    before = data_identity(params, tmp_path)
    assert before and data_identity(params, tmp_path) == before
    image.write_bytes(b"xy")  # a changed image changes the key
    assert data_identity(params, tmp_path) != before
    after_edit = data_identity(params, tmp_path)
    (folder / "a" / "2.png").write_bytes(b"z")  # so does an added one
    assert data_identity(params, tmp_path) != after_edit
    assert data_identity({"training": {"epochs": 1}}, tmp_path) == ""


def test_a_schema_that_knows_its_data_answers_for_it(tmp_path):
    class Known:
        def data_identity(self, root):
            return f"tfds:flowers@{os.path.basename(root)}"

    assert data_identity(Known(), tmp_path) == f"tfds:flowers@{tmp_path.name}"
