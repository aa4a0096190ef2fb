"""Data sources: the embedded synthetic flowers, TensorFlow Datasets and image folders.

All three deliver a `Dataset` of NumPy arrays (uint8 images, int64 labels, optional bool
object masks) and the same facts, so nothing downstream knows where the pixels came from.
"""

from reportgen.data.dataset import Dataset, DataSourceError, Split
from reportgen.data.sources import data_identity, load_dataset

__all__ = ["Dataset", "DataSourceError", "Split", "data_identity", "load_dataset"]
