"""Bad run files fail fast, with a message naming the file and the field, and touch nothing."""

from __future__ import annotations

import pytest

from reportgen.cli import main
from reportgen.errors import EXIT_CONFIG
from reportgen.errors import ConfigError
from reportgen.runs.config import load_run_file

from conftest import REPO, write_run

BAD_RUNS = [
    # (what is wrong, run-file content, expected fragment of the message)
    ("unknown top-level key", {"title": "x", "colour": "red"}, "field 'colour': unknown key"),
    ("missing title", {}, "field 'title'"),
    ("unknown parameter section", {"title": "x", "parameters": {"optimiser": {}}}, "parameters.optimiser"),
    ("unknown data key", {"title": "x", "parameters": {"data": {"imagesize": 64}}}, "parameters.data.imagesize"),
    ("wrong type", {"title": "x", "parameters": {"training": {"epochs": "many"}}}, "parameters.training.epochs"),
    ("epochs out of range", {"title": "x", "parameters": {"training": {"epochs": 0}}}, "greater than or equal to 1"),
    ("learning rate out of range", {"title": "x", "parameters": {"training": {"learning_rate": 1e7}}},
     "parameters.training.learning_rate"),
    ("unknown dataset source", {"title": "x", "parameters": {"data": {"source": "kaggle"}}},
     "'embedded', 'tfds' or 'folder'"),
    ("tfds without a name", {"title": "x", "parameters": {"data": {"source": "tfds"}}}, "needs 'name'"),
    ("folder without a path", {"title": "x", "parameters": {"data": {"source": "folder"}}}, "needs 'path'"),
    ("unknown backbone", {"title": "x", "parameters": {"model": {"backbone": "vgg16"}}},
     "parameters.model.backbone"),
    ("unknown augmentation op", {"title": "x", "parameters": {"augmentation": {"advanced": [{"op": "solarize"}]}}},
     "unknown operation; allowed: flip"),
    ("bad op strength", {"title": "x", "parameters": {"augmentation": {"advanced": [{"op": "rotation", "factor": 3}]}}},
     "parameters.augmentation.advanced.0.rotation.factor"),
    ("unknown op key", {"title": "x", "parameters": {"augmentation": {"baseline": [{"op": "flip", "axis": 1}]}}},
     "baseline.0.flip.axis"),
    ("image too small for backbone",
     {"title": "x", "parameters": {"model": {"backbone": "efficientnetb0"}, "data": {"image_size": 24}}},
     "too small for backbone 'efficientnetb0'"),
    ("top-5 with 3 classes", {"title": "x", "parameters": {"data": {"num_classes": 3}}}, "top_k 5 needs more classes"),
    ("fine-tuning without epochs", {"title": "x", "parameters": {"model": {"fine_tune_layers": 20}}},
     "fine_tune_epochs is 0"),
    ("unknown language", {"title": "x", "language": "fr"}, "field 'language'"),
    ("unknown notebook", {"title": "x", "notebook": "does_not_exist"}, "unknown notebook 'does_not_exist'"),
    ("mixup alpha out of range", {"title": "x", "parameters": {"augmentation": {"mixup": {"alpha": -1}}}},
     "parameters.augmentation.mixup.alpha"),
    ("seeds empty", {"title": "x", "parameters": {"training": {"seeds": []}}}, "parameters.training.seeds"),
    ("unknown backend", {"title": "x", "backend": "torch"}, "field 'backend'"),
    ("jax with tfds", {"title": "x", "backend": "jax", "parameters": {"data": {"source": "tfds", "name": "cifar10"}}},
     "backend 'jax' cannot read TensorFlow Datasets"),
]


@pytest.mark.parametrize("case,content,fragment", BAD_RUNS, ids=[c[0] for c in BAD_RUNS])
def test_bad_run_file_names_file_and_field(project, case, content, fragment):
    import shutil

    import yaml

    shutil.copy(REPO / "experiments" / "augmentation_xai.ipynb", project / "experiments")
    path = project / "experiments" / "runs" / "bad.yaml"

    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_run_file(path, notebooks_dir=project / "experiments")
    message = str(info.value)
    assert "bad.yaml" in message
    assert fragment in message
    assert "\n" not in message  # one paragraph, no traceback wall


def test_yaml_that_is_not_a_mapping(project):
    path = project / "experiments" / "runs" / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_run_file(path)


def test_yaml_tags_are_not_executed(project):
    """Run files go through a safe loader: a Python tag is an error, not code."""
    path = project / "experiments" / "runs" / "evil.yaml"
    path.write_text("title: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_run_file(path)
    assert not (project / "pwned").exists()


def test_cli_rejects_bad_run_before_touching_anything(project, capsys):
    write_run(project, "good")
    write_run(project, "bad", notebook="augmentation_xai", parameters={"training": {"epochs": -3}})
    (project / "experiments" / "augmentation_xai.ipynb").write_bytes(
        (REPO / "experiments" / "augmentation_xai.ipynb").read_bytes())
    docs_before = sorted(p.relative_to(project) for p in (project / "docs").rglob("*"))
    code = main(["--project", str(project), "report"])
    assert code == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "parameters.training.epochs" in err
    assert not (project / "experiments" / "results").exists()  # the good run did not execute either
    assert sorted(p.relative_to(project) for p in (project / "docs").rglob("*")) == docs_before
    assert not (project / "site").exists()


def test_defaults_are_a_valid_demo(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text("title: demo\n")
    run = load_run_file(path, notebooks_dir=REPO / "experiments")
    assert run.parameters.data.source == "embedded"
    assert [op.op for op in run.parameters.augmentation.baseline] == ["flip"]
