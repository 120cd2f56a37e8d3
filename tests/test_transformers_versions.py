"""transformers 4 and 5: the same token ids from the demo's tokenizer, and a loud warning when a
model folder was saved by a newer transformers major than the one loading it.

Run under both majors (the project pins 4.57; requirements/constraints-transformers5.txt is the
5.x set). The ids below come from transformers 5's own conversion of SmolLM2's GGUF file (no
BOS token per document); a tokenizer that drifts under either version fails here.
"""

import hashlib
import json
import os
from types import SimpleNamespace

import pytest
import transformers
from conftest import ASSETS, make_tiny_model, smollm2_tokenizer_dir

from opencompass_llmcompression import smollm2
from opencompass_llmcompression.core.model_checks import check_transformers_version

SILENT = SimpleNamespace(warning=pytest.fail)  # a logger that fails the test if it warns

MAJOR = int(transformers.__version__.split('.')[0])

SHORT = 'The "while" statement:\n    while x < 10:\n        x += 1  # café, 日本語 😀\r\n'
SHORT_IDS = [
    504,
    476,
    5627,
    18,
    4814,
    42,
    472,
    979,
    1792,
    2067,
    216,
    33,
    32,
    42,
    448,
    1792,
    4519,
    216,
    33,
    216,
    907,
    37366,
    28,
    17097,
    241,
    115,
    40993,
    179,
    120,
    248,
    40303,
    218,
    2738,
]

LONG = '\n\n'.join(
    [
        'Compression represents intelligence linearly: a model that predicts the next token well '
        'also codes text in fewer bits.  Two  spaces, three   spaces,\ttabs\t\tand trailing space. ',
        'def sliding_windows(n_tokens: int, block_size: int = 1900, stride: int = 512):\n'
        '    """Which windows exist, and which positions each one scores."""\n'
        '    starts = range(0, max(n_tokens - block_size, 0) + 1, stride)\n'
        '    return [(s, s + block_size + 1) for s in starts]\n',
        r'\begin{theorem}Let $f\colon \mathbb{R}^n \to \mathbb{R}$ be convex. Then '
        r'$f(\lambda x + (1-\lambda) y) \le \lambda f(x) + (1-\lambda) f(y)$ for all '
        r'$\lambda \in [0, 1]$.\end{theorem}',
        'Unicode: naïve façade, Größe, Ελληνικά, русский текст, 中文文本, 日本語のテキスト, 한국어, '
        'emoji 👩\u200d💻 🇫🇷, combining e\u0301, NBSP\u00a0here, replacement \ufffd.',
        'Windows line endings\r\nand a literal special token <|endoftext|> inside the text, '
        '<|im_start|>user\nhello<|im_end|>',
        '0123456789 3.14159 1e-10 0xDEADBEEF 1,234,567 2024-01-31T12:00:00Z ' * 3,
    ]
)
LONG_TOKENS = 536
LONG_SHA256 = 'cdbb2a38592933b395dbe9fb545c28f7d5602a40293e534f8fe874d5632456fa'


def ids_digest(ids) -> str:
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()


# --- the demo's tokenizer --------------------------------------------------------------------


@pytest.fixture(scope='module')
def demo_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_tokenizer_dir())


def test_the_tokenizer_folder_is_per_major():
    folder = smollm2_tokenizer_dir()
    assert folder.endswith(
        os.path.join(f'smollm2-transformers{MAJOR}-v{smollm2.CONVERSION}', 'smollm2-tokenizer')
    )


def test_the_same_ids_under_every_version(demo_tokenizer):
    assert demo_tokenizer.encode(SHORT) == SHORT_IDS
    assert demo_tokenizer(SHORT)['input_ids'] == SHORT_IDS  # the path the token stream takes
    ids = demo_tokenizer.encode(LONG)
    assert (len(ids), ids_digest(ids)) == (LONG_TOKENS, LONG_SHA256)
    assert demo_tokenizer.decode(ids) == LONG


def test_only_the_inputs_a_llama_takes(demo_tokenizer):
    """No token_type_ids: generate() refuses them, and OpenCompass's generation benchmarks
    (GSM8K...) pass on whatever the tokenizer returns."""
    assert sorted(demo_tokenizer('x')) == ['attention_mask', 'input_ids']


def test_no_bos_token_before_a_document(demo_tokenizer):
    assert demo_tokenizer.encode('') == []
    assert demo_tokenizer.encode('x') == demo_tokenizer('x', add_special_tokens=False)['input_ids']


@pytest.mark.skipif(MAJOR < 5, reason='transformers 4 converts the GGUF with a BOS per document')
def test_the_reference_is_transformers_own_conversion(demo_tokenizer):
    """Under 5.x the GGUF converted by transformers itself gives the ids committed above."""
    from transformers import AutoTokenizer

    folder, gguf = smollm2.gguf_file()
    converted = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
    assert converted.encode(SHORT) == SHORT_IDS
    assert ids_digest(converted.encode(LONG)) == LONG_SHA256


def test_the_demo_model_keeps_smollm2s_rope_base():
    from transformers import AutoConfig

    folder = smollm2.smollm2_model_dir(ASSETS)
    assert folder.endswith(
        os.path.join(f'smollm2-transformers{MAJOR}-v{smollm2.CONVERSION}', 'smollm2-135m')
    )  # OpenCompass names it smollm2-135m_hf
    config = AutoConfig.from_pretrained(folder)
    rope = getattr(config, 'rope_parameters', None) or {}
    assert rope.get('rope_theta', getattr(config, 'rope_theta', None)) == 100000.0
    assert check_transformers_version(config, SILENT) is None


# --- the warning -----------------------------------------------------------------------------


def saved_by(folder: str, version: str, rope_theta: float = 100000.0) -> str:
    """``folder``'s config.json as transformers ``version`` would have written it: RoPE's base
    under ``rope_parameters`` (where transformers 5 keeps it), no top-level ``rope_theta``."""
    path = os.path.join(folder, 'config.json')
    with open(path) as f:
        config = json.load(f)
    config.pop('rope_theta', None)
    config.pop('rope_scaling', None)
    config.update(
        transformers_version=version, rope_parameters={'rope_theta': rope_theta, 'rope_type': 'default'}
    )
    with open(path, 'w') as f:
        json.dump(config, f, indent=2)
    return folder


@pytest.fixture(scope='module')
def tiny_folder(tmp_path_factory):
    return make_tiny_model(str(tmp_path_factory.mktemp('tiny-versions')), hidden=16, layers=1)


def load_config(folder: str):
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(folder)


def test_a_newer_major_warns_with_the_field_both_versions_and_the_fix(tiny_folder, tmp_path):
    import shutil

    folder = saved_by(shutil.copytree(tiny_folder, str(tmp_path / 'newer')), f'{MAJOR + 1}.2.0')
    warned = []
    message = check_transformers_version(load_config(folder), SimpleNamespace(warning=warned.append))
    assert warned == [message]
    assert '`transformers_version`' in message and 'config.json' in message
    assert f'{MAJOR + 1}.2.0' in message and transformers.__version__ in message
    assert f'transformers>={MAJOR + 1}' in message
    if MAJOR < 5:  # 4.x reads rope_theta: the file's 100000 is ignored, the default used
        assert '`rope_parameters` (rope_theta 100000.0 in the file)' in message
        assert 'silently uses rope_theta 10000.0' in message
        assert '"rope_theta": 100000.0' in message


def test_what_transformers_4_ignores_is_named(tiny_folder, tmp_path):
    """The same file read by a 4.x loader (told so), whichever version runs the test."""
    import shutil

    folder = saved_by(shutil.copytree(tiny_folder, str(tmp_path / 'five')), '5.23.0')
    with open(os.path.join(folder, 'config.json')) as f:
        config = dict(json.load(f), rope_theta=10000.0)  # what 4.x fills in
    message = check_transformers_version(config, SimpleNamespace(warning=lambda _: None), installed='4.57.6')
    assert 'transformers 5.23.0' in message and 'transformers 4.57.6' in message
    assert 'silently uses rope_theta 10000.0' in message and '100000.0 in the file' in message
    config['rope_parameters'] = {'rope_type': 'yarn', 'factor': 4.0}
    message = check_transformers_version(config, SimpleNamespace(warning=lambda _: None), installed='4.57.6')
    assert "`rope_parameters.rope_type` ('yarn')" in message


def test_the_same_or_an_older_major_is_silent(tiny_folder, tmp_path):
    import shutil

    assert check_transformers_version(load_config(tiny_folder), SILENT) is None
    folder = saved_by(shutil.copytree(tiny_folder, str(tmp_path / 'same')), f'{MAJOR}.0.0')
    assert check_transformers_version(load_config(folder), SILENT) is None
    older = {'transformers_version': f'{MAJOR - 1}.40.0', 'rope_theta': 10000.0}
    assert check_transformers_version(older, SILENT) is None
    assert check_transformers_version({}, SILENT) is None  # no version: nothing said


def test_the_command_lines_warn_on_stderr(tiny_folder, tmp_path, capsys):
    import shutil

    from opencompass_llmcompression import paper_cli
    from opencompass_llmcompression.core.logs import log_to_stderr
    from opencompass_llmcompression.core.model_loading import load_model
    from opencompass_llmcompression.zip import cli as zip_cli

    folder = saved_by(shutil.copytree(tiny_folder, str(tmp_path / 'cli')), f'{MAJOR + 1}.0.0')

    def warnings(prefix):  # transformers 5 also draws progress bars on stderr
        return [line for line in capsys.readouterr().err.splitlines() if line.startswith(prefix)]

    log_to_stderr(paper_cli.PROG)
    load_model(folder)
    (line,) = warnings(f'{paper_cli.PROG}: warning: ')
    assert f'transformers {MAJOR + 1}.0.0' in line and '`transformers_version`' in line
    log_to_stderr(zip_cli.PROG)
    zip_cli.load_model(folder, 'float32')
    (line,) = warnings('llmcompression-zip: warning: ')
    assert f'transformers {MAJOR + 1}.0.0' in line and '`transformers_version`' in line
