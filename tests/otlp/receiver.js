#!/usr/bin/env node
// tests/otlp/receiver.js - an OTLP/HTTP test receiver for redtap's exporter.
//
// It decodes with an INDEPENDENT decoder: the protobufjs code that
// @opentelemetry/otlp-transformer generates from the official
// opentelemetry-proto definitions (not redtap's own .proto files).
//
//   node receiver.js --port PORT --out FILE [--portfile FILE] [--host 127.0.0.1]
//
// Listens on 127.0.0.1:PORT (0 picks a free port, written to --portfile).
// Every request to /v1/traces, /v1/metrics or /v1/logs (gzip bodies too) becomes one
// JSON line in FILE:
//   {"seq", "ts_ms", "path", "headers", "encoding", "bytes", "status",
//    "error"?, "request"?}
// where "request" is the decoded ExportTraceServiceRequest or
// ExportMetricsServiceRequest (64-bit numbers as strings, enums as names,
// trace and span ids as lowercase hex, other bytes base64).
//
// Control (JSON body, POST /control), applied to the next OTLP requests:
//   {"status": 503, "retry_after": "1", "count": 3}   answer 503 + Retry-After 3 times
//   {"status": 200, "rejected": 2, "message": "m", "count": 1}  partial_success
//   {"delay_ms": 2000, "count": 1}                   answer late
//   {"down_ms": 3000}   stop listening (connections refused) for 3 s, then listen again
//   {"reset": true}     forget the queued answers
// GET /stats answers {"requests", "traces", "metrics", "logs", "spans", "points", "records"}.
'use strict';

const fs = require('fs');
const http = require('http');
const zlib = require('zlib');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');

const pb = root.opentelemetry.proto;
const SIGNALS = {
	'/v1/traces': {
		name: 'traces',
		req: pb.collector.trace.v1.ExportTraceServiceRequest,
		resp: pb.collector.trace.v1.ExportTraceServiceResponse,
		partial: (n, m) => ({ partialSuccess: { rejectedSpans: n, errorMessage: m } }),
	},
	'/v1/metrics': {
		name: 'metrics',
		req: pb.collector.metrics.v1.ExportMetricsServiceRequest,
		resp: pb.collector.metrics.v1.ExportMetricsServiceResponse,
		partial: (n, m) => ({ partialSuccess: { rejectedDataPoints: n, errorMessage: m } }),
	},
	'/v1/logs': {
		name: 'logs',
		req: pb.collector.logs.v1.ExportLogsServiceRequest,
		resp: pb.collector.logs.v1.ExportLogsServiceResponse,
		partial: (n, m) => ({ partialSuccess: { rejectedLogRecords: n, errorMessage: m } }),
	},
};
const HEX_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);
const MAX_BODY = 64 * 1024 * 1024;

function parseArgs(argv) {
	const a = { port: 4318, host: '127.0.0.1', out: null, portfile: null };
	for (let i = 2; i < argv.length; i++) {
		const k = argv[i], v = argv[i + 1];
		if (k === '--port') a.port = Number(v), i++;
		else if (k === '--host') a.host = v, i++;
		else if (k === '--out') a.out = v, i++;
		else if (k === '--portfile') a.portfile = v, i++;
		else throw new Error(`unknown argument ${k}`);
	}
	if (!a.out) throw new Error('--out FILE is required');
	if (a.host !== '127.0.0.1' && a.host !== 'localhost' && a.host !== '::1')
		throw new Error('the test receiver listens on loopback only');
	return a;
}

// Trace and span ids as hex, in place; everything else as toObject made it.
function hexIds(o) {
	if (Array.isArray(o)) {
		o.forEach(hexIds);
	} else if (o && typeof o === 'object') {
		for (const [k, v] of Object.entries(o)) {
			if (HEX_KEYS.has(k) && typeof v === 'string')
				o[k] = Buffer.from(v, 'base64').toString('hex');
			else
				hexIds(v);
		}
	}
	return o;
}

function countItems(name, req) {
	let n = 0;
	if (name === 'traces') {
		for (const rs of req.resourceSpans || [])
			for (const ss of rs.scopeSpans || []) n += (ss.spans || []).length;
	} else if (name === 'logs') {
		for (const rl of req.resourceLogs || [])
			for (const sl of rl.scopeLogs || []) n += (sl.logRecords || []).length;
	} else {
		for (const rm of req.resourceMetrics || [])
			for (const sm of rm.scopeMetrics || [])
				for (const m of sm.metrics || []) {
					const d = m.histogram || m.sum || m.gauge || {};
					n += (d.dataPoints || []).length;
				}
	}
	return n;
}

const args = parseArgs(process.argv);
const script = []; // queued answers: {status, retry_after, rejected, message, delay_ms, count}
const stats = { requests: 0, traces: 0, metrics: 0, logs: 0, spans: 0, points: 0, records: 0 };
let seq = 0;
let server = null;
let port = args.port;

function record(line) {
	fs.appendFileSync(args.out, JSON.stringify(line) + '\n');
}

function nextAnswer() {
	if (!script.length) return { status: 200 };
	const a = script[0];
	if (--a.count <= 0) script.shift();
	return a;
}

function handleOtlp(req, res, body, sig) {
	const line = {
		seq: ++seq,
		ts_ms: Date.now(),
		path: req.url,
		headers: req.headers,
		encoding: req.headers['content-encoding'] || 'identity',
		bytes: body.length,
	};
	const answer = nextAnswer();
	let status = answer.status || 200;
	try {
		if ((req.headers['content-type'] || '') !== 'application/x-protobuf')
			throw new Error(`content-type ${req.headers['content-type']}`);
		const raw = line.encoding === 'gzip' ? zlib.gunzipSync(body) : body;
		const msg = sig.req.decode(raw);
		const err = sig.req.verify(msg);
		if (err) throw new Error(`verify: ${err}`);
		line.request = hexIds(sig.req.toObject(msg, {
			longs: String, enums: String, bytes: String, defaults: false, oneofs: false,
		}));
		stats.requests++;
		stats[sig.name]++;
		if (status === 200)
			stats[{ traces: 'spans', metrics: 'points', logs: 'records' }[sig.name]] +=
			    countItems(sig.name, line.request);
	} catch (e) {
		line.error = String(e.message || e);
		status = 400;
	}
	line.status = status;
	record(line);
	const send = () => {
		if (status === 200) {
			const payload = answer.rejected || answer.message
				? sig.partial(answer.rejected || 0, answer.message || '') : {};
			const out = sig.resp.encode(sig.resp.create(payload)).finish();
			res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
			res.end(Buffer.from(out));
		} else {
			const h = { 'Content-Type': 'text/plain' };
			if (answer.retry_after !== undefined) h['Retry-After'] = String(answer.retry_after);
			res.writeHead(status, h);
			res.end(line.error ? `bad request: ${line.error}` : `simulated ${status}`);
		}
	};
	if (answer.delay_ms) setTimeout(send, answer.delay_ms);
	else send();
}

function goDown(ms) {
	server.close();
	server.closeAllConnections();
	setTimeout(listen, ms);
}

function handleControl(req, res, body) {
	let c;
	try {
		c = JSON.parse(body.toString() || '{}');
	} catch (e) {
		res.writeHead(400);
		res.end('bad json');
		return;
	}
	if (c.reset) script.length = 0;
	if (c.status || c.delay_ms || c.rejected || c.message)
		script.push({ count: 1, ...c });
	res.writeHead(200, { 'Content-Type': 'application/json', Connection: 'close' });
	res.end(JSON.stringify({ queued: script.length }), () => {
		if (c.down_ms) goDown(Number(c.down_ms));
	});
}

function onRequest(req, res) {
	const chunks = [];
	let size = 0;
	req.on('data', (d) => {
		size += d.length;
		if (size > MAX_BODY) req.destroy();
		else chunks.push(d);
	});
	req.on('end', () => {
		const body = Buffer.concat(chunks);
		const sig = SIGNALS[req.url];
		if (req.method === 'POST' && sig) return handleOtlp(req, res, body, sig);
		if (req.method === 'POST' && req.url === '/control') return handleControl(req, res, body);
		if (req.method === 'GET' && req.url === '/stats') {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			return res.end(JSON.stringify(stats));
		}
		record({ seq: ++seq, ts_ms: Date.now(), path: req.url, status: 404 });
		res.writeHead(404);
		res.end('not found');
	});
}

function listen() {
	server = http.createServer(onRequest);
	server.keepAliveTimeout = 30000;
	server.listen(port, args.host, () => {
		port = server.address().port;
		if (args.portfile) fs.writeFileSync(args.portfile, `${port}\n`);
	});
}

fs.writeFileSync(args.out, '');
listen();
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
