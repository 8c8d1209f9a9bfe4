// Preload (`node --import ./test/helpers/deny-network.mjs …`, or through NODE_OPTIONS so worker
// threads and child processes get it too): records every attempt to reach a host that is not
// this machine, and makes the attempt fail. Loopback (127.0.0.0/8, ::1, localhost) and Unix
// sockets are allowed: PostgreSQL on 127.0.0.1 and the server's own port are local.
//
// Wrapped: net.Socket.prototype.connect (under net.connect / net.createConnection / tls.connect /
// http(s) agents / pg / undici), tls.connect, dns.lookup / dns.resolve* (and their promise forms),
// http(s).request / get, globalThis.fetch, dgram sockets (send / connect), http2.connect.
// Each attempt is appended as one JSON line to $DENY_NETWORK_LOG (else written to stderr).
import { appendFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { syncBuiltinESMExports, createRequire } from 'node:module';
import { threadId } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const net = require('node:net');
const tls = require('node:tls');
const dns = require('node:dns');
const http = require('node:http');
const https = require('node:https');
const http2 = require('node:http2');
const dgram = require('node:dgram');

const LOG = process.env.DENY_NETWORK_LOG;
// Proof that the preload ran in this process / thread.
if (process.env.DENY_NETWORK_MARK) appendFileSync(process.env.DENY_NETWORK_MARK, `${process.pid}:${threadId}\n`);

export function isLocalHost(host) {
  if (host === undefined || host === null || host === '') return true; // Node's default: localhost
  let h = String(host).trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h.startsWith('::ffff:')) h = h.slice(7);
  if (isIP(h) === 4) return h.startsWith('127.') || h === '0.0.0.0';
  if (isIP(h) === 6) return h === '::1' || h === '::';
  return false;
}

function record(api, target) {
  const line = JSON.stringify({ api, target: String(target), pid: process.pid, thread: threadId, stack: new Error().stack?.split('\n').slice(2, 8).map((s) => s.trim()) });
  if (LOG) appendFileSync(LOG, line + '\n');
  else process.stderr.write(`deny-network: ${line}\n`);
}

function denied(api, target) {
  record(api, target);
  const e = new Error(`deny-network: outbound connection to ${target} refused (${api})`);
  e.code = 'EDENIED';
  return e;
}

// ---- net / tls ----
const socketConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let opts = args[0];
  if (Array.isArray(opts)) opts = opts[0]; // internal normalized form
  let host;
  let port;
  let path;
  if (opts && typeof opts === 'object') {
    ({ host, port, path } = opts);
  } else if (typeof opts === 'string' && !/^\d+$/.test(opts)) {
    path = opts; // a Unix socket / named pipe
  } else {
    port = opts;
    host = typeof args[1] === 'string' ? args[1] : undefined;
  }
  if (path === undefined && !isLocalHost(host)) {
    const err = denied('net.Socket.connect', `${host}:${port}`);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return socketConnect.apply(this, args);
};

const tlsConnect = tls.connect;
tls.connect = function (...args) {
  const o = args.find((a) => a && typeof a === 'object') ?? {};
  const host = typeof args[1] === 'string' ? args[1] : o.host ?? o.servername;
  if (o.socket === undefined && o.path === undefined && !isLocalHost(host)) throw denied('tls.connect', `${host}:${typeof args[0] === 'number' ? args[0] : o.port}`);
  return tlsConnect.apply(this, args);
};

// ---- dns ----
const wrapDns = (obj, name, label) => {
  const orig = obj[name];
  if (typeof orig !== 'function') return;
  obj[name] = function (hostname, ...rest) {
    if (!isLocalHost(hostname)) {
      const err = denied(label, hostname);
      const cb = rest.findLast?.((a) => typeof a === 'function');
      if (cb) {
        process.nextTick(() => cb(err));
        return undefined;
      }
      if (obj === dns.promises || label.startsWith('dns.promises')) return Promise.reject(err);
      throw err;
    }
    return orig.call(this, hostname, ...rest);
  };
};
for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCname', 'resolveMx', 'resolveNs', 'resolveSrv', 'resolveTxt']) {
  wrapDns(dns, name, `dns.${name}`);
  wrapDns(dns.promises, name, `dns.promises.${name}`);
}

// ---- http / https / http2 ----
function targetOf(args) {
  const a = args[0];
  if (typeof a === 'string') return new URL(a).hostname;
  if (a instanceof URL) return a.hostname;
  if (a && typeof a === 'object') return a.hostname ?? a.host?.replace(/:\d+$/, '');
  return undefined;
}
for (const [mod, label] of [
  [http, 'http'],
  [https, 'https'],
]) {
  for (const name of ['request', 'get']) {
    const orig = mod[name];
    mod[name] = function (...args) {
      const host = targetOf(args);
      if (!isLocalHost(host)) throw denied(`${label}.${name}`, host);
      return orig.apply(this, args);
    };
  }
}
const h2connect = http2.connect;
http2.connect = function (authority, ...rest) {
  const host = typeof authority === 'string' ? new URL(authority).hostname : authority?.hostname;
  if (!isLocalHost(host)) throw denied('http2.connect', host);
  return h2connect.call(this, authority, ...rest);
};

// ---- fetch ----
if (typeof globalThis.fetch === 'function') {
  const f = globalThis.fetch;
  globalThis.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input?.url;
    let host;
    try {
      host = new URL(url).hostname;
    } catch {
      host = undefined;
    }
    if (!isLocalHost(host)) return Promise.reject(denied('fetch', url));
    return f.call(this, input, init);
  };
}

// ---- dgram (UDP) ----
const dsend = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (...args) {
  // send(msg, [offset, length,] port, address, cb)
  const addr = args.find((a, i) => i > 0 && typeof a === 'string');
  if (addr !== undefined && !isLocalHost(addr)) {
    const err = denied('dgram.send', addr);
    const cb = args.find((a) => typeof a === 'function');
    if (cb) process.nextTick(() => cb(err));
    return;
  }
  return dsend.apply(this, args);
};
const dconnect = dgram.Socket.prototype.connect;
dgram.Socket.prototype.connect = function (port, address, cb) {
  if (typeof address === 'string' && !isLocalHost(address)) {
    const err = denied('dgram.connect', `${address}:${port}`);
    if (typeof cb === 'function') process.nextTick(() => cb(err));
    return;
  }
  return dconnect.apply(this, [port, address, cb]);
};

syncBuiltinESMExports();
