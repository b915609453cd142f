#!/usr/bin/env python3
"""A webhook receiver for the fault tests: answers every POST with 200 at
once and appends "<Billow-Event-Id> <unix ms>" to the file named on the
command line, one line per request (duplicates included).

usage: receiver.py PORT OUTFILE
"""
import http.server
import sys
import threading
import time

PORT = int(sys.argv[1])
OUT = sys.argv[2]
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        eid = self.headers.get("Billow-Event-Id", "-")
        with LOCK, open(OUT, "a") as f:
            f.write("%s %d\n" % (eid, int(time.time() * 1000)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
