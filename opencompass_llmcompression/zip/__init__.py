"""``llmcompression-zip``: a lossless compressor made of the measured model and its windows.

A range coder driven by the probabilities the model gives each token over the evaluator's
sliding windows. With one segment the payload is the text's measured bits plus the first
token (coded uniform), the escaped bytes and the coder's rounding, behind a 119-byte header;
the file decompresses to the original bytes, checked by SHA-256. ``coder`` computes the
probabilities and codes tokens, ``container`` is the file format, ``compressor`` the checks
around them, ``cli`` the command line.
"""
