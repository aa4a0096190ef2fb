"""One entry point for the three kinds of data source named by `DataConfig.source`."""

from __future__ import annotations

from reportgen.practice.config import DataConfig
from reportgen.practice.data.dataset import Dataset
from reportgen.practice.data.embedded import embedded_identity, load_embedded
from reportgen.practice.data.folders import folder_identity, load_folder
from reportgen.practice.data.tfds_source import load_tfds, tfds_identity

LOADERS = {"embedded": load_embedded, "tfds": load_tfds, "folder": load_folder}
IDENTITIES = {"embedded": embedded_identity, "tfds": tfds_identity, "folder": folder_identity}


def load_dataset(cfg: DataConfig) -> Dataset:
    """Load the run's data: three splits of NumPy arrays and the facts the page reports."""
    return LOADERS[cfg.source](cfg)


def data_identity(cfg: DataConfig) -> str:
    """A short hash naming the data for the results cache, computed without loading any pixels."""
    return IDENTITIES[cfg.source](cfg)
