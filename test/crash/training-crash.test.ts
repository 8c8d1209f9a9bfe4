/**
 * Crash safety of training (issue #8): `tessera pretrain` killed with SIGKILL after its first
 * epoch checkpoint resumes from that checkpoint under `tessera jobs run` — the epoch count goes on
 * from where it stopped (never back to 1) — and completes, registering its model. Plus the
 * swap window of a checkpoint: a process killed between the two renames that put a new
 * checkpoint in place must not lose it (src/jobs/ml-handlers.ts resumableCheckpoint).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataset } from '../helpers/datasets.ts';
import { tessera, tesseraAsync } from '../helpers/cli.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';
import { resumableCheckpoint } from '../../src/jobs/ml-handlers.ts';

const EPOCHS = 6;
const CONFIG = { encoder: { vocabSize: 400, dim: 32, maxLen: 24, cnn: { kernel: 3, dilations: [1, 2] } } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a killed pretraining job resumes from its last checkpoint (sqlite)', () => {
  let t: TestStore;
  let work: string;
  before(async () => {
    t = await freshStore('sqlite');
    work = mkdtempSync(join(tmpdir(), 'tessera-crash-train-'));
    // 600 messages of SMS Spam: an epoch of the small text encoder takes a few hundred ms.
    const lines = readFileSync(dataset('text', 'sms-spam', 'SMSSpamCollection'), 'utf8').split('\n').slice(0, 600);
    writeFileSync(join(work, 'SMSSpamCollection'), lines.join('\n') + '\n');
    const r = tessera(['import', join(work, 'SMSSpamCollection'), '--project', 'sms', '--format', 'sms', '--json'], t.env);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await t.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  test(`kill -9 after the first epoch checkpoint; \`tessera jobs run\` continues from that epoch to ${EPOCHS} and registers the model`, { timeout: 10 * 60_000 }, async () => {
    const models = join(t.env.TESSERA_HOME, 'models', 'sms');
    const stateFile = () => {
      if (!existsSync(models)) return undefined;
      for (const d of readdirSync(models)) {
        const f = join(models, d, 'checkpoint', 'train', 'state.json');
        if (existsSync(f)) return f;
      }
      return undefined;
    };
    const child = tesseraAsync(['pretrain', '--project', 'sms', '--pretext', 'mlm', '--epochs', String(EPOCHS), '--batch', '32', '--seed', '3', '--config', JSON.stringify(CONFIG), '--json'], t.env);
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    let ended = false;
    void exited.then(() => (ended = true));
    // Poll for the first checkpoint, then kill at once.
    const deadline = Date.now() + 5 * 60_000;
    let file: string | undefined;
    while (!(file = stateFile())) {
      assert.ok(!ended, `pretrain ended before its first checkpoint: ${stderr}`);
      assert.ok(Date.now() < deadline, 'no checkpoint within 5 minutes');
      await sleep(10);
    }
    child.kill('SIGKILL');
    const how = await exited;
    assert.equal(how.signal, 'SIGKILL', `pretrain finished before it could be killed: ${stderr}`);
    const killedAt = JSON.parse(readFileSync(file, 'utf8')) as { epoch: number; losses: number[]; epochs: number };
    const killedIno = statSync(file).ino;
    assert.ok(killedAt.epoch >= 1 && killedAt.epoch < EPOCHS, `killed after epoch ${killedAt.epoch} of ${EPOCHS}`);
    assert.equal(killedAt.losses.length, killedAt.epoch);

    const before = tessera(['jobs', 'list', '--json'], t.env).json as Array<{ id: number; type: string; status: string }>;
    const job = before.find((j) => j.type === 'pretrain')!;
    assert.equal(job.status, 'running', 'the killed job is still marked running (its owner is dead)');

    // Re-run it and watch the checkpoint: every checkpoint it writes (a new file each time) must
    // be past the killed epoch — a run starting over would first write epoch 1 again.
    const seen: number[] = [];
    const inodes = new Set<number>([killedIno]);
    const run = tesseraAsync(['jobs', 'run', '--json'], t.env);
    let out = '';
    let runErr = '';
    run.stdout.on('data', (c) => (out += c));
    run.stderr.on('data', (c) => (runErr += c));
    const runExit = new Promise<number | null>((r) => run.on('exit', (code) => r(code)));
    let done = false;
    void runExit.then(() => (done = true));
    while (!done) {
      try {
        const ino = statSync(file).ino;
        if (!inodes.has(ino)) {
          inodes.add(ino);
          seen.push((JSON.parse(readFileSync(file, 'utf8')) as { epoch: number }).epoch);
        }
      } catch {
        // between the renames of a checkpoint swap
      }
      await sleep(5);
    }
    assert.equal(await runExit, 0, runErr);
    const report = JSON.parse(out) as { recovered: number[]; ran: Array<{ id: number; type: string; status: string; attempts: number; result: { epochs: number; model: number }; message: string }> };
    assert.deepEqual(report.recovered, [job.id]);
    const ran = report.ran.find((j) => j.id === job.id)!;
    assert.deepEqual([ran.status, ran.attempts, ran.result.epochs], ['succeeded', 2, EPOCHS], runErr);
    assert.match(ran.message, new RegExp(`^epoch ${EPOCHS}/${EPOCHS} `));
    assert.ok(seen.length > 0, 'the re-run wrote no checkpoint');
    assert.ok(seen.every((e, i) => e > killedAt.epoch && (i === 0 || e > seen[i - 1])), `checkpoints written by the re-run: epochs ${seen.join(', ')} (killed after ${killedAt.epoch}): it must never start over`);
    const final = JSON.parse(readFileSync(file, 'utf8')) as { epoch: number; losses: number[] };
    assert.equal(final.epoch, EPOCHS);
    assert.deepEqual(final.losses.slice(0, killedAt.epoch), killedAt.losses, 'the epochs before the kill are carried over, not recomputed');

    const list = tessera(['models', 'list', '--project', 'sms', '--json'], t.env);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.json.filter((m: { kind: string }) => m.kind === 'encoder').length, 1, 'one model, registered once');
    const model = tessera(['models', 'show', String(ran.result.model), '--project', 'sms', '--json'], t.env).json;
    assert.equal(model.metrics.losses.length, EPOCHS);
    console.log(`training crash: killed after epoch ${killedAt.epoch}/${EPOCHS}; the re-run wrote checkpoints of epochs ${seen.join(', ')}`);
  });
});

describe('a checkpoint swap interrupted by a crash is finished, not lost', () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-crash-ckpt-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const ckpt = (dir: string, name: string, epoch: number | null) => {
    mkdirSync(join(dir, name, 'train'), { recursive: true });
    writeFileSync(join(dir, name, 'weights.bin'), 'w');
    if (epoch !== null) writeFileSync(join(dir, name, 'train', 'state.json'), JSON.stringify({ epoch }));
  };
  const epochOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'checkpoint', 'train', 'state.json'), 'utf8')).epoch;
  let n = 0;
  const job = () => {
    const d = join(root, `job-${++n}`);
    mkdirSync(d);
    return d;
  };

  test('no checkpoint yet: start from epoch 1', () => {
    const d = job();
    assert.equal(resumableCheckpoint(d), undefined);
    ckpt(d, 'checkpoint.next', null); // the first one, killed half-written
    assert.equal(resumableCheckpoint(d), undefined);
  });
  test('a checkpoint in place is used as it is (a half-written .next beside it is ignored)', () => {
    const d = job();
    ckpt(d, 'checkpoint', 3);
    ckpt(d, 'checkpoint.next', null);
    assert.equal(resumableCheckpoint(d), join(d, 'checkpoint'));
    assert.equal(epochOf(d), 3);
  });
  test('killed between `checkpoint` → `.prev` and `.next` → `checkpoint`: the complete .next is put in place', () => {
    const d = job();
    ckpt(d, 'checkpoint.prev', 3);
    ckpt(d, 'checkpoint.next', 4);
    assert.equal(resumableCheckpoint(d), join(d, 'checkpoint'));
    assert.equal(epochOf(d), 4);
    assert.ok(!existsSync(join(d, 'checkpoint.next')));
  });
  test('the first checkpoint, killed before its rename: .next is put in place', () => {
    const d = job();
    ckpt(d, 'checkpoint.next', 1);
    assert.equal(resumableCheckpoint(d), join(d, 'checkpoint'));
    assert.equal(epochOf(d), 1);
  });
  test('only .prev survived: it is used', () => {
    const d = job();
    ckpt(d, 'checkpoint.prev', 2);
    ckpt(d, 'checkpoint.next', null);
    assert.equal(resumableCheckpoint(d), join(d, 'checkpoint'));
    assert.equal(epochOf(d), 2);
  });
});

