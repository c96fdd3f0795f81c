"""Tests of scripts/grafana-sync: its dry run, and the requests it sends to a stub Grafana.

The stub is an http.server on 127.0.0.1 (port chosen by the kernel) that
records every request and answers like Grafana's dashboard and folder API.
Run by tests/dashboards/run.sh; also runnable alone.
"""

import glob
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SYNC = os.path.join(ROOT, "scripts", "grafana-sync")
FILES = sorted(glob.glob(os.path.join(ROOT, "dashboards", "*.json")))
UIDS = sorted(json.load(open(f))["uid"] for f in FILES)


class StubGrafana:
    """Records requests; answers from the `folders` set and the `reject` uids."""

    def __init__(self, prefix=""):
        self.requests = []
        self.folders = set()
        self.reject = {}
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _record(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                stub.requests.append({"method": self.command, "path": self.path,
                                      "headers": dict(self.headers),
                                      "body": json.loads(raw) if raw else None})
                return stub.requests[-1]

            def do_GET(self):  # noqa: N802
                self._record()
                uid = self.path[len(prefix + "/api/folders/"):]
                if self.path.startswith(prefix + "/api/folders/") and uid in stub.folders:
                    self._answer(200, {"uid": uid, "title": uid})
                else:
                    self._answer(404, {"message": "folder not found"})

            def do_POST(self):  # noqa: N802
                req = self._record()
                if req["headers"].get("Authorization") != "Bearer test-token":
                    self._answer(401, {"message": "invalid API key"})
                elif self.path == prefix + "/api/folders":
                    stub.folders.add(req["body"]["uid"])
                    self._answer(200, {"uid": req["body"]["uid"]})
                elif self.path == prefix + "/api/dashboards/db":
                    uid = req["body"]["dashboard"]["uid"]
                    if uid in stub.reject:
                        self._answer(412, {"message": stub.reject[uid],
                                           "status": "version-mismatch"})
                    else:
                        self._answer(200, {"id": 1, "uid": uid, "status": "success",
                                           "url": "/d/%s/x" % uid, "version": 3,
                                           "slug": "x"})
                else:
                    self._answer(404, {"message": "not found"})

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d%s" % (self.server.server_address[1], prefix)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def run(args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("GRAFANA_")}
    e.update(env or {})
    return subprocess.run([sys.executable, SYNC] + args, capture_output=True, text=True,
                          env=e, timeout=60)


class DryRun(unittest.TestCase):
    def test_prints_every_payload_without_credentials(self):
        r = run(["--dry-run", "--folder", "obs", "--message", "release 1.2"])
        self.assertEqual(r.returncode, 0, r.stderr)
        parts = re.split(r"^# (GET|POST) (\S+)\n", r.stdout, flags=re.M)
        reqs = [(parts[i], parts[i + 1], json.loads(parts[i + 2])) for i in range(1, len(parts), 3)]
        self.assertEqual([(m, u) for m, u, _ in reqs],
                         [("POST", "$GRAFANA_URL/api/dashboards/db")] * len(FILES))
        self.assertEqual(sorted(b["dashboard"]["uid"] for _m, _u, b in reqs), UIDS)
        for _m, _u, body in reqs:
            self.assertEqual(set(body), {"dashboard", "folderUid", "overwrite", "message"})
            self.assertEqual(body["folderUid"], "obs")
            self.assertIs(body["overwrite"], False)
            self.assertEqual(body["message"], "release 1.2")
            self.assertIsNone(body["dashboard"]["id"])

    def test_dry_run_shows_folder_creation(self):
        r = run(["--dry-run", "--folder", "obs", "--folder-title", "Observability",
                 "--overwrite", FILES[0]], {"GRAFANA_URL": "https://g.example/"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("# GET https://g.example/api/folders/obs\n", r.stdout)
        self.assertIn("# POST https://g.example/api/folders\n", r.stdout)
        self.assertIn('"title": "Observability"', r.stdout)
        self.assertIn('"overwrite": true', r.stdout)

    def test_needs_credentials_without_dry_run(self):
        r = run([], {"GRAFANA_URL": "http://127.0.0.1:9"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("GRAFANA_TOKEN", r.stderr)

    def test_rejects_a_file_that_is_not_a_dashboard(self):
        r = run(["--dry-run", os.path.join(ROOT, "tests", "dashboards", "package.json")])
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a dashboard", r.stderr)


class AgainstStub(unittest.TestCase):
    def setUp(self):
        self.stub = StubGrafana(prefix="/grafana")
        self.env = {"GRAFANA_URL": self.stub.url + "/", "GRAFANA_TOKEN": "test-token"}

    def tearDown(self):
        self.stub.close()

    def test_pushes_every_dashboard_with_token_and_json(self):
        r = run(["--folder", "obs", "--folder-title", "Observability", "--overwrite",
                 "--message", "sync"], self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        reqs = self.stub.requests
        self.assertEqual([(q["method"], q["path"]) for q in reqs[:2]],
                         [("GET", "/grafana/api/folders/obs"), ("POST", "/grafana/api/folders")])
        self.assertEqual(reqs[1]["body"], {"uid": "obs", "title": "Observability"})
        posts = reqs[2:]
        self.assertEqual([q["path"] for q in posts], ["/grafana/api/dashboards/db"] * len(FILES))
        for q, path in zip(posts, FILES):
            self.assertEqual(q["headers"]["Authorization"], "Bearer test-token")
            self.assertEqual(q["headers"]["Content-Type"], "application/json")
            with open(path) as f:
                want = json.load(f)
            want["id"] = None
            self.assertEqual(q["body"], {"dashboard": want, "folderUid": "obs",
                                         "overwrite": True, "message": "sync"})
        self.assertEqual(r.stdout.count("\nok   ") + r.stdout.startswith("ok   "), len(FILES))
        self.assertIn("created folder obs", r.stdout)

    def test_existing_folder_is_not_created_again(self):
        self.stub.folders.add("obs")
        r = run(["--folder", "obs", "--folder-title", "Observability", FILES[0]], self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual([(q["method"], q["path"]) for q in self.stub.requests],
                         [("GET", "/grafana/api/folders/obs"),
                          ("POST", "/grafana/api/dashboards/db")])

    def test_without_folder_goes_to_general(self):
        r = run([FILES[0]], self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        (q,) = self.stub.requests
        self.assertNotIn("folderUid", q["body"])
        self.assertIs(q["body"]["overwrite"], False)

    def test_reports_each_failure_and_goes_on(self):
        self.stub.reject[UIDS[0]] = "The dashboard has been changed by someone else"
        r = run([], self.env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAIL %s" % UIDS[0], r.stdout)
        self.assertIn("HTTP 412: The dashboard has been changed by someone else", r.stdout)
        self.assertIn("use --overwrite", r.stdout)
        self.assertEqual(len(self.stub.requests), len(FILES))

    def test_bad_token_fails(self):
        r = run([FILES[0]], dict(self.env, GRAFANA_TOKEN="wrong"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("HTTP 401: invalid API key", r.stdout)


if __name__ == "__main__":
    unittest.main()
