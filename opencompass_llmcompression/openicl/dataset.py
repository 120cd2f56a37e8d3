"""The OpenCompass dataset: one row per non-empty document of a corpus, in corpus order.

The rows carry ``content``, ``subset``, ``meta`` and ``document_index`` (the document's place
in the whole corpus), which is how a shard's rows find their tokens in the corpus's stream.
Reading the file is ``core.corpus_files.load_corpus``; see there for formats and paths.
"""

from typing import Optional

from datasets import Dataset
from opencompass.datasets.base import BaseDataset
from opencompass.registry import LOAD_DATASET
from opencompass.utils import get_logger

from ..core.corpus_files import CorpusNotFound, load_corpus
from ..core.document_rows import DOC_INDEX_COLUMN


@LOAD_DATASET.register_module()
class CompressionCorpusDataset(BaseDataset):
    """One compression corpus, ``path=FOLDER``, ``name=CORPUS``, ``samples=N`` (the first N
    non-empty documents), read by ``load_corpus``; its ``CorpusError`` says what is wrong."""

    def __init__(self, reader_cfg: Optional[dict] = None, k: int = 1, n: int = 1, **kwargs):
        if k != 1 or n != 1:
            raise ValueError(
                'a compression corpus is measured once: k and n must be 1 '
                '(do not pass --dataset-num-runs for it).'
            )
        super().__init__(reader_cfg=reader_cfg or {}, k=k, n=n, **kwargs)

    @staticmethod
    def load(path: str = 'data/llm-compression', name: str = 'cc', samples: Optional[int] = None) -> Dataset:
        try:
            documents = load_corpus(path, name, samples, logger=get_logger())
        except CorpusNotFound as e:
            raise CorpusNotFound(
                f'{e} The dataset config names the folder, path=FOLDER (a '
                'relative one under $COMPASS_DATA_CACHE), and the corpus, '
                'name=NAME.'
            ) from None
        for index, document in enumerate(documents):
            document[DOC_INDEX_COLUMN] = index
        return Dataset.from_list(documents)
