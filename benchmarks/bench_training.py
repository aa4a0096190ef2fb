"""Training-step throughput (images/s) without augmentation, with Keras' layers and with the fused layer.

    python benchmarks/bench_training.py [--size 224] [--batch 64] [--steps 20] [--warmup 3]
        [--repeats 3] [--models efficientnetb0 small_cnn] [--xla auto|off] [--out PATH]
    KERAS_BACKEND=jax python benchmarks/bench_training.py ...    # the same on JAX

Each model (weights=None) trains as reportgen.practice.training builds it, `augmentation -> classifier`,
on one fixed batch of random 0-255 images fed from NumPy every step, under three pipelines:
none, the default advanced pipeline as one Keras layer per operation (`fused=False`), and the
same pipeline fused (`RandomAffine`, the default). On a GPU the classifier runs in
mixed_float16, as in training. `--xla auto` lets Keras decide (XLA when every layer allows
it, except TensorFlow on a CPU; reportgen.practice.training uses XLA only on a GPU); `--xla off`
never uses it. With torch and timm importable, timm's efficientnet_b0 is timed too, without
augmentation, for reference.
Writes a JSON (default benchmarks/results/training-<backend>-<device>-<date>.json) and prints a table.
"""

import argparse
import datetime
import importlib.util
import json
import os
import re
import subprocess
import time
from pathlib import Path

import keras
import numpy as np

from reportgen.practice.augmentation import build_pipeline
from reportgen.practice.config import AugmentationConfig, ModelConfig
from reportgen.practice.models import build_classifier
from reportgen.practice.training import dtype_policy, gpu_available

VARIANTS = {"none": ([], True), "keras_layers": (AugmentationConfig().advanced, False),
            "fused": (AugmentationConfig().advanced, True)}  # name: (operations, fused)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="image side in pixels")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="timed training steps per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (compilation)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement; the best counts")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--models", nargs="+", default=["efficientnetb0", "small_cnn"],
                        choices=["efficientnetb0", "small_cnn", "mobilenetv2", "resnet50v2"])
    parser.add_argument("--xla", choices=["auto", "off"], default="auto")
    parser.add_argument("--out", type=Path, help="JSON path (default under benchmarks/results/)")
    return parser.parse_args()


def accelerator() -> str:
    """The GPU's name, or the CPU and its cores."""
    if not gpu_available():
        return f"cpu ({os.cpu_count()} cores)"
    query = ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"]
    try:
        return subprocess.run(query, capture_output=True, text=True, check=True).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "gpu"


class RepeatedBatch(keras.utils.PyDataset):
    """The same batch `steps` times: the feed costs one host-to-device copy per step, no more."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, steps: int):
        super().__init__()
        self.batch, self.steps = (images, labels), steps

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int):
        return self.batch


def build_trainer(backbone: str, variant: str, args) -> keras.Model:
    """`augmentation -> classifier` as reportgen.practice.training builds it, compiled for training."""
    ops, fused = VARIANTS[variant]
    augmentation = build_pipeline(ops, seed=0, fused=fused)
    with dtype_policy(gpu_available()):
        model = ModelConfig(backbone=backbone, weights="none")
        classifier = build_classifier(model, args.classes, args.size, seed=0)
        trainer = keras.Sequential([keras.Input((args.size, args.size, 3)), augmentation, classifier])
    trainer.compile(optimizer="adam", loss="categorical_crossentropy",
                    jit_compile="auto" if args.xla == "auto" else False)
    return trainer


def seconds_for(trainer: keras.Model, batch: tuple, steps: int) -> float:
    start = time.perf_counter()
    trainer.fit(RepeatedBatch(*batch, steps), epochs=1, verbose=0)
    return time.perf_counter() - start


def keras_results(args, batch: tuple) -> list[dict]:
    """Every (model, pipeline): warm up, then time `args.steps` steps `args.repeats` times.

    The repeats go round all the trainers in turn, so a slow spell on a shared machine
    slows every pipeline alike; each result is the best of its repeats.
    """
    trainers = {(backbone, variant): build_trainer(backbone, variant, args)
                for backbone in args.models for variant in VARIANTS}
    for trainer in trainers.values():
        seconds_for(trainer, batch, args.warmup)  # compiles
    speeds = {key: [] for key in trainers}
    for _ in range(args.repeats):
        for key, trainer in trainers.items():
            speeds[key].append(args.steps * args.batch / seconds_for(trainer, batch, args.steps))
    return [{"framework": f"keras {keras.__version__} ({keras.backend.backend()})", "model": backbone,
             "augmentation": variant, "images_per_second": max(speeds[backbone, variant]),
             "repeats": speeds[backbone, variant], "xla": bool(trainer.jit_compile),
             "mixed_precision": gpu_available()}
            for (backbone, variant), trainer in trainers.items()]


def timm_images_per_second(args, host_images: np.ndarray) -> dict:
    """timm's efficientnet_b0 in PyTorch, no augmentation: bfloat16 autocast on CUDA, Adam, same feed."""
    import timm
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = timm.create_model("efficientnet_b0", pretrained=False, num_classes=args.classes)
    model = model.to(device, memory_format=torch.channels_last).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.from_numpy(host_images).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    images = images.pin_memory() if device == "cuda" else images
    labels = torch.randint(0, args.classes, (args.batch,), device=device)

    def step():
        batch = images.to(device, non_blocking=True)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
            loss = torch.nn.functional.cross_entropy(model(batch), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def timed(steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    timed(args.warmup)
    speeds = [args.steps * args.batch / timed(args.steps) for _ in range(args.repeats)]
    return {"framework": f"torch {torch.__version__} + timm {timm.__version__}", "model": "efficientnet_b0",
            "augmentation": "none", "images_per_second": max(speeds), "repeats": speeds,
            "xla": False, "mixed_precision": device == "cuda"}


def print_table(results: list[dict]) -> None:
    """One row per measurement, with its speed relative to the same model without augmentation."""
    baseline = {r["model"]: r["images_per_second"] for r in results if r["augmentation"] == "none"}
    print(f"{'model':<16}{'augmentation':<14}{'images/s':>10}{'vs none':>9}  xla  framework")
    for r in results:
        relative = r["images_per_second"] / baseline[r["model"]]
        print(f"{r['model']:<16}{r['augmentation']:<14}{r['images_per_second']:>10.0f}{relative:>8.2f}x"
              f"  {'yes' if r['xla'] else 'no ':<4} {r['framework']}")


def default_out(device: str) -> Path:
    """benchmarks/results/training-<backend>-<device>-<date>.json: no host name in it."""
    device = re.sub(r"[^a-z0-9]+", "-", device.lower().split(" (")[0]).strip("-")
    name = f"training-{keras.backend.backend()}-{device}-{datetime.date.today()}.json"
    return Path(__file__).parent / "results" / name


def main() -> None:
    args = parse_args()
    device = accelerator()
    print(f"training step, {args.size} px, batch {args.batch}, best of {args.repeats} x {args.steps} steps, "
          f"on {device}")
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (args.batch, args.size, args.size, 3)).astype(np.float32)
    labels = keras.utils.to_categorical(rng.integers(0, args.classes, args.batch), args.classes)

    results = keras_results(args, (images, labels))
    skipped = None
    if "efficientnetb0" in args.models:
        if importlib.util.find_spec("torch") and importlib.util.find_spec("timm"):
            results.append(timm_images_per_second(args, images))
        else:
            skipped = "timm efficientnet_b0: torch and timm are not both importable"
            print(f"skipped {skipped}")
    print_table(results)

    out = args.out or default_out(device)
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": "training_step", "date": datetime.datetime.now().isoformat(timespec="seconds"),
              "device": device, "keras_backend": keras.backend.backend(),
              "settings": {**vars(args), "out": out.name},  # no local paths in committed results
              "pipeline": [op.model_dump() for op in AugmentationConfig().advanced],
              "results": results, "skipped": skipped}
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
