"""Build the compression report from OpenCompass output folders, without re-running anything.

    llmcompression-summary outputs/default                       # every run under a work dir
    llmcompression-summary RUN_A RUN_B --scores scores.csv --bpb  # runs merged, with a fit
    llmcompression-summary --paper                                # the paper's leaderboard
                                                                  # and lines, with plots
    llmcompression-summary --progress outputs/default             # a run going on: windows
                                                                  # done, rate, time left

A folder is a run folder (holding results/) or a work dir holding run folders; later folders
override earlier ones for the same model and dataset. Files go to --out (default: the last
run folder's summary/).
"""

import json
import os
import sys
from datetime import datetime

from . import CONFIG_DIR
from .core.logs import log_to_stderr
from .exit_codes import ERROR, OK, ArgumentParser
from .report import paper_fits, paper_predictions
from .report.benchmark_scores import read_scores_csv
from .report.collect import collect
from .report.intervals import RESAMPLES, SEED
from .report.leaderboard import to_markdown
from .report.paper_reference import SOURCE, paper_table
from .report.progress import progress_report
from .report.results import ResultsError, find_run_dirs
from .report.writer import ReportOptions, write_report

PROG = 'llmcompression-summary'


def main(argv=None) -> int:
    logger = log_to_stderr(PROG)
    parser = ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument('folders', nargs='*', help='OpenCompass run folders or work dirs')
    parser.add_argument(
        '--paper',
        action='store_true',
        help='print the paper\'s BPC leaderboard and its lines (benchmark '
        'score against BPC, fitted on its Appendix B), write their plots '
        'into --out (default: this folder), and stop',
    )
    parser.add_argument(
        '--progress',
        action='store_true',
        help='print how far the inference of the runs is, shard by shard (windows done, rate, '
        'time left, from their checkpoints), and stop',
    )
    parser.add_argument('--scores', help='CSV of benchmark scores: model,<benchmark or area>,...')
    parser.add_argument('--bpb', action='store_true', help='also a bits-per-byte leaderboard')
    parser.add_argument(
        '--compression-rate',
        action='store_true',
        help='also a leaderboard of uncheatable_eval\'s compression rate: the compressed size in '
        'percent of the UTF-8 bytes, bpb / 8 * 100',
    )
    parser.add_argument('--no-baselines', action='store_true', help='leave out the gzip/bzip2/xz/zstd rows')
    parser.add_argument(
        '--documents',
        type=int,
        default=10,
        help='lowest and highest BPC documents listed per model and corpus (0: none)',
    )
    parser.add_argument(
        '--areas',
        help='JSON {area: {"corpus": ..., "benchmarks": [...]}} '
        'mapping benchmark datasets to corpora for the fit',
    )
    parser.add_argument(
        '--resamples',
        type=int,
        default=RESAMPLES,
        help='bootstrap resamples for the intervals (0: no intervals)',
    )
    parser.add_argument('--seed', type=int, default=SEED, help='seed of the bootstrap')
    parser.add_argument('--out', help='output folder (default: <last run>/summary)')
    args = parser.parse_args(argv)
    if args.paper:
        return print_paper(args.out or '.')
    if not args.folders:
        parser.error('give OpenCompass run folders or work dirs (or --paper)')
    if args.progress:
        try:
            print(progress_report(find_run_dirs(args.folders)))
        except ResultsError as err:
            print(f'{PROG}: error: {err}', file=sys.stderr)
            return ERROR
        return OK
    try:
        areas = json.loads(args.areas) if args.areas else None
        run = collect(find_run_dirs(args.folders), CONFIG_DIR, logger)
        options = ReportOptions(
            metrics=('bpc',) + ('bpb',) * args.bpb + ('compression_rate',) * args.compression_rate,
            baselines=not args.no_baselines,
            document_count=args.documents,
            scores=read_scores_csv(args.scores, areas) if args.scores else None,
            areas=areas,
            resamples=args.resamples,
            seed=args.seed,
        )
        text = write_report(
            run,
            options,
            args.out or f'{run.run_dirs[-1]}/summary',
            datetime.now().strftime('%Y%m%d_%H%M%S'),
            logger,
        )
    except (ResultsError, ValueError) as err:
        print(f'{PROG}: error: {err}', file=sys.stderr)
        return ERROR
    print(text)
    return OK


def print_paper(out_dir: str) -> int:
    """The paper's leaderboard and lines, printed; the lines' plots written into out_dir."""
    print(f'BPC published with {SOURCE}:\n')
    print(to_markdown(*paper_table()))
    print(
        f'Benchmark score (%) against BPC, least squares over {paper_fits.SOURCE}, beside '
        'the Pearson rho and RMSE the paper prints (Tables 5, 7, 9, Figure 1; its RMSE, printed '
        'on the 0-1 scale, shown here in %):\n'
    )
    print(to_markdown(*paper_fits.lines_table()))
    path = os.path.join(out_dir, 'paper_lines.png')
    try:
        os.makedirs(out_dir, exist_ok=True)
        paper_predictions.plot([], path)
    except OSError as err:
        print(
            f'{PROG}: error: cannot write the plot {path}: {err}; choose a folder with --out', file=sys.stderr
        )
        return ERROR
    print(f'Written: {os.path.abspath(path)}')
    return OK


if __name__ == '__main__':
    sys.exit(main())
