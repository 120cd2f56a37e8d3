"""The field that ties a document's rows together, wherever they are written or read.

    dataset row      {content, subset, meta, document_index}        (CompressionCorpusDataset)
    prediction row   {nll, tokens, chars, bytes, document_index, ...}  (the inferencer, per row)

``document_index`` is the document's place in ``load_corpus``'s list, from 0.
"""

DOC_INDEX_COLUMN = 'document_index'
