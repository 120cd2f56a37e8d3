"""``llmcompression-zip``: a lossless compressor made of the measured model and its windows.

The file it writes is the measurement made real: a range coder driven by the probabilities
the model gives each token over the evaluator's sliding windows, so its size is the text's
bits per character (plus a 119-byte header and the first token), and it decompresses to the
original bytes, checked by SHA-256. ``coder`` computes the probabilities and codes tokens,
``container`` is the file format, ``compressor`` the checks around them, ``cli`` the command.
"""
