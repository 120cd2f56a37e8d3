"""An independent, slow scorer: one forward pass per window, full logits, float64, no shortcuts."""

import numpy as np
import torch


def brute_force_nll(model, tokenizer, contents, block_size, stride, reference_compat=False):
    """Per-document (nll, scored tokens), walking the windows the way the paper's loop does."""
    ids = [tokenizer.encode(text) for text in contents]
    owner = np.concatenate([np.full(len(x), d) for d, x in enumerate(ids)]).astype(int)
    stream = torch.tensor([t for x in ids for t in x])
    n = len(stream)
    nll = np.zeros(len(contents))
    tokens = np.zeros(len(contents), dtype=int)
    begin, prev_end = 0, 0
    while True:
        end = min(begin + block_size + 1, n)
        if reference_compat and begin + block_size + 1 > n:
            break
        first = max(prev_end, 1)
        if first >= end:
            break
        with torch.no_grad():
            logits = model(stream[begin : end - 1][None]).logits[0].double()
        logp = torch.log_softmax(logits, dim=-1)
        for pos in range(first, end):
            nll[owner[pos]] -= logp[pos - 1 - begin, stream[pos]].item()
            tokens[owner[pos]] += 1
        prev_end = end
        if end == n:
            break
        begin += stride
    return nll, tokens
