/**
 * Stratum over TLS to a bare address: real XMRig 6.26 captures against a loopback pool and real TLS
 * look-alikes (mosquitto, redis-cli, stunnel, WebSockets), all in test/captures/tls-no-sni (see its README).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadIntel } from '../../intel/index.ts';
import { readCaptureFlows } from '../../sensors/pcap/source.ts';
import { analyseCapture } from './capture.ts';
import { judgeTlsMiner, TlsRhythm, type TlsRhythmFeatures } from './tls-miner.ts';

const DIR = fileURLToPath(new URL('../../../test/captures/tls-no-sni/', import.meta.url));
const intel = loadIntel({ userDir: null });
const files = readdirSync(DIR).filter((f) => f.endsWith('.pcap'));

describe('XMRig --tls to a pool address (real captures)', () => {
  const miners = files.filter((f) => f.startsWith('xmrig-'));
  it('there are captures at several intervals and difficulties', () => assert.ok(miners.length >= 8));
  for (const f of miners)
    it(`${f}: found at medium with its reasons`, async () => {
      const r = await analyseCapture(DIR + f, { intel });
      assert.equal(r.findings.length, 1, JSON.stringify(r.findings.map((x) => x.rule)));
      const x = r.findings[0]!;
      assert.equal(x.rule, 'net.tls.stratum-no-sni');
      assert.equal(x.severity, 'medium');
      assert.ok(x.confidence >= 0.6, `confidence ${x.confidence}`);
      assert.equal(x.host, '127.0.0.1');
      assert.equal(x.tls, true);
      assert.equal(x.ja4, 't13i310900_e8f1e7e78f70_1f22a2ca17c4');
      const reasons = (x.reasons as string[]).join('; ');
      assert.match(reasons, /login-shaped first exchange/);
      assert.match(reasons, /no SNI, no ALPN/);
      assert.match(reasons, /ClientHello fingerprint .* is a miner's TLS stack/);
      assert.match(reasons, /job push|share submission/);
      assert.ok(x.attack.some((a) => a.technique === 'T1573'));
    });
});

describe("TLS look-alikes: quiet even judged as if their ClientHello were a miner's", () => {
  for (const f of files.filter((x) => x.startsWith('lookalike-')))
    it(f, async () => {
      const verdicts: string[] = [];
      await readCaptureFlows(DIR + f, {
        onOpen: (fl) => {
          fl.state = new TlsRhythm();
        },
        onData: (fl, dir, d, _p, ts) => (fl.state as TlsRhythm).feed(dir === 'c2s' ? 0 : 1, d, ts),
        onClose: (fl) => {
          const v = judgeTlsMiner((fl.state as TlsRhythm).features(), {
            noSni: true,
            noAlpn: true,
            bareIp: true,
            port: 443,
            fingerprint: { value: 'assumed' },
          });
          if (v.mining) verdicts.push(v.reasons.join('; '));
        },
      });
      assert.deepEqual(verdicts, []);
    });
});

describe('TLS look-alikes (real clients) stay quiet', () => {
  for (const f of files.filter((x) => x.startsWith('lookalike-')))
    it(f, async () => {
      const r = await analyseCapture(DIR + f, { intel });
      assert.deepEqual(
        r.findings.map((x) => [x.rule, x.reasons]),
        [],
      );
    });
});

describe('judgeTlsMiner', () => {
  const miner: TlsRhythmFeatures = {
    durationSec: 40,
    loginSize: 577,
    loginReplySize: 407,
    requests: 4,
    requestSizeCv: 0,
    requestSizeMean: 225,
    requestGapCv: 0.9,
    ackedShare: 1,
    replySizeMean: 80,
    replySizeCv: 0,
    pushes: 2,
    pushSizeMean: 295,
    pushSizeCv: 0,
    medianPushGapSec: 15,
    bytesPerSec: 119,
    appBytes: 4800,
  };
  const ctx = { noSni: true, noAlpn: true, bareIp: true, port: 443 };
  it('the fingerprint lifts a pushes-only session over the line; behaviour alone with SNI never', () => {
    const pushesOnly = { ...miner, requests: 0, ackedShare: 0, requestSizeMean: 0 };
    assert.equal(judgeTlsMiner(pushesOnly, ctx).mining, false);
    assert.equal(judgeTlsMiner(pushesOnly, { ...ctx, fingerprint: { value: 'x' } }).mining, true);
    assert.equal(judgeTlsMiner(miner, { ...ctx, noSni: false, fingerprint: { value: 'x' } }).mining, false);
    assert.equal(judgeTlsMiner(miner, { ...ctx, bareIp: false }).mining, false);
  });
  it('a tiny answer to the first request (CONNACK, a 101 without body) is not a login', () => {
    assert.equal(
      judgeTlsMiner({ ...miner, loginReplySize: 26 }, { ...ctx, fingerprint: { value: 'x' } }).mining,
      false,
    );
  });
  it('constant-size requests on a timer (a heartbeat) are not shares', () => {
    const heartbeat = {
      ...miner,
      requests: 12,
      requestSizeMean: 189,
      requestGapCv: 0.01,
      pushes: 4,
      pushSizeMean: 114,
    };
    const v = judgeTlsMiner(heartbeat, { ...ctx, fingerprint: { value: 'x' } });
    assert.equal(v.mining, false);
    assert.deepEqual(v.reasons, ['client requests come on a timer, not as shares']);
  });
  it('bulk data is not mining', () => {
    assert.equal(
      judgeTlsMiner({ ...miner, bytesPerSec: 50_000 }, { ...ctx, fingerprint: { value: 'x' } }).mining,
      false,
    );
  });
});

describe('TlsRhythm', () => {
  it('reads record sizes across segment boundaries and stops at a gap', () => {
    const rec = (type: number, len: number) => {
      const b = new Uint8Array(5 + len);
      b.set([type, 3, 3, len >> 8, len & 255]);
      return b;
    };
    const t = new TlsRhythm();
    const login = rec(23, 577);
    t.feed(0, login.subarray(0, 3), 1);
    t.feed(0, login.subarray(3), 1);
    t.feed(1, rec(23, 407), 1.05);
    for (let i = 0; i < 3; i++) t.feed(1, rec(23, 295), 15 + 15 * i);
    const f = t.features();
    assert.equal(f.loginSize, 577);
    assert.equal(f.loginReplySize, 407);
    assert.equal(f.pushes, 3);
    assert.equal(f.pushSizeCv, 0);
    t.gap(1);
    assert.equal(t.readable, false);
    const bad = new TlsRhythm();
    bad.feed(0, new TextEncoder().encode('GET / HTTP/1.1\r\n'), 0);
    assert.equal(bad.readable, false);
  });
});
