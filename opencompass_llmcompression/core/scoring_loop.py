"""The scoring loop: a corpus and a model -> summed NLL and scored-token count per document.

    contents -> token_stream -> windows (rows over token_ids) -> batches -> scorer
             -> document_sums -> (nll, scored_tokens) of the wanted documents

``score_documents`` is the whole measurement in one call, which the OpenCompass inferencer
(one shard), the paper's command line (a whole corpus) and the benchmarks run. It keeps only
the windows that score a token of a wanted document; since every token belongs to exactly one
document, the sums of any split of the documents add up to the sums of the whole. ``model``
is a Hugging Face torch model (``scorer.WindowScorer``) or a vLLM engine
(``vllm_scorer.VLLMWindowScorer``): the same windows, sums and checkpoints for both.
"""

import hashlib
import logging
from typing import Optional, Sequence, Union

import numpy as np
import torch
from tqdm import tqdm

from .batch_size import auto_batch_size, check_batch_size
from .batches import scored_batches
from .checkpoint import Checkpoint, model_fingerprint
from .document_sums import DocumentSums
from .logs import LOGGER
from .model_checks import check_token_ids, check_window_fits, is_vllm_engine
from .progress import ProgressLog
from .scorer import WindowScorer
from .settings import PAPER, MeasurementSettings
from .text_check import TextCheck, require_text_kept
from .token_losses import TokenLosses
from .token_stream import load_or_build_stream, stream_key
from .vllm_scorer import VLLMWindowScorer
from .windows import END, SCORE_FROM, NothingToScore, sliding_windows, why_no_window, windows_touching


def check_fits_model(
    model: torch.nn.Module, block_size: int, token_ids: np.ndarray, max_seq_len: Optional[int] = None
) -> None:
    """Raise ValueError (``WindowTooLong``, ``ForeignTokenizer``) when the windows or the
    token ids do not fit a Hugging Face model."""
    check_window_fits(model, block_size, max_seq_len)
    check_token_ids(token_ids, model.get_input_embeddings().num_embeddings)


def check_finite(losses: np.ndarray, batch: np.ndarray, dtype: torch.dtype) -> None:
    """Stop, naming the window and the dtype, before a NaN or infinite loss reaches a sum."""
    bad = ~np.isfinite(losses).all(axis=1)
    if bad.any():
        start, end, _ = batch[int(np.argmax(bad))]
        raise FloatingPointError(
            f'the loss is not finite in the window over stream tokens [{start}, {end}) with '
            f'the model in {dtype}. float16 overflows in many models: run in bfloat16 or '
            'float32.'
        )


def score_documents(
    model,
    tokenizer,
    contents: Sequence[str],
    wanted: Sequence[int],
    settings: MeasurementSettings = PAPER,
    *,
    batch_size: Union[int, str] = 1,
    token_cache_dir: Optional[str] = None,
    max_seq_len: Optional[int] = None,
    checkpoint_path: Optional[str] = None,
    checkpoint_interval: float = 30.0,
    progress: bool = True,
    progress_interval: float = 60.0,
    name: str = 'scoring',
    allow_lossy_tokenizer: bool = False,
    keep_token_losses: bool = False,
    logger: Optional[logging.Logger] = None,
):
    """Summed NLL and count of scored tokens of each wanted document.

    ``contents`` is the whole corpus in order; ``wanted`` the indices of the documents to
    report. Returns ``(nll, scored_tokens)``, two arrays aligned with ``wanted``: float64
    nats and int64 counts. ``model``: a Hugging Face torch model or a ``vllm.LLM``.
    ``batch_size`` is windows per forward pass (per call to vLLM), or ``'auto'`` (see
    ``batch_size.py``; for vLLM its ``max_num_seqs``); the scored tokens are the same for any,
    the sums agree to float rounding (the tests hold them to 1e-6 relative).
    ``token_cache_dir``: where the corpus's token stream is cached (``token_stream.py``).
    ``max_seq_len``: a bound on a window's input positions besides the model's context
    (Hugging Face models only). With ``checkpoint_path``, progress is saved there every
    ``checkpoint_interval`` seconds (and when stopped, for any reason) and resumed from it, to
    the same bits. Warnings and progress notes go to ``logger`` (OpenCompass passes its own);
    with ``progress``, a bar of tokens on standard error and, to ``logger``, a line naming
    ``name`` with the windows done, the rate and the time left (``progress.ProgressLog``) at
    the start, every ``progress_interval`` seconds and at the end, its fields also saved in
    the checkpoint.
    The corpus's token ids must decode to its documents (``text_check``) unless
    ``allow_lossy_tokenizer``; ``corpus_text_check`` then says what the model did not see.

    Raises, before any window is scored: ``text_check.TextChanged`` when the tokenizer does
    not give back the text (and that is not allowed); ``NothingToScore`` when the whole corpus is too
    short to score any token under ``settings``; ``model_checks.WindowTooLong`` when a window
    does not fit the model; ``model_checks.ForeignTokenizer`` for token ids outside its
    vocabulary; ``model_checks.EngineError`` for a vLLM engine that cannot score (all
    ValueErrors). While scoring: ``FloatingPointError`` on a loss that is not finite,
    ``torch.OutOfMemoryError`` when one window does not fit in memory.
    """
    check_batch_size(batch_size)
    logger = logger or LOGGER
    vllm = is_vllm_engine(model)
    scorer = VLLMWindowScorer(model) if vllm else WindowScorer(model)
    key = stream_key(contents, tokenizer)
    stream = load_or_build_stream(contents, tokenizer, token_cache_dir, key=key, logger=logger)
    require_text_kept(stream.text_check, tokenizer, allow_lossy_tokenizer)
    check_window_fits(model, settings.block_size, None if vllm else max_seq_len)
    check_token_ids(stream.token_ids, scorer.vocab_size)
    wanted = np.asarray(wanted, dtype=np.int64)
    windows = windows_to_score(stream, settings, wanted)
    sums = DocumentSums(stream.doc_offsets)
    kept = TokenLosses(stream.token_ids, stream.doc_offsets, wanted) if keep_token_losses else None
    checkpoint = None
    if checkpoint_path:
        fingerprint = dict(
            stream=key,
            **settings.as_record(),
            model=scorer.fingerprint() if vllm else model_fingerprint(model),
            batch_size=batch_size,
            rows=hashlib.sha256(wanted.tobytes()).hexdigest(),
        )
        if kept is not None:
            fingerprint['token_losses'] = True
        checkpoint = Checkpoint(checkpoint_path, fingerprint, checkpoint_interval, logger=logger)
        resume(checkpoint, sums, len(windows), logger, kept)
    size = batch_size
    if batch_size == 'auto':
        left = len(windows) - sums.windows_done
        size = (
            vllm_batch_size(scorer, left, logger)
            if vllm
            else auto_batch_size(model, settings.block_size, left, logger)
        )
    scored = windows[:, END] - windows[:, SCORE_FROM]
    dtype = scorer.dtype if vllm else next(model.parameters()).dtype
    shard = ProgressLog(
        name, len(windows), sums.windows_done, logger if progress else _QUIET, progress_interval
    )
    with tqdm(
        total=int(scored.sum()),
        initial=int(scored[: sums.windows_done].sum()),
        unit='tok',
        unit_scale=True,
        disable=not progress,
        desc='scoring',
    ) as bar:
        try:
            for batch, losses in scored_batches(
                scorer, stream.token_ids, windows[sums.windows_done :], size, settings.block_size, logger
            ):
                check_finite(losses, batch, dtype)
                bar.update(sums.add(batch, losses))
                if kept is not None:
                    kept.add(batch, losses)
                shard.update(sums.windows_done)
                if checkpoint:
                    checkpoint.save(
                        sums.windows_done,
                        sums.nll,
                        sums.scored_tokens,
                        token_nll=_values(kept),
                        progress=shard.progress(),
                    )
        finally:  # finished, stopped by an error or interrupted: keep what is done
            if checkpoint:
                checkpoint.save(
                    sums.windows_done,
                    sums.nll,
                    sums.scored_tokens,
                    force=True,
                    token_nll=_values(kept),
                    progress=shard.progress(),
                )
    shard.finish()
    if kept is not None:
        return sums.nll[wanted], sums.scored_tokens[wanted], kept
    return sums.nll[wanted], sums.scored_tokens[wanted]


_QUIET = logging.getLogger('opencompass_llmcompression.quiet')
_QUIET.disabled = True  # the progress lines of a process that shows none


def _values(kept: Optional[TokenLosses]) -> Optional[np.ndarray]:
    return None if kept is None else kept.values


def corpus_text_check(
    contents: Sequence[str], tokenizer, token_cache_dir: Optional[str] = None, logger=None
) -> TextCheck:
    """The round trip of the corpus's token stream (``text_check.TextCheck``), from the token
    cache that ``score_documents`` fills."""
    return load_or_build_stream(contents, tokenizer, token_cache_dir, logger=logger or LOGGER).text_check


def vllm_batch_size(scorer: VLLMWindowScorer, num_windows: int, logger: logging.Logger) -> int:
    """``batch_size='auto'`` for vLLM: windows handed over at once, as many as its scheduler
    runs together (``max_num_seqs``), logged (info)."""
    size = max(1, min(scorer.max_num_seqs, num_windows))
    logger.info(
        f'batch_size=auto: {size} windows per call to vLLM (its max_num_seqs is {scorer.max_num_seqs})'
    )
    return size


def resume(
    checkpoint: Checkpoint,
    sums: DocumentSums,
    num_windows: int,
    logger: logging.Logger,
    kept: Optional[TokenLosses] = None,
) -> None:
    """Take up the sums (and the token losses, when kept) a checkpoint of the same
    fingerprint saved, if there is one."""
    resumed = checkpoint.load(len(sums.nll))
    if resumed and kept is not None:
        if checkpoint.token_nll is None or checkpoint.token_nll.shape != kept.values.shape:
            logger.warning(
                f'checkpoint {checkpoint.path} holds no token losses; not used, the shard starts over'
            )
            return
        kept.values = checkpoint.token_nll
    if resumed:
        sums.resume(*resumed)
        logger.info(
            f'resuming from {checkpoint.path}: {sums.windows_done} of {num_windows} windows already scored'
        )


def windows_to_score(stream, settings: MeasurementSettings, wanted: np.ndarray) -> np.ndarray:
    """The windows over ``stream`` that score at least one token of a wanted document.

    Raises NothingToScore when the whole corpus has no window (in every shard alike)."""
    windows = sliding_windows(stream.num_tokens, settings)
    if len(windows) == 0:
        raise NothingToScore(why_no_window(settings, stream.num_tokens))
    wanted_mask = np.zeros(stream.num_docs, dtype=bool)
    wanted_mask[wanted] = True
    return windows[windows_touching(windows, stream.doc_offsets, wanted_mask)]
