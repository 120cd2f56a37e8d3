"""MMLU in the cloze style of "Compression Represents Intelligence Linearly", and subjects pooled.

The paper scores MMLU (and MMLU-Math) in the cloze style of lm-evaluation-harness's
``mmlu_continuation`` (its Appendix D): the question alone, the options never shown, and each
option's text scored as the answer after five questions of the subject's dev split::

    The following are questions (with answers) about abstract algebra.

    Question: <dev question 1>
    Answer: <the text of its correct option>

    ... (dev questions 2 to 5, the same way)

    Question: <test question>
    Answer: <the text of one option>

The per-subject configs (``configs/datasets/mmlu_cloze/mmlu_cloze_ppl.py``) build this from
OpenCompass's own ``MMLUDataset`` and ``FixKRetriever`` with the strings below.
``PooledMMLUClozeDataset`` puts several subjects into one test set (the paper's MMLU-Math: its
four mathematics subjects, one accuracy over all their questions). Each question's shots must
come from its own subject, which no OpenCompass retriever does, so it writes each row's whole
prefix (the subject's line and its five shots) into the column ``fewshot``, rendered as
OpenCompass's retriever renders them: the same prompt as the per-subject config's, character
for character.
"""

from typing import Sequence

from datasets import Dataset, DatasetDict
from opencompass.datasets import MMLUDataset
from opencompass.datasets.base import BaseDataset
from opencompass.registry import LOAD_DATASET
from opencompass.utils.prompt import safe_format

SHOTS = 5
SHOT_SEPARATOR = '\n\n'
OPTIONS = 'ABCD'

MMLU_MATH_SUBJECTS = (
    'abstract_algebra',
    'college_mathematics',
    'elementary_mathematics',
    'high_school_mathematics',
)

MMLU_SUBJECTS = (
    'abstract_algebra',
    'anatomy',
    'astronomy',
    'business_ethics',
    'clinical_knowledge',
    'college_biology',
    'college_chemistry',
    'college_computer_science',
    'college_mathematics',
    'college_medicine',
    'college_physics',
    'computer_security',
    'conceptual_physics',
    'econometrics',
    'electrical_engineering',
    'elementary_mathematics',
    'formal_logic',
    'global_facts',
    'high_school_biology',
    'high_school_chemistry',
    'high_school_computer_science',
    'high_school_european_history',
    'high_school_geography',
    'high_school_government_and_politics',
    'high_school_macroeconomics',
    'high_school_mathematics',
    'high_school_microeconomics',
    'high_school_physics',
    'high_school_psychology',
    'high_school_statistics',
    'high_school_us_history',
    'high_school_world_history',
    'human_aging',
    'human_sexuality',
    'international_law',
    'jurisprudence',
    'logical_fallacies',
    'machine_learning',
    'management',
    'marketing',
    'medical_genetics',
    'miscellaneous',
    'moral_disputes',
    'moral_scenarios',
    'nutrition',
    'philosophy',
    'prehistory',
    'professional_accounting',
    'professional_law',
    'professional_medicine',
    'professional_psychology',
    'public_relations',
    'security_studies',
    'sociology',
    'us_foreign_policy',
    'virology',
    'world_religions',
)


def subject_line(subject: str) -> str:
    """The line before the shots: ``The following are questions (with answers) about X.``"""
    return f'The following are questions (with answers) about {subject.replace("_", " ")}.' + SHOT_SEPARATOR


def cloze_item(option: str) -> str:
    """A question and, as its answer, the text of option ``option`` (a column of the row)."""
    return f'Question: {{input}}\nAnswer: {{{option}}}'


def few_shot_prefix(subject: str, shots: Dataset) -> str:
    """The subject's line and its shots, each answered with its correct option's text."""
    examples = [safe_format(cloze_item(row['target']), **row) for row in shots]
    return subject_line(subject) + SHOT_SEPARATOR.join(examples) + SHOT_SEPARATOR


@LOAD_DATASET.register_module()
class PooledMMLUClozeDataset(BaseDataset):
    """MMLU subjects ``names`` as one test set, read by OpenCompass's ``MMLUDataset``.

    Test rows keep MMLU's columns (``input``, ``A``-``D``, ``target``) and add ``subject`` and
    ``fewshot``: the cloze prefix built from the first ``shots`` questions of the row's own
    subject's dev split. The ``dev`` split is the subjects' dev questions, pooled too.
    """

    @staticmethod
    def load(path: str, names: Sequence[str], shots: int = SHOTS) -> DatasetDict:
        dev, test = [], []
        for name in names:
            subject = MMLUDataset.load(path, name)
            if len(subject['dev']) < shots:
                raise ValueError(f'MMLU {name}: {len(subject["dev"])} dev questions, {shots} shots wanted')
            prefix = few_shot_prefix(name, subject['dev'].select(range(shots)))
            dev += [dict(row, subject=name) for row in subject['dev']]
            # `fewshot` first: OpenCompass fills a template's fields in the row's column order,
            # so the prefix is in place before the other fields are filled, as the retriever's
            # shots are, and the prompt is the per-subject config's, even for a text holding
            # "{A}" (which OpenCompass fills there too)
            test += [dict(fewshot=prefix, **row, subject=name) for row in subject['test']]
        return DatasetDict(dev=Dataset.from_list(dev), test=Dataset.from_list(test))
