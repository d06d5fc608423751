import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketDecoder } from './decode.ts';
import { isDns, shardOf } from './shard.ts';
import { ether, tcp, udp } from './testkit.ts';

const dec = new PacketDecoder();
const v4 = (src: string, dst: string, sport: number, dport: number) =>
  dec.decode(1, ether(tcp({ src, dst, sport, dport, seq: 1, flags: 0x02 })))!;

test('both directions of a conversation, on any ports, go to one shard', () => {
  for (let i = 0; i < 200; i++) {
    const a = `10.0.${i >> 8}.${i & 255}`;
    const b = `203.0.113.${(i * 7) & 255}`;
    for (const n of [2, 3, 4]) {
      const s = shardOf(v4(a, b, 40000 + i, 3333), n);
      assert.equal(shardOf(v4(b, a, 3333, 40000 + i), n), s);
      assert.equal(shardOf(v4(a, b, 50000, 443), n), s);
      assert.ok(s >= 0 && s < n);
    }
  }
});

test('hosts spread over the shards', () => {
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++)
    counts[shardOf(v4(`10.1.${i >> 8}.${i & 255}`, '198.51.100.7', 40000, 3333), 3)]!++;
  for (const c of counts) assert.ok(c > 800 && c < 1200, `uneven: ${counts.join(', ')}`);
  assert.equal(shardOf(v4('10.0.0.1', '10.0.0.2', 1, 2), 1), 0);
});

test('IPv6 conversations are symmetric too; DNS is recognised on either side', () => {
  const a = dec.decode(1, ether(udp({ src: '2001:db8::1', dst: '2001:db8::53', sport: 5353, dport: 53 })))!;
  const b = dec.decode(1, ether(udp({ src: '2001:db8::53', dst: '2001:db8::1', sport: 53, dport: 5353 })))!;
  assert.equal(shardOf(a, 4), shardOf(b, 4));
  assert.ok(isDns(a) && isDns(b));
  assert.ok(!isDns(v4('10.0.0.1', '10.0.0.2', 40000, 443)));
});
