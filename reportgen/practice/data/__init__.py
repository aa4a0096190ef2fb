"""Data sources: the embedded synthetic flowers, TensorFlow Datasets and image folders.

All three deliver a `Dataset` of NumPy arrays (uint8 images, int64 labels, optional bool
object masks) and the same facts, so nothing downstream knows where the pixels came from.
"""

from reportgen.practice.data.dataset import Dataset, DataSourceError, Split
from reportgen.practice.data.sources import data_identity, load_dataset

__all__ = ["Dataset", "DataSourceError", "Split", "data_identity", "load_dataset"]
