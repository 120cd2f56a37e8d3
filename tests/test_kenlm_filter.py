"""cc_net's perplexity filter on the real ``kenlm`` and ``sentencepiece``: a SentencePiece model
trained here on real prose, a bigram KenLM model written here as an ARPA file, and the
perplexities computed again in this file from the ARPA numbers (cc_net's formula: per line the
log10 probabilities of its pieces and of the sentence end, summed over the document, divided by
its pieces plus one per line), so that the filter's numbers and drops are checked against
arithmetic done without it."""

import io
import json
import os

import pytest
import web_archives as wa
from conftest import import_or_skip, real_documents

from opencompass_llmcompression.corpus import build as builder
from opencompass_llmcompression.corpus.documents import Document
from opencompass_llmcompression.corpus.text_cleaning import KenLMFilter

kenlm = import_or_skip('kenlm', reason='kenlm is built from source: pip install kenlm==0.3.0')
sentencepiece = import_or_skip('sentencepiece', component='kenlm')  # the filter needs both

KNOWN, UNKNOWN, END = -1.0, -8.0, -1.0  # log10 probabilities of the unigrams written below
BIGRAM, BACKOFF = -0.25, -0.5  # the bigrams of the first line of HEAD[0], and their contexts' backoff

# Two English pages whose every piece the model knows (the head bucket), and two English
# pages of Python's reference prose, much of which it does not know.
HEAD = [
    'the city council announced on monday that the old bridge will be repaired before the winter.\n'
    'a local teacher wrote in a long letter that the library will stay open later in the evening.\n'
    'the river authority said during the meeting that more trees should be planted along the road.\n'
    'our small team explained in its yearly report that the school needs a larger kitchen and roof.',
    'the new museum said on friday that visitors can now buy their tickets at the door of the hall.\n'
    'a group of students wrote to the paper that the price of bread has risen again this year.\n'
    'the regional hospital announced that its doors will stay open to visitors later in the day.\n'
    'the football club explained at the meeting that the old ground needs a new roof and kitchen.',
]
TAIL = [d for d in real_documents('prose', 10, max_chars=2000) if len(d) >= 500][:2]


def lines_of(text):
    """The lines as cc_net normalises them; these texts hold no digits or accents, and of
    typographic punctuation only curly double quotes, which it writes as ASCII ones."""
    lines = [line.strip().lower().replace('\u201c', '"').replace('\u201d', '"') for line in text.split('\n')]
    assert all(line.isascii() and not any(c.isdigit() for c in line) for line in lines)
    return lines


@pytest.fixture(scope='module')
def pieces(tmp_path_factory):
    """A SentencePiece model of 300 pieces trained on 200 paragraphs of Python's reference
    prose (lower-cased, as cc_net's model sees text)."""
    text = [line.strip().lower() for doc in real_documents('prose', 200, 3000) for line in doc.split('\n')]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter([line for line in text if line]),
        model_writer=model,
        vocab_size=300,
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
    )
    path = str(tmp_path_factory.mktemp('sp') / 'en.sp.model')
    with open(path, 'wb') as f:
        f.write(model.getvalue())
    processor = sentencepiece.SentencePieceProcessor()
    processor.load(path)
    return path, processor


@pytest.fixture(scope='module')
def arpa(pieces, tmp_path_factory):
    """A bigram model: the pieces of HEAD at KNOWN, anything else <unk> at UNKNOWN; the bigrams
    of HEAD[0]'s first line at BIGRAM, their first pieces backing off by BACKOFF. Returns the
    file and the numbers, as ``(path, unigrams, bigrams, backoffs)``."""
    _, sp = pieces
    known = sorted({p for doc in HEAD for line in lines_of(doc) for p in sp.encode_as_pieces(line)})
    first = sp.encode_as_pieces(lines_of(HEAD[0])[0])
    bigrams = {pair: BIGRAM for pair in zip(first, first[1:])}
    backoffs = {v: BACKOFF for v, _ in bigrams}
    unigrams = {'<unk>': UNKNOWN, '</s>': END, **dict.fromkeys(known, KNOWN)}
    rows = [f'{UNKNOWN}\t<unk>', '-99\t<s>\t0', f'{END}\t</s>']
    rows += [f'{KNOWN}\t{p}\t{backoffs.get(p, 0.0)}' for p in known]
    text = (
        f'\\data\\\nngram 1={len(rows)}\nngram 2={len(bigrams)}\n\n\\1-grams:\n'
        + '\n'.join(rows)
        + '\n\n\\2-grams:\n'
        + '\n'.join(f'{BIGRAM}\t{v} {w}' for v, w in bigrams)
        + '\n\n\\end\\\n'
    )
    path = str(tmp_path_factory.mktemp('lm') / 'en.arpa')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return path, unigrams, bigrams, backoffs


def expected_perplexity(text, sp, unigrams, bigrams, backoffs):
    """cc_net's perplexity by hand: a bigram's own number where the ARPA file has it, else
    the context's backoff plus the unigram's (``<unk>``'s for a piece it does not hold)."""
    total, length = 0.0, 0
    for line in lines_of(text):
        words = sp.encode_as_pieces(line) + ['</s>']
        previous = '<s>'
        for w in words:
            if (previous, w) in bigrams:
                total += bigrams[previous, w]
            else:
                total += backoffs.get(previous, 0.0) + unigrams.get(w, unigrams['<unk>'])
            previous = w if w in unigrams else '<unk>'
        length += len(words)
    return 10 ** (-total / length)


def test_perplexities_are_cc_nets_formula_on_the_real_models(pieces, arpa):
    sp_path, sp = pieces
    lm_path, *numbers = arpa
    found = KenLMFilter(lm_path, sp_path)
    for text in HEAD + TAIL:
        assert found.perplexity(text) == pytest.approx(expected_perplexity(text, sp, *numbers), abs=0.05)
    # HEAD's pieces are all known (perplexity about 10), most of TAIL's are not
    assert [found.perplexity(t) < 340 for t in HEAD + TAIL] == [True, True, False, False]


def test_the_head_bucket_keeps_the_low_perplexity_pages_and_counts_the_rest(pieces, arpa, tmp_path):
    sp_path, _ = pieces
    name = f'{wa.DUMP}-20260120-00000.warc.wet.gz'
    records = [wa.warcinfo(name)]
    for i, text in enumerate([HEAD[0], TAIL[0], HEAD[1], TAIL[1]]):
        records.append(wa.conversion(f'https://{i}.example/', '2026-01-21T08:00:00Z', f'Page {i}', text))
    wet = str(tmp_path / name)
    with open(wet, 'wb') as f:
        f.write(b''.join(records))
    out = str(tmp_path / 'out')
    report = builder.build('cc', 'text', [wet], out, kenlm_model=arpa[0], sentencepiece_model=sp_path)
    with open(os.path.join(out, 'cc.jsonl'), encoding='utf-8') as f:
        assert [json.loads(line)['meta']['url'] for line in f] == ['https://0.example/', 'https://2.example/']
    assert report.skipped == {'KenLM perplexity 340 or more (not the head bucket)': 2}
    with open(os.path.join(out, 'cc.manifest.json'), encoding='utf-8') as f:
        found = {f['name']: f for f in json.load(f)['filters']}
    assert found['kenlm_perplexity']['removed'] == 2 and 'quality_rules' not in found
    assert found['kenlm_perplexity']['parameters']['max_perplexity'] == 340
    assert found['language']['removed'] == 0 and found['length']['removed'] == 0


def test_the_bound_is_strict(pieces, arpa):
    """A page at exactly the bound is out ("below 340" is the head bucket)."""
    sp_path, sp = pieces
    lm_path, *numbers = arpa
    at = round(expected_perplexity(HEAD[1], sp, *numbers), 1)
    assert KenLMFilter(lm_path, sp_path, max_perplexity=at).reason_out(Document(HEAD[1], source="test"))
    assert (
        KenLMFilter(lm_path, sp_path, max_perplexity=at + 0.1).reason_out(Document(HEAD[1], source="test"))
        is None
    )
