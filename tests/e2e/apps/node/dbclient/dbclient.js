// tests/e2e/apps/node/dbclient/dbclient.js - Node database clients that know
// nothing about redtap, for tests/e2e/test_wire_clients.sh: `pg` and `ioredis`
// from npm (package.json and package-lock.json beside this file; the test runs
// `npm ci` into a cache directory and points NODE_PATH at it).
//   node dbclient.js pg PGPORT N      N parameterised SELECTs (unnamed
//                                     statement), N runs of a named prepared
//                                     statement, a failing query (42883), a
//                                     transaction (BEGIN, UPDATE, COMMIT)
//   node dbclient.js redis RDPORT N   N SETs and N GETs, a pipeline of N GETs,
//                                     a WRONGTYPE error
// Prints what it did as name=count lines; exits non-zero on a surprise. Waits a
// second first, so that the agent names it from OTEL_SERVICE_NAME while it lives.
'use strict';

function die(msg) {
	console.error('dbclient.js: ' + msg);
	process.exit(1);
}

async function pg(port, n) {
	const { Client } = require('pg');
	const c = new Client({ host: '127.0.0.1', port, database: 'redtap', user: 'postgres' });
	await c.connect();
	for (let i = 0; i < n; i++)
		await c.query('SELECT item FROM orders WHERE id = $1', [(i % 100) + 1]);
	for (let i = 0; i < n; i++)
		await c.query({ name: 'byid', text: 'SELECT id FROM orders WHERE id = $1', values: [i + 1] });
	try {
		await c.query('SELECT no_such_function(1)');
		die('pg: the failing query did not fail');
	} catch (e) {
		if (e.code !== '42883')
			die('pg: want 42883, got ' + e.code);
	}
	await c.query('BEGIN');
	await c.query('UPDATE orders SET item = $1 WHERE id = $2', ['node', 4]);
	await c.query('COMMIT');
	await c.end();
	console.log(`select=${2 * n}\nfailed=1\nbegin=1\nupdate=1\ncommit=1`);
}

async function redis(port, n) {
	const Redis = require('ioredis');
	const r = new Redis({ host: '127.0.0.1', port, enableReadyCheck: false, lazyConnect: true });
	await r.connect();
	for (let i = 0; i < n; i++) {
		await r.set('node:' + i, i);
		if (Number(await r.get('node:' + i)) !== i)
			die('ioredis: bad GET');
	}
	const p = r.pipeline();
	for (let i = 0; i < n; i++)
		p.get('node:' + i);
	const res = await p.exec();
	res.forEach(([err, v], i) => {
		if (err || Number(v) !== i)
			die('ioredis: bad pipeline reply ' + i);
	});
	try {
		await r.lpush('node:0', 'x');
		die('ioredis: LPUSH on a string did not fail');
	} catch (e) {
		if (!String(e.message).startsWith('WRONGTYPE'))
			die('ioredis: want WRONGTYPE, got ' + e.message);
	}
	await r.quit();
	console.log(`set=${n}\nget=${2 * n}\nwrongtype=1`);
}

const [what, port, count] = process.argv.slice(2);
const run = { pg, redis }[what];
if (!run)
	die('usage: dbclient.js pg|redis PORT N');
new Promise((resolve) => setTimeout(resolve, 1000))
	.then(() => run(Number(port), Number(count)))
	.catch((e) => die(e.stack || String(e)));
