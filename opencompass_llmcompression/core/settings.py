"""What defines a measurement, in one frozen value: the window and the mode.

Every entry point (the OpenCompass inferencer and config, the paper's command line,
``llmcompression-zip``, the demo, the benchmarks) builds one ``MeasurementSettings`` at its
boundary, where it is checked once; below that it travels as this one value, and it comes
back up inside every prediction row and result (``as_record``), so the report reads how a
number was made from the number itself. The paper's values are written here and nowhere else.

The batch size, the dtype and the device are not settings of the measurement: the scored
tokens are the same for any batch size and the sums agree to float rounding, and the model's
identity (dtype included) is recorded beside the settings (``core.provenance``).
"""

from dataclasses import asdict, dataclass, fields
from typing import Mapping, Optional

import numpy as np

PAPER_BLOCK_SIZE = 1900  # tokens a window predicts from ("Compression Represents ...", 2024)
PAPER_STRIDE = 512  # tokens between window starts


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class MeasurementSettings:
    """The sliding window of the measurement (see ``core.windows`` for the picture).

    block_size: tokens a window predicts from; a window holds ``block_size + 1``.
    stride: tokens between window starts; every window after the first scores its last
        ``stride`` tokens, so ``1 <= stride <= block_size``.
    reference_compat: score exactly what the paper's code scores (full windows only, the
        tail of the stream dropped); the default scores every token.
    """

    block_size: int = PAPER_BLOCK_SIZE
    stride: int = PAPER_STRIDE
    reference_compat: bool = False

    def __post_init__(self):
        if not _is_int(self.block_size) or self.block_size < 1:
            raise ValueError(
                f'block_size must be a positive integer, got {self.block_size!r}; '
                f'the paper uses block_size={PAPER_BLOCK_SIZE}.'
            )
        if not _is_int(self.stride) or self.stride < 1:
            raise ValueError(
                f'stride must be a positive integer, got {self.stride!r}; '
                f'the paper uses stride={PAPER_STRIDE}.'
            )
        if self.stride > self.block_size:
            raise ValueError(
                f'stride ({self.stride}) is larger than block_size '
                f'({self.block_size}): tokens between windows would never be '
                'scored. Use stride <= block_size.'
            )
        if not isinstance(self.reference_compat, (bool, np.bool_)):
            raise ValueError(f'reference_compat must be True or False, got {self.reference_compat!r}.')
        # plain Python values, so that equal settings compare, hash and print alike
        object.__setattr__(self, 'block_size', int(self.block_size))
        object.__setattr__(self, 'stride', int(self.stride))
        object.__setattr__(self, 'reference_compat', bool(self.reference_compat))

    @property
    def is_paper(self) -> bool:
        """The paper's window (either mode: they differ only in the dropped tail)."""
        return (self.block_size, self.stride) == (PAPER_BLOCK_SIZE, PAPER_STRIDE)

    def as_record(self) -> dict:
        """``{'block_size': 1900, 'stride': 512, 'reference_compat': False}`` for JSON."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: Optional[Mapping]) -> Optional['MeasurementSettings']:
        """The settings a prediction row or result recorded, or None if it recorded none."""
        if not isinstance(record, Mapping):
            return None
        names = [f.name for f in fields(cls)]
        if any(name not in record for name in names):
            return None
        return cls(**{name: record[name] for name in names})

    def __str__(self) -> str:
        return f'block_size={self.block_size}, stride={self.stride}, reference_compat={self.reference_compat}'


PAPER = MeasurementSettings()
