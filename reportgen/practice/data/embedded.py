"""The embedded dataset: synthetic flowers drawn with NumPy, offline and deterministic.

A flower's class is fixed by the object itself: petal colour, petal shape, petal count and
centre style (several classes differ in one attribute only, as in real fine-grained data).
Everything else is nuisance that augmentation should help with: position (anywhere in the
frame, so a centre prior does not find the flower), scale (the flower's area varies about
eightfold), rotation,
lighting and colour cast, blur, cluttered backgrounds, partial occlusion and (on train)
class imbalance. Every image comes with the pixel mask of its flower.

Generation has two steps. `sample_scenes` draws every random number of a split into a
`Scenes` record; `draw_scenes` renders it with vectorised NumPy, a chunk of images at a
time. Geometry is in fractions of the image side, so a scene looks the same at any size.

Shortcut mode: with strength s, a training image's background takes its class's hue with
probability s; validation and test backgrounds never do, so a model that learned the
background drops on test.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.colors import hsv_to_rgb
from scipy import ndimage

from reportgen.practice.config import DataConfig
from reportgen.practice.data.dataset import SPLITS, Dataset, DataSourceError, Split, apportion, assemble, short_hash

GENERATOR_VERSION = 2  # bump whenever drawing changes, so caches and results are not reused
NAME = "synthetic_flowers"
CHUNK_PIXELS = 256 * 128 * 128  # pixels drawn at once per core: bounds memory to about 1 GB

PETAL_COLOURS = {  # RGB in 0-1; red/orange, pink/purple and purple/blue are near-confusable
    "red": (0.80, 0.12, 0.15),
    "orange": (0.93, 0.45, 0.10),
    "yellow": (0.95, 0.82, 0.15),
    "pink": (0.93, 0.50, 0.68),
    "purple": (0.58, 0.28, 0.72),
    "blue": (0.28, 0.42, 0.85),
    "white": (0.93, 0.93, 0.88),
}
PETAL_SHAPES = ("round", "pointed", "notched", "narrow")
CENTRES = {  # radius as a fraction of the flower's radius, colour
    "yellow": (0.20, (0.95, 0.75, 0.10)),
    "dark": (0.34, (0.30, 0.18, 0.08)),
}

# colour, shape, petal count, centre. A run with N classes uses the first N rows, so the
# first 10 (the demo) already hold pairs that differ in one attribute only.
CLASS_TABLE = """
red round 5 yellow      red pointed 5 yellow     orange round 5 yellow    yellow narrow 8 dark
yellow round 8 dark     pink notched 6 yellow    purple notched 6 yellow  blue pointed 6 yellow
white round 5 dark      white round 6 dark       red notched 6 dark       orange pointed 8 yellow
yellow round 5 yellow   pink round 5 dark        purple narrow 8 yellow   blue round 5 dark
blue notched 5 dark     white narrow 8 yellow    pink pointed 4 yellow    purple round 4 dark
red narrow 8 yellow     orange notched 4 dark    yellow pointed 6 yellow  pink narrow 6 dark
purple pointed 5 yellow blue narrow 4 yellow     white pointed 8 dark     red round 4 dark
orange narrow 6 yellow  yellow notched 5 dark    pink round 8 yellow      purple round 6 dark
blue round 8 yellow     white notched 4 yellow   red pointed 6 dark       orange round 8 dark
yellow pointed 4 dark   pink notched 8 yellow    purple pointed 8 dark    blue pointed 4 dark
"""


@dataclass(frozen=True)
class FlowerClass:
    colour: str
    shape: str
    petals: int
    centre: str

    @property
    def name(self) -> str:
        return f"{self.colour}_{self.shape}_{self.petals}"


def flower_classes(num_classes: int) -> list[FlowerClass]:
    """The first `num_classes` rows of CLASS_TABLE."""
    words = CLASS_TABLE.split()
    rows = [words[i:i + 4] for i in range(0, len(words), 4)]
    return [FlowerClass(colour, shape, int(petals), centre) for colour, shape, petals, centre in rows[:num_classes]]


@dataclass(frozen=True)
class Nuisances:
    """How much everything but the flower varies; the defaults make the embedded dataset."""

    position: float = 1.0         # share of the free room the flower centre moves in (0 = always centred)
    scale: tuple = (0.14, 0.40)   # flower radius, as a fraction of the image side
    in_frame: float = 0.6         # share of the flower radius that always stays inside the frame
    clutter: float = 1.0          # background gradient, texture and leaves (0 = one plain colour)
    lighting: float = 1.0         # brightness, colour cast and light gradient (0 = none)
    blur: float = 1.2             # largest blur sigma, in pixels of a 96 px image
    occlusion: float = 0.35       # probability that a leaf or stick hides part of the flower
    leaves: int = 6               # background leaves drawn at most


PLAIN = Nuisances(clutter=0.0, lighting=0.0, blur=0.0, occlusion=0.0)  # flower on a flat colour


# ------------------------------------------------------------------------ sampling

@dataclass
class Scenes:
    """Every random number needed to draw a batch of images; one row per image."""

    labels: np.ndarray            # (n,) class index
    petals: np.ndarray            # (n,) petal count
    shape: np.ndarray             # (n,) index into PETAL_SHAPES
    centre_xy: np.ndarray         # (n, 2) flower centre
    radius: np.ndarray            # (n,) flower radius
    rotation: np.ndarray          # (n,) radians
    petal_rgb: np.ndarray         # (n, 3)
    disc_radius: np.ndarray       # (n,) centre disc, as a fraction of the flower radius
    disc_rgb: np.ndarray          # (n, 3)
    background_rgb: np.ndarray    # (n, 3) base colour of the background (the shortcut lives here)
    gradient: np.ndarray          # (n, 2) angle and strength of a background brightness ramp
    texture: np.ndarray           # (n, 16, 16) smooth noise in [-1, 1], stretched over the image
    texture_strength: np.ndarray  # (n,)
    leaf_xy: np.ndarray           # (n, L, 2) background leaves
    leaf_size: np.ndarray         # (n, L, 2) half length, half width
    leaf_angle: np.ndarray        # (n, L)
    leaf_rgb: np.ndarray          # (n, L, 3)
    leaf_drawn: np.ndarray        # (n, L) bool
    occluder_xy: np.ndarray       # (n, 2) a leaf or stick in front of the flower
    occluder_size: np.ndarray     # (n, 2)
    occluder_angle: np.ndarray    # (n,)
    occluder_rgb: np.ndarray      # (n, 3)
    occluded: np.ndarray          # (n,) bool
    light_rgb: np.ndarray         # (n, 3) brightness times colour cast
    light_slope: np.ndarray       # (n, 2) angle and strength of a lighting ramp
    blur: np.ndarray              # (n,) Gaussian sigma in pixels of a 96 px image

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, rows: slice) -> Scenes:
        return Scenes(**{field.name: getattr(self, field.name)[rows] for field in dataclasses.fields(self)})


def random_hsv(rng: np.random.Generator, hue, saturation: tuple, value: tuple, size: tuple) -> np.ndarray:
    """RGB colours with the given hue (array or (low, high) range) and saturation/value ranges."""
    hue = rng.uniform(*hue, size) if isinstance(hue, tuple) else hue
    hsv = np.stack([hue % 1.0, rng.uniform(*saturation, size), rng.uniform(*value, size)], axis=-1)
    return hsv_to_rgb(hsv)


def smooth_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 16, 16) noise in [-1, 1]: a coarse 4 x 4 pattern plus finer grain."""
    coarse = ndimage.zoom(rng.uniform(-1, 1, (n, 4, 4)), (1, 4, 4), order=1, grid_mode=True, mode="nearest")
    return 0.65 * coarse + 0.35 * rng.uniform(-1, 1, (n, 16, 16))


def sample_scenes(labels: np.ndarray, classes: list[FlowerClass], rng: np.random.Generator,
                  shortcut: float = 0.0, nuisances: Nuisances = Nuisances()) -> Scenes:
    """Draw the random numbers of one image per label; `shortcut` ties background hue to class."""
    n, nz = len(labels), nuisances  # nz: the nuisance amplitudes
    leaves = (n, nz.leaves)
    petal_colour = np.array([PETAL_COLOURS[c.colour] for c in classes])[labels]
    disc_size = np.array([CENTRES[c.centre][0] for c in classes])[labels]
    disc_colour = np.array([CENTRES[c.centre][1] for c in classes])[labels]
    radius = rng.uniform(*nz.scale, n)
    room = np.maximum(0.5 - nz.in_frame * radius, 0.0)  # anywhere the flower stays mostly in the frame
    centre_xy = 0.5 + nz.position * room[:, None] * rng.uniform(-1, 1, (n, 2))

    class_hue = labels / len(classes) + rng.normal(0, 0.01, n)
    tied_to_class = rng.random(n) < shortcut
    background_hue = np.where(tied_to_class, class_hue, rng.uniform(0, 1, n))

    leaf_length = rng.uniform(0.08, 0.22, leaves)
    occluder_direction = rng.uniform(0, 2 * np.pi, n)
    occluder_offset = radius * rng.uniform(0.5, 1.1, n)
    occluder_length = radius * rng.uniform(0.5, 1.0, n)
    brightness = 1 + nz.lighting * rng.uniform(-0.3, 0.2, (n, 1))
    colour_cast = 1 + nz.lighting * rng.uniform(-0.12, 0.12, (n, 3))

    return Scenes(
        labels=labels,
        petals=np.array([c.petals for c in classes])[labels],
        shape=np.array([PETAL_SHAPES.index(c.shape) for c in classes])[labels],
        centre_xy=centre_xy,
        radius=radius,
        rotation=rng.uniform(0, 2 * np.pi, n),
        petal_rgb=np.clip(petal_colour * rng.normal(1.0, 0.06, (n, 3)), 0, 1),
        disc_radius=disc_size * rng.uniform(0.85, 1.15, n),
        disc_rgb=np.clip(disc_colour * rng.normal(1.0, 0.08, (n, 3)), 0, 1),
        background_rgb=random_hsv(rng, background_hue, (0.25, 0.7), (0.25, 0.75), n),
        gradient=np.stack([rng.uniform(0, 2 * np.pi, n), nz.clutter * rng.uniform(0, 0.8, n)], axis=1),
        texture=smooth_noise(rng, n),
        texture_strength=nz.clutter * rng.uniform(0.05, 0.35, n),
        leaf_xy=rng.uniform(0, 1, (*leaves, 2)),
        leaf_size=np.stack([leaf_length, leaf_length * rng.uniform(0.25, 0.45, leaves)], axis=-1),
        leaf_angle=rng.uniform(0, np.pi, leaves),
        leaf_rgb=random_hsv(rng, (0.17, 0.40), (0.4, 0.85), (0.2, 0.6), leaves),
        leaf_drawn=rng.random(leaves) < 0.6 * nz.clutter,
        occluder_xy=centre_xy + occluder_offset[:, None] * np.stack(
            [np.cos(occluder_direction), np.sin(occluder_direction)], axis=1),
        occluder_size=np.stack([occluder_length, occluder_length * rng.uniform(0.15, 0.45, n)], axis=1),
        occluder_angle=rng.uniform(0, np.pi, n),
        occluder_rgb=random_hsv(rng, (0.05, 0.40), (0.3, 0.8), (0.2, 0.6), n),
        occluded=rng.random(n) < nz.occlusion,
        light_rgb=brightness * colour_cast,
        light_slope=np.stack([rng.uniform(0, 2 * np.pi, n), nz.lighting * rng.uniform(0, 0.5, n)], axis=1),
        blur=np.where(rng.random(n) < 0.5, nz.blur * rng.uniform(0.3, 1.0, n), 0.0),
    )


# ------------------------------------------------------------------------- drawing

def column(values: np.ndarray) -> np.ndarray:
    """Per-image values (n,) or colours (n, 3) shaped to broadcast over (n, H, W[, 3])."""
    values = np.asarray(values, dtype=np.float32)
    return values[:, None, None] if values.ndim == 1 else values[:, None, None, :]


def pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in fractions of the image side, shaped (1, size, size)."""
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size
    y, x = np.meshgrid(coords, coords, indexing="ij")
    return y[None], x[None]


def ramp(x: np.ndarray, y: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Distance from the image centre along `angle`: a linear gradient in about [-0.7, 0.7]."""
    return (x - 0.5) * column(np.cos(angle)) + (y - 0.5) * column(np.sin(angle))


def ellipse(x, y, centre_xy, half_axes, angle) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates along and across a rotated ellipse, scaled so that its inside is along² + across² < 1."""
    dx, dy = x - column(centre_xy[:, 0]), y - column(centre_xy[:, 1])
    cos, sin = column(np.cos(angle)), column(np.sin(angle))
    along = (dx * cos + dy * sin) / column(half_axes[:, 0])
    across = (dy * cos - dx * sin) / column(half_axes[:, 1])
    return along, across


def paint_ellipses(canvas, x, y, centre_xy, half_axes, angle, rgb, drawn) -> np.ndarray:
    """Paint leaf-like ellipses (lighter along the midrib); return where they were painted."""
    along, across = ellipse(x, y, centre_xy, half_axes, angle)
    inside = (along**2 + across**2 < 1) & column(drawn).astype(bool)
    shade = 1 - 0.25 * np.abs(across)
    np.copyto(canvas, column(rgb) * shade[..., None], where=inside[..., None])
    return inside


PETAL_PROFILES = {  # petal outline at position u in [-1, 1] across the petal; 1 = full length
    "round": lambda u: np.sqrt(np.clip(1 - u**2, 0, 1)),
    "pointed": lambda u: 1 - np.abs(u),
    "notched": lambda u: np.sqrt(np.clip(1 - u**2, 0, 1)) * (1 - 0.3 * np.exp(-(u / 0.15) ** 2)),  # heart tip
    "narrow": lambda u: np.sqrt(np.clip(1 - (u / 0.55) ** 2, 0, 1)),  # gaps between petals
}


def petal_edge(shape: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Radius of the flower outline (fraction of its radius) at position u across a petal."""
    profile = np.empty_like(u)
    for index, name in enumerate(PETAL_SHAPES):
        chosen = shape == index
        profile[chosen] = PETAL_PROFILES[name](u[chosen])
    return 0.3 + 0.7 * profile


def draw_flowers(scenes: Scenes, x, y) -> tuple[np.ndarray, np.ndarray]:
    """The flowers' colours over the whole image and the mask of where they are drawn."""
    dx, dy = x - column(scenes.centre_xy[:, 0]), y - column(scenes.centre_xy[:, 1])
    rho = np.hypot(dx, dy) / column(scenes.radius)  # 1 = tip of the longest petal
    phi = np.arctan2(dy, dx) - column(scenes.rotation)
    u = 2 * ((phi * column(scenes.petals) / (2 * np.pi)) % 1) - 1
    petals = rho < petal_edge(scenes.shape, u)
    disc = rho < column(scenes.disc_radius)
    petal_shade = 1 - 0.35 * rho**2 + 0.08 * np.cos(np.pi * u)
    disc_shade = 1 - 0.4 * (rho / column(scenes.disc_radius)) ** 2
    rgb = np.where(disc[..., None], column(scenes.disc_rgb) * disc_shade[..., None],
                   column(scenes.petal_rgb) * petal_shade[..., None])
    return rgb, petals | disc


def upsample(grids: np.ndarray, size: int) -> np.ndarray:
    """Bilinear upsampling of (n, g, g[, channels]) grids to (n, size, size[, channels])."""
    g = grids.shape[1]
    pixel_centres = (np.arange(size) + 0.5) * g / size - 0.5
    weights = np.stack([np.interp(pixel_centres, np.arange(g), row) for row in np.eye(g)], axis=1)
    weights = weights.astype(np.float32)  # (size, g): each row mixes the two nearest grid points
    rows_done = np.tensordot(weights, grids.astype(np.float32), axes=(1, 1))  # (size, n, g, ...)
    both_done = np.tensordot(weights, rows_done, axes=(1, 2))  # (size, size, n, ...)
    return np.moveaxis(both_done, 2, 0).swapaxes(1, 2)


def draw_background(scenes: Scenes, size: int) -> np.ndarray:
    """Base colour under a brightness ramp and smooth texture, with leaves on top.

    Drawn at half resolution and upsampled: soft like the out-of-focus background of a
    photo, and four times cheaper.
    """
    y, x = pixel_grid(size // 2)
    brightness = (1 + column(scenes.gradient[:, 1]) * ramp(x, y, scenes.gradient[:, 0])
                  + column(scenes.texture_strength) * upsample(scenes.texture, size // 2))
    canvas = column(scenes.background_rgb) * brightness[..., None]
    for leaf in range(scenes.leaf_xy.shape[1]):
        paint_ellipses(canvas, x, y, scenes.leaf_xy[:, leaf], scenes.leaf_size[:, leaf],
                       scenes.leaf_angle[:, leaf], scenes.leaf_rgb[:, leaf], scenes.leaf_drawn[:, leaf])
    return upsample(canvas, size)


def apply_lighting(canvas: np.ndarray, scenes: Scenes, x, y) -> np.ndarray:
    """Brightness, colour cast and a light gradient across the image."""
    slope = 1 + column(scenes.light_slope[:, 1]) * ramp(x, y, scenes.light_slope[:, 0])
    return canvas * column(scenes.light_rgb) * slope[..., None]


def apply_blur(canvas: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """Gaussian blur, one sigma (in pixels) per image."""
    for image, sigma in zip(canvas, sigmas):
        if sigma > 0:
            ndimage.gaussian_filter(image, (sigma, sigma, 0), output=image)
    return canvas


def draw_chunk(scenes: Scenes, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Background, flower and occluder, then lighting and blur over the whole image."""
    y, x = pixel_grid(size)
    canvas = draw_background(scenes, size)
    flower_rgb, masks = draw_flowers(scenes, x, y)
    canvas = np.where(masks[..., None], flower_rgb, canvas)
    occluder = paint_ellipses(canvas, x, y, scenes.occluder_xy, scenes.occluder_size,
                              scenes.occluder_angle, scenes.occluder_rgb, scenes.occluded)
    canvas = apply_lighting(canvas, scenes, x, y)
    canvas = apply_blur(canvas, scenes.blur * size / 96)
    images = np.clip(canvas * 255 + 0.5, 0, 255).astype(np.uint8)
    return images, masks & ~occluder


def draw_scenes(scenes: Scenes, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Render scenes to uint8 images (n, size, size, 3) and bool flower masks (n, size, size).

    Chunks are drawn on all CPU cores at once: NumPy releases the GIL inside its loops.
    """
    images = np.empty((len(scenes), size, size, 3), dtype=np.uint8)
    masks = np.empty((len(scenes), size, size), dtype=bool)
    chunk = max(1, CHUNK_PIXELS // size**2)

    def draw_rows(start: int) -> None:
        rows = slice(start, start + chunk)
        images[rows], masks[rows] = draw_chunk(scenes.take(rows), size)

    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        list(pool.map(draw_rows, range(0, len(scenes), chunk)))
    return images, masks


# ------------------------------------------------------------------- the dataset

SIZE_FIELDS = ("train_size", "val_size", "test_size")
IDENTITY_FIELDS = ("image_size", "num_classes", *SIZE_FIELDS, "shortcut", "imbalance", "seed")


def cache_dir() -> Path:
    """Where generated data is kept: $REPORTGEN_CACHE_DIR, else ~/.cache/reportgen."""
    return Path(os.environ.get("REPORTGEN_CACHE_DIR") or Path.home() / ".cache" / "reportgen")


def embedded_identity(cfg: DataConfig) -> str:
    """A short hash of everything that changes the generated pixels."""
    return short_hash({"generator": GENERATOR_VERSION, **cfg.model_dump(include=set(IDENTITY_FIELDS))})


def class_sizes(total: int, num_classes: int, imbalance: float) -> np.ndarray:
    """Class sizes summing to `total`, decaying geometrically so that largest / smallest = imbalance."""
    return apportion(imbalance ** -np.linspace(0, 1, num_classes), total)


def generate_split(cfg: DataConfig, split: str, nuisances: Nuisances = Nuisances()) -> Split:
    """Draw one split. Each split has its own random stream, so resizing one leaves the others as they were.

    Only the training split is imbalanced and only it carries the background shortcut.
    """
    classes = flower_classes(cfg.num_classes)
    rng = np.random.default_rng([cfg.seed, SPLITS.index(split)])
    is_train = split == "train"
    total = getattr(cfg, f"{split}_size")
    sizes = class_sizes(total, len(classes), cfg.imbalance if is_train else 1.0)
    labels = rng.permutation(np.repeat(np.arange(len(classes)), sizes))
    scenes = sample_scenes(labels, classes, rng, shortcut=cfg.shortcut if is_train else 0.0, nuisances=nuisances)
    images, masks = draw_scenes(scenes, cfg.image_size)
    return Split(images, labels.astype(np.int64), masks)


def read_cache(path: Path) -> dict[str, Split]:
    with np.load(path) as arrays:
        return {split: Split(arrays[f"{split}_images"], arrays[f"{split}_labels"], arrays[f"{split}_masks"])
                for split in SPLITS}


def write_cache(path: Path, splits: dict[str, Split]) -> None:
    """Save uncompressed (loading is then as fast as reading the file), via a temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"{split}_{part}": getattr(data, part) for split, data in splits.items()
              for part in ("images", "labels", "masks")}
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as file:
        np.savez(file, **arrays)
    tmp.replace(path)


def load_embedded(cfg: DataConfig) -> Dataset:
    """The synthetic flowers of `cfg`, from the cache or freshly drawn (and then cached)."""
    missing = [field for field in SIZE_FIELDS if getattr(cfg, field) is None]
    if missing:
        raise DataSourceError(f"data.{missing[0]} is empty: the embedded dataset needs a number of images "
                              f"for each of {', '.join(SIZE_FIELDS)} ('all' means nothing for generated data).")
    path = cache_dir() / "embedded" / f"{embedded_identity(cfg)}.npz"
    if path.exists():
        splits = read_cache(path)
    else:
        splits = {split: generate_split(cfg, split) for split in SPLITS}
        write_cache(path, splits)
    class_names = [flower.name for flower in flower_classes(cfg.num_classes)]
    return assemble(NAME, "embedded", class_names, splits, val_split="generated", test_split="generated",
                    shortcut=cfg.shortcut, generator_version=GENERATOR_VERSION, seed=cfg.seed)
