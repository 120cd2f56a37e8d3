"""A folder of corpora -> OpenCompass dataset configs, one per corpus: no hand-written list for
twelve months of corpora.

    data/fresh/web_2026_01.jsonl  web_2026_01.manifest.json
    data/fresh/web_2026_02.jsonl  ...                         ──> corpus_datasets('data/fresh')
    data/fresh/code_2026_01.jsonl ...                             [llm_compression-code_2026_01,
                                                                   llm_compression-web_2026_01, ...]

In a config that OpenCompass loads (mmengine turns a config's imports into placeholders that
cannot be called while it loads, so the call goes through ``__import__``)::

    llm_compression_fresh_datasets = __import__(
        'opencompass_llmcompression.openicl.corpus_folder', fromlist=['corpus_datasets']
    ).corpus_datasets('data/fresh')
"""

import os
from typing import List, Optional

from ..core.corpus_files import COMPRESSED, EXTENSIONS, CorpusError, corpus_name, resolve_folder

PLUGIN = 'opencompass_llmcompression'


def corpus_names(folder: str) -> List[str]:
    """The corpora of ``folder`` (or its ``data/``), by name, sorted: every file whose name ends
    in one of ``core.corpus_files.EXTENSIONS``, manifests and the builder's ``.records``
    inputs aside. CorpusError when the folder does not exist or holds none."""
    where = resolve_folder(folder)
    if not os.path.isdir(where):
        raise CorpusError(f'{where} is not a folder: give the folder the corpora were built into')
    names = set()
    for sub in ('', 'data'):
        inside = os.path.join(where, sub)
        if not os.path.isdir(inside):
            continue
        for filename in os.listdir(inside):
            bare = (
                filename[: -len(os.path.splitext(filename)[1])] if filename.endswith(COMPRESSED) else filename
            )
            if not bare.endswith(tuple(f'.{e}' for e in EXTENSIONS)) or not os.path.isfile(
                os.path.join(inside, filename)
            ):
                continue
            name = corpus_name(filename)
            if not name.endswith(('.manifest', '.records')):
                names.add(name)
    if not names:
        raise CorpusError(
            f'{where} holds no corpus ({", ".join("NAME." + e for e in EXTENSIONS)}): build them there '
            'with llmcompression-corpus --out, or give the folder they are in'
        )
    return sorted(names)


def corpus_datasets(
    folder: str,
    names: Optional[List[str]] = None,
    abbr_prefix: str = 'llm_compression-',
    samples: Optional[int] = None,
    **inferencer,
) -> List[dict]:
    """One dataset config per corpus of ``folder`` (``names``: these only, default all of
    ``corpus_names``), each as the plugin's ``llm_compression`` config makes them: abbr
    ``{abbr_prefix}{name}``, the window of ``inferencer`` (e.g. ``block_size=1024``; default the
    paper's). Types are named by their import paths, as a config's lazy imports are when
    OpenCompass saves a run's config, so the saved config loads again. The report reads each
    corpus's kind and period from its manifest. CorpusError for a folder without corpora or a
    name not among them."""
    found = corpus_names(folder)
    unknown = sorted(set(names or ()) - set(found))
    if unknown:
        raise CorpusError(f'{", ".join(unknown)}: no such corpus in {folder} (it holds {", ".join(found)})')
    return [
        dict(
            abbr=f'{abbr_prefix}{name}',
            type=f'{PLUGIN}.CompressionCorpusDataset',
            path=folder,
            name=name,
            samples=samples,
            reader_cfg=dict(input_columns=['content'], output_column=None),
            infer_cfg=dict(
                prompt_template=dict(
                    type='opencompass.openicl.icl_prompt_template.PromptTemplate', template='{content}'
                ),
                retriever=dict(type='opencompass.openicl.icl_retriever.ZeroRetriever'),
                inferencer=dict(type=f'{PLUGIN}.SlidingWindowPPLInferencer', **inferencer),
            ),
            eval_cfg=dict(evaluator=dict(type=f'{PLUGIN}.CompressionEvaluator')),
        )
        for name in (names or found)
    ]
