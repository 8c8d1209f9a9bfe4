/**
 * The backup archive's tar.gz writer and reader (src/store/tar.ts): round trip with hashes, long
 * paths (PAX records) that GNU tar reads the same way, and refusals of unsafe or damaged archives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveError, TarGzWriter, extractTarGz } from '../../src/store/tar.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('tar.gz: files of any size and long paths round-trip with their sha256; GNU tar lists the same names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tar-'));
  try {
    const long = `home/models/${'a-rather-long-folder-name/'.repeat(6)}weights.bin`;
    const files: Array<[string, Buffer]> = [
      ['empty', Buffer.alloc(0)],
      ['one-block', randomBytes(512)],
      ['odd', randomBytes(1000)],
      [long, randomBytes(70_000)],
    ];
    const archive = join(dir, 'a.tar.gz');
    const w = new TarGzWriter(archive);
    for (const [name, data] of files) {
      const src = join(dir, `src-${sha(Buffer.from(name)).slice(0, 8)}`);
      writeFileSync(src, data);
      assert.deepEqual(await w.addFile(name, src), { size: data.length, sha256: sha(data) });
    }
    await w.finish();
    const out = join(dir, 'out');
    const entries = await extractTarGz(archive, out);
    assert.deepEqual(
      entries.map((e) => [e.name, e.size, e.sha256]),
      files.map(([n, d]) => [n, d.length, sha(d)]),
    );
    for (const [name, data] of files) assert.deepEqual(readFileSync(join(out, name)), data);
    const listed = spawnSync('tar', ['tzf', archive], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), files.map(([n]) => n));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tar.gz: a path leaving the destination, a damaged header and a missing end are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tar-'));
  try {
    const evil = join(dir, 'evil.tar.gz');
    const w = new TarGzWriter(evil);
    await w.addBuffer('../outside', Buffer.from('x'));
    await w.finish();
    await assert.rejects(extractTarGz(evil, join(dir, 'o1')), (e: Error) => e instanceof ArchiveError && /unsafe path in archive: "\.\.\/outside"/.test(e.message));

    const good = join(dir, 'good.tar.gz');
    const g = new TarGzWriter(good);
    await g.addBuffer('f', randomBytes(600));
    await g.finish();
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const tar = gunzipSync(readFileSync(good));
    const bad = Buffer.from(tar);
    bad[10] ^= 0x20; // inside the first header's name: its checksum no longer matches
    writeFileSync(join(dir, 'bad.tar.gz'), gzipSync(bad));
    await assert.rejects(extractTarGz(join(dir, 'bad.tar.gz'), join(dir, 'o2')), /fails its checksum/);
    writeFileSync(join(dir, 'noend.tar.gz'), gzipSync(tar.subarray(0, 512 * 3))); // header + data, no end blocks
    await assert.rejects(extractTarGz(join(dir, 'noend.tar.gz'), join(dir, 'o3')), /no end-of-archive marker/);
    writeFileSync(join(dir, 'cut.tar.gz'), gzipSync(tar.subarray(0, 700))); // inside the entry's data
    await assert.rejects(extractTarGz(join(dir, 'cut.tar.gz'), join(dir, 'o4')), /ends inside "f": it is truncated/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
