"""A replaying HTTP server on 127.0.0.1 for the collection tests, in a thread.

    with LoopbackServer() as server:
        server.serve('/crawl-data/CC-MAIN-2023-40/wet.paths.gz', body)      # a file, Range honoured
        server.script('/x.gz', Answer(503, body=slow_down), Answer(cut_after=1000))
        client = Client(server.url())
        ...
        server.log          # [(method, path, headers as a dict), ...] of every request

``serve`` publishes a file (its bytes, extra headers such as ``ETag``); a GET with
``Range: bytes=N-`` gets a 206 with ``Content-Range`` (unless ``ranges=False``: always a 200).
``script`` queues answers given before the file's own: each ``Answer`` is a status, headers and
a body, or (``status=None``) the file itself cut after ``cut_after`` bytes of its body, the
connection then closed mid-body (its ``Content-Length`` still announcing the whole), or after
``stall_after`` bytes the connection held open and silent until the server stops. Paths that
are neither get a 404.
"""

import collections
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional


@dataclass
class Answer:
    status: Optional[int] = None  # None: the served file, cut after ``cut_after`` bytes
    headers: dict = field(default_factory=dict)
    body: bytes = b''
    cut_after: Optional[int] = None
    stall_after: Optional[int] = None  # the file's first bytes, then nothing until the server stops


@dataclass
class _File:
    body: bytes
    headers: dict
    ranges: bool


class LoopbackServer:
    def __init__(self):
        self.files, self.scripts, self.log = {}, collections.defaultdict(collections.deque), []
        self._lock, self._stopping = threading.Lock(), threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                server._answer(self, head=False)

            def do_HEAD(self):
                server._answer(self, head=True)

            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                self.rfile.read(length)
                server._answer(self, head=False)

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str = '/') -> str:
        return f'http://127.0.0.1:{self.httpd.server_address[1]}{path}'

    def serve(self, path: str, body: bytes, headers: Optional[dict] = None, ranges: bool = True) -> None:
        self.files[path] = _File(body, dict(headers or {}), ranges)

    def script(self, path: str, *answers: Answer) -> None:
        with self._lock:
            self.scripts[path].extend(answers)

    def requests_for(self, path: str) -> list:
        return [entry for entry in self.log if entry[1] == path]

    def __enter__(self) -> 'LoopbackServer':
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler, head: bool) -> None:
        path = handler.path.split('?', 1)[0]
        with self._lock:
            self.log.append((handler.command, handler.path, dict(handler.headers)))
            script = self.scripts.get(path)
            answer = script.popleft() if script else None
        if answer is not None and answer.status is not None:
            self._send(handler, answer.status, answer.headers, answer.body, head)
            return
        file = self.files.get(path)
        if file is None:
            self._send(handler, 404, {'Content-Type': 'text/plain'}, b'not found\n', head)
            return
        status, headers, body = 200, dict(file.headers), file.body
        match = re.fullmatch(r'bytes=(\d+)-', handler.headers.get('Range', '') or '')
        if match and file.ranges:
            start = int(match.group(1))
            if start >= len(body):
                self._send(handler, 416, {'Content-Range': f'bytes */{len(body)}'}, b'', head)
                return
            status, body = 206, body[start:]
            headers['Content-Range'] = f'bytes {start}-{len(file.body) - 1}/{len(file.body)}'
        if file.ranges:
            headers.setdefault('Accept-Ranges', 'bytes')
        if answer is not None and answer.stall_after is not None:
            self._send(handler, status, headers, body, head, cut_after=answer.stall_after)
            self._stopping.wait()
            return
        cut = answer.cut_after if answer is not None else None
        self._send(handler, status, headers, body, head, cut_after=cut)

    @staticmethod
    def _send(handler, status, headers, body, head, cut_after=None) -> None:
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        if not any(k.lower() == 'content-length' for k in headers):
            handler.send_header('Content-Length', str(len(body)))
        handler.send_header('Connection', 'close')
        handler.end_headers()
        if head:
            return
        handler.wfile.write(body if cut_after is None else body[:cut_after])
        handler.wfile.flush()
        handler.close_connection = True


_FRAMING = {'status', 'content-length', 'transfer-encoding', 'content-encoding', 'connection'}


def replayed(path: str) -> list:
    """The responses of a PyGithub ReplayData file (tests/ReplayData/*.txt: per exchange the
    protocol, verb, host, port, path, request headers, request body, status, response headers
    as a Python list of pairs, response body, a blank line) as ``Answer``s. The headers that
    frame the recorded bytes on the wire (length, chunking, compression) are left to this
    server, which sends the body as recorded, decoded."""
    import ast

    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    answers = []
    for start in range(0, len(lines) - 9, 11):
        status, headers, body = lines[start + 7], lines[start + 8], lines[start + 9]
        pairs = ast.literal_eval(headers)
        answers.append(
            Answer(int(status), {k: v for k, v in pairs if k.lower() not in _FRAMING}, body.encode('utf-8'))
        )
    return answers
