"""Time and memory of three ways to compute the same sliding-window BPC, in one run.

    python benchmarks/bench_inference.py                 # SmolLM2-135M, fp32, CPU
    python benchmarks/bench_inference.py --hf-path DIR --dtype bfloat16 --batch-size 16  # GPU

Methods, each in its own process (so peak memory is its own), on the same model, corpus and
windows:
  ours      this plugin's scorer (score_documents),
  builtin   OpenCompass's SWCELossInferencer, driven as its OpenCompass task drives it,
  plain     the paper's method as a plain loop: one window at a time, full logits.
Ours also runs on 4x the corpus, to show how time and memory grow. Model FLOP/s count the
linear layers and causal attention of the windows actually run, plus the LM head on the
positions that get logits; the matrix-product rate is measured in the same run.
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

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def matmul_rate(dtype, device, n=3072, repeats=4, trials=3) -> float:
    """Best of a few timings of square matrix products: the machine's practical peak."""
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
        best = max(best, 2 * n ** 3 * repeats / (time.perf_counter() - start))
    return best


def sync(device):
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize()


def window_flops(config, length: int, logit_positions: int) -> float:
    """Forward FLOPs of one window: linear layers, causal attention, LM head."""
    h, layers = config.hidden_size, config.num_hidden_layers
    heads = config.num_attention_heads
    kv = getattr(config, 'num_key_value_heads', heads) * (h // heads)
    inter = config.intermediate_size
    per_token = layers * 2 * (h * h + 2 * h * kv + h * h + 3 * h * inter)
    attention = layers * 2 * h * length * length  # QK^T and AV over the causal half
    return per_token * length + attention + 2 * h * config.vocab_size * logit_positions


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


def load(path, dtype, device):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
    return model.to(device).eval(), AutoTokenizer.from_pretrained(path)


def run_ours(model, tokenizer, docs, args):
    from opencompass_llmcompression.core import score_documents
    nll, _ = score_documents(model, tokenizer, docs, range(len(docs)), args.block_size,
                             args.stride, args.reference_compat, args.batch_size,
                             cache_dir=args.cache_dir, progress=False)
    return float(nll.sum())


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
    dataset = LLMCompressionDataset(path=folder, name='bench',
                                    reader_cfg=dict(input_columns=['content'],
                                                    output_column=None))
    inferencer = SWCELossInferencer(SimpleNamespace(model=model, tokenizer=tokenizer),
                                    batch_size=max(args.batch_size, 2),  # 1 crashes
                                    block_size=args.block_size, stride=args.stride,
                                    output_json_filepath=folder)
    out = inferencer.inference(ZeroRetriever(dataset), prompt_template=PromptTemplate(
        '{content}'), output_json_filepath=folder, output_json_filename='out.json')
    return float(sum(r['loss'] for r in out))


def run_plain(model, tokenizer, docs, args):
    stream = torch.tensor([t for d in docs for t in tokenizer.encode(d)], device=args.device)
    n, span, total = len(stream), args.block_size + 1, 0.0
    for k in range((n - span) // args.stride + 1):
        window = stream[k * args.stride:k * args.stride + span]
        with torch.no_grad():
            logits = model(window[None, :-1]).logits[0].float()
        first = 0 if k == 0 else args.block_size - args.stride
        total += torch.nn.functional.cross_entropy(logits[first:], window[first + 1:],
                                                   reduction='sum').item()
    return total


def child(args):
    """One method in this process: prints a JSON line with its measurements."""
    from opencompass_llmcompression.core.token_stream import build_stream
    from opencompass_llmcompression.core.windows import END, SCORE_FROM, sliding_windows
    docs = corpus(args.chars * args.scale)
    model, tokenizer = load(args.hf_path, args.dtype, args.device)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    tokens = build_stream(docs, tokenizer).tokens
    tokenize_s = time.perf_counter() - start
    method = {'ours': run_ours, 'builtin': run_builtin, 'plain': run_plain}[args.method]
    nll = method(model, tokenizer, docs, args)
    sync(args.device)
    wall = time.perf_counter() - start
    windows = sliding_windows(tokens.size, args.block_size, args.stride,
                              reference_compat=args.method != 'ours' or args.reference_compat)
    scored = int((windows[:, END] - windows[:, SCORE_FROM]).sum())
    flops = sum(window_flops(model.config, int(e - s) - 1,
                             int(e - f) if args.method == 'ours' else int(e - s) - 1)
                for s, e, f in windows)
    peak = (torch.cuda.max_memory_allocated() if args.device.startswith('cuda')
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    print(json.dumps(dict(method=args.method, scale=args.scale, wall=wall, scored=scored,
                          tokens=int(tokens.size), windows=len(windows), nll=nll, flops=flops,
                          peak=peak, tokenize=tokenize_s,
                          chars=sum(len(d) for d in docs))))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--hf-path', help='model folder (default: SmolLM2-135M from the demo)')
    parser.add_argument('--dtype', default=None, help='float32 on CPU, bfloat16 on GPU')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--chars', type=int, default=24000, help='corpus characters at 1x')
    parser.add_argument('--block-size', type=int, default=1900)
    parser.add_argument('--stride', type=int, default=512)
    parser.add_argument('--batch-size', type=int, default=1,
                        help='windows per forward pass (the built-in gets at least 2: 1 crashes it)')
    parser.add_argument('--all-tokens', dest='reference_compat', action='store_false',
                        help='run ours in its default mode (every token scored: one window '
                             'more than the others); by default ours runs the paper\'s windows, '
                             'so all methods do the same work and must print the same BPC')
    parser.add_argument('--methods', default='ours,builtin,plain')
    parser.add_argument('--out', default=os.path.join(HERE, '..', 'docs', 'benchmarks.md'))
    parser.add_argument('--method', help=argparse.SUPPRESS)
    parser.add_argument('--scale', type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument('--cache-dir', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.dtype = args.dtype or ('bfloat16' if args.device.startswith('cuda') else 'float32')
    if not args.hf_path:
        from opencompass_llmcompression.demo import smollm2_model_dir
        from opencompass_llmcompression.core.token_stream import default_cache_dir
        args.hf_path = smollm2_model_dir(os.path.join(default_cache_dir(), 'demo'))
    if args.method:
        return child(args)

    rate = matmul_rate(getattr(torch, args.dtype), args.device)
    runs = [(m, 1) for m in args.methods.split(',')] + [('ours', 4)]
    rows = []
    for method, scale in runs:
        cache = tempfile.mkdtemp()  # every run tokenizes from scratch
        cmd = [sys.executable, __file__, '--method', method, '--scale', str(scale),
               '--hf-path', args.hf_path, '--dtype', args.dtype, '--device', args.device,
               '--chars', str(args.chars), '--block-size', str(args.block_size),
               '--stride', str(args.stride), '--batch-size', str(args.batch_size),
               '--cache-dir', cache] + ([] if args.reference_compat else ['--all-tokens'])
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f'{method} failed:\n{out.stderr[-3000:]}')
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f'{method} x{scale}: {rows[-1]["wall"]:.1f} s', file=sys.stderr, flush=True)

    ours = rows[0]
    lines = [f'# Inference benchmark, {datetime.date.today()}', '',
             f'Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, '
             f'device `{args.device}`, dtype `{args.dtype}`, torch {torch.__version__}; '
             f'model `{os.path.basename(args.hf_path.rstrip("/"))}`; block_size '
             f'{args.block_size}, stride {args.stride}, batch {args.batch_size}. Measured '
             f'matrix-product rate: {rate / 1e9:.0f} GFLOP/s.', '',
             '`python benchmarks/bench_inference.py ' + ' '.join(sys.argv[1:]) + '`', '',
             '| method | corpus | chars | windows | scored tokens | wall s | scored tok/s '
             '| tokenize % | peak memory MiB | model GFLOP/s | of matmul rate | time vs ours '
             '| memory vs ours | BPC |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        achieved = r['flops'] / r['wall']
        bpc = r['nll'] / (r['chars'] * np.log(2))
        lines.append(
            f'| {r["method"]} | {r["scale"]}x | {r["chars"]} | {r["windows"]} | {r["scored"]} '
            f'| {r["wall"]:.1f} | {r["scored"] / r["wall"]:.0f} '
            f'| {100 * r["tokenize"] / r["wall"]:.1f} | {r["peak"] / 2**20:.0f} '
            f'| {achieved / 1e9:.1f} | {achieved / rate:.0%} | {r["wall"] / ours["wall"]:.2f} '
            f'| {r["peak"] / ours["peak"]:.2f} | {bpc:.4f} |')
    lines += ['', 'All methods run the paper\'s windows (ours with `reference_compat=True`) '
              'unless `--all-tokens` is given, so their BPC must agree: the built-in and the '
              'plain loop sum in fp32, ours in float64.']
    table = '\n'.join(lines) + '\n'
    print(table)
    with open(args.out, 'w') as f:
        f.write(table)


if __name__ == '__main__':
    main()
