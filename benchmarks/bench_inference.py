"""Speed, MFU and memory of our scorer against the paper's loop, on the paper's windows.

    python benchmarks/bench_inference.py                                  # SmolLM2-135M, CPU
    python benchmarks/bench_inference.py --model-shape llama3-8b --tokenizer DIR   # a GPU
    python benchmarks/bench_inference.py --hf-path MODEL_DIR --batch-size 16

``--model-shape`` builds a randomly initialised model of a real architecture directly on the
device, in the chosen dtype, seeded (timing does not depend on the weights, and every method
gets the same weights); ``--tokenizer`` takes any tokenizer folder (token ids above the
model's vocabulary are folded into it). Methods, each in its own process so that its peak
memory is its own, all on the paper's windows (full windows only), so all must print the
same BPC up to the dtype's rounding:
  ours        this package's ``score_documents`` at the paper's batch of 8 windows,
  ours-auto   the same with ``batch_size='auto'``,
  paper       the paper's loop, which OpenCompass's built-in repeats: full-vocabulary logits
              for every position of every window, cross-entropy in the model's dtype,
              batch 8,
  builtin     OpenCompass's ``SWCELossInferencer`` (only where OpenCompass is installed),
  vllm        ``score_documents`` on a vLLM engine (``--hf-path`` models; where vLLM is
              installed, e.g. ``.venv-vllm``), ``batch_size='auto'``, the engine in the
              benchmark's process, with the other methods' thread count on a CPU.
MFU counts the necessary work only (the body for every input position, attention over the
causal half, the LM head for the scored positions) over the matrix-product rate measured on
the same device in the same dtype, in this run. The table's header names the torch and
transformers it ran with (their speed differs between versions: docs/benchmarks.md) and the
machine's load average; on a machine shared with other work, ``--repeat N`` runs the methods
N times in turn and keeps each one's fastest run.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import torch
import transformers

from opencompass_llmcompression.core.metrics import bits_per
from opencompass_llmcompression.core.settings import PAPER_BLOCK_SIZE, PAPER_STRIDE, MeasurementSettings

HERE = os.path.dirname(os.path.abspath(__file__))
PAPER_BATCH = 8

# (architecture, hidden, layers, heads, kv heads, intermediate, vocabulary, tied embeddings)
SHAPES = {
    'llama3-8b': ('llama', 4096, 32, 32, 8, 14336, 128256, False),
    'llama2-7b': ('llama', 4096, 32, 32, 32, 11008, 32000, False),
    'qwen2.5-1.5b': ('qwen2', 1536, 28, 12, 2, 8960, 151936, True),
    'smollm2-135m': ('llama', 576, 30, 9, 3, 1536, 49152, True),
}


def shaped_model(name: str, dtype: torch.dtype, device: str) -> torch.nn.Module:
    """A random model of the named shape, built on ``device`` in ``dtype``, seeded."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    arch, hidden, layers, heads, kv, inter, vocab, tied = SHAPES[name]
    config_class, model_class = (
        (LlamaConfig, LlamaForCausalLM) if arch == 'llama' else (Qwen2Config, Qwen2ForCausalLM)
    )
    config = config_class(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        intermediate_size=inter,
        vocab_size=vocab,
        tie_word_embeddings=tied,
        max_position_embeddings=8192,
    )
    config._attn_implementation = 'sdpa'
    torch.manual_seed(0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = model_class(config)
    finally:
        torch.set_default_dtype(default)
    return model.eval()


class FoldedTokenizer:
    """A tokenizer whose ids are folded into a model's smaller vocabulary (for timing)."""

    is_fast = False

    def __init__(self, tokenizer, vocab: int):
        self.tokenizer, self.vocab = tokenizer, vocab

    def encode(self, text: str):
        return [i % self.vocab for i in self.tokenizer.encode(text)]

    def get_vocab(self):
        return dict(self.tokenizer.get_vocab(), **{'<folded into>': self.vocab})


def matmul_rate(dtype, device, n=4096, repeats=8, trials=3) -> float:
    """Best of a few timings of square matrix products: the device's practical peak."""
    n = n if torch.device(device).type == 'cuda' else 2048
    a = torch.randn(n, n, dtype=dtype, device=device)
    b = torch.randn(n, n, dtype=dtype, device=device)
    a @ b
    best = 0.0
    for _ in range(trials):
        sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        sync(device)
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - start))
    return best


def sync(device):
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize()


def window_flops(config, positions: int, logit_positions: int) -> float:
    """Forward FLOPs of one window: linear layers, causal attention, LM head."""
    h, layers = config.hidden_size, config.num_hidden_layers
    heads = config.num_attention_heads
    kv = getattr(config, 'num_key_value_heads', heads) * (h // heads)
    inter = config.intermediate_size
    per_position = layers * 2 * (h * h + 2 * h * kv + h * h + 3 * h * inter)
    attention = layers * 2 * h * positions * positions  # QK^T and AV over the causal half
    return per_position * positions + attention + 2 * h * config.vocab_size * logit_positions


def corpus(chars: int):
    """Python's standard library, module by module in name order, each cut to its first
    4,000 characters, until they hold exactly ``chars`` characters."""
    import glob
    import sysconfig

    docs, total = [], 0
    root = sysconfig.get_paths()['stdlib']
    for path in sorted(glob.glob(os.path.join(root, '**', '*.py'), recursive=True)):
        if total >= chars:
            break
        if 'site-packages' in path:
            continue
        try:
            with open(path, encoding='utf-8') as f:
                text = f.read(min(4000, chars - total))
        except UnicodeDecodeError:
            continue
        if text:
            docs.append(text)
            total += len(text)
    return docs


def load(args):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = getattr(torch, args.dtype)
    if args.model_shape:
        model = shaped_model(args.model_shape, dtype, args.device)
    else:
        model = AutoModelForCausalLM.from_pretrained(args.hf_path, dtype=dtype, attn_implementation='sdpa')
        model = model.to(args.device).eval()
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or args.hf_path)
    if len(tokenizer) > model.config.vocab_size:
        tokenizer = FoldedTokenizer(tokenizer, model.config.vocab_size)
    return model, tokenizer


def paper_windows(args) -> MeasurementSettings:
    """The windows every method runs: the paper's (full windows only), of the flags' size."""
    return MeasurementSettings(args.block_size, args.stride, reference_compat=True)


def run_ours(model, tokenizer, docs, args):
    from opencompass_llmcompression.core import score_documents

    batch = args.batch_size if args.method == 'ours' else 'auto'
    nll, _ = score_documents(
        model,
        tokenizer,
        docs,
        range(len(docs)),
        paper_windows(args),
        batch_size=batch,
        token_cache_dir=args.cache_dir,
        progress=False,
        allow_lossy_tokenizer=isinstance(tokenizer, FoldedTokenizer),  # folded ids are for timing only
        logger=Log(),
    )
    return float(nll.sum())


def text_check_seconds(tokenizer, docs) -> float:
    """Seconds the round trip of the corpus's token stream takes (``core.text_check``), which
    ours runs once per corpus before scoring (inside its wall time); 0 for folded ids."""
    from opencompass_llmcompression.core.text_check import check_round_trip
    from opencompass_llmcompression.core.token_stream import build_stream

    if isinstance(tokenizer, FoldedTokenizer):
        return 0.0
    stream = build_stream(docs, tokenizer)
    start = time.perf_counter()
    check_round_trip(docs, stream.token_ids, stream.doc_offsets, tokenizer)
    return time.perf_counter() - start


class Log:
    """Keeps the scoring loop's messages for the table (the batch size 'auto' chose)."""

    seen = []

    def info(self, message):
        Log.seen.append(message)

    warning = info


def run_paper(model, tokenizer, docs, args):
    """The paper's loop: full logits for every position, cross-entropy in the model's dtype."""
    from opencompass_llmcompression.core.windows import sliding_windows

    stream = torch.tensor([t for d in docs for t in tokenizer.encode(d)], device=args.device)
    windows = sliding_windows(len(stream), paper_windows(args))
    total = 0.0
    for first in range(0, len(windows), args.batch_size):
        batch = windows[first : first + args.batch_size]
        ids = torch.stack([stream[s:e] for s, e, _ in batch])
        with torch.no_grad():
            logits = model(ids[:, :-1]).logits
            loss = torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), ids[:, 1:].flatten(), reduction='none'
            ).view(len(batch), -1)
        for row, (start, _, score_from) in zip(loss, batch):
            total += row[score_from - start - 1 :].sum().item()
    return total


def load_vllm_engine(args):
    """The vLLM engine of ``--hf-path``, its tokenizer and its config, warmed up."""
    from transformers import AutoConfig, AutoTokenizer

    from opencompass_llmcompression.core.model_loading import load_vllm

    if args.model_shape:
        raise SystemExit('vllm: give --hf-path (vLLM loads a model folder, not a shape)')
    llm = load_vllm(
        args.hf_path, args.dtype, max_model_len=args.block_size + 2, enforce_eager=args.device == 'cpu'
    )
    from vllm import SamplingParams

    llm.generate([dict(prompt_token_ids=[0] * 16)], SamplingParams(max_tokens=1), use_tqdm=False)
    return (
        llm,
        AutoTokenizer.from_pretrained(args.tokenizer or args.hf_path),
        AutoConfig.from_pretrained(args.hf_path),
    )


def run_builtin(model, tokenizer, docs, args):
    from types import SimpleNamespace

    from opencompass.datasets import LLMCompressionDataset
    from opencompass.openicl.icl_inferencer import SWCELossInferencer
    from opencompass.openicl.icl_prompt_template import PromptTemplate
    from opencompass.openicl.icl_retriever import ZeroRetriever

    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, 'bench.jsonl'), 'w') as f:
        for text in docs:
            f.write(json.dumps({'content': text}) + '\n')
    dataset = LLMCompressionDataset(
        path=folder, name='bench', reader_cfg=dict(input_columns=['content'], output_column=None)
    )
    inferencer = SWCELossInferencer(
        SimpleNamespace(model=model, tokenizer=tokenizer),
        batch_size=max(args.batch_size, 2),  # 1 crashes it
        block_size=args.block_size,
        stride=args.stride,
        output_json_filepath=folder,
    )
    out = inferencer.inference(
        ZeroRetriever(dataset),
        prompt_template=PromptTemplate('{content}'),
        output_json_filepath=folder,
        output_json_filename='out.json',
    )
    return float(sum(r['loss'] for r in out))


METHODS = {
    'ours': run_ours,
    'ours-auto': run_ours,
    'paper': run_paper,
    'builtin': run_builtin,
    'vllm': run_ours,
}


def child(args):
    """One method in this process: prints a JSON line with its measurements."""
    from opencompass_llmcompression.core.windows import END, SCORE_FROM, sliding_windows

    docs = corpus(args.chars)
    if args.method == 'vllm':
        model, tokenizer, config = load_vllm_engine(args)
    else:
        model, tokenizer = load(args)
        config = model.config
        with torch.no_grad():  # kernels chosen and memory pools made before the clock starts
            model(torch.zeros(1, 16, dtype=torch.long, device=args.device))
    sync(args.device)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    nll = METHODS[args.method](model, tokenizer, docs, args)
    sync(args.device)
    wall = time.perf_counter() - start
    num_tokens = sum(len(tokenizer.encode(d)) for d in docs)
    windows = sliding_windows(num_tokens, paper_windows(args))
    scored = int((windows[:, END] - windows[:, SCORE_FROM]).sum())
    flops = sum(window_flops(config, int(e - s) - 1, int(e - f)) for s, e, f in windows)
    peak = (
        torch.cuda.max_memory_allocated()
        if args.device.startswith('cuda')
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    check = text_check_seconds(tokenizer, docs) if args.method.startswith('ours') else None
    auto = [m for m in Log.seen if m.startswith('batch_size=auto')]
    batch = auto[0].split(': ')[1].split()[0] if auto else str(args.batch_size)
    print(
        json.dumps(
            dict(
                method=args.method,
                wall=wall,
                scored=scored,
                windows=len(windows),
                nll=nll,
                flops=flops,
                peak=peak,
                batch=batch,
                chars=sum(len(d) for d in docs),
                check=check,
                vllm=sys.modules['vllm'].__version__ if 'vllm' in sys.modules else None,
            )
        )
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--hf-path', help='model folder (default: SmolLM2-135M from the demo)')
    source.add_argument(
        '--model-shape',
        choices=sorted(SHAPES),
        help='a random model of this architecture, built on the device',
    )
    parser.add_argument(
        '--tokenizer', help='tokenizer folder (default: the model\'s, or SmolLM2\'s with --model-shape)'
    )
    parser.add_argument('--dtype', default=None, help='default bfloat16 on GPU, float32 on CPU')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--chars', type=int, default=24000, help='corpus characters')
    parser.add_argument('--block-size', type=int, default=PAPER_BLOCK_SIZE)
    parser.add_argument('--stride', type=int, default=PAPER_STRIDE)
    parser.add_argument(
        '--batch-size',
        type=int,
        default=PAPER_BATCH,
        help='windows per forward pass of ours, paper and builtin',
    )
    parser.add_argument(
        '--methods', default='ours,ours-auto,paper', help='comma-separated, from ' + ', '.join(METHODS)
    )
    parser.add_argument(
        '--repeat',
        type=int,
        default=1,
        help='run the methods this many times, in turn, and keep each one\'s '
        'fastest run (for a machine shared with other work)',
    )
    parser.add_argument('--out', default=None, help='also append the table to this file')
    parser.add_argument('--method', help=argparse.SUPPRESS)
    parser.add_argument('--cache-dir', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.dtype = args.dtype or ('bfloat16' if args.device.startswith('cuda') else 'float32')
    if not args.hf_path and not (args.model_shape and args.tokenizer):
        from opencompass_llmcompression.core.token_stream import default_cache_dir
        from opencompass_llmcompression.smollm2 import smollm2_model_dir, smollm2_tokenizer_dir

        cache = os.path.join(default_cache_dir(), 'demo')
        if args.model_shape:
            args.tokenizer = smollm2_tokenizer_dir(cache)
        else:
            args.hf_path = smollm2_model_dir(cache)
    if args.method:
        return child(args)

    methods, best, rate = args.methods.split(','), {}, 0.0
    args.load = [load_average()]
    for _ in range(args.repeat):  # in turn, so that other work on the machine hits all
        rate = max(rate, matmul_rate(getattr(torch, args.dtype), args.device))
        for method in methods:
            row = run_method(method, args)
            print(f'{method}: {row["wall"]:.1f} s', file=sys.stderr, flush=True)
            if method not in best or row['wall'] < best[method]['wall']:
                best[method] = row
    args.load.append(load_average())
    table = render([best[m] for m in methods], rate, args)
    print(table)
    if args.out:
        with open(args.out, 'a') as f:
            f.write('\n' + table)


def load_average() -> str:
    """The machine's 1-minute load average ('-' where /proc has none)."""
    try:
        with open('/proc/loadavg') as f:
            return f.read().split()[0]
    except OSError:
        return '-'


def run_method(method: str, args) -> dict:
    """One method in a process of its own: its JSON line."""
    cmd = [
        sys.executable,
        __file__,
        '--method',
        method,
        '--dtype',
        args.dtype,
        '--device',
        args.device,
        '--chars',
        str(args.chars),
        '--block-size',
        str(args.block_size),
        '--stride',
        str(args.stride),
        '--batch-size',
        str(args.batch_size),
        '--cache-dir',
        tempfile.mkdtemp(),
    ]
    cmd += ['--model-shape', args.model_shape] if args.model_shape else ['--hf-path', args.hf_path]
    cmd += ['--tokenizer', args.tokenizer] if args.tokenizer else []
    env = dict(os.environ)
    if method == 'vllm':  # the engine in this process, as many threads as the others
        env.setdefault('VLLM_ENABLE_V1_MULTIPROCESSING', '0')
        env.setdefault('OMP_NUM_THREADS', str(torch.get_num_threads()))
        env.setdefault('VLLM_LOGGING_STREAM', 'ext://sys.stderr')  # stdout: the JSON line
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f'{method} failed:\n{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def render(rows, rate, args) -> str:
    device = (
        torch.cuda.get_device_name(args.device)
        if args.device.startswith('cuda')
        else f'{platform.machine()} CPU, {os.cpu_count()} cores'
    )
    model = args.model_shape or os.path.basename(args.hf_path.rstrip('/'))
    paper = next((r for r in rows if r['method'] == 'paper'), rows[0])
    vllm = ''.join(f', vLLM {r["vllm"]}' for r in rows if r['method'] == 'vllm')
    lines = [
        f'### {model}, {device}, {datetime.date.today()}',
        '',
        f'dtype `{args.dtype}`, torch {torch.__version__}, transformers '
        f'{transformers.__version__}{vllm}, Python {platform.python_version()}; '
        f'block_size {args.block_size}, '
        f'stride {args.stride}, {rows[0]["chars"]} characters, {rows[0]["windows"]} '
        f'windows, {rows[0]["scored"]} scored tokens; measured {args.dtype} matrix-product '
        f'rate {rate / 1e12:.3g} TFLOP/s. Each method the fastest of {args.repeat} '
        f'run(s), in turn; load average {args.load[0]} before, {args.load[1]} after.',
        '',
        '`python benchmarks/bench_inference.py ' + ' '.join(sys.argv[1:]) + '`',
        '',
        '| method | batch | wall s | windows/s | scored tok/s | MFU | peak memory MiB '
        f'| throughput vs {paper["method"]} | memory vs {paper["method"]} | BPC |',
        '|---|---|---|---|---|---|---|---|---|---|',
    ]
    for r in rows:
        bpc = bits_per(r['nll'], r['chars'])
        lines.append(
            f'| {r["method"]} | {r["batch"]} | {r["wall"]:.2f} | {r["windows"] / r["wall"]:.2f} '
            f'| {r["scored"] / r["wall"]:.0f} | {r["flops"] / r["wall"] / rate:.0%} '
            f'| {r["peak"] / 2**20:.0f} | {paper["wall"] / r["wall"]:.2f}x '
            f'| {r["peak"] / paper["peak"]:.2f}x | {bpc:.6f} |'
        )
    checked = [r for r in rows if r.get('check')]
    if checked:
        r = checked[0]
        lines += [
            '',
            f'The text check (every document decoded and compared, once per corpus, inside '
            f'{r["method"]}\'s wall time): {r["check"] * 1000:.1f} ms, '
            f'{r["check"] / r["wall"]:.2%} of {r["method"]}\'s wall.',
        ]
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
