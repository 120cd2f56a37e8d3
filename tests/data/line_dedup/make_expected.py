"""Writes cc_net_normalized.jsonl: real lines and what cc_net's ``normalize_for_dedup`` makes of
them, for tests/test_line_dedup.py. Run it with the path of cc_net's ``text_normalizer.py``
(github.com/facebookresearch/cc_net, cc_net/text_normalizer.py) and CPython's library folder:

    python make_expected.py path/to/text_normalizer.py path/to/lib/python3.X

The lines: prose of ``pydoc_data/topics.py`` (every line holding one of cc_net's punctuation
marks, the first 200 lines holding a digit, and the first 150 others), every line of the UTF-8 texts of
``test/cjkencodings`` (Chinese, Japanese, Korean), and damaged copies of some of them
(control characters, other scripts' digits and no-break spaces put in).
"""

import glob
import importlib.util
import json
import os
import sys


def main(normalizer_path: str, lib: str) -> None:
    spec = importlib.util.spec_from_file_location('cc_net_text_normalizer', normalizer_path)
    normalizer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(normalizer)
    namespace: dict = {}
    with open(os.path.join(lib, 'pydoc_data', 'topics.py'), encoding='utf-8') as f:
        exec(f.read(), namespace)  # a dict literal of documentation texts
    lines = [line for text in namespace['topics'].values() for line in text.split('\n')]
    marks = set(normalizer.UNICODE_PUNCT)
    marked = [line for line in lines if marks & set(line)]
    digits = [line for line in lines if any(c.isdecimal() for c in line)][:200]
    others = [line for line in lines if line.strip() and line not in marked + digits][:150]
    chosen = list(dict.fromkeys(marked + digits + others))
    for path in sorted(glob.glob(os.path.join(lib, 'test', 'cjkencodings', '*-utf8.txt'))):
        with open(path, encoding='utf-8') as f:
            chosen += [line for line in f.read().split('\n') if line.strip()]
    inserts = ['\x00', '\t', '\x1b', '\x7f', '\x85', '\x9f', '\xa0', '\u0663', '\uff11', '\u2028', '\r']
    damaged = [
        line[: len(line) // 2] + inserts[i % len(inserts)] + line[len(line) // 2 :]
        for i, line in enumerate(chosen[::7])
    ]
    with open(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cc_net_normalized.jsonl'), 'w'
    ) as out:
        for line in list(dict.fromkeys(chosen + damaged)):
            out.write(json.dumps({'line': line, 'cc_net': normalizer.normalize_for_dedup(line)}) + '\n')


if __name__ == '__main__':
    main(*sys.argv[1:])
