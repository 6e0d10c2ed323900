#!/usr/bin/env python3
"""
mirror_proxy.py BACKEND [TILES]: a tiny HTTP proxy for e2e_mirror.sh,
on 127.0.0.1 (a free port, printed first on stdout).

Every GET goes to BACKEND; with TILES, /checkpoint, /tile/... and the
map paths /v1/map/<index> go to TILES instead (kt-verify reading a log
through a mirror while the log answers the rest: lookups, map audits). GET /ctl/... sets how entry bundles pass:
  /ctl/honest           unchanged
  /ctl/delay?ms=D       each bundle D ms late (a slow catch-up)
  /ctl/tamper?bundle=K  bundle K (full or partial) with its last byte
                        flipped, as a log serving a wrong entry would
"""
import sys, threading, time, urllib.error, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BACKEND = sys.argv[1].rstrip('/')
TILES = sys.argv[2].rstrip('/') if len(sys.argv) > 2 else None
mode = {'m': 'honest', 'ms': 0, 'bundle': -1}
lock = threading.Lock()


def bundle_index(path):
    """K of /tile/entries/<N>[.p/<W>], else -1."""
    if not path.startswith('/tile/entries/'):
        return -1
    n = path[len('/tile/entries/'):].split('.p/')[0]
    try:
        return int(n.replace('x', '').replace('/', ''))
    except ValueError:
        return -1


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def answer(self, code, body, ctype='application/octet-stream'):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path.startswith('/ctl/'):
            q = dict(urllib.parse.parse_qsl(u.query))
            with lock:
                mode['m'] = u.path[5:]
                mode['ms'] = int(q.get('ms', 0))
                mode['bundle'] = int(q.get('bundle', -1))
            return self.answer(200, b'ok\n', 'text/plain')
        base = BACKEND
        if TILES and (u.path == '/checkpoint' or u.path.startswith('/tile/')
                      or (u.path.startswith('/v1/map/')
                          and not u.path.startswith('/v1/map/audit/'))):
            base = TILES
        try:
            with urllib.request.urlopen(base + self.path, timeout=60) as r:
                code, body = r.status, r.read()
                ctype = r.headers.get('Content-Type', 'text/plain')
        except urllib.error.HTTPError as e:
            code, body = e.code, e.read()
            ctype = e.headers.get('Content-Type', 'text/plain')
        except OSError as e:
            return self.answer(502, str(e).encode(), 'text/plain')
        k = bundle_index(u.path)
        with lock:
            m = dict(mode)
        if k >= 0 and m['m'] == 'delay':
            time.sleep(m['ms'] / 1000)
        if k >= 0 and m['m'] == 'tamper' and k == m['bundle'] and body:
            body = body[:-1] + bytes([body[-1] ^ 1])
        self.answer(code, body, ctype)


srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
