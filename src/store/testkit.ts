/**
 * Test helpers for the store: a ClickHouse to test against (MINEWATCH_TEST_CLICKHOUSE, else one started through
 * scripts/ci/clickhouse.sh on free loopback ports, else a skip — a failure when CI=true), and a unique
 * database per test so parallel test files never see each other's rows.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { MinewatchEvent } from '../findings/index.ts';

const SCRIPT = fileURLToPath(new URL('../../scripts/ci/clickhouse.sh', import.meta.url));

export interface TestClickHouse {
  /** Base URL without a database (clickhouse://127.0.0.1:PORT), or undefined when skipped. */
  url?: string;
  /** Why ClickHouse tests are skipped. */
  skip?: string;
  /** Stops the server when this process started it. */
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it), for a test server. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function installed(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v clickhouse-server'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let shared: Promise<TestClickHouse> | undefined;

/** One ClickHouse per test process, started on first use. */
export function testClickHouse(): Promise<TestClickHouse> {
  shared ??= start();
  return shared;
}

async function start(): Promise<TestClickHouse> {
  const noop = async () => undefined;
  const env = process.env.MINEWATCH_TEST_CLICKHOUSE;
  if (env) return { url: env.replace(/\/+$/, ''), stop: noop };
  if (!installed()) {
    const why =
      'ClickHouse tests skipped: MINEWATCH_TEST_CLICKHOUSE is unset and clickhouse-server is not installed ' +
      '(apt-get install -y clickhouse-server, or scripts/ci/clickhouse.sh start)';
    if (process.env.CI === 'true') throw new Error(`${why}; CI=true requires them`);
    return { skip: why, stop: noop };
  }
  const http = await freePort();
  const tcp = await freePort();
  const dir = join(tmpdir(), `minewatch-ch-test-${process.pid}-${randomBytes(3).toString('hex')}`);
  const env2 = {
    ...process.env,
    MINEWATCH_CH_HTTP_PORT: String(http),
    MINEWATCH_CH_TCP_PORT: String(tcp),
    MINEWATCH_CH_DIR: dir,
  };
  const run = promisify(execFile);
  const { stdout } = await run(SCRIPT, ['start'], { env: env2, timeout: 45_000 });
  const m = /MINEWATCH_TEST_CLICKHOUSE=(\S+)/.exec(stdout);
  if (!m) throw new Error(`clickhouse.sh start printed no URL: ${stdout}`);
  return {
    url: m[1]!,
    stop: async () => {
      await run(SCRIPT, ['stop'], { env: env2, timeout: 30_000 });
    },
  };
}

/** A database name no other test uses. */
export function uniqueDb(prefix = 'mw_test'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * Text that has broken stores and packers: the packed format's separators (0x1e, 0x1f) and its escape
 * (0x1d, alone, before a digit, in a run), quotes and backslashes, controls and NUL, SQL, non-ASCII, empty.
 */
export const HOSTILE_TEXT: readonly string[] = [
  'a\x1eb',
  'a\x1fb',
  '\x1d0',
  '\x1d',
  '\x1d\x1e\x1f',
  'x\x1d2y',
  '"quoted" \\ back',
  'line\nbreak\ttab\r\u0000nul',
  'ünï € 😀',
  "'; DROP TABLE events; --",
  '',
];

/** A finding event whose every stored text field (coin, wallet, family, exe, pool, domain...) is `h`. */
export function hostileFinding(h: string, ids: { id: string; host: string; rule: string }): MinewatchEvent {
  return {
    id: ids.id,
    time: '2026-03-05T00:00:00Z',
    host: ids.host,
    type: 'finding',
    finding: {
      rule: ids.rule,
      severity: 'low',
      coin: h,
      wallet: h,
      family: h,
      exe: h,
      sha256: h,
      account: h,
      dropper_url: h,
      pool: { host: h, ip: h, port: 3333 },
    },
    domain: h,
  } as unknown as MinewatchEvent;
}
