/**
 * The published CLI is a bundle (scripts/build.mjs), which the other tests never run: they import the sources.
 * This builds it afresh and runs it as a user would, through the commands whose chunks load data files or
 * start threads, so a path or entry point the bundle gets wrong fails here and not on a user's machine.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../package-root.ts';

// Inside the package (below node_modules/, so git ignores it): the bundle finds package.json, data/ and
// its external dependencies by walking up, as it does from dist/.
const OUT = join(PACKAGE_ROOT, 'node_modules', '.cache', `minewatch-bundle-test-${process.pid}`);
const CAPTURE = join(PACKAGE_ROOT, 'test/corpus/pcap/ndpi/mining.pcapng');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [join(OUT, 'main.js'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(() => {
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'scripts/build.mjs'), '--outdir', OUT], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
});
after(() => rmSync(OUT, { recursive: true, force: true }));

test('the bundle reports the package version', () => {
  const r = run('--version');
  assert.equal(r.code, 0, r.err);
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(r.out.trim(), pkg.version);
});

test('the bundle reads the built-in intel and wallet formats', () => {
  const r = run('intel', 'lookup', 'xmr-eu1.nanopool.org', '--format', 'json', '--no-user-intel');
  assert.equal(r.code, 1, r.err); // a known pool: "found", as everywhere
  assert.equal((JSON.parse(r.out) as { verdict: string }).verdict, 'pool');
  const w = run(
    'intel',
    'lookup',
    '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A',
    '--no-user-intel',
  );
  assert.equal(w.code, 0, w.err);
  assert.match(w.out, /xmr-standard/);
  assert.match(w.out, /valid +true/);
});

test('pcap in one pass and in threads (the worker entry beside the chunks) finds the same', () => {
  const one = run('pcap', CAPTURE, '--format', 'json', '--no-user-intel', '--threads', '1');
  const two = run('pcap', CAPTURE, '--format', 'json', '--no-user-intel', '--threads', '2');
  assert.equal(one.code, 1, one.err);
  assert.equal(two.code, 1, two.err);
  const a = JSON.parse(one.out) as { findings: unknown[] };
  assert.ok(a.findings.length >= 4);
  assert.deepEqual(JSON.parse(two.out), a);
});

/** `pcap`'s own bundle as bin/minewatch.js runs it (bin/code-cache.js), saying on stderr whether V8 took its cache. */
function runPcapBundle(nodeArgs: string[], ...args: string[]) {
  const loader = pathToFileURL(join(PACKAGE_ROOT, 'bin/code-cache.js')).href;
  const script = `const b = (await import(${JSON.stringify(loader)})).loadBundle(${JSON.stringify(join(OUT, 'pcap.cjs'))});
process.stderr.write('cache ' + b.cache + '\\n');
process.exitCode = await b.exports.main(process.argv.slice(1));`;
  const r = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("pcap's own bundle prints what the chunks print, with its code cache taken, and without it when refused", () => {
  const args = ['pcap', CAPTURE, '--format', 'json', '--no-user-intel'];
  const chunks = run(...args);
  const cached = runPcapBundle([], ...args);
  // Another V8 flag: V8 refuses a cache made under other flags, and the bundle compiles from its source.
  const refused = runPcapBundle(['--no-opt'], ...args);
  assert.equal(chunks.code, 1, chunks.err);
  assert.equal(cached.code, 1, cached.err);
  assert.equal(refused.code, 1, refused.err);
  assert.equal(cached.err, 'cache accepted\n');
  assert.equal(refused.err, 'cache rejected\n');
  assert.equal(cached.out, chunks.out);
  assert.equal(refused.out, chunks.out);
  // One character past ASCII makes the whole source a two-byte string, which V8 runs slower (scripts/build.mjs).
  const source = readFileSync(join(OUT, 'pcap.cjs'), 'utf8');
  const wide = source.search(/[^\x00-\x7f]/);
  assert.equal(wide, -1, `non-ASCII at ${wide}: ${source.slice(wide - 40, wide + 40)}`);
});

test('a bad argument is a usage error from the bundle too', () => {
  const r = run('pcap', CAPTURE, '--threads', 'zero');
  assert.equal(r.code, 2);
  assert.match(r.err, /whole number/);
});

test('the bundled agent sends through --proxy (undici, CommonJS, inside the bundle)', async () => {
  const { createServer } = await import('node:http');
  const { execFile } = await import('node:child_process');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const asked: string[] = [];
  // A proxy that records what it is asked to tunnel to, then refuses: the agent spools and says so.
  const proxy = createServer((_q, res) => res.writeHead(405).end());
  proxy.on('connect', (req, socket) => {
    asked.push(req.url ?? '');
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const port = (proxy.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'mw-bundle-agent-'));
  try {
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          join(OUT, 'main.js'),
          'agent',
          '--server',
          'http://minewatch.invalid:8750',
          '--proxy',
          `http://127.0.0.1:${port}`,
          '--once',
          '--deliver-timeout',
          '1s',
          '--spool',
          join(dir, 'spool'),
          '--root',
          dir,
        ],
        { env: { ...process.env, MINEWATCH_AGENT_TOKEN: 'mwt_x_y' }, timeout: 60_000 },
        (err, _out, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, err: stderr }),
      );
    });
    assert.match(r.err, new RegExp(`sending through proxy http://127\\.0\\.0\\.1:${port}`));
    assert.ok(
      asked.includes('minewatch.invalid:8750'),
      `the proxy was asked for the server (${asked.join(', ')})`,
    );
    assert.equal(r.code, 2, r.err); // delivery pending: an error exit, the report stays spooled
  } finally {
    proxy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
