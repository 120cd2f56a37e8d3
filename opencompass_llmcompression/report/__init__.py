"""The compression report, from the folders OpenCompass wrote: nothing here runs a model.

    run folders ──> collect (results, configs, failures) ──> writer.write_report ──> summary/
                                       one module per section: leaderboard, uncertainty,
                                       baselines, documents, paper_reference, paper_predictions,
                                       linear_fit

A compression dataset is named by its OpenCompass ``abbr`` (``llm_compression-cc``); its
``corpus`` is the text it measures (``cc``).
"""

from .results import ResultsError, find_run_dirs, read_results
from .writer import write_report

__all__ = ['ResultsError', 'find_run_dirs', 'read_results', 'write_report']
