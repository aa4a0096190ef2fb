"""The augmentation pipelines in words: what each recorded operation is and how strong it is.

The practice records each pipeline as its operations' settings (numbers); the page's table
and label-risk warnings are worded here, in the page's language.
"""

from __future__ import annotations

from reportgen.render.numbers import general, percent
from reportgen.render.strings import strings


def _strength(op: dict, words: dict, language: str) -> str:
    """The strength of one operation in words a reader can check against the mosaic."""
    area, probability = words["area"], words["probability"]

    def share(fraction: float) -> str:
        return percent(fraction, language, digits=0)

    match op["op"]:
        case "flip":
            return words["flip_modes"][op.get("mode", "horizontal")]
        case "rotation":
            return f"±{op['factor'] * 360:.0f}°"
        case "hue":
            return f"±{op['factor'] * 180:.0f}°"
        case "translation":
            return f"±{share(op['factor'])} {words['of_size']}"
        case "random_resized_crop":
            low, high = op["scale"]
            return f"{area} {share(low)}–{share(high)}"
        case "random_erasing":
            low, high = op["scale"]
            return f"{probability} {general(op['probability'], language)}, {area} {share(low)}–{share(high)}"
        case _:  # zoom, brightness, contrast, saturation: a relative change either way
            return f"±{share(op['factor'])}"


def describe_pipeline(ops: list[dict], language: str, mixup: dict | None = None,
                      cutmix: dict | None = None) -> list[dict]:
    """Rows {operation, strength} for the page's table of one pipeline, in order."""
    words = strings(language)["pipelines"]
    rows = [{"operation": words["operations"][op["op"]], "strength": _strength(op, words, language)} for op in ops]
    for name, mixing in (("mixup", mixup), ("cutmix", cutmix)):
        if mixing:
            rows.append({"operation": words["operations"][name],
                         "strength": f"alpha {general(mixing['alpha'], language)}, "
                                     f"{words['probability']} {general(mixing['probability'], language)}"})
    return rows


def risk_warnings(risks: list[dict], preset: str, language: str) -> list[str]:
    """One sentence per recorded label risk (reportgen.practice.augmentation.label_risks)."""
    words = strings(language)["pipelines"]
    sentences = []
    for risk in risks:
        values = {key: value for key, value in risk.items() if key not in ("risk", "op")}
        if "mode" in values:
            values["mode"] = words["flip_modes"].get(values["mode"], values["mode"])
        sentences.append(words["risks"][risk["risk"]].format(op=risk["op"], preset=words["presets"][preset],
                                                             **values))
    return sentences
