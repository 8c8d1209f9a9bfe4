// Offline: `tessera start` (what `npm start` runs — import the demo, pretrain, probe, a round of
// the loop with simulated annotators, then serve the API and UI) attempts no connection to any
// other machine. The CLI runs in a child process under test/helpers/deny-network.mjs (through
// NODE_OPTIONS, so worker threads and child processes load it too), which records and refuses
// every non-loopback attempt: net/tls sockets, DNS, http(s), fetch, UDP. Shrunk to one round and
// one pretraining epoch (`--rounds 1 --batch 20 --epochs 1`): the same code paths, ~1.5 min here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/datasets.ts';
import { BIN } from '../helpers/cli.ts';

const PRELOAD = join(REPO_ROOT, 'test', 'helpers', 'deny-network.mjs');
const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

test('the network guard itself: it records and refuses fetch, sockets, DNS, http, UDP to other hosts, and lets loopback through', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-offline-'));
  try {
    const script = join(dir, 'attempts.mjs');
    writeFileSync(
      script,
      `import net from 'node:net'; import dns from 'node:dns'; import http from 'node:http'; import https from 'node:https'; import tls from 'node:tls'; import dgram from 'node:dgram';
const out = {};
const settle = (k, f) => new Promise((res, rej) => { try { const p = f(res, rej); if (p && typeof p.then === 'function') p.then(res, rej); } catch (e) { rej(e); } }).then(() => (out[k] = 'ok'), (e) => (out[k] = e.code ?? e.message));
await settle('fetch', () => fetch('https://example.com/'));
await settle('net', (res, rej) => { const s = net.connect(443, '93.184.216.34'); s.on('connect', res); s.on('error', rej); });
await settle('tls', (res, rej) => { const s = tls.connect(443, 'example.com'); s.on('secureConnect', res); s.on('error', rej); });
await settle('dns', () => dns.promises.lookup('registry.npmjs.org'));
await settle('http', (res, rej) => { http.get('http://example.com/', res).on('error', rej); });
await settle('https', (res, rej) => { https.request({ host: 'example.com', port: 443 }, res).on('error', rej).end(); });
await settle('udp', (res, rej) => { const u = dgram.createSocket('udp4'); u.send(Buffer.from('x'), 53, '1.1.1.1', (e) => { u.close(); e ? rej(e) : res(); }); });
const srv = http.createServer((q, r) => r.end('here')); await new Promise((r) => srv.listen(0, '127.0.0.1', r));
await settle('loopback', () => fetch('http://127.0.0.1:' + srv.address().port + '/').then((r) => r.text()));
await settle('localhost', (res, rej) => { const s = net.connect(srv.address().port, 'localhost'); s.on('connect', () => { s.destroy(); res(); }); s.on('error', rej); });
srv.close();
console.log(JSON.stringify(out));
`,
    );
    const log = join(dir, 'net.log');
    const r = spawnSync(process.execPath, ['--import', PRELOAD, script], { env: { ...process.env, DENY_NETWORK_LOG: log }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    for (const k of ['fetch', 'net', 'tls', 'dns', 'http', 'https', 'udp']) assert.equal(out[k], 'EDENIED', `${k}: ${out[k]}`);
    assert.equal(out.loopback, 'ok');
    assert.equal(out.localhost, 'ok');
    const attempts = read(log).trim().split('\n').map((l) => JSON.parse(l).api);
    assert.equal(attempts.length, 7, attempts.join(', '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`tessera start` (import, pretrain, probe, loop, serve) makes no outbound connection', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-offline-'));
  const log = join(dir, 'net.log');
  const mark = join(dir, 'loaded.log');
  const child = spawn(process.execPath, [BIN, 'start', '--rounds', '1', '--batch', '20', '--epochs', '1', '--port', '0', '--host', '127.0.0.1'], {
    env: {
      ...process.env,
      TESSERA_HOME: join(dir, 'home'),
      TESSERA_DATABASE_URL: '',
      TESSERA_LOG_LEVEL: 'warn',
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${PRELOAD}`.trim(),
      DENY_NETWORK_LOG: log,
      DENY_NETWORK_MARK: mark,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (c) => {
        stderr += c;
        const m = /serving .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`tessera start exited (${code}) before serving:\n${stderr.slice(-3000)}`)));
    });
    // The report was printed, and the server answers (the UI page and the API) from loopback.
    assert.match(stdout + stderr, /label economics after 1 round/);
    // The demo moves its classifier to EM's class prior by default: 5,574 messages − 1,000 test − 20 labelled.
    // EM runs on every unlabelled item; at 20 labels its estimate may collapse and be kept out (src/train/prior-shift.ts collapsedClasses).
    assert.match(stdout + stderr, /prior (moved to EM's on|kept: EM on) 4554 unlabelled items/);
    assert.equal((await fetch(`${url}/api/me`)).status, 401);
    const page = await fetch(`${url}/`);
    assert.ok(page.status === 200 || page.status === 503, `GET / → ${page.status}`);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr.slice(-3000));
    assert.ok(read(mark).trim().length > 0, 'the network guard was loaded in the child');
    assert.equal(read(log), '', `outbound attempts:\n${read(log)}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
