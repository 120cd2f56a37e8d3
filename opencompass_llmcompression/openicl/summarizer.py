"""``summarizer = dict(type=CompressionSummarizer)``: OpenCompass's summary, then the report."""

import os
from datetime import datetime
from typing import Dict, List, Optional, Sequence

from opencompass.summarizers import DefaultSummarizer
from opencompass.summarizers.default import model_abbr_from_cfg_used_in_summarizer
from opencompass.utils import dataset_abbr_from_cfg, get_logger

from .. import CONFIG_DIR
from ..report.benchmark_scores import read_scores_csv
from ..report.collect import collect
from ..report.intervals import RESAMPLES, SEED
from ..report.results import INFERENCER_NAME, OLD_INFERENCER_NAME, ResultsError, find_run_dirs
from ..report.writer import ReportOptions, write_report


class CompressionSummarizer(DefaultSummarizer):
    """OpenCompass's usual summary of every dataset, followed by the compression report.

    The report (see ``report.writer.write_report``) goes into the run's ``summary/`` folder next to
    OpenCompass's own files and is printed. Args, besides DefaultSummarizer's:
        metrics: leaderboards to write, of ``bpc``, ``bpb`` and ``compression_rate``
            (uncheatable_eval's: the compressed size in percent of the UTF-8 bytes,
            ``bpb / 8 * 100``); default ``('bpc',)``.
        baselines: add gzip/bzip2/xz/zstd rows (computed once per corpus, cached).
        documents: how many lowest- and highest-BPC documents to list per model and corpus.
        scores: a CSV of benchmark scores (``model,<benchmark or area>,...``) for the fit.
        extra_results: more OpenCompass run folders whose results join the table and the fit
            (e.g. benchmark runs made earlier, or other models).
        areas: ``{area: {corpus: ..., benchmarks: [patterns]}}``, see ``benchmark_scores``.
        resamples, seed: the bootstrap over documents behind the intervals (0: none).
    """

    def __init__(
        self,
        config,
        dataset_abbrs: Optional[List[str]] = None,
        summary_groups: Optional[List] = None,
        prompt_db=None,
        metrics: Sequence[str] = ('bpc',),
        baselines: bool = True,
        documents: int = 10,
        scores: Optional[str] = None,
        extra_results: Sequence[str] = (),
        areas: Optional[Dict[str, dict]] = None,
        resamples: int = RESAMPLES,
        seed: int = SEED,
    ):
        super().__init__(config, dataset_abbrs, summary_groups or [], prompt_db)
        self.dataset_cfgs = [with_current_inferencer_name(d) for d in self.dataset_cfgs]
        self.metrics, self.baselines, self.documents = tuple(metrics), baselines, documents
        self.scores, self.extra_results, self.areas = scores, list(extra_results), areas
        self.resamples, self.seed = resamples, seed

    def summarize(
        self,
        output_path: Optional[str] = None,
        time_str: str = datetime.now().strftime('%Y%m%d_%H%M%S'),
        **kwargs,
    ):
        super().summarize(output_path=output_path, time_str=time_str, **kwargs)
        logger = get_logger()
        try:
            models = [dict(m, abbr=model_abbr_from_cfg_used_in_summarizer(m)) for m in self.model_cfgs]
            datasets = [dict(d, abbr=dataset_abbr_from_cfg(d)) for d in self.dataset_cfgs]
            run = collect(
                find_run_dirs(self.extra_results) + [self.work_dir],
                CONFIG_DIR,
                logger,
                {self.work_dir: dict(datasets=datasets, models=models)},
            )
            for failure in run.failures:
                logger.warning(f'no result: {failure}')
            out_dir = os.path.dirname(output_path) if output_path else os.path.join(self.work_dir, 'summary')
            options = ReportOptions(
                self.metrics,
                self.baselines,
                self.documents,
                read_scores_csv(self.scores, self.areas) if self.scores else None,
                self.areas,
                self.resamples,
                self.seed,
            )
            text = write_report(run, options, out_dir, time_str, logger)
        except (ResultsError, ValueError) as err:
            logger.error(f'compression report not written: {err}')
            return
        print('\n' + text)


def with_current_inferencer_name(dataset_cfg: dict) -> dict:
    """The dataset config, its inferencer named ``SlidingWindowPPLInferencer`` if it names the
    same class by its old name: OpenCompass's summary reads the mode (``ppl``) from the name."""
    inferencer = (dataset_cfg.get('infer_cfg') or {}).get('inferencer') or {}
    kind = inferencer.get('type')
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    if not name.endswith(OLD_INFERENCER_NAME):
        return dataset_cfg
    renamed = dict(inferencer, type=name[: -len(OLD_INFERENCER_NAME)] + INFERENCER_NAME)
    return dict(dataset_cfg, infer_cfg=dict(dataset_cfg['infer_cfg'], inferencer=renamed))
