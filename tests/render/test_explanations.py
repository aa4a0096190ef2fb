"""The reading of the explanation checks: crafted numbers in, the verdict and its sentence out, in both languages."""

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

from reportgen.render import explanations as xr
from reportgen.render.figures.xai import deletion_insertion, randomisation

IMAGES = 40


def per_image(mean, spread=0.02, seed=0):
    return np.clip(mean + np.random.default_rng(seed).normal(0, spread, IMAGES), 0, 1).tolist()


def recorded(energy, centre=0.3, area=0.15, pointing=0.8, centre_pointing=0.35, rho=(0.1, 0.12, 0.08),
             constant=(0, 0, 0), shortcut=0.0, other_energy=None):
    """An explanations.json with one method (Grad-CAM) for two models; the baseline model's numbers given."""
    def scores(mean, seed):
        return {"pointing_game": (np.random.default_rng(seed).random(IMAGES) < pointing).astype(float).tolist(),
                "energy_in_mask": per_image(mean, seed=seed), "deletion_auc": 0.2, "insertion_auc": 0.6}

    def cascade(values, zeros):
        return {"layers": ["logits", "conv2", "conv1"], "rho": [[0.9, 0.7, value] for value in values],
                "constant": [[0, 0, count] for count in zeros]}

    return {
        "images": IMAGES, "has_masks": True, "shortcut": shortcut, "centre_sigma": 0.15,
        "substrates": {"deletion": "black", "insertion": "blur", "blur_sigma": 0.05}, "randomisation_draws": 3, "randomisation_images": IMAGES,
        "baselines": {"centre": {"pointing_game": (np.arange(IMAGES) < centre_pointing * IMAGES).astype(float).tolist(),
                                 "energy_in_mask": per_image(centre, seed=7)},
                      "uniform": {"pointing_game": [area] * IMAGES, "energy_in_mask": [area] * IMAGES}},
        "checks": {"baseline": {"gradcam": scores(energy, 1)},
                   "advanced": {"gradcam": scores(energy if other_energy is None else other_energy, 2)}},
        "curves": {name: {"gradcam": {"fractions": [0, 0.5, 1], "deletion": [1, 0.4, 0.1],
                                      "insertion": [0.1, 0.6, 1]}} for name in ("baseline", "advanced")},
        "randomisation": {"baseline": {"gradcam": cascade(rho, constant)},
                          "advanced": {"gradcam": cascade((0.1, 0.1, 0.1), (0, 0, 0))}},
        "ig_completeness": {},
    }


def view(record, language):
    return xr.explanations_view(SimpleNamespace(facts={"explanations": record}, language=language))


def first_sentence(record, language):
    return view(record, language).sentences[0].text


# --------------------------------------------------------------------- localisation

def test_a_large_object_can_be_looked_at():
    record = recorded(energy=0.95, centre=0.84, area=0.7, pointing=1.0, centre_pointing=1.0)
    found = view(record, "en").localisation_of("baseline", "gradcam")
    assert found.verdict == "on_object" and found.baseline["energy_in_mask"][0] == "centre"
    english, spanish = first_sentence(record, "en"), first_sentence(record, "es")
    assert "the map looks at the object" in english and "95% CI [" in english and "paired bootstrap" in english
    assert "Baseline, Grad-CAM: 95." in english
    assert "el mapa mira el objeto" in spanish and "IC 95 % [" in spanish and "bootstrap pareado" in spanish


def test_beating_the_better_baseline_by_less_than_the_margin_cannot_tell():
    record = recorded(energy=0.30 + xr.LOCALISATION_MARGIN - 0.02, centre=0.30)
    found = view(record, "en").localisation_of("baseline", "gradcam")
    assert found.gains["energy_in_mask"].low > 0 and found.verdict == "inconclusive"
    assert "cannot tell the map from one that ignores the image" in first_sentence(record, "en")
    assert "no distinguen el mapa de uno que ignora la imagen" in first_sentence(record, "es")


def test_the_better_baseline_is_chosen_per_metric():
    record = recorded(energy=0.4, centre=0.1, area=0.2)  # here the flat map beats the centre prior
    found = view(record, "en").localisation_of("baseline", "gradcam")
    assert found.baseline["energy_in_mask"][0] == "uniform" and found.baseline["pointing_game"][0] == "centre"
    assert found.verdict == "on_object"


@pytest.mark.parametrize("language, words", [("en", "the model leans on the background"),
                                             ("es", "el modelo se apoya en el fondo")])
def test_a_map_below_the_objects_area_looks_at_the_background_and_names_the_shortcut(language, words):
    record = recorded(energy=0.08, area=0.15, shortcut=0.9)
    assert view(record, language).localisation_of("baseline", "gradcam").verdict == "background"
    sentence = first_sentence(record, language)
    assert words in sentence and ("0.90" in sentence or "0,90" in sentence)


@pytest.mark.parametrize("language, words", [("en", "cannot tell whether the model leans on the background"),
                                             ("es", "no permiten decir si el modelo se apoya en el fondo")])
def test_a_shortcut_run_that_cannot_be_told_apart_says_so(language, words):
    record = recorded(energy=0.3, centre=0.3, shortcut=0.9)
    assert words in first_sentence(record, language)


# ------------------------------------------------------------------- two models

@pytest.mark.parametrize("language, more, alike", [
    ("en", "Advanced puts more of its Grad-CAM energy on the object than Baseline: 20.", "includes zero"),
    ("es", "Avanzado pone más energía de Grad-CAM sobre el objeto que Baseline: 20,", "incluye el cero")])
def test_the_models_are_compared_on_the_same_images(language, more, alike):
    different = [s.text for s in view(recorded(energy=0.4, other_energy=0.6), language).sentences]
    assert any(s.startswith(more) for s in different) and not any(alike in s for s in different)
    similar = [s.text for s in view(recorded(energy=0.4), language).sentences]
    assert any(alike in s for s in similar)


# ---------------------------------------------------------------- randomisation

def test_a_strongly_negative_rho_fails_the_randomisation_test():
    record = recorded(energy=0.5, rho=(-0.85, -0.88, -0.83))
    found = view(record, "en").randomisation_of("baseline", "gradcam")
    assert found.verdict == "fail" and found.mean == pytest.approx(-0.853, abs=1e-3)
    english = [s.text for s in view(record, "en").sentences if "randomised" in s.text]
    assert english and "ρ = −0.85" in english[0] and "not a reliable explanation" in english[0]
    spanish = [s.text for s in view(record, "es").sentences if "aleatorizar" in s.text]
    assert spanish and "ρ = −0,85" in spanish[0] and "no es una explicación fiable" in spanish[0]


def test_draws_on_both_sides_of_the_limit_are_unsettled():
    record = recorded(energy=0.5, rho=(0.3, 0.62, 0.45))
    assert view(record, "en").randomisation_of("baseline", "gradcam").verdict == "unsettled"
    assert any("unsettled" in s.text and "from 0.30 to 0.62" in s.text for s in view(record, "en").sentences)
    assert any("no es concluyente" in s.text for s in view(record, "es").sentences)


def test_every_draw_under_the_limit_passes_and_constant_maps_are_reported_not_counted():
    record = recorded(energy=0.5, rho=(0.1, None, 0.2), constant=(3, IMAGES, 0))
    found = view(record, "en").randomisation_of("baseline", "gradcam")
    assert found.verdict == "pass" and found.mean == pytest.approx(0.15) and found.constant == IMAGES + 3
    sentences = [s.text for s in view(record, "en").sentences]
    assert any("passes for every method and model" in s for s in sentences)
    assert any(f"{IMAGES + 3} of {3 * IMAGES} map pairs" in s and "constant" in s for s in sentences)
    spanish = [s.text for s in view(record, "es").sentences]
    assert any("pasa para todos los métodos y modelos" in s for s in spanish)
    assert any(f"{IMAGES + 3} de {3 * IMAGES} pares de mapas" in s for s in spanish)
    assert xr.sanity_verdict([None, None]) == "unchecked"


# ------------------------------------------------------------- test and figures

def test_the_paired_bootstrap_is_deterministic_and_brackets_the_mean():
    differences = np.random.default_rng(1).normal(0.1, 0.05, 30)
    first, again = xr.paired_bootstrap(differences), xr.paired_bootstrap(differences)
    assert first == again and first.low < first.mean < first.high and first.images == 30
    assert xr.paired_bootstrap([0.2] * 5) == xr.Interval(0.2, 0.2, 0.2, 5)


def test_captions_name_the_substrates_and_the_model_in_the_page_language():
    english, spanish = view(recorded(energy=0.5), "en"), view(recorded(energy=0.5), "es")
    assert "blurred copy" in english.caption("deletion_insertion") and "σ = 5% of the side" in english.caption(
        "deletion_insertion")
    assert "desenfocada" in spanish.caption("deletion_insertion")
    assert "Advanced model" in english.caption("methods_advanced")
    assert "modelo Avanzado" in spanish.caption("methods_advanced")
    assert "3 seeded draws" in english.caption("randomisation")


def test_a_run_without_masks_or_checks_reads_what_it_has():
    record = recorded(energy=0.5)
    del record["baselines"]
    assert view(record, "en").localisations == [] and "no object masks" in view(record, "en").notes[0]
    assert xr.explanations_view(SimpleNamespace(facts={}, language="en")) is None


def test_drawers_draw_the_recorded_curves_in_the_page_language():
    run = SimpleNamespace(facts={"explanations": recorded(energy=0.5)}, language="es")
    figure = deletion_insertion(run, "es")
    deletion_ax, insertion_ax = figure.axes
    assert deletion_ax.get_title().startswith("Borrado")
    assert [t.get_text() for t in insertion_ax.get_legend().get_texts()] == ["Baseline (AUC 0,575)",
                                                                            "Avanzado (AUC 0,575)"]
    assert isinstance(randomisation(run, "en"), Figure)
    empty = SimpleNamespace(facts={}, language="en")
    assert deletion_insertion(empty, "en") is None and randomisation(empty, "en") is None
