import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './test-helpers/run.ts';

const CORPUS = new URL('../../test/corpus/pcap/', import.meta.url).pathname;
const MINING = join(CORPUS, 'ndpi/mining.pcapng');
const CLEAN = join(CORPUS, 'ndpi/bitcoin-p2p.pcap');
process.env.MINEWATCH_HOME = mkdtempSync(join(tmpdir(), 'mw-home-')); // no user intel from this machine

test('exit 1 and a table with pools and ports when mining is found', async () => {
  const r = await runCli(['pcap', MINING]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /net\.stratum\.session/);
  assert.match(r.stdout, /Pools by hosts/);
  assert.match(r.stdout, /Ports by flows/);
  assert.match(r.stdout, /eu1-zcash\.flypool\.org:3333/);
});

test('exit 0 on a capture with no mining', async () => {
  const r = await runCli(['pcap', CLEAN, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.findings, []);
  assert.equal(doc.summary.captures[0].packets, 529);
});

test('stdin in odd-sized chunks, NDJSON: findings stream before the summary', async () => {
  const bytes = readFileSync(MINING);
  const chunks: Uint8Array[] = [];
  for (let i = 0, n = 1; i < bytes.length; i += n, n = (n * 7 + 13) % 4093 || 1)
    chunks.push(bytes.subarray(i, i + n));
  const r = await runCli(['pcap', '-', '--format', 'ndjson'], chunks);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const kinds = lines.map((l) => l.type);
  assert.equal(kinds.at(-1), 'summary');
  assert.equal(kinds.filter((k) => k === 'finding').length, 4);
  assert.ok(kinds.indexOf('finding') < kinds.indexOf('summary'));
  assert.equal(lines.at(-1).captures[0].source, 'stdin');
});

test('a file that is not a capture: exit 2, the file named, the other files still analysed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-pcap-'));
  const junk = join(dir, 'notes.txt');
  writeFileSync(junk, 'this is not a capture\n');
  const r = await runCli(['pcap', junk, MINING, '--format', 'json']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /notes\.txt/);
  assert.equal(JSON.parse(r.stdout).findings.length, 4, 'the good capture was still read');
});

test('a missing file: exit 2 and a clear message', async () => {
  const r = await runCli(['pcap', '/nonexistent/x.pcap']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\/nonexistent\/x\.pcap: no such file/);
});

test('a truncated capture: damaged packets counted, the rest analysed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-pcap-'));
  const cut = join(dir, 'cut.pcapng');
  const bytes = readFileSync(MINING);
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6) + 3));
  const r = await runCli(['pcap', cut, '--format', 'json']);
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.ok(doc.summary.captures[0].damaged_packets >= 1);
  assert.ok(doc.findings.length >= 2);
});

test('--help lists examples', async () => {
  const r = await runCli(['pcap', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Examples:/);
  assert.match(r.stdout, /tcpdump -i eth0 -w - \| minewatch pcap -/);
});

test('an unknown format is a usage error (exit 2)', async () => {
  const r = await runCli(['pcap', MINING, '--format', 'xml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /xml/);
});

test('--format ocsf and ecs: one SIEM-shaped finding a line', async () => {
  const o = await runCli(['pcap', MINING, '--format', 'ocsf']);
  assert.equal(o.code, 1);
  const lines = o.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 4);
  assert.ok(lines.every((l) => l.class_uid === 2004 && l.finding_info.attacks.length > 0));
  const e = await runCli(['pcap', MINING, '--format', 'ecs']);
  const docs = e.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(docs.every((d) => d.event.kind === 'alert' && d.rule.id === 'net.stratum.session'));
});
