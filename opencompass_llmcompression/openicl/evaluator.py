"""Sums the per-document predictions of all shards into bits per character and friends."""

from typing import List, Optional

from opencompass.openicl.icl_evaluator import BaseEvaluator
from opencompass.registry import ICL_EVALUATORS

from ..core.document_rows import DOC_INDEX_COLUMN
from ..core.finite_output import non_finite
from ..core.metrics import compression_metrics
from ..core.provenance import provenance
from ..core.settings import MeasurementSettings
from ..core.windows import why_no_window
from ..report.results import first_two_settings

FIELDS = ('nll', 'tokens', 'chars', 'bytes')
RECORD = ('measurement', 'model', 'text_check')  # how the sums were made, from the rows to the result


@ICL_EVALUATORS.register_module()
class CompressionEvaluator(BaseEvaluator):
    """Adds up ``{nll, tokens, chars, bytes}`` over every document of every shard.

    A corpus that cannot be measured (documents missing or repeated, shards of other
    settings, a number in a row that is not finite, no token scored at all) gets a result
    holding ``error`` instead, which OpenCompass writes and the report names."""

    def score(self, predictions: List[dict], test_set: Optional[list] = None) -> dict:
        if not predictions:
            return {'error': 'no predictions: the inference stage wrote nothing for this corpus.'}
        malformed = [
            i for i, p in enumerate(predictions) if not isinstance(p, dict) or any(k not in p for k in FIELDS)
        ]
        if malformed:
            return {
                'error': f'prediction {malformed[0]} is not a SlidingWindowPPLInferencer '
                f'result ({{nll, tokens, chars, bytes}}); the inferencer of this '
                'dataset must be SlidingWindowPPLInferencer.'
            }
        expected = list(range(len(predictions))) if test_set is None else list(test_set[DOC_INDEX_COLUMN])
        if [p.get(DOC_INDEX_COLUMN) for p in predictions] != expected:
            return {
                'error': f'the predictions ({len(predictions)}) do not cover the '
                f'{len(expected)} documents of the corpus once each, in order: '
                'some shards are missing, repeated or come from another corpus. '
                'If the corpus changed, delete .cache/dataset_size.json and this '
                'model\'s predictions for the corpus, then run again.'
            }
        measured = {}  # the shards' settings, each with the first document measured so
        for p in predictions:
            measured.setdefault(MeasurementSettings.from_record(p.get('measurement')), p[DOC_INDEX_COLUMN])
        clash = first_two_settings(measured)
        if clash:
            (first, a), (second, b) = clash
            return {
                'error': f'the shards of this corpus were measured under different '
                f'settings: document {a} with {first or "settings not recorded"}, '
                f'document {b} with {second or "settings not recorded"}. Their '
                'sums cannot be pooled: delete this model\'s predictions for the '
                'corpus and run the inference again with one setting.'
            }
        for p in predictions:
            found = non_finite({k: p[k] for k in FIELDS})
            if found:
                return {
                    'error': f'the prediction of document {p[DOC_INDEX_COLUMN]} holds '
                    f'{found}, which the inferencer never writes: the file was '
                    'changed after it was written. Delete this model\'s '
                    'predictions for the corpus and run the inference again.'
                }
        sums = {k: sum(p[k] for p in predictions) for k in FIELDS}
        if sums['tokens'] == 0:
            settings = next(iter(measured))
            why = why_no_window(settings) if settings else 'the corpus is too short for its window settings'
            size = (
                f'{len(predictions)} document{"s" * (len(predictions) != 1)}, '
                f'{sums["chars"]} character{"s" * (sums["chars"] != 1)}'
            )
            return {'error': f'no token of this corpus was scored ({size}): {why}'}
        record = {k: predictions[0][k] for k in RECORD if k in predictions[0]}
        return dict(
            compression_metrics(
                float(sums['nll']), int(sums['tokens']), int(sums['chars']), int(sums['bytes'])
            ),
            **provenance(),
            **record,
        )
