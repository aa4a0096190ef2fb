"""The reading of the explanation checks (the comparisons' reading is render-time:
`reportgen.render.interpretation`)."""

from __future__ import annotations

from reportgen.practice.figures import pipeline_label


def _number(value: float, language: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "es" else text


def _percent(fraction: float, language: str) -> str:
    return _number(100 * fraction, language) + (" %" if language == "es" else "%")


# ------------------------------------------------------------------ explanations

ENERGY_LIFT = 1.5  # energy in the object at least this many times its area: the map looks at the object
MODEL_ENERGY_DIFFERENCE = 0.05  # 5 points of energy: the smallest difference between models worth a sentence
SANITY_MAX_SPEARMAN = 0.5  # above this, a map barely depends on the learned weights
METHOD_NAMES = {"gradcam": "GradCAM", "gradcam_plus_plus": "Grad-CAM++", "integrated_gradients": "Integrated Gradients"}

EXPLANATION_TEXT = {
    "es": {
        "on_object": "{model}: el {energy} de la energía de GradCAM cae dentro del objeto, que ocupa el {area} de la imagen: el mapa mira el objeto.",
        "off_object": "{model}: solo el {energy} de la energía de GradCAM cae dentro del objeto, que ocupa el {area} de la imagen: el mapa mira sobre todo el fondo.",
        "shortcut": " Con el atajo de fondo activo en train (intensidad {shortcut}), esto indica que el modelo aprendió el atajo.",
        "compare": "{better} concentra más energía en el objeto que {worse} ({a} frente a {b}).",
        "sanity": "{model}, {method}: el mapa apenas cambia al aleatorizar las capas superiores (ρ = {rho}); no es una explicación fiable de lo aprendido.",
        "sanity_ok": "La prueba de aleatorización pasa para todos los métodos y modelos (ρ ≤ {limit}): los mapas dependen de los pesos aprendidos.",
    },
    "en": {
        "on_object": "{model}: {energy} of the GradCAM energy lies inside the object, which covers {area} of the image: the map looks at the object.",
        "off_object": "{model}: only {energy} of the GradCAM energy lies inside the object, which covers {area} of the image: the map looks mostly at the background.",
        "shortcut": " With the background shortcut active on train (strength {shortcut}), this says the model learned the shortcut.",
        "compare": "{better} concentrates more energy on the object than {worse} ({a} against {b}).",
        "sanity": "{model}, {method}: the map barely changes when the top layers are randomised (ρ = {rho}); it is not a reliable explanation of what was learned.",
        "sanity_ok": "The randomisation test passes for every method and model (ρ ≤ {limit}): the maps depend on the learned weights.",
    },
}


def interpret_explanations(summary: dict, language: str = "es") -> list[str]:
    """Sentences on the explanation checks: where GradCAM looks, which model looks better, sanity."""
    text = EXPLANATION_TEXT[language]
    model_name = {name: pipeline_label(name, language) for name in summary["checks"]}
    sentences = []
    area = summary.get("object_area")
    energy = {name: methods["gradcam"]["energy_in_mask"] for name, methods in summary["checks"].items()
              if "energy_in_mask" in methods.get("gradcam", {})}
    for name, value in energy.items():
        looks_at_object = value >= ENERGY_LIFT * area
        sentence = text["on_object" if looks_at_object else "off_object"].format(
            model=model_name[name], energy=_percent(value, language), area=_percent(area, language))
        if not looks_at_object and summary.get("shortcut"):
            sentence += text["shortcut"].format(shortcut=_number(summary["shortcut"], language))
        sentences.append(sentence)
    if len(energy) == 2:
        (better, a), (worse, b) = sorted(energy.items(), key=lambda item: -item[1])
        if a - b >= MODEL_ENERGY_DIFFERENCE:
            sentences.append(text["compare"].format(better=model_name[better], worse=model_name[worse],
                                                    a=_percent(a, language), b=_percent(b, language)))
    failures = [(name, method, rho) for name, methods in summary["sanity"].items()
                for method, rho in methods.items() if rho > SANITY_MAX_SPEARMAN]
    for name, method, rho in failures:
        sentences.append(text["sanity"].format(model=model_name[name], method=METHOD_NAMES.get(method, method),
                                               rho=f"{rho:.2f}".replace(".", "," if language == "es" else ".")))
    if summary["sanity"] and not failures:
        sentences.append(text["sanity_ok"].format(limit=f"{SANITY_MAX_SPEARMAN:g}".replace(".", "," if language == "es" else ".")))
    return sentences
