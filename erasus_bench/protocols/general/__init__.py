"""The `general` protocol: classifier unlearning on a small tabular/image dataset."""
from erasus_bench.protocols.general import protocol  # noqa: F401
