"""A real TFDS builder downloads and prepares with this project's install; only the network is faked.

The builder (`oxford_flowers102`) runs its own `download_and_prepare`: its split generators,
its example generator and TFDS's writer. Only the download manager is replaced, so that it
hands back tiny local files laid out like the real downloads.
"""

import numpy as np
import pytest
from PIL import Image

from reportgen.practice.config import DataConfig
from reportgen.practice.data import DataSourceError, load_dataset

tfds = pytest.importorskip("tensorflow_datasets")
scipy_io = pytest.importorskip("scipy.io")

IMAGES = 24  # labels cycle over the first three classes
SPLITS = {"trnid": list(range(1, 13)), "valid": list(range(13, 19)), "tstid": list(range(19, 25))}


def flowers102_downloads(folder):
    """Files shaped like the real downloads: `jpg/image_00001.jpg...`, imagelabels.mat, setid.mat."""
    (folder / "images" / "jpg").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for image_id in range(1, IMAGES + 1):
        pixels = rng.integers(0, 256, size=(20, 28, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / "images" / "jpg" / f"image_{image_id:05d}.jpg")
    labels = np.array([[1 + (i % 3) for i in range(IMAGES)]])  # 1-based, as in the real file
    scipy_io.savemat(folder / "imagelabels.mat", {"labels": labels})
    scipy_io.savemat(folder / "setid.mat", {name: np.array([ids]) for name, ids in SPLITS.items()})
    return {"images": folder / "images", "labels": folder / "imagelabels.mat", "setid": folder / "setid.mat"}


@pytest.fixture
def offline_downloads(tmp_path, monkeypatch):
    """The download manager returns the local files instead of fetching the URLs."""
    files = flowers102_downloads(tmp_path / "downloads")

    def download_and_extract(self, urls):
        assert set(urls) == set(files), "the builder asks for other files than the real ones"
        return {key: tfds.core.Path(path) for key, path in files.items()}

    monkeypatch.setattr(tfds.download.DownloadManager, "download_and_extract", download_and_extract)
    return tmp_path / "tfds"


def test_a_real_builder_prepares_offline_and_loads_through_the_tfds_source(offline_downloads):
    cfg = DataConfig(source="tfds", name="oxford_flowers102", data_dir=str(offline_downloads),
                     image_size=16, train_size=10, val_size=5, test_size=5)
    dataset = load_dataset(cfg)

    assert tfds.builder("oxford_flowers102", data_dir=str(offline_downloads)).is_prepared()
    assert dataset.train.images.shape == (10, 16, 16, 3) and len(dataset.test) == 5
    assert sorted(set(dataset.train.labels.tolist())) == [0, 1, 2]
    assert dataset.facts["val_split"] == "validation" and dataset.facts["test_split"] == "test"


def test_a_failing_preparation_reports_the_real_exception(offline_downloads, monkeypatch):
    def broken(self, urls):
        raise ModuleNotFoundError("No module named 'some_builder_dependency'")

    monkeypatch.setattr(tfds.download.DownloadManager, "download_and_extract", broken)
    cfg = DataConfig(source="tfds", name="oxford_flowers102", data_dir=str(offline_downloads))
    with pytest.raises(DataSourceError) as raised:
        load_dataset(cfg)
    message = str(raised.value)
    assert "ModuleNotFoundError" in message and "some_builder_dependency" in message
    assert "could not be downloaded" not in message
    assert str(offline_downloads) in message
