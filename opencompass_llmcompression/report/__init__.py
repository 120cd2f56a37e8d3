"""The compression report, from the folders OpenCompass wrote: nothing here runs a model.

``results`` (read run folders) -> ``leaderboard`` (models x corpora), ``baselines`` (gzip,
bzip2, xz, zstd on the same text), ``documents`` (best and worst compressed documents),
``linear_fit`` (benchmark score against BPC) -> ``writer`` (``write_report``: the files and
the printed text).
"""

from .results import ResultsError, find_run_dirs, read_results
from .writer import write_report

__all__ = ['ResultsError', 'find_run_dirs', 'read_results', 'write_report']
