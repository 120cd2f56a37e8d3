"""The weight files of a model folder, cheaply: what the checkpoint's and the vLLM engine's
fingerprints record of the weights (names, sizes, modification times; not their bytes)."""

import os

WEIGHT_SUFFIXES = ('.safetensors', '.bin', '.pt', '.pth', '.gguf')


def weight_files(path: str) -> list:
    """``[name, size, mtime_ns]`` of each weight file in a model folder ([] for a hub id)."""
    weights = []
    if path and os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            if name.endswith(WEIGHT_SUFFIXES):
                info = os.stat(os.path.join(path, name))
                weights.append([name, info.st_size, info.st_mtime_ns])
    return weights
