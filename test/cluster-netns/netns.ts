/**
 * A small network of "hosts" on this machine, for the cluster tests and bench: each host is a
 * network namespace with its own veth interface and address on one bridge, so every connection
 * between them (workers → PostgreSQL, CLI → PostgreSQL, test → server) crosses a network
 * interface that can be cut. PostgreSQL runs as a separate instance inside its own namespace
 * (initdb + pg_ctl of the installed postgresql package, as user postgres), so it can be restarted.
 *
 *   root namespace: bridge tsb<pid> 10.231.N.1/24 (the test process reaches the hosts through it)
 *   host namespace tsn-<pid>-<name>: eth0 10.231.N.<k>/24, its peer tsv<pid><k> on the bridge
 *
 * Names carry the creating process's pid, so leftovers of a killed run are recognised and removed
 * by the next one. Needs root and a kernel that allows network namespaces: `netnsSupport()` says
 * why not, for the caller to skip with that message.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'tsn-';

function run(cmd: string, args: string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`;
  const code = r.status ?? 1;
  if (code !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${code}): ${out.trim()}`);
  return { code, out };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PostgreSQL server binaries of the installed package (initdb, pg_ctl), newest version first. */
export function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error(`no PostgreSQL server binaries under ${base}/*/bin (install the postgresql package)`);
  return join(base, versions[0], 'bin');
}

/**
 * Whether this process may build namespaces: `{ ok: true }`, or why not when the kernel or the
 * user forbids it (the only reasons to skip). A missing tool is an error, not a reason to skip.
 */
export function netnsSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: `network namespaces need root (uid ${process.getuid?.()})` };
  for (const tool of ['ip', 'unshare', 'runuser']) {
    if (run('sh', ['-c', `command -v ${tool}`], { allowFail: true }).code !== 0) throw new Error(`${tool} is not installed (apt-get install iproute2 util-linux); .ci/run installs it`);
  }
  postgresBin();
  const probe = `${PREFIX}${process.pid}-probe`;
  const r = run('ip', ['netns', 'add', probe], { allowFail: true });
  if (r.code !== 0) return { ok: false, reason: `the kernel refused a network namespace (ip netns add: ${r.out.trim()})` };
  const u = run('ip', ['netns', 'exec', probe, 'unshare', '--uts', 'true'], { allowFail: true });
  run('ip', ['netns', 'del', probe], { allowFail: true });
  if (u.code !== 0) return { ok: false, reason: `the kernel refused a UTS namespace (unshare --uts: ${u.out.trim()})` };
  return { ok: true };
}

/** Removes namespaces and bridges left by runs whose process is gone (a killed test cannot clean up). */
export function removeLeftovers(): void {
  const names = run('ip', ['netns', 'list'], { allowFail: true }).out.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(PREFIX));
  for (const n of names) {
    const pid = Number(n.slice(PREFIX.length).split('-')[0]);
    if (!pidAlive(pid)) {
      killNamespaceProcesses(n);
      run('ip', ['netns', 'del', n], { allowFail: true });
    }
  }
  for (const d of readdirSync(tmpdir())) {
    const m = /^tessera-netns-(\d+)-/.exec(d);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
  const links = run('ip', ['-o', 'link', 'show', 'type', 'bridge'], { allowFail: true }).out;
  for (const m of links.matchAll(/^\d+: (tsb(\d+)):/gm)) if (!pidAlive(Number(m[2]))) run('ip', ['link', 'del', m[1]], { allowFail: true });
}

function killNamespaceProcesses(ns: string): void {
  const pids = run('ip', ['netns', 'pids', ns], { allowFail: true }).out.split('\n').map(Number).filter((p) => p > 0);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}

export interface Host {
  name: string;
  ns: string;
  address: string;
  /** The bridge side of its veth pair: setting it down unplugs the host. */
  port: string;
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  host: Host;
  log: string[];
  exited: Promise<number | null>;
  /** Resolves with the first log line matching `re` from now on (or already logged after `from`). */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
}

/** The network: a bridge, hosts on it, processes in them; `destroy()` removes everything. */
export class Lab {
  readonly id = String(process.pid);
  readonly dir: string;
  readonly subnet: string;
  readonly gateway: string;
  private readonly bridge: string;
  private readonly hosts = new Map<string, Host>();
  private readonly procs: Proc[] = [];
  private pgData?: string;
  private destroyed = false;
  private readonly onExit = () => this.destroySync();
  /** Ctrl-C or a test runner's SIGTERM: clean up, then die of the signal as usual. */
  private readonly onSignal = (sig: NodeJS.Signals) => {
    this.destroySync();
    process.kill(process.pid, sig);
  };

  constructor() {
    removeLeftovers();
    this.dir = mkdtempSync(join(tmpdir(), `tessera-netns-${this.id}-`));
    chmodSync(this.dir, 0o755);
    this.bridge = `tsb${this.id}`;
    const used = run('ip', ['-4', '-o', 'addr'], { allowFail: true }).out;
    const free = Array.from({ length: 254 }, (_, i) => i + 1).filter((n) => !used.includes(`10.231.${n}.`));
    if (!free.length) throw new Error('no free 10.231.N.0/24 subnet for the test network');
    const n = free[Number(this.id) % free.length];
    this.subnet = `10.231.${n}`;
    this.gateway = `${this.subnet}.1`;
    process.once('exit', this.onExit);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
    try {
      run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
      run('ip', ['addr', 'add', `${this.gateway}/24`, 'dev', this.bridge]);
      run('ip', ['link', 'set', this.bridge, 'up']);
    } catch (e) {
      this.destroySync();
      throw e;
    }
  }

  /** A new host (namespace) with address 10.231.N.<k>. */
  addHost(name: string, k: number): Host {
    const ns = `${PREFIX}${this.id}-${name}`;
    const port = `tsv${this.id}${k}`.slice(0, 15);
    const peer = `tsp${this.id}${k}`.slice(0, 15);
    const address = `${this.subnet}.${k}`;
    run('ip', ['netns', 'add', ns]);
    const host: Host = { name, ns, address, port };
    this.hosts.set(name, host);
    run('ip', ['link', 'add', port, 'type', 'veth', 'peer', 'name', peer]);
    run('ip', ['link', 'set', peer, 'netns', ns]);
    run('ip', ['link', 'set', port, 'master', this.bridge, 'up']);
    run('ip', ['-n', ns, 'link', 'set', peer, 'name', 'eth0']);
    run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return host;
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** Unplugs a host's cable at the switch: packets to and from it are dropped, its sockets stay open. */
  cut(name: string): void {
    run('ip', ['link', 'set', this.host(name).port, 'down']);
  }

  reconnect(name: string): void {
    run('ip', ['link', 'set', this.host(name).port, 'up']);
  }

  /**
   * Starts a process in host `name` with the host's own hostname (a UTS namespace): Tessera's
   * owner strings (host:pid) then name the host as on separate machines.
   */
  spawn(name: string, argv: string[], env: Record<string, string | undefined>, opts: { cwd?: string; onLine?: (l: string) => void } = {}): Proc {
    const host = this.host(name);
    // ip netns exec, unshare and sh all exec: the child's pid is the program's own pid.
    const child = spawn('ip', ['netns', 'exec', host.ns, 'unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', name, ...argv], {
      cwd: opts.cwd,
      // An undefined value removes the variable (e.g. a schema the test runner's environment names).
      env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter((e): e is [string, string] => e[1] !== undefined)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: string[] = [];
    const waiters = new Set<{ re: RegExp; res: (m: RegExpMatchArray) => void }>();
    let buf = { out: '', err: '' };
    const take = (k: 'out' | 'err') => (d: Buffer) => {
      buf[k] += d.toString();
      let i;
      while ((i = buf[k].indexOf('\n')) >= 0) {
        const line = buf[k].slice(0, i);
        buf[k] = buf[k].slice(i + 1);
        log.push(line);
        appendFileSync(join(this.dir, `${name}.log`), line + '\n');
        opts.onLine?.(line);
        for (const w of waiters) {
          const m = line.match(w.re);
          if (m) {
            waiters.delete(w);
            w.res(m);
          }
        }
      }
    };
    child.stdout!.on('data', take('out'));
    child.stderr!.on('data', take('err'));
    const exited = new Promise<number | null>((res) => child.once('exit', (code, signal) => res(code ?? (signal ? 128 : null))));
    const proc: Proc = {
      child,
      pid: child.pid!,
      host,
      log,
      exited,
      waitFor: (re, timeoutMs = 60_000, from = log.length) =>
        new Promise((res, rej) => {
          for (const line of log.slice(from)) {
            const m = line.match(re);
            if (m) return res(m);
          }
          const w = { re, res: (m: RegExpMatchArray) => (clearTimeout(timer), res(m)) };
          const timer = setTimeout(() => {
            waiters.delete(w);
            rej(new Error(`${name} (pid ${child.pid}): no line matching ${re} within ${timeoutMs} ms; its log:\n${log.slice(-30).join('\n')}`));
          }, timeoutMs);
          waiters.add(w);
          void exited.then((code) => {
            if (waiters.has(w)) {
              waiters.delete(w);
              clearTimeout(timer);
              rej(new Error(`${name} exited (${code}) before a line matching ${re}; its log:\n${log.slice(-30).join('\n')}`));
            }
          });
        }),
    };
    this.procs.push(proc);
    return proc;
  }

  // ---- PostgreSQL in its own host ----

  private pg(args: string[], timeoutMs = 120_000) {
    const host = this.host('db');
    return run('ip', ['netns', 'exec', host.ns, 'runuser', '-u', 'postgres', '--', join(postgresBin(), 'pg_ctl'), '-D', this.pgData!, ...args], { timeoutMs });
  }

  /**
   * A fresh PostgreSQL cluster in host `db`, listening on its address only (trust auth from the
   * subnet), database `tessera`. Returns the connection URL. fsync is off: durability is not what
   * these tests measure, and the machine's disk is shared.
   */
  startPostgres(): string {
    const host = this.host('db');
    this.pgData = join(this.dir, 'pgdata');
    mkdirSync(this.pgData, { mode: 0o700 });
    run('chown', ['postgres:postgres', this.pgData]);
    run('runuser', ['-u', 'postgres', '--', join(postgresBin(), 'initdb'), '-D', this.pgData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], { timeoutMs: 180_000 });
    appendFileSync(join(this.pgData, 'pg_hba.conf'), `host all all ${this.subnet}.0/24 trust\n`);
    // The unix socket goes into the data directory: /var/run/postgresql is the machine's own server's.
    const opts = [`-c listen_addresses=${host.address}`, '-c port=5432', `-c unix_socket_directories=${this.pgData}`, '-c fsync=off', '-c full_page_writes=off', '-c max_connections=200', '-c shared_buffers=32MB'].join(' ');
    this.pg(['-l', join(this.pgData, 'server.log'), '-o', opts, '-w', '-t', '120', 'start']);
    run('ip', ['netns', 'exec', host.ns, 'runuser', '-u', 'postgres', '--', join(postgresBin(), 'createdb'), '-h', this.pgData, '-U', 'postgres', 'tessera']);
    return `postgres://postgres@${host.address}:5432/tessera`;
  }

  /** `pg_ctl restart -m fast`: every connection is closed, the server is back when this returns. */
  restartPostgres(): void {
    // -l again: without it the new postmaster writes to pg_ctl's stdout, and keeps that pipe open.
    this.pg(['-l', join(this.pgData!, 'server.log'), '-m', 'fast', '-w', '-t', '120', 'restart']);
  }

  // ---- teardown ----

  async destroy(): Promise<void> {
    for (const p of this.procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(this.procs.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(r, 5000))])));
    this.destroySync();
  }

  /** Synchronous, for process exit: processes, PostgreSQL, namespaces, the bridge, the files. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    for (const p of this.procs) {
      try {
        process.kill(p.pid, 'SIGCONT');
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    if (this.pgData && existsSync(join(this.pgData, 'postmaster.pid'))) {
      try {
        this.pg(['-m', 'immediate', '-w', '-t', '30', 'stop']);
      } catch {
        /* killed with its namespace below */
      }
    }
    for (const h of this.hosts.values()) {
      killNamespaceProcesses(h.ns);
      run('ip', ['netns', 'del', h.ns], { allowFail: true });
    }
    run('ip', ['link', 'del', this.bridge], { allowFail: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
