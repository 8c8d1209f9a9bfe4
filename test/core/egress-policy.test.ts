// The webhook address policy as pure functions: every spelling of an internal address is
// recognised and refused, public addresses pass, and the operator's allow-list lets a range through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkedAddresses, checkWebhookUrlShape, hostOf, judgeIp, parseAllowList, parseIp, refusedRange, type Resolver } from '../../src/core/egress-policy.ts';

const reasonOf = (text: string) => {
  const ip = parseIp(text);
  assert.ok(ip, `${text} parses as an IP address`);
  return refusedRange(ip);
};

test('IPv4 spellings: decimal, octal, hex and short forms read as inet_aton and the URL standard do', () => {
  const dotted = (t: string) => [...(parseIp(t)?.bytes ?? [])].join('.');
  assert.equal(dotted('2130706433'), '127.0.0.1');
  assert.equal(dotted('0177.0.0.1'), '127.0.0.1');
  assert.equal(dotted('0x7f.1'), '127.0.0.1');
  assert.equal(dotted('0x7f000001'), '127.0.0.1');
  assert.equal(dotted('127.1'), '127.0.0.1');
  assert.equal(dotted('10.1.258'), '10.1.1.2');
  assert.equal(dotted('169.254.169.254.'), '169.254.169.254');
  for (const name of ['example.com', '1.2.3.4.example', '256.1.1.1', '1.2.3.4.5', '08.1.1.1', '0x1g.1', '4294967296', '']) assert.equal(parseIp(name), null, name);
});

test('IPv6 text: ::, embedded IPv4 tails, brackets and zones', () => {
  const hex = (t: string) => Buffer.from(parseIp(t)!.bytes).toString('hex');
  assert.equal(hex('::'), '0'.repeat(32));
  assert.equal(hex('[::1]'), '0'.repeat(31) + '1');
  assert.equal(hex('::ffff:127.0.0.1'), hex('::ffff:7f00:1'));
  assert.equal(hex('fe80::1%eth0'), 'fe80' + '0'.repeat(27) + '1');
  assert.equal(hex('2001:db8:0:0:0:0:0:1'), hex('2001:db8::1'));
  for (const bad of [':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', '::ffff:1.2.3', '::ffff:010.0.0.1', 'g::1']) assert.equal(parseIp(bad), null, bad);
});

test('refused ranges: loopback, private, link-local, CGNAT, benchmarking, multicast, broadcast, unspecified — IPv4 and IPv6', () => {
  const refused: Array<[string, RegExp]> = [
    ['127.0.0.1', /^loopback/],
    ['2130706433', /^loopback/],
    ['0177.0.0.1', /^loopback/],
    ['0x7f.1', /^loopback/],
    ['0.0.0.0', /^unspecified/],
    ['10.20.30.40', /^private 10\.0\.0\.0\/8$/],
    ['172.31.255.255', /^private 172\.16\.0\.0\/12$/],
    ['192.168.1.1', /^private/],
    ['169.254.169.254', /^link-local/],
    ['100.64.0.1', /CGNAT/],
    ['100.127.255.255', /CGNAT/],
    ['198.18.0.1', /^benchmarking/],
    ['198.19.255.255', /^benchmarking/],
    ['224.0.0.1', /^multicast/],
    ['239.255.255.250', /^multicast/],
    ['255.255.255.255', /^broadcast/],
    ['240.0.0.1', /^reserved/],
    ['192.0.2.10', /^documentation/],
    ['::', /^unspecified/],
    ['::1', /^loopback/],
    ['::ffff:127.0.0.1', /^loopback 127\.0\.0\.0\/8$/],
    ['::ffff:7f00:1', /^loopback 127\.0\.0\.0\/8$/],
    ['::ffff:a9fe:a9fe', /^link-local 169\.254/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['fc00::1', /^unique-local/],
    ['fd12:3456::1', /^unique-local/],
    ['fe80::1', /^link-local fe80::\/10$/],
    ['febf::1', /^link-local/],
    ['fec0::1', /site-local/],
    ['ff02::1', /^multicast/],
    ['64:ff9b::10.0.0.1', /^64:ff9b::\/96 embedding private 10\.0\.0\.0\/8$/],
    ['64:ff9b::7f00:1', /^64:ff9b::\/96 embedding loopback/],
    ['2002:7f00:1::1', /^2002::\/16 embedding loopback/],
    ['2002:c0a8:101::1', /^2002::\/16 embedding private/],
    ['2001:db8::1', /^documentation/],
    ['2001::1', /IETF/],
    ['100::1', /discard/],
    ['4000::1', /not global unicast/],
  ];
  for (const [ip, why] of refused) assert.match(reasonOf(ip) ?? 'allowed', why, ip);
});

test('public addresses pass, including NAT64 and 6to4 forms of a public IPv4 address', () => {
  for (const ip of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '100.128.0.1', '172.32.0.1', '198.20.0.1', '223.255.255.255', '2606:4700:4700::1111', '2a00:1450:4001::1', '64:ff9b::808:808', '2002:808:808::1', '::ffff:8.8.8.8']) {
    assert.equal(reasonOf(ip), null, ip);
  }
});

test('allow-list: CIDR ranges and single addresses from a setting; bad entries named', () => {
  const allow = parseAllowList('10.0.0.0/8, 127.0.0.1 fd00::/8');
  assert.deepEqual(
    allow.map((c) => [c.family, c.prefix, c.text]),
    [
      [4, 8, '10.0.0.0/8'],
      [4, 32, '127.0.0.1'],
      [6, 8, 'fd00::/8'],
    ],
  );
  assert.deepEqual(parseAllowList(''), []);
  assert.deepEqual(parseAllowList('172.16.0.0/12,0.0.0.0/0,::/0,fe80::/10').map((c) => c.prefix), [12, 0, 0, 10]);
  assert.deepEqual(parseAllowList(['10.0.0.0/8', '192.168.0.0/16']).length, 2);
  const judge = (ip: string) => judgeIp(parseIp(ip)!, allow);
  assert.deepEqual(judge('10.9.8.7'), { allowed: true });
  assert.deepEqual(judge('127.0.0.1'), { allowed: true });
  assert.deepEqual(judge('::ffff:127.0.0.1'), { allowed: true }, 'the mapped form is the same host');
  assert.deepEqual(judge('fd00::5'), { allowed: true });
  assert.equal(judge('127.0.0.2').allowed, false);
  assert.equal(judge('192.168.0.1').allowed, false);
  assert.equal(judge('::1').allowed, false);
  assert.equal(judgeIp(parseIp('169.254.169.254')!, parseAllowList('0.0.0.0/0')).allowed, true, '/0 turns the check off for IPv4');

  assert.throws(() => parseAllowList('10.0.0.0/8,banana'), /TESSERA_WEBHOOK_ALLOW: "banana" is not an address range/);
  assert.throws(() => parseAllowList('10.0.0.0/33'), /"10\.0\.0\.0\/33" has a bad prefix length \(expected \/0 to \/32\)/);
  assert.throws(() => parseAllowList('10.0.0.1/8'), /bits set after the \/8 prefix/);
  assert.throws(() => parseAllowList('172.24.0.0/12'), /bits set after the \/12 prefix/);
  assert.throws(() => parseAllowList('010.0.0.0/8'), /not an address range/, 'octal spellings are ambiguous in a setting');
  assert.throws(() => parseAllowList('fd00::/129', 'webhooks.allow'), /webhooks\.allow: "fd00::\/129" has a bad prefix length \(expected \/0 to \/128\)/);
});

test('URLs: http(s) only, no credentials; literal hosts in any spelling are judged as the URL normalises them', async () => {
  assert.throws(() => checkWebhookUrlShape('file:///etc/passwd'), /expected http:\/\/ or https:\/\//);
  assert.throws(() => checkWebhookUrlShape('gopher://example.com/'), /expected http/);
  assert.throws(() => checkWebhookUrlShape('http://user:pw@example.com/'), /credentials/);
  assert.throws(() => checkWebhookUrlShape('not a url'), /is not a URL/);
  const policy = { allow: [] };
  for (const url of ['http://127.0.0.1/', 'http://[::1]:5432/', 'http://169.254.169.254/latest/meta-data', 'http://0x7f.1/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://127.1/', 'http://[::ffff:127.0.0.1]/', 'http://[::]/', 'http://0.0.0.0:8080/', 'http://10.0.0.1./', 'https://[fd00::1]/', 'http://[64:ff9b::10.0.0.1]/']) {
    await assert.rejects(checkedAddresses(hostOf(new URL(url)), policy), /not an allowed webhook destination/, url);
  }
  assert.deepEqual(await checkedAddresses(hostOf(new URL('https://8.8.8.8/')), policy), [{ address: '8.8.8.8', family: 4 }]);
  assert.deepEqual(await checkedAddresses('0x7f.1', { allow: parseAllowList('127.0.0.1') }), [{ address: '127.0.0.1', family: 4 }], 'an allowed literal is connected to in dotted form');
  assert.deepEqual(await checkedAddresses('example.com', policy), [], 'no resolver: a name is left to the connect-time check');
});

test('names: every resolved address is judged; a refusal does not say why', async () => {
  const zone: Record<string, string[]> = { 'public.test': ['93.184.216.34', '2606:2800:220:1::1'], 'mixed.test': ['93.184.216.34', '10.0.0.7'], 'inside.test': ['192.168.3.4'], 'weird.test': ['not-an-ip'] };
  const resolve: Resolver = async (h) => {
    if (!zone[h]) throw new Error(`getaddrinfo ENOTFOUND ${h}`);
    return zone[h].map((address) => ({ address }));
  };
  assert.deepEqual(await checkedAddresses('public.test', { allow: [], resolve }), [
    { address: '93.184.216.34', family: 4 },
    { address: '2606:2800:220:1::1', family: 6 },
  ]);
  const messages: string[] = [];
  for (const host of ['mixed.test', 'inside.test', 'nowhere.test', 'weird.test']) {
    await assert.rejects(checkedAddresses(host, { allow: [], resolve }), (e: Error & { reason: string }) => {
      messages.push(e.message.replace(host, 'HOST'));
      assert.ok(e.reason.length > 0, 'the operator log gets the reason');
      return /does not resolve to allowed webhook destinations only/.test(e.message);
    });
  }
  assert.equal(new Set(messages).size, 1, `one message whether the name is internal or does not exist: ${messages.join(' | ')}`);
  assert.deepEqual(await checkedAddresses('inside.test', { allow: parseAllowList('192.168.0.0/16'), resolve }), [{ address: '192.168.3.4', family: 4 }]);
});
