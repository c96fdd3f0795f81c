/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * http_streams.h - real HTTP/1.1 request/response streams for the splitter
 * (test_http_split.c): one keep-alive connection each to the Python server
 * of the e2e tests (tests/e2e/apps/http_app.py) and to nginx
 * (tests/e2e/apps/nginx.sh), recorded by
 *   tests/e2e/apps/http_hard_client.py record PORT PATH 1 HOST EXTRA_PATH
 * (GET, HEAD, POST with a body, a 404, a query string, then a chunked
 * response from Python and a 500 from nginx). Header-only data.
 */
#ifndef REDTAP_TEST_HTTP_STREAMS_H
#define REDTAP_TEST_HTTP_STREAMS_H

struct http_pair {
	const char *req, *resp;
};

static const struct http_pair python_stream[] = {
    {"GET /items/42 HTTP/1.1\r\n"
     "Host: 127.0.0.1:31401\r\n"
     "User-Agent: hard-client\r\n"
     "\r\n"
     "",
     "HTTP/1.1 200 OK\r\n"
     "Server: BaseHTTP/0.6 Python/3.11.7\r\n"
     "Date: Fri, 04 Dec 2026 16:39:53 GMT\r\n"
     "Content-Type: text/plain\r\n"
     "Content-Length: 13\r\n"
     "\r\n"
     "{\"id\": \"42\"}\n"
     ""},
    {"HEAD /items/42 HTTP/1.1\r\n"
     "Host: 127.0.0.1:31401\r\n"
     "User-Agent: hard-client\r\n"
     "\r\n"
     "",
     "HTTP/1.1 200 OK\r\n"
     "Server: BaseHTTP/0.6 Python/3.11.7\r\n"
     "Date: Fri, 04 Dec 2026 16:39:53 GMT\r\n"
     "Content-Type: text/plain\r\n"
     "Content-Length: 13\r\n"
     "\r\n"
     ""},
    {"POST /items/42 HTTP/1.1\r\n"
     "Host: 127.0.0.1:31401\r\n"
     "User-Agent: hard-client\r\n"
     "Content-Length: 15\r\n"
     "\r\n"
     "name=redtap&x=1",
     "HTTP/1.1 201 Created\r\n"
     "Server: BaseHTTP/0.6 Python/3.11.7\r\n"
     "Date: Fri, 04 Dec 2026 16:39:53 GMT\r\n"
     "Content-Type: text/plain\r\n"
     "Content-Length: 11\r\n"
     "\r\n"
     "created 15\n"
     ""},
    {"GET /no/such/thing HTTP/1.1\r\n"
     "Host: 127.0.0.1:31401\r\n"
     "User-Agent: hard-client\r\n"
     "\r\n"
     "",
     "HTTP/1.1 404 Not Found\r\n"
     "Server: BaseHTTP/0.6 Python/3.11.7\r\n"
     "Date: Fri, 04 Dec 2026 16:39:53 GMT\r\n"
     "Content-Type: text/plain\r\n"
     "Content-Length: 10\r\n"
     "\r\n"
     "not found\n"
     ""},
    {"GET /items/42?q=1 HTTP/1.1\r\n"
     "Host: 127.0.0.1:31401\r\n"
     "User-Agent: hard-client\r\n"
     "\r\n"
     "",
     "HTTP/1.1 200 OK\r\n"
     "Server: BaseHTTP/0.6 Python/3.11.7\r\n"
     "Date: Fri, 04 Dec 2026 16:39:53 GMT\r\n"
     "Content-Type: text/plain\r\n"
     "Content-Length: 13\r\n"
     "\r\n"
     "{\"id\": \"42\"}\n"
     ""},
    {"GET /chunked HTTP/1.1\r\n"
     "Host: 127.0.0.1:31401\r\n"
     "User-Agent: hard-client\r\n"
     "\r\n"
     "",
     "HTTP/1.1 200 OK\r\n"
     "Server: BaseHTTP/0.6 Python/3.11.7\r\n"
     "Date: Fri, 04 Dec 2026 16:39:53 GMT\r\n"
     "Transfer-Encoding: chunked\r\n"
     "\r\n"
     "6\r\n"
     "hello \r\n"
     "8\r\n"
     "chunked \r\n"
     "6\r\n"
     "world\n"
     "\r\n"
     "0\r\n"
     "\r\n"
     ""},
};

static const struct http_pair nginx_stream[] = {
    {"GET /api/users/7 HTTP/1.1\r\n"
     "Host: 127.0.0.1:31402\r\n"
     "User-Agent: hard-client\r\n"
     "\r\n"
     "",
     "HTTP/1.1 200 OK\r\n"
     "Server: nginx/1.22.1\r\n"
     "Date: Fri, 04 Dec 2026 16:39:54 GMT\r\n"
     "Content-Type: text/plain\r\n"
     "Content-Length: 3\r\n"
     "Connection: keep-alive\r\n"
     "\r\n"
     "ok\n"
     ""},
    {"HEAD /api/users/7 HTTP/1.1\r\n"
     "Host: 127.0.0.1:31402\r\n"
     "User-Agent: hard-client\r\n"
     "\r\n"
     "",
     "HTTP/1.1 200 OK\r\n"
     "Server: nginx/1.22.1\r\n"
     "Date: Fri, 04 Dec 2026 16:39:54 GMT\r\n"
     "Content-Type: text/plain\r\n"
     "Content-Length: 3\r\n"
     "Connection: keep-alive\r\n"
     "\r\n"
     ""},
    {"POST /api/users/7 HTTP/1.1\r\n"
     "Host: 127.0.0.1:31402\r\n"
     "User-Agent: hard-client\r\n"
     "Content-Length: 15\r\n"
     "\r\n"
     "name=redtap&x=1",
     "HTTP/1.1 200 OK\r\n"
     "Server: nginx/1.22.1\r\n"
     "Date: Fri, 04 Dec 2026 16:39:54 GMT\r\n"
     "Content-Type: text/plain\r\n"
     "Content-Length: 3\r\n"
     "Connection: keep-alive\r\n"
     "\r\n"
     "ok\n"
     ""},
    {"GET /no/such/thing HTTP/1.1\r\n"
     "Host: 127.0.0.1:31402\r\n"
     "User-Agent: hard-client\r\n"
     "\r\n"
     "",
     "HTTP/1.1 404 Not Found\r\n"
     "Server: nginx/1.22.1\r\n"
     "Date: Fri, 04 Dec 2026 16:39:54 GMT\r\n"
     "Content-Type: text/html\r\n"
     "Content-Length: 153\r\n"
     "Connection: keep-alive\r\n"
     "\r\n"
     "<html>\r\n"
     "<head><title>404 Not Found</title></head>\r\n"
     "<body>\r\n"
     "<center><h1>404 Not Found</h1></center>\r\n"
     "<hr><center>nginx/1.22.1</center>\r\n"
     "</body>\r\n"
     "</html>\r\n"
     ""},
    {"GET /api/users/7?q=1 HTTP/1.1\r\n"
     "Host: 127.0.0.1:31402\r\n"
     "User-Agent: hard-client\r\n"
     "\r\n"
     "",
     "HTTP/1.1 200 OK\r\n"
     "Server: nginx/1.22.1\r\n"
     "Date: Fri, 04 Dec 2026 16:39:54 GMT\r\n"
     "Content-Type: text/plain\r\n"
     "Content-Length: 3\r\n"
     "Connection: keep-alive\r\n"
     "\r\n"
     "ok\n"
     ""},
    {"GET /fail HTTP/1.1\r\n"
     "Host: 127.0.0.1:31402\r\n"
     "User-Agent: hard-client\r\n"
     "\r\n"
     "",
     "HTTP/1.1 500 Internal Server Error\r\n"
     "Server: nginx/1.22.1\r\n"
     "Date: Fri, 04 Dec 2026 16:39:54 GMT\r\n"
     "Content-Type: text/html\r\n"
     "Content-Length: 177\r\n"
     "Connection: close\r\n"
     "\r\n"
     "<html>\r\n"
     "<head><title>500 Internal Server Error</title></head>\r\n"
     "<body>\r\n"
     "<center><h1>500 Internal Server Error</h1></center>\r\n"
     "<hr><center>nginx/1.22.1</center>\r\n"
     "</body>\r\n"
     "</html>\r\n"
     ""},
};

#endif /* REDTAP_TEST_HTTP_STREAMS_H */
