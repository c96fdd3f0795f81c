#!/usr/bin/env python3
"""tests/e2e/apps/http_hard_client.py - an HTTP/1.1 client that writes its
requests the hard ways, for test_http_hard.sh, and the recorder of the
request/response streams the splitter unit test replays.

Usage: http_hard_client.py MODE PORT PATH [N] [HOST]
  bytewise  N requests on one keep-alive connection, each written one byte
            per send() with 2 ms between them (the peer reads small pieces)
  split     N requests, each written as "GE" then, 30 ms later, the rest
  pipeline  N GETs in one write, then reads all N responses
  record    one keep-alive connection, a varied sequence of requests (GET,
            HEAD, POST with a body, 404, chunked when PATH serves one);
            prints a C array of {request, response} pairs on stdout
Prints "answered K" (stderr) and exits non-zero unless every request was
answered. Every wait is bounded (5 s).
"""
import socket
import sys
import time

DEADLINE = 5.0


def request(method, path, host, body=b""):
    head = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hard-client\r\n" % (method, path, host)
    if body:
        head += "Content-Length: %d\r\n" % len(body)
    return head.encode() + b"\r\n" + body


class Reader:
    """Reads whole responses by their framing (Content-Length, chunked, HEAD)."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.end = time.time() + DEADLINE

    def more(self):
        self.s.settimeout(max(0.01, self.end - time.time()))
        d = self.s.recv(65536)
        if not d:
            raise EOFError("closed")
        self.buf += d

    def until(self, pat, start=0):
        while pat not in self.buf[start:]:
            self.more()
        return self.buf.index(pat, start) + len(pat)

    def need(self, n):
        while len(self.buf) < n:
            self.more()

    def response(self, head_only=False):
        """Returns the raw bytes of one response (1xx skipped into it)."""
        while True:
            h = self.until(b"\r\n\r\n")
            head = self.buf[:h].decode("latin-1")
            status = int(head.split(" ", 2)[1])
            if 100 <= status < 200:
                raw, self.buf = self.buf[:h], self.buf[h:]
                continue
            break
        fields = {}
        for line in head.split("\r\n")[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.strip()
        end = h
        if head_only or status in (204, 304):
            pass
        elif "chunked" in fields.get("transfer-encoding", ""):
            pos = h
            while True:
                le = self.until(b"\r\n", pos)
                size = int(self.buf[pos:le - 2].split(b";")[0], 16)
                if size == 0:
                    end = self.until(b"\r\n", le)  # no trailers from our servers
                    break
                pos = le + size + 2
                self.need(pos)
        else:
            end = h + int(fields.get("content-length", "0"))
            self.need(end)
        raw, self.buf = self.buf[:end], self.buf[end:]
        return raw


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def main():
    mode, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    host = sys.argv[5] if len(sys.argv) > 5 else "127.0.0.1"
    # A new process is selected on its exec record, within the agent's
    # 100 ms poll: bytes sent before that are not seen.
    time.sleep(0.3)
    s = connect(port)
    r = Reader(s)
    answered = 0
    if mode == "bytewise":
        for _ in range(n):
            for b in request("GET", path, host):
                s.send(bytes([b]))
                time.sleep(0.002)
            r.response()
            answered += 1
    elif mode == "split":
        for _ in range(n):
            req = request("GET", path, host)
            s.sendall(req[:2])
            time.sleep(0.03)
            s.sendall(req[2:])
            r.response()
            answered += 1
    elif mode == "pipeline":
        s.sendall(b"".join(request("GET", path, host) for _ in range(n)))
        for _ in range(n):
            r.response()
            answered += 1
    elif mode == "record":
        seq = [("GET", path, b""), ("HEAD", path, b""), ("POST", path, b"name=redtap&x=1"),
               ("GET", "/no/such/thing", b""), ("GET", path + "?q=1", b"")]
        if len(sys.argv) > 6:
            seq.append(("GET", sys.argv[6], b""))
        print("{")
        for method, p, body in seq:
            req = request(method, p, host, body)
            s.sendall(req)
            resp = r.response(head_only=method == "HEAD")
            answered += 1
            print("    {%s,\n     %s}," % (c_string(req), c_string(resp)))
        print("},")
        n = len(seq)
    s.close()
    print("answered %d" % answered, file=sys.stderr)
    sys.exit(0 if answered == n else 1)


def c_string(b):
    out = '"'
    for c in b:
        if c == 0x22 or c == 0x5c:
            out += "\\" + chr(c)
        elif 0x20 <= c < 0x7f:
            out += chr(c)
        elif c == 0x0d:
            out += "\\r"
        elif c == 0x0a:
            out += '\\n"\n     "'
        else:
            out += '\\x%02x""' % c
    return out + '"'


if __name__ == "__main__":
    main()
