"""The practice, stage by stage: what the notebook calls, one function per stage.

Each stage computes its evidence with the package's modules, records it (JSON, CSV,
figures) through a `Recorder`, and returns what later stages need. The notebook stays a
readable sequence of these calls; the logic lives here, where tests reach it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.practice.config import RunParameters
from reportgen.practice.figures import pipeline_label
from reportgen.record import Recorder


STAGES = {
    "data": ("Exploración y preparación del dataset", "Dataset exploration and preparation"),
    "pipelines": ("Pipelines de augmentation y su verificación visual", "Augmentation pipelines and their visual check"),
    "training": ("Entrenamiento comparable de ambos pipelines", "Comparable training of both pipelines"),
    "lr_sweep": ("Sensibilidad al learning rate", "Learning-rate sensitivity"),
    "evaluation": ("Evaluación: métricas, TTA, robustez, calibración, t-SNE", "Evaluation: metrics, TTA, robustness, calibration, t-SNE"),
    "explanations": ("Explicabilidad: GradCAM, Grad-CAM++, IG y sus comprobaciones", "Explainability: GradCAM, Grad-CAM++, IG and their checks"),
}


@dataclass
class Practice:
    """One execution of the practice: its parameters, where it records, and the page language."""

    params: RunParameters
    recorder: Recorder
    language: str = "es"

    @classmethod
    def from_notebook(cls, language: str = "es", output_dir: str = ".", **sections) -> "Practice":
        """Build from the notebook's parameter variables (validated again: notebooks can be run by hand)."""
        return cls(RunParameters.model_validate(sections), Recorder(output_dir), language)

    @property
    def es(self) -> bool:
        return self.language == "es"

    def say(self, es: str, en: str) -> str:
        return es if self.es else en

    def stage(self, key: str):
        """Time a stage under its name in the page's language (the page's 'Actividades' table)."""
        return self.recorder.stage(self.say(*STAGES[key]))

    # ------------------------------------------------------------------ data

    def load_data(self):
        """Load the dataset and record its facts, a grid of samples and the class distribution."""
        from reportgen.practice.data import load_dataset
        from reportgen.practice.figures import data as figures

        dataset = load_dataset(self.params.data)
        self.recorder.json("dataset", dataset.facts)
        self.recorder.figure(figures.samples_grid(dataset, language=self.language), "samples",
                             self.say("Ejemplos por clase (train).", "Samples per class (train)."))
        self.recorder.figure(figures.class_distribution(dataset, language=self.language), "class_distribution",
                             self.say("Imágenes por clase en cada split.", "Images per class in each split."))
        return dataset

    # ------------------------------------------------------------- pipelines

    def show_pipelines(self, dataset) -> None:
        """Record both pipelines as tables, label-risk warnings, the mosaic and the MixUp/CutMix figure."""
        from reportgen.practice import augmentation
        from reportgen.practice.figures import augmentation as figures

        cfg = self.params.augmentation
        self.recorder.json("pipelines", {
            "baseline": augmentation.describe_pipeline(cfg.baseline, language=self.language),
            "advanced": augmentation.describe_pipeline(cfg.advanced, cfg.mixup, cfg.cutmix, language=self.language),
            "mixup": cfg.mixup, "cutmix": cfg.cutmix,
            "warnings": augmentation.label_risk_warnings(cfg.advanced, cfg.preset, language=self.language),
        })
        image = dataset.train.images[0]
        self.recorder.figure(
            figures.augmentation_mosaic(image, cfg.advanced, draws=cfg.mosaic_draws, seed=self.params.data.seed,
                                        language=self.language), "mosaic",
            self.say("La misma imagen (arriba a la izquierda, original) bajo varias realizaciones del pipeline avanzado.",
                     "The same image (top left, the original) under several draws of the advanced pipeline."))
        if cfg.mixup or cfg.cutmix:
            self.recorder.figure(
                figures.mixing_figure(dataset.train.images[:8], dataset.train.labels[:8], dataset.class_names,
                                      cfg.mixup, cfg.cutmix, seed=self.params.data.seed, language=self.language),
                "mixing", self.say("Imágenes mezcladas por MixUp / CutMix con sus etiquetas mezcladas.",
                                   "Images mixed by MixUp / CutMix with their mixed labels."))

    # -------------------------------------------------------------- training

    def train(self, dataset, checkpoint_dir=None):
        """Train both pipelines under one protocol (per seed, from the same initial weights).

        Records the protocol's settings, which runs diverged, and the per-epoch history (the
        curves are drawn from it at render time). A diverged seed is a result; the run fails only
        when a pipeline has no seed that finished, with the divergence as its error.
        """
        from reportgen.errors import RunFailed
        from reportgen.practice import training

        comparison = training.compare(
            self.params, (dataset.train.images, dataset.train.labels), (dataset.val.images, dataset.val.labels),
            num_classes=len(dataset.class_names), checkpoint_dir=checkpoint_dir)
        self.recorder.json("protocol", {
            "settings": comparison.protocol.settings(),
            "initial_weights_hash": comparison.initial_weights_hash,
            "status": comparison.status, "diverged": comparison.diverged, "seconds": comparison.seconds})
        self.recorder.table("history", comparison.history)
        if comparison.status != "ok":
            self.recorder.json("status", {"status": comparison.status, "message": comparison.message})
            raise RunFailed(comparison.message)
        return comparison

    def lr_sweep(self, dataset) -> None:
        """Optional: short runs at several learning rates (training.lr_sweep in the run file)."""
        from reportgen.practice import training

        rates = self.params.training.lr_sweep
        if not rates:
            return
        sweep = training.lr_sweep(self.params, (dataset.train.images, dataset.train.labels),
                                  (dataset.val.images, dataset.val.labels), len(dataset.class_names), rates)
        self.recorder.table("lr_sweep", sweep)

    # ------------------------------------------------------------ evaluation

    def evaluate(self, dataset, comparison):
        """Score every finished model on the test split; record the numbers the page reads and draws.

        metrics.json (headline and detailed numbers), per_image.json (the per-image numbers the
        page's comparisons and intervals come from), metrics.csv, tsne.json (2-D coordinates)
        and the top-5 grid, the one figure made of images.
        """
        from reportgen.practice import evaluation
        from reportgen.practice.figures import evaluation as figures

        test = dataset.test
        clean = {"train": (dataset.train.images, dataset.train.labels), "val": (dataset.val.images, dataset.val.labels)}
        per_model = {pipeline: [] for pipeline in ("baseline", "advanced")}
        for (pipeline, seed), model in sorted(comparison.models.items()):
            per_model[pipeline].append(evaluation.evaluate_pipeline(
                model, test.images, test.labels, dataset.class_names, self.params.evaluation, pipeline, seed,
                **clean))
        report = evaluation.build_report(per_model, dataset.class_names)
        self.recorder.json("metrics", report)
        self.recorder.json("per_image", evaluation.per_image_record(per_model))
        self.recorder.table("metrics", evaluation.metrics_table(report))
        self.recorder.figure(figures.top_k_figure(test.images, report.pipelines["advanced"].top_k_examples), "top5")
        points = self.params.evaluation.tsne_points
        embeddings = {pipeline: evaluation.embeddings(comparison.models[(pipeline, result.detail_seed)],
                                                      test.images[:points])
                      for pipeline, result in report.pipelines.items()}
        self.recorder.json("tsne", evaluation.tsne_points(embeddings, test.labels[:points], seed=self.params.data.seed))
        return report

    # ---------------------------------------------------------- explanations

    def explain(self, dataset, comparison, report) -> dict:
        """Explain both models on the same images and check the explanations quantitatively."""
        from reportgen.practice import evaluation, xai
        from reportgen.practice.figures import xai as figures

        cfg = self.params.explanations
        test = dataset.test
        models = {pipeline: comparison.models[(pipeline, report.pipelines[pipeline].detail_seed)]
                  for pipeline in ("baseline", "advanced")}
        probs = {name: evaluation.predict(model, test.images) for name, model in models.items()}
        predicted = {name: p.argmax(axis=1) for name, p in probs.items()}
        confidence = {name: p.max(axis=1) for name, p in probs.items()}
        chosen = xai.select_examples(probs["advanced"], test.labels, cfg.num_images)
        captions = {"hits": self.say("GradCAM sobre los aciertos más confiados del modelo avanzado; el baseline, en las mismas imágenes.",
                                     "GradCAM on the advanced model's most confident hits; the baseline on the same images."),
                    "errors": self.say("GradCAM sobre los errores más confiados del modelo avanzado; el baseline, en las mismas imágenes.",
                                       "GradCAM on the advanced model's most confident errors; the baseline on the same images.")}
        for kind, index in chosen.items():
            if len(index):
                maps = {name: xai.gradcam(model, test.images[index]) for name, model in models.items()}
                self.recorder.figure(figures.explanation_grid(
                    test.images[index], maps, test.labels[index], {n: p[index] for n, p in predicted.items()},
                    {n: c[index] for n, c in confidence.items()}, dataset.class_names, language=self.language),
                    f"gradcam_{kind}", captions[kind])
        index = np.concatenate([chosen["hits"], chosen["errors"]])[: cfg.num_images]
        for name, model in models.items():
            maps, gaps = self._method_maps(model, test.images[index], cfg)
            self.recorder.figure(figures.method_comparison(
                test.images[index], maps, test.labels[index], predicted[name][index], dataset.class_names,
                ig_gaps=gaps, language=self.language), f"methods_{name}", self.say(
                    f"GradCAM, Grad-CAM++ e Integrated Gradients sobre las mismas imágenes (modelo {pipeline_label(name)}).",
                    f"GradCAM, Grad-CAM++ and Integrated Gradients on the same images ({pipeline_label(name, 'en')} model)."))
        summary, curves = self._check_explanations(models, test, cfg)
        self.recorder.json("explanations", summary)
        self.recorder.figure(figures.deletion_insertion_figure(curves, language=self.language),
                             "deletion_insertion", self.say(
                                 "Curvas de borrado e inserción (GradCAM): probabilidad de la clase al quitar o agregar píxeles por orden de atribución.",
                                 "Deletion and insertion curves (GradCAM): class probability as pixels are removed or added in attribution order."))
        return summary

    def _method_maps(self, model, images, cfg) -> tuple[dict, np.ndarray | None]:
        """Each configured method's maps for the same images, and IG's completeness gaps."""
        from reportgen.practice import xai

        maps, gaps = {}, None
        if "gradcam" in cfg.methods:
            maps["gradcam"] = xai.gradcam(model, images)
        if "gradcam_plus_plus" in cfg.methods:
            maps["gradcam_plus_plus"] = xai.gradcam_plus_plus(model, images)
        if "integrated_gradients" in cfg.methods:
            maps["integrated_gradients"], gaps = xai.IntegratedGradients(model, steps=cfg.ig_steps).attribute(
                images, return_gap=True)
        return maps, gaps

    def _check_explanations(self, models: dict, test, cfg) -> tuple[dict, dict]:
        """Pointing game and energy in the object mask, deletion/insertion, randomisation sanity check.

        Returns the JSON summary for the page and the GradCAM deletion/insertion curves per model.
        """
        from reportgen.practice import xai, xai_checks
        from reportgen.practice.interpretation import interpret_explanations

        images = test.images[: cfg.checks_images]
        masks = None if test.masks is None else test.masks[: cfg.checks_images]
        explainers = {"gradcam": xai.gradcam, "gradcam_plus_plus": xai.gradcam_plus_plus,
                      "integrated_gradients": lambda m, x, target=None: xai.integrated_gradients(
                          m, x, target, steps=cfg.ig_steps)}
        checks, sanity, completeness, curves = {}, {}, {}, {}
        for name, model in models.items():
            checks[name], sanity[name] = {}, {}
            for method in cfg.methods:
                maps = explainers[method](model, images)
                result = xai_checks.deletion_insertion(model, images, maps)
                if method == "gradcam":
                    curves[name] = result
                row = {"deletion_auc": float(result.deletion_auc.mean()),
                       "insertion_auc": float(result.insertion_auc.mean())}
                if masks is not None:
                    row["pointing_game"] = float(xai_checks.pointing_game(maps, masks).mean())
                    row["energy_in_mask"] = float(xai_checks.energy_in_mask(maps, masks).mean())
                checks[name][method] = row
                sanity[name][method] = xai_checks.randomization_sanity_check(
                    model, images, explain=explainers[method], top_layers=2).mean_spearman
            if "integrated_gradients" in cfg.methods:
                _, gaps = xai.IntegratedGradients(model, steps=cfg.ig_steps).attribute(images, return_gap=True)
                completeness[name] = float(np.mean(gaps))
        summary = {"images": len(images), "has_masks": masks is not None,
                   "object_area": None if masks is None else float(masks.mean()),
                   "shortcut": self.params.data.shortcut, "checks": checks, "sanity": sanity,
                   "ig_completeness": completeness}
        summary["findings"] = interpret_explanations(summary, self.language)
        return summary, curves
