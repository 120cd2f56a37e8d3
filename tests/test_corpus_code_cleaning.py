"""corpus.code_cleaning step by step, at each limit and against the documented draw."""

import hashlib
import logging
import random

import pytest

from opencompass_llmcompression.corpus import code_cleaning
from opencompass_llmcompression.corpus.code_cleaning import NearDuplicateCode, code_filters, code_steps
from opencompass_llmcompression.corpus.documents import Document


def steps(seed=0, tokenizer=None):
    return {step.name.removeprefix('code: '): step for step in code_steps(seed, tokenizer)}


def dropped(step_name, text, **kw):
    return steps(**kw)[step_name].reason_out(Document(text, 'f.py')) is not None


@pytest.mark.parametrize(
    'step,kept,out',
    [
        ('max_file_bytes', 'a' * 1024**2, 'a' * (1024**2 + 1)),
        ('max_line_length', 'x' * 1000 + '\n', 'x' * 1001 + '\n'),
        ('max_mean_line_length', 'x' * 100 + '\n' + 'x' * 100, 'x' * 100 + '\n' + 'x' * 101),
        ('min_alphanumeric_fraction', 'a---', 'a----'),  # 1/4 = 0.25 kept, 1/5 not
        ('few_assignments', 'a=1;b=2;c=3;d=4;e=5', 'a=1;b=2;c=3;d=4'),  # 5 '=' kept, 4 dropped
    ],
)
def test_each_limit_from_both_sides(step, kept, out):
    assert not dropped(step, kept) and dropped(step, out)


class ListTokenizer:
    """Tokens given by hand: the text split on '|' (no name_or_path)."""

    def encode(self, text):
        return text.split('|')


def test_chars_per_token_at_its_limit():
    tokenizer = ListTokenizer()
    assert not dropped('chars_per_token', 'ab|c', tokenizer=tokenizer)  # 4 characters, 2 tokens: 2.0
    assert not dropped('chars_per_token', 'a|b', tokenizer=tokenizer)  # 3 characters, 2 tokens: 1.5
    assert dropped('chars_per_token', 'a|b|', tokenizer=tokenizer)  # 4 characters, 3 tokens
    assert not dropped('chars_per_token', 'ab', tokenizer=tokenizer)  # 2 characters in one token
    ran = code_filters(tokenizer)['chars_per_token']['ran']
    assert ran == 'yes, with the tokenizer ListTokenizer'  # no name_or_path: the class's name


def test_a_missing_tokenizer_is_logged_once_and_only_then(caplog):
    with caplog.at_level(logging.INFO, logger='opencompass_llmcompression'):
        code_steps(0)
    assert caplog.messages == ['code cleaning: no tokenizer, the characters-per-token filter does not run']
    caplog.clear()
    with caplog.at_level(logging.INFO, logger='opencompass_llmcompression'):
        code_steps(0, ListTokenizer())
    assert caplog.messages == []


def documented_draw(seed, step, text):
    """CODE_FILTERS' rule, as written there: random.Random(f"{seed}:{step}:{sha256}")."""
    digest = hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()
    return random.Random(f'{seed}:{step}:{digest}').random() < 0.7


@pytest.mark.parametrize('seed', [0, 7])
def test_the_draws_are_the_documented_rule(seed):
    # each text is a test file (first line) with none of def/class/for/while, so each is
    # dropped by the first draw or, when kept, put to the second
    texts = [f'# test file {i}\nx{i} = {i}\n' for i in range(40)] + ['# test file \ud800 lone\n']
    by_name = steps(seed)
    for text in texts:
        doc = Document(text, 'f.py')
        first = by_name['config_or_test'].reason_out(doc) is not None
        assert first == documented_draw(seed, 'config_or_test', text)
        second = by_name['no_keywords'].reason_out(doc) is not None
        assert second == documented_draw(seed, 'no_keywords', text)
    assert code_filters()['config_or_test']['draw'] == (
        'dropped when random.Random(f"{seed}:config_or_test:{sha256 of the text}").random() < 0.7'
    )


def test_exact_duplicates_hash_any_text_and_ignore_only_whitespace():
    by_name = steps()
    same = by_name['exact_duplicates']
    assert [same.reason_out(Document(t, 'f')) for t in ('a\ud800', 'a\ud800', 'a')] == [
        None,
        'exact duplicate (same bytes)',
        None,
    ]
    spaced = by_name['exact_duplicates_without_whitespace']
    texts = ['x = 1\ud800', 'x=1\ud800', 'x =\t1\ud800', 'x = 2']
    assert [spaced.reason_out(Document(t, 'f')) is not None for t in texts] == [False, True, True, False]


def test_config_or_test_words_are_counted_over_the_whole_file():
    # 40 newlines: more than int(0.05 * 40) = 2 occurrences needed; 3, one a line, are enough
    lines = ['x = 1'] * 37 + ['# config'] * 3
    text = '\n'.join(lines) + '\n'
    assert code_cleaning._config_or_test(text, text.splitlines())
    text = '\n'.join(['x = 1'] * 38 + ['# config'] * 2) + '\n'
    assert not code_cleaning._config_or_test(text, text.splitlines())


def tokens_doc(tokens):
    return Document(' '.join(tokens), 'f.py')


def test_near_duplicates_at_ten_tokens_and_by_exact_jaccard():
    step = NearDuplicateCode(code_filters())
    ten = [f'w{i}' for i in range(10)]
    assert step.apply(tokens_doc(ten)) == tokens_doc(ten)
    assert step.apply(tokens_doc(ten)) == 'near duplicate (Jaccard of tokens >= 0.85)'  # 10 tokens: compared
    # 100 tokens each, 84 shared: Jaccard 84 / 116 = 0.72. The index proposes this pair; the
    # exact Jaccard keeps it.
    a = [f'a23_{i}' for i in range(100)]
    b = a[:84] + [f'b23_{i}' for i in range(16)]
    step = NearDuplicateCode(code_filters())
    assert step.apply(tokens_doc(a)) == tokens_doc(a) and step.apply(tokens_doc(b)) == tokens_doc(b)
    # 92 shared: Jaccard 92 / 108 = 0.85185, dropped. The paper's hashing (datasketch's
    # 'legacy' scheme) proposes this pair; datasketch 2's default scheme does not.
    a = [f'a0_{i}' for i in range(100)]
    b = a[:92] + [f'b0_{i}' for i in range(8)]
    step = NearDuplicateCode(code_filters())
    assert step.apply(tokens_doc(a)) == tokens_doc(a)
    assert step.apply(tokens_doc(b)) == 'near duplicate (Jaccard of tokens >= 0.85)'
