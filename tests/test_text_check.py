"""The text measured is the text given: tokenizers that rewrite the text are refused before any
window is scored, the known fault of transformers 5 is repaired where the tokenizer is loaded,
and a lossy tokenizer, when allowed, is measured and marked.

Runs under transformers 4 (.venv), 5.23 (.venv-transformers5) and 5.19 (.venv-vllm, where
transformers itself loads a Llama-labelled byte-level tokenizer without its spaces)."""

import dataclasses
import json
import logging
import os
import re
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
import transformers
from brute_force import brute_force_nll
from conftest import import_or_skip, real_documents, smollm2_tokenizer_dir, write_jsonl

from opencompass_llmcompression import paper_cli, score_documents
from opencompass_llmcompression.core.model_loading import load_tokenizer
from opencompass_llmcompression.core.scoring_loop import corpus_text_check
from opencompass_llmcompression.core.settings import MeasurementSettings
from opencompass_llmcompression.core.text_check import (
    TextChanged,
    TextCheck,
    _difference,
    check_round_trip,
    require_text_kept,
    result_record,
    same_text,
    tokenizable,
)
from opencompass_llmcompression.report.leaderboard import LOSSY_MARK, leaderboard, long_rows, lossy_notes

SETTINGS = MeasurementSettings(64, 16)
TEXT = 'def f(x):\n    return x + 1  # hello world'


def llama_labelled(tmp_path, edit_json=None) -> str:
    """SmolLM2's byte-level tokenizer under the class name Deepseek-llm-7b's folder gives,
    ``LlamaTokenizerFast`` (``tokenizer.json`` changed by ``edit_json`` if given)."""
    folder = str(tmp_path / 'llama-labelled')
    shutil.copytree(smollm2_tokenizer_dir(), folder)
    config_path = os.path.join(folder, 'tokenizer_config.json')
    with open(config_path) as f:
        config = json.load(f)
    with open(config_path, 'w') as f:
        json.dump(dict(config, tokenizer_class='LlamaTokenizerFast'), f)
    if edit_json:
        path = os.path.join(folder, 'tokenizer.json')
        with open(path) as f:
            declared = json.load(f)
        edit_json(declared)
        with open(path, 'w') as f:
            json.dump(declared, f)
    return folder


def transformers4_ids(folder: str):
    """The ids transformers 4's LlamaTokenizerFast gives: its BOS token, then the byte-level
    BPE of ``tokenizer.json`` run by the tokenizers library alone."""
    from tokenizers import Tokenizer

    backend = Tokenizer.from_file(os.path.join(folder, 'tokenizer.json'))
    bos = backend.token_to_id('<|im_start|>')  # SmolLM2's BOS token
    return lambda text: [bos] + backend.encode(text, add_special_tokens=False).ids


def test_llama_labelled_byte_level_tokenizer_is_repaired(tmp_path, tiny_model, caplog):
    """Under every transformers: the ids and the BPC of transformers 4.57. The BOS token before
    each document is the Llama class's (tokenizer.json adds none): transformers 4 adds it, some
    5.x releases do not, the repair adds it as the configuration says (add_bos_token, default
    true), so the number is the one the paper's code made."""
    folder = llama_labelled(tmp_path)
    with caplog.at_level(logging.INFO, logger='opencompass_llmcompression'):
        tokenizer = load_tokenizer(folder)
    major = int(transformers.__version__.split('.')[0])
    assert ('loaded as tokenizer.json defines it' in caplog.text) == (major >= 5)
    expected = transformers4_ids(folder)
    assert tokenizer.encode(TEXT) == expected(TEXT)
    assert tokenizer.decode(tokenizer.encode(TEXT), skip_special_tokens=True) == TEXT
    docs = real_documents('python', 3, 600) + [TEXT]
    assert corpus_text_check(docs, tokenizer).held
    nll, tokens = score_documents(tiny_model, tokenizer, docs, range(len(docs)), SETTINGS, progress=False)
    want, want_tokens = brute_force_nll(tiny_model, SimpleNamespace(encode=expected), docs, 64, 16)
    np.testing.assert_allclose(nll, want, rtol=1e-6)
    assert tokens.tolist() == want_tokens.tolist()


def metaspace_over_byte_level(declared: dict) -> None:
    """The pipeline transformers 5.19's LlamaTokenizer puts over a byte-level tokenizer.json."""
    declared['pre_tokenizer'] = {
        'type': 'Metaspace',
        'replacement': '▁',
        'prepend_scheme': 'first',
        'split': False,
    }
    declared['decoder'] = {
        'type': 'Sequence',
        'decoders': [
            {'type': 'Replace', 'pattern': {'String': '▁'}, 'content': ' '},
            {'type': 'ByteFallback'},
            {'type': 'Fuse'},
            {'type': 'Strip', 'content': ' ', 'start': 1, 'stop': 0},
        ],
    }


def test_a_tokenizer_that_drops_spaces_is_refused_before_scoring(tmp_path, tiny_model):
    from transformers import PreTrainedTokenizerFast

    folder = llama_labelled(tmp_path, metaspace_over_byte_level)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(folder)  # as the fault leaves it
    docs = ['naïve text, well formed.'] + real_documents('python', 2, 400)
    with pytest.raises(TextChanged) as refused:
        score_documents(tiny_model, tokenizer, docs, range(3), SETTINGS, progress=False)
    message = str(refused.value)
    assert type(tokenizer).__name__ in message and folder in message
    assert '3 of 3 documents differ' in message
    assert "'naïve text, well formed.' decodes as 'naïvetext,wellformed.'" in message
    assert 'load_tokenizer' in message and 'allow_lossy_tokenizer=True' in message


def test_the_fault_of_the_installed_transformers_is_caught_unrepaired(tmp_path, tiny_model):
    """Where the installed transformers has the fault (5.x before its own routing to
    TokenizersBackend; CI runs this under 5.19), AutoTokenizer without the repair is refused."""
    from transformers import AutoTokenizer

    folder = llama_labelled(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.decode(tokenizer.encode(TEXT), skip_special_tokens=True) == TEXT:
        pytest.skip(f'transformers {transformers.__version__} loads this tokenizer with its spaces')
    with pytest.raises(TextChanged, match=r'1 of 1 documents differ.*decodes as .deff\(x\):'):
        score_documents(tiny_model, tokenizer, [TEXT], [0], SETTINGS, progress=False)


def unknown_token_tokenizer():
    """One token per ASCII character, '[UNK]' for any other, no byte fallback."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {'[UNK]': 0, '\n': 1, **{chr(c): c - 30 for c in range(32, 127)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token='[UNK]'))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex('[\\s\\S]'), behavior='isolated')
    backend.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token='[UNK]')


LOSSY_DOCS = ['A naïve café, at the end of the street.\n' * 3, 'plain ASCII text, nothing lost here.\n' * 3]


def test_unknown_tokens_are_refused_naming_the_character(tiny_model):
    tokenizer = unknown_token_tokenizer()
    check = check_round_trip(LOSSY_DOCS, *stream_of(LOSSY_DOCS, tokenizer), tokenizer)
    # Document 0 is a 40-character line three times; it differs from 'ï' at offset 4 to the
    # last 'é' at 80 + 11 = 91: 88 characters from the first difference to the last.
    assert (check.documents_differ, check.chars_differ, check.unknown_tokens, check.chars_unseen) == (
        1,
        88,
        6,
        6,
    )
    with pytest.raises(TextChanged, match=r"first 'ï' \(U\+00EF\).*allow_lossy_tokenizer=True"):
        score_documents(tiny_model, tokenizer, LOSSY_DOCS, [0, 1], SETTINGS, progress=False)


def stream_of(docs, tokenizer):
    ids = [tokenizer.encode(d) for d in docs]
    return np.array([t for x in ids for t in x]), np.cumsum([0] + [len(x) for x in ids])


def test_an_allowed_lossy_tokenizer_is_measured_and_marked(tmp_path, tiny_model_dir, tiny_model):
    """Through the paper's command line: refused without the flag, measured with it (the
    brute-force scorer's BPC), the result recording what the model did not see; then the
    report's leaderboard, CSV and notes mark it."""
    model_dir = str(tmp_path / 'model')
    shutil.copytree(tiny_model_dir, model_dir)
    for name in ('tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja'):
        if os.path.exists(os.path.join(model_dir, name)):
            os.remove(os.path.join(model_dir, name))
    tokenizer = unknown_token_tokenizer()
    tokenizer.save_pretrained(model_dir)
    corpus = write_jsonl(str(tmp_path / 'lossy.jsonl'), LOSSY_DOCS)
    args = ['--model_name', model_dir, '--task_name', corpus, '--block_size', '64', '--stride', '16']
    out = str(tmp_path / 'result.json')
    assert paper_cli.main(args + ['--output', out]) == 1 and not os.path.exists(out)
    assert paper_cli.main(args + ['--output', out, '--allow_lossy_tokenizer']) == 0
    with open(out) as f:
        result = json.load(f)
    assert result['text_check'] == dict(
        round_trip='allowed',
        documents=2,
        documents_differ=1,
        chars_differ=88,  # see test_unknown_tokens_are_refused_naming_the_character
        unknown_tokens=6,
        chars_unseen=6,
    )
    nll, _ = brute_force_nll(tiny_model, tokenizer, LOSSY_DOCS, 64, 16)
    chars = sum(len(d) for d in LOSSY_DOCS)
    assert result['bpc'] == pytest.approx(nll.sum() / chars / np.log(2), rel=1e-6)

    results = {'tiny': {'lossy': result}, 'other': {'lossy': dict(result, text_check={'round_trip': 'held'})}}
    header, rows = leaderboard(results, ['lossy'])
    cells = {row[0]: row[1] for row in rows}
    assert cells['tiny'].endswith(LOSSY_MARK) and LOSSY_MARK not in cells['other']
    header, rows = long_rows(results, ['lossy'])
    unseen = {row[0]: row[header.index('chars_unseen')] for row in rows if row[1] == 'lossy'}
    assert unseen == {'tiny': '6', 'other': ''}
    assert lossy_notes(results, ['lossy']) == [
        f'{LOSSY_MARK} tiny on lossy: measured with allow_lossy_tokenizer; its tokenizer does not give '
        f'back the text, and 6 of {chars} characters were not seen by the model as written (the BPC '
        "still counts them; it is not placed on the paper's lines)."
    ]


def test_one_leading_space_is_the_only_accepted_difference():
    assert same_text(' hello', 'hello') and same_text('hello', ' hello') and same_text('a b', 'a b')
    assert (
        not same_text('  hello', 'hello') and not same_text('a  b', 'a b') and not same_text('a\r\n', 'a\n')
    )


def test_the_inferencer_repairs_the_wrappers_tokenizer(tmp_path, tiny_model):
    """Inside OpenCompass the wrapper's tokenizer is AutoTokenizer's: the inferencer scores with
    the repaired one (under transformers 5.23 AutoTokenizer alone gives no BOS, under 5.19 no
    spaces), every row saying that the round trip held."""
    import_or_skip(
        'opencompass', reason='no OpenCompass here (.venv-vllm: its numpy<2 against vLLM\'s numpy>=2)'
    )
    from opencompass.openicl.icl_retriever import ZeroRetriever
    from transformers import AutoTokenizer

    from opencompass_llmcompression import CompressionCorpusDataset, SlidingWindowPPLInferencer

    folder = llama_labelled(tmp_path)
    docs = real_documents('prose', 2, 600) + [TEXT]
    write_jsonl(str(tmp_path / 'cc.jsonl'), docs)
    reader = dict(input_columns=['content'], output_column=None)
    dataset = CompressionCorpusDataset(path=str(tmp_path), name='cc', reader_cfg=reader)
    wrapper = SimpleNamespace(model=tiny_model, tokenizer=AutoTokenizer.from_pretrained(folder))
    out = str(tmp_path / 'out')
    inferencer = SlidingWindowPPLInferencer(wrapper, block_size=64, stride=16, output_json_filepath=out)
    rows = inferencer.inference(ZeroRetriever(dataset), output_json_filename='cc.json')
    want, _ = brute_force_nll(tiny_model, SimpleNamespace(encode=transformers4_ids(folder)), docs, 64, 16)
    np.testing.assert_allclose([r['nll'] for r in rows], want, rtol=1e-6)
    assert all(r['text_check'] == {'round_trip': 'held'} for r in rows)


class CharTokenizer:
    """The least a tokenizer can be: ``encode`` and ``decode`` only (no ``is_fast``, no backend,
    no ``unk_token_id`` unless ``unknown``). One id per character, 1 = a BOS before each text;
    with ``unknown``, every non-ASCII character is id 0, decoded as '?'."""

    def __init__(self, unknown=False):
        if unknown:
            self.unk_token_id = 0
        self.unknown = unknown

    def encode(self, text, add_special_tokens=True):
        ids = [0 if self.unknown and ord(c) > 127 else ord(c) + 10 for c in text]
        return [1] + ids if add_special_tokens else ids

    def decode(self, ids, skip_special_tokens=False, clean_up_tokenization_spaces=None):
        return ''.join({0: '?', 1: '<s>'}.get(i) or chr(i - 10) for i in ids)


def test_a_plain_tokenizer_is_checked_document_by_document():
    tokenizer = CharTokenizer()
    docs = ['plain text', 'naïve <s> café']  # '<s>' as text is seven ids, not the BOS
    check = check_round_trip(docs, *stream_of(docs, tokenizer), tokenizer)
    assert check == TextCheck(2)


def test_the_counts_add_up_over_documents_after_one_that_held():
    tokenizer = CharTokenizer(unknown=True)
    docs = ['plain', 'naïve', 'ça et là']
    check = check_round_trip(docs, *stream_of(docs, tokenizer), tokenizer)
    # 'naïve' -> 'na?ve': 1 character; 'ça et là' -> '?a et l?': all 8, from the first to the last;
    # no offsets from this tokenizer, so the characters unseen are those that differ
    assert check == TextCheck(
        documents=3,
        documents_differ=2,
        chars_differ=1 + 8,
        unknown_tokens=1 + 2,
        chars_unseen=1 + 8,
        first=dict(document=1, offset=2, given='naïve', decoded='na?ve', unknown_char=None),
    )


def test_the_first_difference_is_shown_with_24_characters_each_side():
    tokenizer = CharTokenizer(unknown=True)
    doc = 'a' * 30 + 'é' + 'b' * 30
    check = check_round_trip([doc], *stream_of([doc], tokenizer), tokenizer)
    assert check.first == dict(
        document=0,
        offset=30,
        given='a' * 24 + 'é' + 'b' * 23,
        decoded='a' * 24 + '?' + 'b' * 23,
        unknown_char=None,
    )


class TidyingTokenizer(CharTokenizer):
    """Decodes as a slow tokenizer of transformers may: '<s>' in the text is its special token
    (id 1, also put before each text, as id 2 '</s>' is after it), which
    ``skip_special_tokens`` drops, and ``clean_up_tokenization_spaces`` (None: the tokenizer's
    own default, on) turns ' ,' into ','."""

    clean_up_tokenization_spaces = True

    def encode(self, text, add_special_tokens=True):
        ids = []
        for piece in re.split('(<s>)', text):
            ids += [1] if piece == '<s>' else super().encode(piece, add_special_tokens=False)
        return [1] + ids + [2] if add_special_tokens else ids

    def decode(self, ids, skip_special_tokens=False, clean_up_tokenization_spaces=None):
        kept = [i for i in ids if not (skip_special_tokens and i in (1, 2))]
        text = ''.join('</s>' if i == 2 else super(TidyingTokenizer, self).decode([i]) for i in kept)
        if (
            self.clean_up_tokenization_spaces
            if clean_up_tokenization_spaces is None
            else clean_up_tokenization_spaces
        ):
            text = text.replace(' ,', ',')
        return text


def test_the_ids_are_decoded_as_they_are_special_tokens_and_spaces_kept():
    tokenizer = TidyingTokenizer()
    docs = ['a , b', 'b <s> a', 'a b']  # a tidied ',' or a dropped '<s>' would change the text
    token_ids, offsets = stream_of(docs, tokenizer)
    assert token_ids[offsets[1] : offsets[2]].tolist().count(1) == 2  # the BOS and the '<s>'
    assert check_round_trip(docs, token_ids, offsets, tokenizer) == TextCheck(3)
    # the ids put before and after each document are left out, and only they
    check = check_round_trip(['a , b</s>'], *stream_of(['a , b</s>'], tokenizer), tokenizer)
    assert check == TextCheck(1)


def fast_with_a_special_token():
    """One token per ASCII character and a special token '<|x|>', which a decode that skips
    special tokens would drop."""
    tokenizer = unknown_token_tokenizer()
    tokenizer.add_tokens(['<|x|>'], special_tokens=True)
    return tokenizer


def test_a_fast_tokenizer_keeps_the_special_tokens_of_the_text():
    tokenizer = fast_with_a_special_token()
    docs = ['a<|x|>b']
    token_ids, offsets = stream_of(docs, tokenizer)
    assert len(token_ids) == 3  # the special token is one id
    assert check_round_trip(docs, token_ids, offsets, tokenizer) == TextCheck(1)


@pytest.mark.parametrize(
    'given,back,expected',
    [
        ('abcdef', 'abXdef', (2, 1)),  # one character replaced
        ('aXbXc', 'aYbYc', (1, 3)),  # from the first difference to the last
        ('abcdef', 'abdef', (2, 1)),  # one deleted
        ('abc', 'xbc', (0, 1)),  # at the start
        ('abc', 'abd', (2, 1)),  # at the end
        ('ab', 'abc', (2, 1)),  # one added at the end: nothing of the given text, counted as 1
        ('abab', 'ab', (2, 2)),  # 'ab' dropped at the end
        ('naïve', 'na[UNK]ve', (2, 1)),
    ],
)
def test_where_two_texts_differ_by_hand(given, back, expected):
    assert _difference(given, back) == expected


def test_the_refusal_names_tokenizer_counts_place_and_fix():
    tokenizer = CharTokenizer()
    tokenizer.name_or_path = 'some/folder'
    check = TextCheck(
        3, 2, 9, first=dict(document=1, offset=2, given='naïve', decoded='naive', unknown_char=None)
    )
    with pytest.raises(TextChanged) as refused:
        require_text_kept(check, tokenizer)
    assert str(refused.value) == (
        'the tokenizer CharTokenizer (some/folder) does not give back the text it encodes: 2 of 3 '
        "documents differ, over 9 characters; the first in document 1 at character 2: 'naïve' "
        "decodes as 'naive'. The BPC would be of another text. If the model folder names a Llama "
        'tokenizer over a byte-level tokenizer.json, load it with core.model_loading.load_tokenizer, '
        'which reads tokenizer.json as it is written (the paper command line and the OpenCompass '
        'inferencer do); otherwise use the tokenizer the model was trained with, or measure anyway '
        'with allow_lossy_tokenizer=True (--allow_lossy_tokenizer on the paper command line).'
    )
    require_text_kept(check, tokenizer, allow_lossy=True)
    require_text_kept(TextCheck(3), tokenizer)


def test_the_refusal_of_unknown_tokens_names_the_character():
    check = TextCheck(4, 1, 5, 2, 3, dict(document=0, offset=1, given='a€b', decoded='a?b', unknown_char='€'))
    with pytest.raises(TextChanged) as refused:
        require_text_kept(check, CharTokenizer(unknown=True))
    assert str(refused.value) == (
        'the tokenizer CharTokenizer (this tokenizer) maps characters it has no token for to its '
        'unknown token: 2 unknown tokens hide 3 characters in 1 of 4 documents, first '
        "'€' (U+20AC); the first in document 0 at character 1: 'a€b' decodes as 'a?b'. The model "
        "would be scored on a text without them, a lower BPC than the text's. Use a tokenizer with "
        'byte fallback, or measure anyway with allow_lossy_tokenizer=True (--allow_lossy_tokenizer '
        'on the paper command line): the result then records how many characters the model did '
        'not see.'
    )
    unnamed = dataclasses.replace(check, first=dict(check.first, unknown_char=None))
    with pytest.raises(TextChanged, match=r'in 1 of 4 documents, first a character; the first in'):
        require_text_kept(unnamed, CharTokenizer(unknown=True))


def test_the_record_of_a_check():
    assert result_record(TextCheck(5)) == {'round_trip': 'held'}
    check = TextCheck(5, 1, 2, 3, 4, dict(document=0, offset=0, given='', decoded='', unknown_char=None))
    assert result_record(check) == dict(
        round_trip='allowed',
        documents=5,
        documents_differ=1,
        chars_differ=2,
        unknown_tokens=3,
        chars_unseen=4,
    )
    assert TextCheck.from_record(check.as_record()) == check


class AccentDroppingTokenizer(CharTokenizer):
    """Decodes 'é' as 'e', with no unknown token (no ``unk_token_id``)."""

    def decode(self, ids, skip_special_tokens=False, clean_up_tokenization_spaces=None):
        return super().decode(ids).replace('é', 'e')


def test_a_tokenizer_without_an_unknown_token_counts_none():
    tokenizer = AccentDroppingTokenizer()
    docs = ['café', 'plain']
    check = check_round_trip(docs, *stream_of(docs, tokenizer), tokenizer)
    assert (check.documents_differ, check.chars_differ, check.unknown_tokens, check.chars_unseen) == (
        1,
        1,
        0,
        1,
    )


def test_lone_surrogates_are_compared_as_one_replacement_character_each():
    assert tokenizable('a\ud800b\udfff') == 'a\ufffdb\ufffd'
    text = 'plain'
    assert tokenizable(text) is text
