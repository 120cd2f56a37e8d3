"""The paper's suite (`llm_compression_paper_suite`) and its cloze-style MMLU, in OpenCompass.

The suite is resolved by OpenCompass itself: its command line's dry run of a config that
imports it, and its `--datasets` lookup of the short name after `llmcompression-configs
install`. The cloze MMLU configs are run for real through OpenCompass's command line on tiny
files in MMLU's format, and every prompt, perplexity and the accuracy are recomputed here,
independently, with the model itself.
"""

import csv
import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import make_tiny_model

BIN = os.path.dirname(sys.executable)
CORPORA = ['llm_compression-cc', 'llm_compression-python', 'llm_compression-arxiv_math']
BENCHMARKS = [
    'hellaswag',
    'ARC-c-test_25shot',
    'nq_open_5shot',
    'triviaqa_wiki_5shot',
    'openai_humaneval',
    'mbpp',
    *[
        f'ds1000_{lib}'
        for lib in ('Pandas', 'Numpy', 'Tensorflow', 'Scipy', 'Sklearn', 'Pytorch', 'Matplotlib')
    ],
    'gsm8k_5shot',
    'math',
    'agieval-sat-math',
    'mmlu_math_cloze',
]
MATH_SUBJECTS = [
    'abstract_algebra',
    'college_mathematics',
    'elementary_mathematics',
    'high_school_mathematics',
]


def mmlu_subjects():
    """The 57 subjects, from OpenCompass's own list (not this package's)."""
    import opencompass
    from mmengine.config import Config

    path = os.path.join(
        os.path.dirname(opencompass.__file__), 'configs', 'datasets', 'mmlu', 'mmlu_all_sets.py'
    )
    return Config.fromfile(path)['mmlu_all_sets']


def expected_abbrs():
    return sorted(CORPORA + BENCHMARKS + [f'mmlu_cloze-{s}' for s in mmlu_subjects()])


def run(args, cwd, env=None, timeout=1500):
    proc = subprocess.run(
        args, cwd=cwd, env=dict(os.environ, **(env or {})), capture_output=True, text=True, timeout=timeout
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]
    return output


def test_the_suites_config_names_its_datasets_once_each():
    from mmengine.config import Config

    from opencompass_llmcompression import CONFIG_DIR

    cfg = Config.fromfile(
        os.path.join(CONFIG_DIR, 'datasets', 'llm_compression_paper_suite', 'llm_compression_paper_suite.py')
    )
    # `--datasets` takes every list whose name ends in `_datasets`: one, so none twice
    assert [k for k in cfg if k.endswith('_datasets')] == ['llm_compression_paper_suite_datasets']
    abbrs = [d['abbr'] for d in cfg['llm_compression_paper_suite_datasets']]
    assert sorted(abbrs) == expected_abbrs() and len(set(abbrs)) == len(abbrs) == 77
    assert cfg['datasets'] == cfg['llm_compression_paper_suite_datasets']
    by_abbr = {d['abbr']: d for d in cfg['datasets']}
    arc = by_abbr['ARC-c-test_25shot']
    assert arc['infer_cfg']['retriever']['fix_id_list'] == list(range(25))
    assert arc['reader_cfg']['test_range'] == '[25:]'  # the shots are not scored
    assert by_abbr['gsm8k_5shot']['infer_cfg']['retriever']['fix_id_list'] == [0, 1, 2, 3, 4]
    perplexity = [
        a for a, d in by_abbr.items() if d['infer_cfg']['inferencer']['type'].__name__ == 'PPLInferencer'
    ]
    assert sorted(perplexity) == sorted(
        ['hellaswag', 'ARC-c-test_25shot', 'mmlu_math_cloze'] + [f'mmlu_cloze-{s}' for s in mmlu_subjects()]
    )
    # one prompt at a time: in a batch, OpenCompass's perplexity depends on the batch
    assert all(by_abbr[a]['infer_cfg']['inferencer']['batch_size'] == 1 for a in perplexity)
    assert by_abbr['mmlu_math_cloze']['names'] == MATH_SUBJECTS


def test_the_pooled_dataset_is_registered_under_its_own_name():
    from opencompass.registry import LOAD_DATASET

    import opencompass_llmcompression  # noqa: F401  (registers the components)

    assert (
        LOAD_DATASET.get('PooledMMLUClozeDataset').__module__
        == 'opencompass_llmcompression.openicl.mmlu_cloze'
    )
    assert LOAD_DATASET.get('MMLUDataset').__module__.startswith('opencompass.')


DRY_RUN_SUITE = '''
from mmengine.config import read_base
from opencompass.models import HuggingFaceBaseModel
from opencompass.partitioners import NaivePartitioner
from opencompass.runners import LocalRunner
from opencompass.tasks import OpenICLEvalTask, OpenICLInferTask

with read_base():
    from opencompass_llmcompression.configs.datasets.llm_compression_paper_suite.\\
        llm_compression_paper_suite import llm_compression_paper_suite_datasets

datasets = [*llm_compression_paper_suite_datasets]
models = [dict(type=HuggingFaceBaseModel, abbr='some-model', path='/models/some-model',
               run_cfg=dict(num_gpus=0))]
infer = dict(partitioner=dict(type=NaivePartitioner),
             runner=dict(type=LocalRunner, task=dict(type=OpenICLInferTask)))
eval = dict(partitioner=dict(type=NaivePartitioner),
            runner=dict(type=LocalRunner, task=dict(type=OpenICLEvalTask)))
'''


@pytest.mark.cli
def test_a_dry_run_through_opencompass_resolves_every_dataset(tmp_path):
    """`opencompass SUITE --dry-run`: OpenCompass loads the suite, writes the config its tasks
    would read, loads that back and partitions it into one task per dataset. No data is
    read (NaivePartitioner does not size datasets; `--datasets` alone uses a partitioner
    that loads every dataset to size it, so a dry run of it needs all their data)."""
    suite = tmp_path / 'suite.py'
    suite.write_text(DRY_RUN_SUITE)
    output = run([os.path.join(BIN, 'opencompass'), str(suite), '--dry-run', '-w', 'work'], tmp_path)
    assert 'Partitioned into 77 tasks.' in output
    (dumped,) = glob.glob(str(tmp_path / 'work' / '*' / 'configs' / '*.py'))
    from mmengine.config import Config

    datasets = Config.fromfile(dumped)['datasets']  # as OpenCompass's tasks read it
    assert sorted(d['abbr'] for d in datasets) == expected_abbrs()
    types = {d['abbr']: d['type'] for d in datasets}
    assert types['mmlu_math_cloze'] == 'opencompass_llmcompression.openicl.mmlu_cloze.PooledMMLUClozeDataset'
    assert types['mmlu_cloze-anatomy'] == 'opencompass.datasets.MMLUDataset'


@pytest.mark.cli
def test_the_short_names_reach_the_suite_after_install(tmp_path):
    """OpenCompass's own lookup (`match_cfg_file`) and its command line's reading of
    `--datasets` (`get_config_from_arg`), in an empty folder after the install step."""
    run([os.path.join(BIN, 'llmcompression-configs'), 'install'], tmp_path)
    import opencompass
    from opencompass.cli.main import parse_args
    from opencompass.utils.run import get_config_from_arg, match_cfg_file

    packaged = os.path.join(os.path.dirname(opencompass.__file__), 'configs', 'datasets')
    config_dir = str(tmp_path / 'configs')
    for name, relative in [
        ('llm_compression_paper_suite', 'llm_compression_paper_suite/llm_compression_paper_suite.py'),
        ('mmlu_cloze_ppl', 'mmlu_cloze/mmlu_cloze_ppl.py'),
        ('mmlu_math_cloze_ppl', 'mmlu_cloze/mmlu_math_cloze_ppl.py'),
    ]:
        found = match_cfg_file([os.path.join(config_dir, 'datasets'), packaged], [name])
        assert [list(f) for f in found] == [[name, os.path.join(config_dir, 'datasets', relative)]]
    argv = sys.argv
    try:
        sys.argv = [
            'opencompass',
            '--datasets',
            'llm_compression_paper_suite',
            '--hf-type',
            'base',
            '--hf-path',
            '/models/some-model',
            '--config-dir',
            config_dir,
        ]
        cfg = get_config_from_arg(parse_args())
    finally:
        sys.argv = argv
    assert sorted(d['abbr'] for d in cfg['datasets']) == expected_abbrs()  # each once


# A real run of the cloze MMLU configs: two subjects and the pooled mathematics set.

ANATOMY = [  # question, options A-D, answer: commas, quotes and a line break, as MMLU has
    ('Which organ pumps blood through the body?', 'The heart', 'The liver', 'A lung', 'The left kidney', 'A'),
    (
        'How many bones are in the adult human body?',
        '106',
        '206',
        'about 3,000',
        'It depends on the "count"',
        'B',
    ),
    ('The femur is found in the', 'arm', 'skull', 'thigh', 'foot and ankle', 'C'),
    ('Which of these is a muscle?\nChoose one.', 'Tibia', 'Biceps', 'Cornea', 'Aorta', 'B'),
    ('Where is the cornea?', 'In the eye', 'In the ear', 'In the nose', 'In the throat', 'A'),
    (
        'Which vessel carries blood away from the heart?',
        'A vein',
        'An artery',
        'A capillary bed, mostly',
        'The lymph duct',
        'B',
    ),
    (
        'What does the small intestine mainly do?',
        'Absorb nutrients',
        'Pump blood',
        'Make bile, store it, and release it',
        'Filter air',
        'A',
    ),
    ('The skull protects the', 'heart', 'brain', 'stomach', 'lungs', 'B'),
]


def arithmetic(subject, count):
    """Questions whose options differ in length, so normalisation matters."""
    rows = []
    for i in range(count):
        a, b = 3 + 2 * i + len(subject) % 5, 4 + i
        right = a * b
        options = [f'{right}', f'{right + 1} exactly', f'{right - 2}, or so', f'{2 * right}']
        shift = i % 4
        options = options[-shift:] + options[:-shift] if shift else options
        rows.append(
            (
                f'In {subject.replace("_", " ")}: what is {a} times {b}?',
                *options,
                'ABCD'[options.index(f'{right}')],
            )
        )
    return rows


def write_mmlu(root):
    """`data/mmlu/{dev,test}/<subject>_{dev,test}.csv`: question,A,B,C,D,answer, no header;
    5 dev and 3 test questions per subject."""
    tables = {'anatomy': ANATOMY, **{s: arithmetic(s, 8) for s in MATH_SUBJECTS}}
    for subject, rows in tables.items():
        for split, part in (('dev', rows[:5]), ('test', rows[5:])):
            os.makedirs(os.path.join(root, 'data', 'mmlu', split), exist_ok=True)
            with open(
                os.path.join(root, 'data', 'mmlu', split, f'{subject}_{split}.csv'),
                'w',
                newline='',
                encoding='utf-8',
            ) as f:
                csv.writer(f).writerows(part)
    return tables


def expected_prompt(subject, dev, question, option_text):
    """The cloze prompt, written out here: the subject's line, five answered dev questions,
    the question and one option's text; no letters, no list of options."""
    shots = ''.join(f'Question: {q}\nAnswer: {opts["ABCD".index(ans)]}\n\n' for q, *opts, ans in dev)
    return (
        f'The following are questions (with answers) about {subject.replace("_", " ")}.'
        f'\n\n{shots}Question: {question}\nAnswer: {option_text}'
    )


def mean_prompt_nll(model, tokenizer, pad_id, text):
    """OpenCompass's PPL of a prompt, by hand: the summed next-token NLL over the whole
    prompt (its shots and question too) divided by its number of tokens that are not the pad
    token, the tokenizer's special tokens added as OpenCompass's HuggingFaceBaseModel adds them."""
    ids = torch.tensor([tokenizer(text, add_special_tokens=True)['input_ids']])
    with torch.no_grad():
        logits = model(ids).logits[0, :-1].double()
    targets = ids[0, 1:]
    nll = -torch.log_softmax(logits, -1)[torch.arange(len(targets)), targets]
    nll = nll[targets != pad_id]
    return float(nll.sum() / (ids[0] != pad_id).sum())


CLOZE_SUITE = '''
from mmengine.config import read_base
from opencompass.models import HuggingFaceBaseModel
from opencompass.partitioners import NaivePartitioner
from opencompass.runners import LocalRunner
from opencompass.tasks import OpenICLEvalTask, OpenICLInferTask

with read_base():
    from opencompass_llmcompression.configs.datasets.mmlu_cloze.mmlu_cloze_ppl import \\
        mmlu_cloze_datasets
    from opencompass_llmcompression.configs.datasets.mmlu_cloze.mmlu_math_cloze_ppl import \\
        mmlu_math_cloze_datasets

datasets = [d for d in mmlu_cloze_datasets
            if d['abbr'] in ('mmlu_cloze-anatomy', 'mmlu_cloze-elementary_mathematics')]
datasets += mmlu_math_cloze_datasets
# batch_size=4: the configs' own batch_size=1 must win, or the perplexities depend on batching
models = [dict(type=HuggingFaceBaseModel, abbr='tiny', path={path!r}, batch_size=4,
               model_kwargs=dict(torch_dtype='torch.float32'), run_cfg=dict(num_gpus=0))]
infer = dict(partitioner=dict(type=NaivePartitioner, n=3),
             runner=dict(type=LocalRunner, task=dict(type=OpenICLInferTask)))
eval = dict(partitioner=dict(type=NaivePartitioner, n=3),
            runner=dict(type=LocalRunner, task=dict(type=OpenICLEvalTask)))
'''


@pytest.fixture(scope='module')
def cloze_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('cloze')
    data = root / 'compass-data'
    tables = write_mmlu(str(data))
    model_dir = make_tiny_model(str(root / 'tiny'), seed=4)  # right on some questions only
    (root / 'suite.py').write_text(CLOZE_SUITE.format(path=model_dir))
    run(
        [os.path.join(BIN, 'opencompass'), 'suite.py', '-w', 'work'],
        root,
        env=dict(COMPASS_DATA_CACHE=str(data), HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false'),
    )
    (run_dir,) = glob.glob(str(root / 'work' / '*' / ''))

    def read(kind, abbr):
        with open(os.path.join(run_dir, kind, 'tiny', f'{abbr}.json')) as f:
            return json.load(f)

    return tables, model_dir, read


@pytest.mark.cli
def test_cloze_mmlu_through_opencompass_equals_an_independent_computation(cloze_run):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tables, model_dir, read = cloze_run
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    pad_id = tokenizer.pad_token_id
    if pad_id is None:  # HuggingFaceBaseModel's rule: the generation config's, else EOS
        pad_id = model.generation_config.pad_token_id
        pad_id = tokenizer.eos_token_id if pad_id is None else pad_id

    checked = {}
    for abbr, subjects in [
        ('mmlu_cloze-anatomy', ['anatomy']),
        ('mmlu_cloze-elementary_mathematics', ['elementary_mathematics']),
        ('mmlu_math_cloze', MATH_SUBJECTS),
    ]:
        predictions = read('predictions', abbr)
        rows = [(s, r) for s in subjects for r in tables[s][5:]]  # test rows, in order
        assert len(predictions) == len(rows)
        correct = []
        for i, (subject, (question, *options, answer)) in enumerate(rows):
            got = predictions[str(i)]
            ppl = []
            for label, text in zip('ABCD', options):
                prompt = expected_prompt(subject, tables[subject][:5], question, text)
                assert got[f'label: {label}']['prompt'] == prompt
                assert not any(f'\n{letter}. ' in prompt for letter in 'ABCD')
                ppl.append(mean_prompt_nll(model, tokenizer, pad_id, prompt))
                assert got[f'label: {label}']['PPL'] == pytest.approx(ppl[-1], rel=1e-5)
            assert sorted(ppl)[1] - sorted(ppl)[0] > 1e-4  # no near-tie to flip
            assert got['prediction'] == 'ABCD'[int(np.argmin(ppl))]
            assert got['gold'] == answer
            correct.append(got['prediction'] == answer)
            checked[abbr, i] = got
        accuracy = 100 * sum(correct) / len(correct)
        assert 0 < accuracy < 100  # some right, some wrong: the count is a real check
        assert read('results', abbr)['accuracy'] == pytest.approx(accuracy, abs=1e-9)
    # the pooled set asks each question as the per-subject config does, shots from its subject
    for i in range(3):
        for label in 'ABCD':
            assert (
                checked['mmlu_math_cloze', 6 + i][f'label: {label}']['prompt']
                == checked['mmlu_cloze-elementary_mathematics', i][f'label: {label}']['prompt']
            )
