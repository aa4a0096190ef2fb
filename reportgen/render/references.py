"""The practice page's references, from what the run used: a method is cited when the run applied it.

Each reference names what it rests on: an augmentation in the advanced pipeline (MixUp, CutMix,
random erasing), an explanation method the run computed, the randomisation check when it ran,
the backbone it trained, the data source it read. A small_cnn run cites no EfficientNet.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.results import RunResults


@dataclass(frozen=True)
class Reference:
    title: str
    url: str


MIXUP = Reference("Zhang et al. (2018). mixup: Beyond Empirical Risk Minimization", "https://arxiv.org/abs/1710.09412")
CUTMIX = Reference("Yun et al. (2019). CutMix: Regularization Strategy to Train Strong Classifiers with "
                   "Localizable Features", "https://arxiv.org/abs/1905.04899")
ERASING = Reference("Zhong et al. (2020). Random Erasing Data Augmentation", "https://arxiv.org/abs/1708.04896")
METHODS = {
    "gradcam": Reference("Selvaraju et al. (2017). Grad-CAM: Visual Explanations from Deep Networks via "
                         "Gradient-based Localization", "https://arxiv.org/abs/1610.02391"),
    "gradcam_plus_plus": Reference("Chattopadhyay et al. (2018). Grad-CAM++: Improved Visual Explanations for Deep "
                                   "Convolutional Networks", "https://arxiv.org/abs/1710.11063"),
    "integrated_gradients": Reference("Sundararajan et al. (2017). Axiomatic Attribution for Deep Networks "
                                      "(Integrated Gradients)", "https://arxiv.org/abs/1703.01365"),
}
SANITY = Reference("Adebayo et al. (2018). Sanity Checks for Saliency Maps", "https://arxiv.org/abs/1810.03292")
BACKBONES = {
    "efficientnetb0": Reference("Tan & Le (2019). EfficientNet: Rethinking Model Scaling for Convolutional Neural "
                                "Networks", "https://arxiv.org/abs/1905.11946"),
    "mobilenetv2": Reference("Sandler et al. (2018). MobileNetV2: Inverted Residuals and Linear Bottlenecks",
                             "https://arxiv.org/abs/1801.04381"),
    "resnet50v2": Reference("He et al. (2016). Identity Mappings in Deep Residual Networks",
                            "https://arxiv.org/abs/1603.05027"),
}
KERAS = Reference("Keras: image augmentation layers",
                  "https://keras.io/api/layers/preprocessing_layers/image_augmentation/")
TFDS = Reference("TensorFlow Datasets", "https://www.tensorflow.org/datasets")
EXPLAINED = ("gradcam_hits", "gradcam_errors", "methods_baseline", "methods_advanced")  # their figures


def practice_references(run: RunResults) -> list[Reference]:
    """The references of what this practice run used, in the order the page uses them."""
    pipelines = run.facts.get("pipelines") if isinstance(run.facts.get("pipelines"), dict) else {}
    parameters = run.parameters if isinstance(run.parameters, dict) else {}
    found = []
    if pipelines.get("mixup"):
        found.append(MIXUP)
    if pipelines.get("cutmix"):
        found.append(CUTMIX)
    if any(isinstance(op, dict) and op.get("op") == "random_erasing" for op in pipelines.get("advanced") or []):
        found.append(ERASING)
    found += [METHODS[method] for method in _methods(run, parameters)]
    if (run.facts.get("explanations") or {}).get("randomisation"):
        found.append(SANITY)
    backbone = (parameters.get("model") or {}).get("backbone")
    if backbone in BACKBONES:
        found.append(BACKBONES[backbone])
    if pipelines.get("advanced") or pipelines.get("baseline"):
        found.append(KERAS)
    if (parameters.get("data") or {}).get("source") == "tfds":
        found.append(TFDS)
    return found


def _methods(run: RunResults, parameters: dict) -> list[str]:
    """The explanation methods the run computed: as its checks recorded them, else its parameters
    when it drew explanation figures."""
    checks = (run.facts.get("explanations") or {}).get("checks") or {}
    recorded = {method for methods in checks.values() if isinstance(methods, dict) for method in methods}
    if not recorded and any(name in run.figures or name in run.arrays for name in EXPLAINED):
        recorded = set((parameters.get("explanations") or {}).get("methods") or [])
    return [method for method in METHODS if method in recorded]
