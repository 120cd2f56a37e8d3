"""Regenerates the pictures of the report's three plots in docs/images/ from a fixed input, by
the report's own plotting code:

    python scripts/screenshots.py [OUT]      (the package installed; OUT: default docs/images)

- paper_lines.png: the paper's four lines, and on them four models of the paper's leaderboard
  that its fit tables leave out, at the BPC the leaderboard publishes
  (report/paper_leaderboard.csv): what the report draws for a run measured the paper's way.
- anchored_lines.png: lines anchored on three fresh corpora (text, code, LaTeX of 2026-01) and
  their overall line, and two models placed on them. An illustration: no GPU run of the
  anchors was made for it; each anchor's BPC on the fresh text is its paper BPC times 1.08
  plus 0.02 and a fixed deviation (seeded), and "my-model" has a made-up measured score.
- bpc_over_time.png: five models' BPC on four monthly text corpora, one of them fine-tuned on
  the oldest month (made-up BPCs, a fixed input); the memorization check flags it.

The same input gives the same pictures (matplotlib's Agg renderer, fixed seeds).
"""

import datetime
import os
import sys

import numpy as np

from opencompass_llmcompression.report import anchored_lines, over_time, paper_predictions
from opencompass_llmcompression.report.corpus_periods import CorpusInfo, Period
from opencompass_llmcompression.report.paper_fits import AREA_CORPUS, place
from opencompass_llmcompression.report.paper_reference import match

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'docs', 'images')

ON_PAPER_LINES = ('Llama-3-8b', 'Qwen-1.5-7b', 'DeepSeek-V2', 'Qwen2-72B')
CHEAP_ANCHORS = (
    'Falcon-7b',
    'Llama-1-7b',
    'Llama-2-7b',
    'Mistral-7b',
    'Qwen-7b',
    'Yi-6b',
    'Deepseek-llm-7b',
    'Llama-2-13b',
    'Deepseek-coder-1.3b',
    'Deepseek-coder-6.7b',
    'Codellama-7b',
    'Starcoder2-7b',
    'Llemma-7b',
    'Deepseek-math-7b',
)
FRESH = {'knowledge': 'web_2026_01', 'coding': 'code_2026_01', 'mathematics': 'math_2026_01'}
KIND = {'knowledge': 'text', 'coding': 'code', 'mathematics': 'latex'}


def result(bpc):
    """A compression result as the report reads it (the counts are placeholders)."""
    return dict(bpc=bpc, chars=1_000_000)


def paper_lines_picture(path):
    placed = []
    for name in ON_PAPER_LINES:
        row = match(name)
        placed += place(name, {area: row[corpus] for area, corpus in AREA_CORPUS.items()}, {})
    paper_predictions.plot(placed, path)


def anchored_lines_picture(path):
    from opencompass_llmcompression.report.paper_fits import paper_table

    deviation = np.random.default_rng(0).normal(0, 0.006, size=(len(CHEAP_ANCHORS), 3))
    results = {}
    for i, name in enumerate(CHEAP_ANCHORS):
        for j, area in enumerate(FRESH):
            row = paper_table(area)[1].get(name)
            if row is not None:
                results.setdefault(name, {})[FRESH[area]] = result(1.08 * row['BPC'] + 0.02 + deviation[i, j])
    llama3 = match('Llama-3-8b')
    results['Llama-3-8b'] = {
        FRESH[area]: result(1.08 * llama3[corpus] + 0.02) for area, corpus in AREA_CORPUS.items()
    }
    results['my-model'] = {
        FRESH['knowledge']: result(0.66),
        FRESH['coding']: result(0.36),
        FRESH['mathematics']: result(0.53),
        'hellaswag': {'accuracy': 74.0},
        'ARC-c': {'accuracy': 47.0},
        'nq': {'score': 22.0},
        'triviaqa': {'score': 55.0},
        'mmlu_cloze-anatomy': {'accuracy': 48.0},
    }
    month = Period(datetime.date(2026, 1, 1), datetime.date(2026, 1, 31))
    infos = [CorpusInfo(FRESH[area], KIND[area], month) for area in FRESH]
    models = list(results)
    corpora, _ = anchored_lines.anchored_corpora(results, models, infos)
    overall, _ = anchored_lines.overall_lines(corpora)
    from opencompass_llmcompression.report.benchmark_scores import DEFAULT_AREAS

    placed = anchored_lines.anchored_placements(results, models, corpora, overall, None, DEFAULT_AREAS)
    anchored_lines.plot(corpora, overall, placed, path)


def over_time_picture(path):
    months = [datetime.date(2025, m, 1) for m in (10, 11, 12)] + [datetime.date(2026, 1, 1)]
    infos = [
        CorpusInfo(
            f'web_{d:%Y_%m}',
            'text',
            Period(d, (d + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(1)),
        )
        for d in months
    ]
    bpc = {  # newest month last; "tuned-on-2025-10" compresses its own month better
        'model-a': (0.701, 0.704, 0.702, 0.706),
        'model-b': (0.652, 0.655, 0.651, 0.657),
        'model-c': (0.748, 0.746, 0.751, 0.752),
        'model-d': (0.612, 0.615, 0.613, 0.618),
        'tuned-on-2025-10': (0.598, 0.676, 0.677, 0.681),
    }
    table = {m: {info.abbr: v for info, v in zip(infos, values)} for m, values in bpc.items()}
    found, _ = over_time.series(infos, table, list(bpc))
    over_time.plot(found, list(bpc), path)


def main(out: str = OUT) -> int:
    """Writes the three pictures into ``out`` (default docs/images)."""
    os.makedirs(out, exist_ok=True)
    for name, draw in (
        ('paper_lines.png', paper_lines_picture),
        ('anchored_lines.png', anchored_lines_picture),
        ('bpc_over_time.png', over_time_picture),
    ):
        draw(os.path.join(out, name))
        print(f'written: {os.path.join(out, name)}')
    return 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:2]))
