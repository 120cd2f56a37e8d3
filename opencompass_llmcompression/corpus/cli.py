"""``llmcompression-corpus``: a fresh compression corpus, built the way the paper built its own.

    llmcompression-corpus --name cc --kind text --source 'crawl/*.warc.wet.gz' --after 2026-01-01
    llmcompression-corpus --name python --kind code --source repos/ --suffix .py --after 2026-01-01
    llmcompression-corpus --name arxiv_math --kind latex --source 'arXiv_src_2601_*.tar' \\
        --arxiv-metadata arxiv-metadata-oai-snapshot.json --after 2026-01-01
    llmcompression-corpus --name notes --kind text --source 'notes/**/*.md' --budget 2000000

Inputs are recognised by their content, any name: Common Crawl WET and WARC files (cleaned as
cc_net: English, 300 characters, lines seen before out, perplexity or quality rules), git
repositories and repository archives (CodeParrot's cleaning, dated by first commit), arXiv
source tarballs or e-print folders (the main .tex to Markdown by pandoc), records files
(--records, or JSON/Parquet in --source) and plain files (simple rules per --kind). Every
document is dated by its own date (docs/corpora.md); --after/--before keep a period, and
--split-by month|quarter|year writes one corpus per period (NAME_2026-01, ...).

Writes NAME.jsonl (``content``, ``subset``, ``meta``) and NAME.manifest.json (inputs with
SHA-256, every filter with its parameters and removals, the period, the dumps), both whole or
not at all. Exit status: 0 built, 2 built but input was skipped for a fault (damaged or
hostile input, a failed download), 1 nothing built or a usage error (a --source that matches
nothing, input of another --kind), 130 interrupted.
"""

import argparse
import os
import sys

from ..exit_codes import ERROR, INTERRUPTED, OK, WARNING, ArgumentParser
from .dates import DATE_FROM, SPLITS, iso_day
from .documents import BuildError
from .local_cleaning import KINDS

PROG = 'llmcompression-corpus'


def _day(value: str):
    try:
        return iso_day(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument('--name', required=True, help='corpus name: writes NAME.jsonl')
    p.add_argument('--kind', required=True, choices=KINDS, help='how to clean it')
    p.add_argument(
        '--source',
        action='append',
        default=[],
        help='folder, file or glob (repeatable; quote globs; each must match): recognised by content',
    )
    p.add_argument(
        '--records', action='append', default=[], help='JSONL or Parquet file of records (repeatable)'
    )
    p.add_argument('--text-field', default='text', help='text field of records files')
    p.add_argument('--date-field', help='date field of records files, for --after/--before')
    p.add_argument('--out', default='data/llm-compression', help='output folder')
    p.add_argument(
        '--budget',
        type=int,
        help='characters to keep: whole documents until at least this many (default: all)',
    )
    p.add_argument('--seed', type=int, default=0, help='sampling seed (and the code recipe\'s draws)')
    p.add_argument('--after', type=_day, help='keep documents dated on or after YYYY-MM-DD (their own date)')
    p.add_argument('--before', type=_day, help='keep documents dated before YYYY-MM-DD')
    p.add_argument(
        '--date-from',
        choices=DATE_FROM,
        default='auto',
        help='auto: each input\'s own date (crawl or publication, first commit, first version; plain '
        'files undated); mtime: plain files by modification time; first-commit / repo-created: for git',
    )
    p.add_argument(
        '--near-duplicate',
        type=float,
        default=0.8,
        help='plain files and records: MinHash Jaccard similarity above which a document is dropped',
    )
    p.add_argument(
        '--min-chars', type=int, help='drop shorter documents (default 300 for web records, else 200)'
    )
    p.add_argument('--max-chars', type=int, help='drop longer documents')
    p.add_argument(
        '--kenlm-model', help="web text: cc_net's KenLM model (en.arpa.bin) for the perplexity filter"
    )
    p.add_argument('--sentencepiece-model', help='web text: its SentencePiece model (en.sp.model)')
    p.add_argument(
        '--tokenizer', help="code: tokenizer (folder or hub id) for the characters-per-token filter"
    )
    p.add_argument(
        '--suffix', action='append', help='code from git: keep files whose names end so (e.g. .py)'
    )
    p.add_argument(
        '--arxiv-metadata', help="arXiv: the OAI metadata snapshot (JSON lines with id, categories)"
    )
    p.add_argument('--keep-latex', action='store_true', help='arXiv: keep the LaTeX instead of converting it')
    p.add_argument(
        '--pandoc-timeout', type=float, default=10.0, help='arXiv: seconds pandoc may take per paper'
    )
    p.add_argument('--jobs', type=int, help='processes reading web files (default: the CPU count)')
    p.add_argument(
        '--split-by',
        choices=SPLITS,
        help='one corpus and manifest per period of the documents\' own dates, NAME_PERIOD '
        '(cc_2026-01, cc_2026-Q1, cc_2026), the same cleaning, --budget each; undated documents out',
    )
    return p


def _tokenizer(name):
    if not name:
        return None
    try:
        from ..core.model_loading import load_tokenizer

        return load_tokenizer(name)
    except Exception as e:
        raise BuildError(f'--tokenizer {name} cannot be loaded ({type(e).__name__}: {e})') from None


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from .build import build

    try:
        report = build(
            args.name,
            args.kind,
            args.source,
            args.out,
            budget=args.budget,
            seed=args.seed,
            after=args.after,
            before=args.before,
            records=args.records,
            text_field=args.text_field,
            date_field=args.date_field,
            near_duplicate=args.near_duplicate,
            min_chars=args.min_chars,
            max_chars=args.max_chars,
            date_from=args.date_from,
            kenlm_model=args.kenlm_model,
            sentencepiece_model=args.sentencepiece_model,
            tokenizer=_tokenizer(args.tokenizer),
            arxiv_metadata=args.arxiv_metadata,
            keep_latex=args.keep_latex,
            pandoc_timeout=args.pandoc_timeout,
            jobs=args.jobs,
            suffixes=args.suffix,
            split_by=args.split_by,
        )
    except (BuildError, OSError) as e:
        print(f'{PROG}: error: {e}', file=sys.stderr)
        return ERROR
    except KeyboardInterrupt:
        print(
            f'{PROG}: interrupted (the corpus and its manifest are written whole or not at all)',
            file=sys.stderr,
        )
        return INTERRUPTED
    for written, documents in report.written.items():
        print(f'wrote {os.path.join(args.out, written)}.jsonl: {documents} documents')
    for line in report.summary():
        print(f'  skipped {line}')
    if report.chars_short_of_budget:
        print(
            f'  {report.chars_short_of_budget} characters short of --budget {args.budget}: '
            'the sources hold no more after filtering'
        )
    if report.faults:
        print(
            f'{PROG}: warning: {report.faults} skipped for damaged or hostile input (reasons starting '
            '"fault:" above); the corpus holds the rest',
            file=sys.stderr,
        )
        return WARNING
    return OK
