"""Progress of one shard on disk, so that a killed run resumes where it stopped.

A checkpoint is a plain ``.npz`` (no pickle, written atomically): the float64 sums of the
documents touched so far, how many windows (in order) made them, and a fingerprint of what
the numbers depend on. Resuming restores those exact sums; with a fixed batch size (and no
batch halved for memory) the rest runs in the same batches, so the result is the
uninterrupted run's bit for bit (``batch_size='auto'`` is fingerprinted as ``'auto'`` and
chosen again on resume). A checkpoint of another fingerprint, or one that does not read
back intact, is ignored with a warning: the shard restarts.
"""

import hashlib
import json
import logging
import os
import time
import zipfile
from typing import Optional, Tuple

import numpy as np

from .atomic_files import atomic_write
from .logs import LOGGER
from .model_files import weight_files
from .progress import ShardProgress
from .provenance import model_source

FORMAT = 1


def model_fingerprint(model) -> dict:
    """What identifies a torch model's numbers on this machine: ``path``, ``revision`` and
    ``dtype`` (``provenance.model_source``), the SHA-256 of its whole config's JSON and the
    ``weight_files`` (names, sizes, times: cheap, not their bytes)."""
    config = getattr(model, 'config', None)
    source = model_source(model)
    config_text = config.to_json_string() if hasattr(config, 'to_json_string') else repr(config)
    return dict(
        path=source.name_or_path,
        revision=source.revision,
        weights=weight_files(source.name_or_path),
        config=hashlib.sha256(config_text.encode()).hexdigest(),
        dtype=source.dtype,
    )


def _checksum(done: int, index: np.ndarray, nll: np.ndarray, tokens: np.ndarray, *more: np.ndarray) -> str:
    digest = hashlib.sha256(str(done).encode())
    for array in (index, nll, tokens, *more):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


class Checkpoint:
    """``path`` is the checkpoint file; ``fingerprint`` a dict of what the numbers depend on
    (JSON, values that are not JSON as their ``str``); a checkpoint not used, or not saved,
    is a warning to ``logger``. ``token_nll``: the token losses the loaded checkpoint held
    (``token_losses.TokenLosses.values``), None when it held none."""

    def __init__(
        self, path: str, fingerprint: dict, interval_s: float = 30.0, logger: logging.Logger = LOGGER
    ):
        self.path, self.interval_s, self.logger = path, interval_s, logger
        self.fingerprint = json.dumps(dict(fingerprint, format=FORMAT), sort_keys=True, default=str)
        self.last_save = time.monotonic()
        self.token_nll: Optional[np.ndarray] = None

    def load(self, num_docs: int) -> Optional[Tuple[int, np.ndarray, np.ndarray]]:
        """``(windows done, nll, tokens)`` to resume from, or None to start over."""
        if not os.path.exists(self.path):
            return None
        try:
            with np.load(self.path, allow_pickle=False) as saved:
                fingerprint = str(saved['fingerprint'])
                done = int(saved['done'])
                index, values = saved['index'], saved['nll']
                counts, checksum = saved['tokens'], str(saved['checksum'])
                token_nll = saved['token_nll'] if 'token_nll' in saved.files else None
            more = () if token_nll is None else (token_nll,)
            if checksum != _checksum(done, index, values, counts, *more):
                raise ValueError('its checksum does not match its contents')
            if fingerprint == self.fingerprint:
                nll = np.zeros(num_docs, dtype=np.float64)
                tokens = np.zeros(num_docs, dtype=np.int64)
                nll[index], tokens[index] = values, counts
                self.token_nll = token_nll
                return done, nll, tokens
            ours = json.loads(self.fingerprint)
            changed = sorted(k for k, v in json.loads(fingerprint).items() if ours.get(k) != v)
            self.logger.warning(
                f'checkpoint {self.path} was made with other settings '
                f'({", ".join(changed)} differ); not used, the shard starts over'
            )
        except (
            OSError,
            EOFError,
            zipfile.BadZipFile,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
        ) as err:  # cut off, not a zip, a bad CRC, a missing or odd
            # array, a fingerprint that is not JSON: never trusted, never fatal
            self.logger.warning(
                f'checkpoint {self.path} is unreadable '
                f'({type(err).__name__}: {err}); not used, the shard starts over'
            )
        return None

    def save(
        self,
        done: int,
        nll: np.ndarray,
        tokens: np.ndarray,
        force: bool = False,
        token_nll: Optional[np.ndarray] = None,
        progress: Optional[ShardProgress] = None,
    ) -> None:
        """Saves after ``done`` windows, at most once per ``interval_s`` unless ``force``;
        with ``token_nll`` (the kept token losses) and ``progress`` (``read_progress``) too."""
        if not force and time.monotonic() - self.last_save < self.interval_s:
            return
        index = np.flatnonzero(tokens)
        values, counts = nll[index], tokens[index]
        more = {} if token_nll is None else dict(token_nll=token_nll)
        shown = {} if progress is None else _progress_arrays(progress)
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            with atomic_write(self.path, 'wb') as f:
                np.savez(
                    f,
                    fingerprint=np.array(self.fingerprint),
                    done=np.array(done),
                    index=index,
                    nll=values,
                    tokens=counts,
                    checksum=np.array(_checksum(done, index, values, counts, *more.values())),
                    **more,
                    **shown,
                )
        except OSError as err:  # a full disk must not stop the scoring itself
            self.logger.warning(f'could not save the checkpoint {self.path} ({err}); scoring goes on')
        self.last_save = time.monotonic()


def _progress_arrays(progress: ShardProgress) -> dict:
    return dict(
        progress_total=np.array(progress.total),
        progress_started=np.array(progress.started),
        progress_done_at_start=np.array(progress.done_at_start),
        saved_at=np.array(progress.now),
    )


def read_progress(path: str) -> Optional[ShardProgress]:
    """The progress a checkpoint saved (as of its save, ``now`` = when it was saved), for
    ``llmcompression-summary --progress``; None when the file cannot be read (it may be
    replaced at this moment) or holds no progress (saved before checkpoints held it)."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            return ShardProgress(
                done=int(saved['done']),
                total=int(saved['progress_total']),
                started=float(saved['progress_started']),
                done_at_start=int(saved['progress_done_at_start']),
                now=float(saved['saved_at']),
            )
    except (OSError, EOFError, zipfile.BadZipFile, ValueError, KeyError):
        return None
