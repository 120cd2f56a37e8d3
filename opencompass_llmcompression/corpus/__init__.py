"""The corpus builder (``llmcompression-corpus``): fresh compression corpora from the files
fresh text comes as, cleaned the way the paper's pipelines did."""
