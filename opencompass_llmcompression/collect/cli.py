"""``llmcompression-collect``: the files fresh corpora are built from, fetched the paper's way.

    llmcompression-collect cc --dump CC-MAIN-2023-40 --files 180 --out crawl/
    llmcompression-collect cc --crawled-after 2026-10-01 --files 20 --out crawl/ \\
        --build cc --corpus-out data/llm-compression -- --after 2026-10-01

Each kind collects into ``--out DIR``: the files, and ``DIR/collection.json`` recording every
URL with its size, SHA-256, time fetched and what the service said about it. The same command
run again fetches only what is missing (a download cut off resumes from its ``.part``); a
folder holds one query only. ``--build NAME`` then runs ``llmcompression-corpus`` on the
collection with the kind's recipe (arguments after ``--`` go to it: ``--after``, ``--budget``,
...), writing ``NAME.jsonl`` and its manifest, which names the collection (``collections``:
its query and SHA-256).

Exit status: 0 done, 1 nothing (more) done (an error named with its fix), 2 collected but the
build skipped damaged input, 130 interrupted (what was whole stays recorded).
"""

import logging
import sys

from ..core.logs import log_to_stderr
from ..exit_codes import ERROR, INTERRUPTED, OK, ArgumentParser
from . import arxiv_sources, common_crawl, github
from .collection import Collection
from .http import CollectError

PROG = 'llmcompression-collect'
KINDS = {'cc': common_crawl, 'code': github, 'arxiv': arxiv_sources}


def parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description=__doc__)
    kinds = p.add_subparsers(dest='kind', required=True, metavar='{' + ','.join(KINDS) + '}')
    for name, module in KINDS.items():
        sub = kinds.add_parser(name, help=module.__doc__.strip().splitlines()[0])
        module.add_arguments(sub)
        sub.add_argument('--out', required=True, help='the collection folder (resumed if it exists)')
        sub.add_argument('--jobs', type=int, default=2, help='downloads at a time (default 2)')
        sub.add_argument('--quiet', action='store_true', help='no progress bar')
        sub.add_argument('--build', metavar='NAME', help='then build the corpus NAME from the collection')
        sub.add_argument(
            '--corpus-out', default='data/llm-compression', help='where --build writes (default %(default)s)'
        )
    return p


def build(module, collection: Collection, name: str, corpus_out: str, extra: list) -> int:
    """``llmcompression-corpus`` on ``collection`` (its own ``main``); its exit status."""
    from ..corpus import cli as corpus_cli

    argv = ['--name', name, '--out', corpus_out, *module.corpus_arguments(collection), *extra]
    return corpus_cli.main(argv)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if '--' in argv:
        at = argv.index('--')
        argv, extra = argv[:at], argv[at + 1 :]
    args = parser().parse_args(argv)
    if extra and not args.build:
        parser().error('arguments after -- go to the corpus builder: give --build NAME too')
    if args.jobs < 1:
        parser().error('--jobs must be 1 or more')
    log_to_stderr(PROG, logging.INFO)
    module = KINDS[args.kind]
    try:
        collection = module.collect(args, args.out, progress=not args.quiet)
    except CollectError as e:
        print(f'{PROG}: error: {e}', file=sys.stderr)
        return ERROR
    except OSError as e:
        print(f'{PROG}: error: {e} (nothing more fetched; what was whole stays recorded)', file=sys.stderr)
        return ERROR
    except KeyboardInterrupt:
        print(
            f'{PROG}: interrupted: the files fetched whole are recorded in {args.out}/collection.json; '
            'run the same command again to fetch the rest (cut downloads resume)',
            file=sys.stderr,
        )
        return INTERRUPTED
    files = [i for i in collection.items]
    print(
        f'{args.out}: {len(files)} files, {sum(i["size"] for i in files) / 1e6:.1f} MB, '
        f'recorded in {collection.path} (SHA-256 {collection.sha256()[:12]}...)'
    )
    if args.build:
        return build(module, collection, args.build, args.corpus_out, extra)
    return OK
