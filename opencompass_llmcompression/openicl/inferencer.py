"""The OpenCompass inferencer: one shard of a corpus's rows -> one prediction per row.

    whole corpus + the shard's document_index -> core.score_documents -> per row
    {nll, tokens (scored tokens), chars, bytes, document_index, provenance, text_check}

Only the windows that score a token of the shard's documents run; every token belongs to one
document, so the shards' rows add up to the unsplit run's sums however OpenCompass splits
the corpus. Core's errors reach OpenCompass with its own advice added (``with_advice``).
"""

import contextlib
import os
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from opencompass.openicl.icl_inferencer.icl_base_inferencer import BaseInferencer
from opencompass.registry import ICL_INFERENCERS
from opencompass.utils import get_logger

from ..core.atomic_files import atomic_write
from ..core.batch_size import check_batch_size
from ..core.finite_output import dump_json
from ..core.metrics import text_size
from ..core.model_checks import (
    EngineError,
    ForeignTokenizer,
    WindowTooLong,
    check_transformers_version,
    is_vllm_engine,
)
from ..core.provenance import plugin_label, provenance
from ..core.scoring_loop import corpus_text_check, score_documents
from ..core.settings import PAPER, MeasurementSettings
from ..core.text_check import TextChanged, result_record
from ..core.token_losses import check_spans_available, pick_documents
from ..core.tokenizer_repair import repair_tokenizer
from ..core.windows import NothingToScore
from .dataset import DOC_INDEX_COLUMN


@ICL_INFERENCERS.register_module()
class SlidingWindowPPLInferencer(BaseInferencer):
    """Sliding-window compression inferencer: one ``{nll, tokens, chars, bytes}`` per document
    (``tokens``: how many of its tokens were scored).

    A perplexity inferencer in OpenCompass's sense (no generation, the loss of given text),
    and named so: OpenCompass's summary reads the evaluation mode (``ppl``) from the
    ``PPLInferencer`` in the class name. It scores with the model's Hugging Face torch
    module, or with the vLLM engine of OpenCompass's ``VLLM`` wrapper (``scoring_model``).

    Args:
        block_size, stride, reference_compat: the measurement (``MeasurementSettings``; the
            paper's window by default), built and checked once here.
        token_cache_dir: where token streams are cached (default ``$LLMCOMPRESSION_CACHE`` or
            ``~/.cache/opencompass_llmcompression``); on a cluster, a folder all nodes share.
            ``cache_dir``, its earlier name, is still accepted.
        checkpoint_interval: seconds between saves of the shard's progress next to its
            prediction file (``tmp_<file>.progress.npz``), which a re-run (``-r``) resumes.
        batch_size: windows per forward pass; the model's ``batch_size`` unless set here.
            ``'auto'`` sizes it from the GPU's free memory (a small fixed size on a CPU; for
            a vLLM engine, its ``max_num_seqs``).
        allow_lossy_tokenizer: measure even when the tokenizer's ids do not decode to the
            documents (``core.text_check``); every row then records how many characters the
            model did not see as written, and the report marks the BPC.
        keep_token_losses: for this many documents of the shard with the lowest and as many
            with the highest BPC, keep each scored token's loss and characters
            (``core.token_losses``) in ``token_losses/<prediction file>`` beside the
            predictions; the report draws them (a page per corpus). Default:
            ``$LLMCOMPRESSION_KEEP_TOKEN_LOSSES``, else 0: nothing is kept or computed.
            While scoring, the shard's token losses are held in memory, 8 bytes a token.
        token_loss_documents: ``document_index`` values whose token losses are kept too
            (those in this shard), so that two models' runs keep the same documents.
            Default: ``$LLMCOMPRESSION_TOKEN_LOSS_DOCUMENTS`` (``3,17``), else none.

    The wrapper's tokenizer is used as it is, except a Llama-labelled byte-level one that
    transformers 5 loads without its spaces, which is loaded again as its ``tokenizer.json``
    defines it (``core.tokenizer_repair``).
    """

    def __init__(
        self,
        model,
        block_size: int = PAPER.block_size,
        stride: int = PAPER.stride,
        reference_compat: bool = PAPER.reference_compat,
        batch_size: Union[int, str, None] = 1,
        token_cache_dir: Optional[str] = None,
        max_seq_len: Optional[int] = None,
        checkpoint_interval: float = 30.0,
        allow_lossy_tokenizer: bool = False,
        keep_token_losses: Optional[int] = None,
        token_loss_documents: Optional[Sequence[int]] = None,
        output_json_filepath: Optional[str] = './icl_inference_output',
        output_json_filename: Optional[str] = 'predictions',
        cache_dir: Optional[str] = None,
        **kwargs,
    ) -> None:
        super().__init__(
            model=model,
            max_seq_len=max_seq_len,
            batch_size=batch_size or 1,
            output_json_filepath=output_json_filepath,
            output_json_filename=output_json_filename,
        )
        self.settings = MeasurementSettings(block_size, stride, reference_compat)
        check_batch_size(self.batch_size)
        self.token_cache_dir = token_cache_dir or cache_dir
        self.checkpoint_interval = checkpoint_interval
        self.allow_lossy_tokenizer = allow_lossy_tokenizer
        self.keep_token_losses, self.token_loss_documents = token_loss_choice(
            keep_token_losses, token_loss_documents
        )

    def inference(
        self,
        retriever,
        ice_template=None,
        prompt_template=None,
        output_json_filepath: Optional[str] = None,
        output_json_filename: Optional[str] = None,
    ) -> List[dict]:
        module = scoring_model(self.model)
        logger = get_logger()
        if isinstance(module, torch.nn.Module):
            check_transformers_version(module.config, logger)
        # The text is read straight from the dataset: no prompt template ever touches it.
        column = retriever.dataset_reader.input_columns[0]
        corpus, shard = retriever.index_ds, retriever.test_ds  # train split: never sliced
        if DOC_INDEX_COLUMN not in shard.column_names:
            raise ValueError(
                f'SlidingWindowPPLInferencer needs a dataset with a '
                f'`{DOC_INDEX_COLUMN}` column, such as CompressionCorpusDataset.'
            )
        wanted = shard[DOC_INDEX_COLUMN]
        contents = shard[column]
        logger.info(f'{plugin_label()}: scoring {len(wanted)} of {len(corpus)} documents ({self.settings})')
        folder = output_json_filepath or self.output_json_filepath
        filename = output_json_filename or self.output_json_filename
        checkpoint = os.path.join(folder, f'tmp_{os.path.splitext(filename)[0]}.progress.npz')
        tokenizer = repair_tokenizer(self.model.tokenizer, logger=logger)
        documents = corpus[column]  # the whole corpus, read once
        keep = self.keep_token_losses > 0 or bool(set(self.token_loss_documents) & set(wanted))
        kept = None
        if keep:
            check_spans_available(tokenizer)
        try:
            with with_advice():
                scored = score_documents(
                    module,
                    tokenizer,
                    documents,
                    wanted,
                    self.settings,
                    batch_size=self.batch_size,
                    token_cache_dir=self.token_cache_dir,
                    max_seq_len=self.max_seq_len,
                    progress=self.is_main_process,
                    name=os.path.splitext(filename)[0],
                    checkpoint_path=checkpoint if self.is_main_process else None,
                    checkpoint_interval=self.checkpoint_interval,
                    allow_lossy_tokenizer=self.allow_lossy_tokenizer,
                    keep_token_losses=keep,
                    logger=logger,
                )
            nll, scored_tokens, kept = scored if keep else (*scored, None)
        except NothingToScore as err:
            # every shard of this corpus comes here: its rows say that no token was scored,
            # the evaluator names why, and the task's other datasets go on
            logger.error(f'{plugin_label()}: nothing to score in this corpus: {err}')
            nll, scored_tokens = np.zeros(len(wanted)), np.zeros(len(wanted), dtype=np.int64)
        sizes = [text_size(text) for text in contents]
        text = result_record(corpus_text_check(documents, tokenizer, self.token_cache_dir, logger))
        made_by = dict(provenance(self.settings, module), text_check=text)
        predictions = [
            dict(nll=float(n), tokens=int(t), chars=c, bytes=b, document_index=int(d), **made_by)
            for n, t, (c, b), d in zip(nll, scored_tokens, sizes, wanted)
        ]
        if self.is_main_process:
            write_predictions(predictions, folder, filename, checkpoint)
            if kept is not None:
                try:
                    records = token_loss_records(
                        kept,
                        tokenizer,
                        predictions,
                        contents,
                        self.keep_token_losses,
                        self.token_loss_documents,
                    )
                except ValueError as err:  # the tokenizer's offsets do not fit its own encoding
                    logger.error(
                        f'{plugin_label()}: token losses not kept ({err}); the predictions are written'
                    )
                else:
                    write_token_losses(records, made_by, folder, filename)
            if os.path.exists(checkpoint):
                os.remove(checkpoint)
        return predictions


def opencompass_advice(err: BaseException) -> str:
    """What to change in OpenCompass for one of core's errors ('' when nothing to add)."""
    if isinstance(err, WindowTooLong) and isinstance(err, EngineError):
        return (
            f'In OpenCompass: model_kwargs=dict(max_model_len={err.needed}) in the VLLM '
            f'model config, or --max-seq-len {err.needed} with --accelerator vllm.'
        )
    if isinstance(err, WindowTooLong):
        return (
            'In OpenCompass, block_size is set in the dataset config: inferencer=dict(..., block_size=...).'
        )
    if isinstance(err, TextChanged):
        return (
            'In OpenCompass: tokenizer_path in the model config (--tokenizer-path), or '
            'inferencer=dict(..., allow_lossy_tokenizer=True) in the dataset config.'
        )
    if isinstance(err, ForeignTokenizer):
        return 'In OpenCompass: tokenizer_path in the model config, or --tokenizer-path.'
    if isinstance(err, EngineError):
        return (
            'In OpenCompass, the transformers engine is a Hugging Face model config '
            '(--hf-type base --hf-path MODEL, or type=HuggingFaceBaseModel).'
        )
    if isinstance(err, FloatingPointError):
        return (
            'In OpenCompass: model_kwargs=dict(torch_dtype=...) in the model config. '
            'Nothing was written for this shard; the batches before it are kept in its '
            'checkpoint.'
        )
    if isinstance(err, torch.OutOfMemoryError):
        return 'In OpenCompass: more GPUs per task with --hf-num-gpus (run_cfg=dict(num_gpus=...)).'
    return ''


@contextlib.contextmanager
def with_advice():
    """Add ``opencompass_advice`` to the message of an error raised inside, same type."""
    try:
        yield
    except Exception as err:
        advice = opencompass_advice(err)
        if advice and err.args and isinstance(err.args[0], str):
            err.args = (f'{err.args[0]} {advice}',) + err.args[1:]
        raise


def scoring_model(wrapper):
    """What scores inside an OpenCompass model wrapper: the Hugging Face torch module of
    ``HuggingFaceBaseModel`` and its kin, or the ``vllm.LLM`` of ``VLLM`` (also what
    ``--accelerator vllm`` builds); else a clear error."""
    module = getattr(wrapper, 'model', None)
    if getattr(wrapper, 'tokenizer', None) is not None and (
        isinstance(module, torch.nn.Module) or is_vllm_engine(module)
    ):
        return module
    raise TypeError(
        f'the compression datasets score with a Hugging Face torch module or a vLLM engine, '
        f'and the model wrapper {type(wrapper).__name__} holds neither (LMDeploy/TurboMind '
        'and API models give no log-probability for every position of a window). Use a '
        'Hugging Face model config (opencompass --hf-type base --hf-path MODEL, or '
        'type=HuggingFaceBaseModel in a suite) or a vLLM one (type=VLLM, or --accelerator '
        'vllm) for the compression datasets; benchmarks of other kinds can keep this wrapper '
        'in the same suite.'
    )


TOKEN_LOSSES_FOLDER = 'token_losses'
KEEP_ENV, DOCUMENTS_ENV = 'LLMCOMPRESSION_KEEP_TOKEN_LOSSES', 'LLMCOMPRESSION_TOKEN_LOSS_DOCUMENTS'


def token_loss_choice(count: Optional[int], documents: Optional[Sequence[int]], environ=os.environ):
    """``(count, documents)`` of the inferencer's token-loss settings, each from its
    environment variable where the config leaves it None; ValueError naming the setting (or
    the variable) for a value that is not a count or a list of document indices."""
    if count is None:
        text = environ.get(KEEP_ENV, '0').strip() or '0'
        count = int(text) if text.isdigit() else -1
        where = f'${KEEP_ENV}={text!r}'
    else:
        where = f'keep_token_losses={count!r}'
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f'{where} is not a number of documents (0 or more)')
    if documents is None:
        text = environ.get(DOCUMENTS_ENV, '')
        parts = [p.strip() for p in text.split(',') if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise ValueError(f'${DOCUMENTS_ENV}={text!r} is not a comma-separated list of document indices')
        documents = [int(p) for p in parts]
    if any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in documents):
        raise ValueError(
            f'token_loss_documents={list(documents)!r} is not a list of document indices (0 or more)'
        )
    return count, [int(d) for d in documents]


def token_loss_records(kept, tokenizer, predictions, contents, count: int, named) -> List[dict]:
    """The kept documents' records: the ``count`` of lowest and of highest BPC of the shard and
    the ``named`` ones in it, each its prediction's numbers, its text and its tokens
    (``core.token_losses``)."""
    where = {p[DOC_INDEX_COLUMN]: i for i, p in enumerate(predictions)}
    chosen = pick_documents(
        [p['nll'] for p in predictions],
        [p['chars'] for p in predictions],
        count,
        [where[d] for d in named if d in where],
    )
    records = []
    for i in chosen:
        p = predictions[i]
        numbers = {k: p[k] for k in ('document_index', 'nll', 'tokens', 'chars', 'bytes')}
        records.append(
            dict(numbers, text=contents[i], **kept.record(p[DOC_INDEX_COLUMN], tokenizer, contents[i]))
        )
    return records


def write_token_losses(records: List[dict], made_by: dict, folder: str, filename: str) -> None:
    """``token_losses/<filename>`` beside the predictions: ``{provenance..., documents}``,
    whole or not at all."""
    path = os.path.join(folder, TOKEN_LOSSES_FOLDER, filename)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_write(path, 'w', encoding='utf-8') as f:
        dump_json(dict(made_by, documents=records), f, f'the token losses {path}')


def write_predictions(
    predictions: List[dict], folder: str, filename: str, checkpoint: Optional[str] = None
) -> None:
    """OpenCompass's prediction file, whole or not at all (``core.atomic_files``)."""
    path = os.path.join(folder, filename)
    records = {
        str(i): {'origin_prompt': f'document {p[DOC_INDEX_COLUMN]}', 'prediction': p}
        for i, p in enumerate(predictions)
    }
    try:
        os.makedirs(folder, exist_ok=True)
        with atomic_write(path, 'w', encoding='utf-8') as f:
            dump_json(records, f, f'the predictions {path}', indent=1)
    except OSError as err:
        kept = (
            f'the scored sums are kept in {checkpoint}, so the re-run does not score again'
            if checkpoint and os.path.exists(checkpoint)
            else 'nothing partial was left'
        )
        raise OSError(
            err.errno,
            f'could not write the predictions {path} ({err.strerror or err}'
            f'). Free space or fix permissions there, then run again with '
            f'-r: {kept}.',
        ) from err


# The earlier name, still accepted in configs (by class or by string).
SlidingWindowInferencer = SlidingWindowPPLInferencer
ICL_INFERENCERS.register_module(name='SlidingWindowInferencer', module=SlidingWindowPPLInferencer)
