"""The practice, stage by stage: what the notebook calls, one function per stage.

Each stage computes its evidence with the package's modules, records it (JSON, CSV, the arrays
the page draws its figures from) through a `Recorder`, and returns what later stages need. The
notebook stays a readable sequence of these calls; the logic lives here, where tests reach it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen import facts
from reportgen.practice.config import RunParameters
from reportgen.record import Recorder, to_jsonable

RANDOMISATION_DRAWS = 3  # seeded draws of the cascading randomisation test: its spread goes on the page
RANDOMISATION_IMAGES = 8  # images per draw and step (Integrated Gradients there costs steps x draws x layers)

@dataclass
class Practice:
    """One execution of the practice: its parameters and where it records (numbers, never words)."""

    params: RunParameters
    recorder: Recorder

    @classmethod
    def from_notebook(cls, output_dir: str | None = None, **sections) -> "Practice":
        """Build from the notebook's parameter variables (validated again: notebooks can be run by hand)."""
        return cls(RunParameters.model_validate(sections), Recorder(output_dir))

    def stage(self, key: str):
        """Time a stage under its key (data, pipelines, ...); the page names it in its own language."""
        return self.recorder.stage(key)

    def record(self, name: str, value):
        """Record one of the practice's facts files through its model (`reportgen.facts.FILES`), so what
        the page reads is what the contract says; a mismatch fails here, in the notebook."""
        model = facts.FILES[name]
        checked = value if isinstance(value, model) else model.model_validate(to_jsonable(value))
        self.recorder.json(name, checked)
        return checked

    # ------------------------------------------------------------------ data

    def load_data(self):
        """Load the dataset and record its facts (class counts per split) and sample images per class."""
        from reportgen.practice import figure_data
        from reportgen.practice.data import load_dataset

        dataset = load_dataset(self.params.data)
        self.record("dataset", dataset.facts)
        self.recorder.arrays("samples", **figure_data.samples(dataset.train.images, dataset.train.labels,
                                                              len(dataset.class_names)))
        return dataset

    # ------------------------------------------------------------- pipelines

    def show_pipelines(self, dataset, advanced) -> None:
        """Record both pipelines' settings, their label risks, random draws of the advanced pipeline on one
        image (the mosaic) and MixUp/CutMix on pairs of images."""
        from reportgen.practice import augmentation, figure_data

        cfg = self.params.augmentation
        self.record("pipelines", {
            "baseline": cfg.baseline, "advanced": cfg.advanced, "mixup": cfg.mixup, "cutmix": cfg.cutmix,
            "preset": cfg.preset, "risks": augmentation.label_risks(cfg.advanced, cfg.preset),
        })
        seed = self.params.data.seed
        self.recorder.arrays("mosaic", **figure_data.mosaic(dataset.train.images[0], advanced, draws=cfg.mosaic_draws))
        if cfg.mixup or cfg.cutmix:
            self.recorder.arrays("mixing", **figure_data.mixing(
                dataset.train.images[:8], dataset.train.labels[:8], len(dataset.class_names), cfg.mixup,
                cfg.cutmix, seed=seed))

    # -------------------------------------------------------------- training

    def train(self, dataset, fit, checkpoint_dir=None):
        """Train both pipelines under one protocol (per seed, from the same initial weights), each run
        with the notebook's `fit(run)` (see `training.TrainingRun`).

        Records the protocol's settings, which runs diverged, and the per-epoch history (the
        curves are drawn from it at render time). A diverged seed is a result; the run fails only
        when a pipeline has no seed that finished, with the divergence as its error.
        """
        from reportgen.errors import RunFailed
        from reportgen.practice import training

        comparison = training.compare(
            self.params, fit, (dataset.train.images, dataset.train.labels), (dataset.val.images, dataset.val.labels),
            num_classes=len(dataset.class_names), checkpoint_dir=checkpoint_dir)
        self.record("protocol", {
            "settings": comparison.protocol.settings(),
            "initial_weights_hash": comparison.initial_weights_hash,
            "status": comparison.status, "diverged": comparison.diverged, "seconds": comparison.seconds})
        self.recorder.table("history", comparison.history)
        if comparison.status != "ok":
            self.recorder.json("status", {"status": comparison.status, "message": comparison.message})
            raise RunFailed(comparison.message)
        return comparison

    def lr_sweep(self, dataset, fit) -> None:
        """Optional: short runs of the notebook's `fit` at several learning rates (training.lr_sweep)."""
        from reportgen.practice import training

        rates = self.params.training.lr_sweep
        if not rates:
            return
        sweep = training.lr_sweep(self.params, fit, (dataset.train.images, dataset.train.labels),
                                  (dataset.val.images, dataset.val.labels), len(dataset.class_names), rates)
        self.recorder.table("lr_sweep", sweep)

    # ------------------------------------------------------------ evaluation

    def evaluate(self, dataset, comparison):
        """Score every finished model on the test split; record the numbers the page reads and draws.

        metrics.json (headline and detailed numbers), per_image.json (the per-image numbers the
        page's comparisons and intervals come from), metrics.csv, tsne.json (2-D coordinates)
        and the test images of the top-5 examples (their predictions are in metrics.json).
        """
        from reportgen.practice import evaluation, figure_data

        test = dataset.test
        clean = {"train": (dataset.train.images, dataset.train.labels), "val": (dataset.val.images, dataset.val.labels)}
        per_model = {pipeline: [] for pipeline in ("baseline", "advanced")}
        for (pipeline, seed), model in sorted(comparison.models.items()):
            per_model[pipeline].append(evaluation.evaluate_pipeline(
                model, test.images, test.labels, dataset.class_names, self.params.evaluation, pipeline, seed,
                **clean))
        report = evaluation.build_report(per_model, dataset.class_names)
        self.record("metrics", report)
        self.record("per_image", evaluation.per_image_record(per_model))
        self.recorder.table("metrics", evaluation.metrics_table(report))
        shown = [example.index for example in report.pipelines["advanced"].top_k_examples]
        self.recorder.arrays("top5", index=np.asarray(shown, dtype=int),
                             images=figure_data.thumbnails(test.images[shown], figure_data.THUMBNAIL_SIDE["top5"]))
        points = self.params.evaluation.tsne_points
        embeddings = {pipeline: evaluation.embeddings(comparison.models[(pipeline, result.detail_seed)],
                                                      test.images[:points])
                      for pipeline, result in report.pipelines.items()}
        self.record("tsne", evaluation.tsne_points(embeddings, test.labels[:points], seed=self.params.data.seed))
        return report

    # ---------------------------------------------------------- explanations

    def explain(self, dataset, comparison, report, explain) -> dict:
        """Explain both models on the same images with the notebook's `explain(model, images, method,
        target=None)`, and check the explanations quantitatively: every map the page draws or scores
        comes from that function.

        Records the arrays of the figures made of images (both models' Grad-CAM on the advanced
        model's most confident hits and errors, the methods side by side per model) and
        `explanations.json`, numbers only: the page draws and reads them.
        """
        from reportgen.practice import evaluation, figure_data, xai

        cfg = self.params.explanations
        test = dataset.test
        models = {pipeline: comparison.models[(pipeline, report.pipelines[pipeline].detail_seed)]
                  for pipeline in ("baseline", "advanced")}
        probs = {name: evaluation.predict(model, test.images) for name, model in models.items()}
        predicted = {name: p.argmax(axis=1) for name, p in probs.items()}
        confidence = {name: p.max(axis=1) for name, p in probs.items()}
        chosen = xai.select_examples(probs["advanced"], test.labels, cfg.num_images)
        side = figure_data.THUMBNAIL_SIDE
        for kind, index in chosen.items():
            if len(index):
                self.recorder.arrays(
                    f"gradcam_{kind}", images=figure_data.thumbnails(test.images[index], side["gradcam"]),
                    true=test.labels[index], models=np.asarray(list(models)),
                    maps=np.stack([figure_data.quantised_maps(explain(model, test.images[index], "gradcam"),
                                                              side["gradcam"]) for model in models.values()]),
                    predicted=np.stack([predicted[name][index] for name in models]),
                    confidence=np.stack([confidence[name][index] for name in models]).astype(np.float32))
        index = np.concatenate([chosen["hits"], chosen["errors"]])[: cfg.num_images]
        for name, model in models.items():
            maps, gaps = self._method_maps(explain, model, test.images[index])
            heatmaps = [xai.attribution_heatmap(m) if m.ndim == 4 else m for m in map(np.asarray, maps.values())]
            self.recorder.arrays(
                f"methods_{name}", images=figure_data.thumbnails(test.images[index], side["methods"]),
                true=test.labels[index], predicted=predicted[name][index], methods=np.asarray(list(maps)),
                maps=np.stack([figure_data.quantised_maps(m, side["methods"]) for m in heatmaps]),
                **({} if gaps is None else {"completeness_gap": np.asarray(gaps, dtype=np.float32)}))
        summary = self._check_explanations(explain, models, test, cfg)
        self.record("explanations", summary)
        return summary

    def _method_maps(self, explain, model, images) -> tuple[dict, np.ndarray | None]:
        """Each configured method's maps of the same images, and Integrated Gradients' completeness gaps."""
        from reportgen.practice import xai

        maps = {method: np.asarray(explain(model, images, method)) for method in self.params.explanations.methods}
        gaps = (xai.completeness_gap(model, images, maps["integrated_gradients"])
                if "integrated_gradients" in maps else None)
        return maps, gaps

    def _check_explanations(self, explain, models: dict, test, cfg) -> dict:
        """The numbers behind the page's reading of the explanations (see reportgen.render.explanations).

        Per model and method: per-image pointing game and energy in the object mask (with
        the model-free baselines on the same masks), deletion/insertion areas and mean
        curves, and the randomisation cascade's mean Spearman rho per draw and step.
        """
        from reportgen.practice import xai_checks

        images = test.images[: cfg.checks_images]
        masks = None if test.masks is None else test.masks[: cfg.checks_images]
        summary = {"images": len(images), "has_masks": masks is not None, "shortcut": self.params.data.shortcut,
                   "substrates": {"deletion": "black", "insertion": "blur", "blur_sigma": xai_checks.BLUR_SIGMA},
                   "randomisation_draws": RANDOMISATION_DRAWS,
                   "randomisation_images": min(RANDOMISATION_IMAGES, len(images)),
                   "checks": {}, "curves": {}, "randomisation": {}, "ig_completeness": {}}
        if masks is not None:
            summary["centre_sigma"] = xai_checks.CENTRE_SIGMA
            summary["baselines"] = xai_checks.model_free_baselines(masks)
        for name, model in models.items():
            summary["checks"][name], summary["curves"][name], summary["randomisation"][name] = {}, {}, {}
            maps, gaps = self._method_maps(explain, model, images)
            if gaps is not None:
                summary["ig_completeness"][name] = float(np.mean(gaps))
            for method, method_maps in maps.items():
                curves = xai_checks.deletion_insertion(model, images, method_maps)
                row = {"deletion_auc": float(curves.deletion_auc.mean()),
                       "insertion_auc": float(curves.insertion_auc.mean())}
                if masks is not None:
                    row["pointing_game"] = xai_checks.pointing_game(method_maps, masks).astype(float)
                    row["energy_in_mask"] = xai_checks.energy_in_mask(method_maps, masks)
                summary["checks"][name][method] = row
                summary["curves"][name][method] = {"fractions": curves.fractions,
                                                   "deletion": curves.deletion.mean(axis=0),
                                                   "insertion": curves.insertion.mean(axis=0)}
                cascade = xai_checks.cascading_randomisation(
                    model, images[:RANDOMISATION_IMAGES],
                    explain=lambda m, x, target=None, method=method: explain(m, x, method, target),
                    draws=RANDOMISATION_DRAWS,
                    seed=self.params.data.seed)
                summary["randomisation"][name][method] = {"layers": cascade.layers, "rho": cascade.mean_per_draw,
                                                          "constant": cascade.constant}
        return summary
