"""``llmcompression-configs install [DIR]``: makes OpenCompass's short names reach this plugin.

``opencompass --datasets llm_compression`` (and ``python run.py ...`` in an OpenCompass
checkout) looks for ``llm_compression.py`` under ``<config dir>/datasets`` first, the config
dir being ``./configs`` unless ``--config-dir`` says otherwise, and only then in OpenCompass's
own package, which holds its built-in config of that name. So the one-time step writes, into
``DIR`` (default ``./configs``), thin files that import this plugin's configs from the
installed package:

    DIR/datasets/llm_compression/llm_compression.py   --datasets llm_compression
    DIR/datasets/llm_compression_paper_suite/llm_compression_paper_suite.py
                                                       --datasets llm_compression_paper_suite
    DIR/datasets/mmlu_cloze/mmlu_cloze_ppl.py          --datasets mmlu_cloze_ppl
    DIR/datasets/mmlu_cloze/mmlu_math_cloze_ppl.py     --datasets mmlu_math_cloze_ppl
    DIR/datasets/llm_compression_folder/llm_compression_folder.py
                                                       --datasets llm_compression_folder
    DIR/models/llm_compression_anchors.py              --models llm_compression_anchors
    DIR/models/llm_compression_hf.py                   --models llm_compression_hf
    DIR/summarizers/llm_compression.py                 --summarizer llm_compression

It says what it wrote, leaves an identical file alone, updates a file it wrote itself, and
refuses to overwrite any other file. OpenCompass's installed package is never touched.
"""

import os
import sys
from typing import Dict, List, Tuple

from .core.atomic_files import atomic_write
from .core.provenance import PLUGIN
from .exit_codes import ERROR, OK, ArgumentParser

MARKER = f'# Written by `llmcompression-configs install` ({PLUGIN}).'

THIN_CONFIGS: Dict[str, Tuple[str, str]] = {
    # relative path: (what it makes OpenCompass find, the import inside read_base())
    os.path.join('datasets', 'llm_compression', 'llm_compression.py'): (
        '`--datasets llm_compression` finds this file before OpenCompass\'s built-in config of\n'
        '# the same name',
        'from opencompass_llmcompression.configs.datasets.llm_compression.llm_compression '
        'import \\\n        llm_compression_datasets  # noqa: F401',
    ),
    os.path.join('datasets', 'llm_compression_paper_suite', 'llm_compression_paper_suite.py'): (
        '`--datasets llm_compression_paper_suite` finds this file: the three corpora and the\n'
        '# twelve benchmarks of the paper',
        'from opencompass_llmcompression.configs.datasets.llm_compression_paper_suite.'
        'llm_compression_paper_suite import \\\n'
        '        llm_compression_paper_suite_datasets  # noqa: F401',
    ),
    os.path.join('datasets', 'mmlu_cloze', 'mmlu_cloze_ppl.py'): (
        '`--datasets mmlu_cloze_ppl` finds this file: MMLU in the cloze style of the\n# paper',
        'from opencompass_llmcompression.configs.datasets.mmlu_cloze.mmlu_cloze_ppl import \\\n'
        '        mmlu_cloze_datasets  # noqa: F401',
    ),
    os.path.join('datasets', 'mmlu_cloze', 'mmlu_math_cloze_ppl.py'): (
        '`--datasets mmlu_math_cloze_ppl` finds this file: the paper\'s MMLU-Math, its\n'
        '# four mathematics subjects as one set',
        'from opencompass_llmcompression.configs.datasets.mmlu_cloze.mmlu_math_cloze_ppl import '
        '\\\n        mmlu_math_cloze_datasets  # noqa: F401',
    ),
    os.path.join('datasets', 'llm_compression_folder', 'llm_compression_folder.py'): (
        '`--datasets llm_compression_folder` finds this file: every corpus of\n'
        '# $LLMCOMPRESSION_CORPORA (default data/llm-compression), one dataset each',
        'from opencompass_llmcompression.configs.datasets.llm_compression_folder.llm_compression_folder '
        'import \\\n        llm_compression_folder_datasets  # noqa: F401',
    ),
    os.path.join('models', 'llm_compression_anchors.py'): (
        '`--models llm_compression_anchors` finds this file: the paper\'s models that anchor a\n'
        '# corpus\'s own line',
        'from opencompass_llmcompression.configs.models.llm_compression_anchors import \\\n'
        '        models  # noqa: F401',
    ),
    os.path.join('models', 'llm_compression_hf.py'): (
        '`--models llm_compression_hf` finds this file: the model(s) of $LLMCOMPRESSION_HF_PATH,\n'
        '# to measure beside the anchors',
        'from opencompass_llmcompression.configs.models.llm_compression_hf import \\\n'
        '        models  # noqa: F401',
    ),
    os.path.join('summarizers', 'llm_compression.py'): (
        '`--summarizer llm_compression` finds this file',
        'from opencompass_llmcompression.configs.summarizers.llm_compression import \\\n'
        '        summarizer  # noqa: F401',
    ),
}


def thin_config(purpose: str, import_line: str) -> str:
    return (
        f'{MARKER}\n# {purpose}; the config itself lives in the installed package.\n'
        'from mmengine.config import read_base\n\n'
        f'with read_base():\n    {import_line}\n'
    )


class ConfigsError(RuntimeError):
    """A file that cannot be written, with what to do about it."""


def install(config_dir: str) -> List[Tuple[str, str]]:
    """Writes the thin configs into ``config_dir``; returns ``[(path, what happened)]``.

    Checks every target before writing any, so a refusal leaves the folder as it was."""
    plan = []
    for relative, (purpose, import_line) in THIN_CONFIGS.items():
        path = os.path.join(config_dir, relative)
        text = thin_config(purpose, import_line)
        if not os.path.exists(path):
            plan.append((path, text, 'written'))
            continue
        try:
            with open(path, encoding='utf-8') as f:
                current = f.read()
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigsError(
                f'{path} exists and cannot be read ({err}); move it away and run again.'
            ) from err
        if not current.startswith(MARKER):
            raise ConfigsError(
                f'{path} exists and was not written by llmcompression-configs: not '
                'overwritten, nothing written. If it is your own config of that name, rename '
                'it; or install elsewhere (llmcompression-configs install DIR) and run '
                'OpenCompass with --config-dir DIR.'
            )
        plan.append((path, text, 'unchanged' if current == text else 'updated'))
    for path, text, what in plan:
        if what != 'unchanged':
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with atomic_write(path, 'w', encoding='utf-8') as f:
                f.write(text)
    return [(path, what) for path, _, what in plan]


def main(argv=None) -> int:
    parser = ArgumentParser(prog='llmcompression-configs', description=__doc__)
    commands = parser.add_subparsers(dest='command', required=True)
    install_parser = commands.add_parser(
        'install', help='write the thin configs into DIR (default ./configs)'
    )
    install_parser.add_argument(
        'dir',
        nargs='?',
        default='configs',
        help='the OpenCompass config dir to write into (default ./configs, where OpenCompass looks first)',
    )
    args = parser.parse_args(argv)
    try:
        done = install(args.dir)
    except (ConfigsError, OSError) as err:
        print(f'llmcompression-configs: error: {err}', file=sys.stderr)
        return ERROR
    for path, what in done:
        print(f'{what}: {path}')
    default = os.path.normpath(args.dir) == 'configs'
    where = '' if default else f' --config-dir {args.dir}'
    print(
        f'\nFrom {"this folder" if default else "anywhere"}: opencompass{where} --datasets '
        f'llm_compression --summarizer llm_compression --hf-type base --hf-path MODEL\n'
        f'(or python run.py ... in an OpenCompass checkout); the log then says '
        f'"{PLUGIN} <version>: dataset config llm_compression". --datasets '
        f'llm_compression_paper_suite adds the paper\'s twelve benchmarks (docs/paper_suite.md).'
    )
    return OK


if __name__ == '__main__':
    sys.exit(main())
