/**
 * Loads the wallet-format intel (data/intel/wallet-formats.json), checks it against its schema, and indexes it
 * for the validators. The numbers live in data, not code, so adding a coin is a data change with a source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { stamped } from '../intel/stamp.ts';
import { packagePath } from '../package-root.ts';
import type { WalletInfo, WalletNetwork } from './types.ts';

export const WALLET_FORMATS_SCHEMA = 'minewatch-intel/wallet-formats@1';

const Network = Type.Union([
  Type.Literal('mainnet'),
  Type.Literal('testnet'),
  Type.Literal('stagenet'),
  Type.Literal('unknown'),
]);

export const WalletFormatSchema = Type.Object({
  id: Type.String({ pattern: '^[a-z0-9-]+$' }),
  coin: Type.String({ minLength: 2 }),
  coins: Type.Optional(Type.Array(Type.String())),
  name: Type.String(),
  encoding: Type.Union([
    Type.Literal('cryptonote-base58'),
    Type.Literal('base58check'),
    Type.Literal('segwit'),
    Type.Literal('bech32'),
    Type.Literal('cashaddr'),
    Type.Literal('hex-eip55'),
    Type.Literal('unknown'),
  ]),
  network: Network,
  type: Type.String(),
  /** CryptoNote: varint tag values. */
  network_bytes: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }))),
  /** base58check: version bytes. */
  version: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 255 }))),
  payload_length: Type.Optional(Type.Integer()),
  /** Exact length, or [min, max]. */
  length: Type.Optional(Type.Union([Type.Integer(), Type.Tuple([Type.Integer(), Type.Integer()])])),
  prefix: Type.Array(Type.String()),
  hrp: Type.Optional(Type.String()),
  witness_version: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  program_length: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  validity: Type.Union([
    Type.Literal('checksum'),
    Type.Literal('checksum-if-mixed-case'),
    Type.Literal('none'),
    Type.Literal('unverified'),
  ]),
  source: Type.String({ minLength: 3 }),
  licence: Type.String({ minLength: 1 }),
  note: Type.Optional(Type.String()),
});
export type WalletFormat = Static<typeof WalletFormatSchema>;

export const WalletFormatsFileSchema = Type.Object({
  schema: Type.Literal(WALLET_FORMATS_SCHEMA),
  version: Type.String(),
  description: Type.Optional(Type.String()),
  entries: Type.Array(WalletFormatSchema),
});
export type WalletFormatsFile = Static<typeof WalletFormatsFileSchema>;

/** Throws with the first few schema errors; also rejects duplicate ids. */
export function parseWalletFormats(json: unknown): WalletFormatsFile {
  if (!Value.Check(WalletFormatsFileSchema, json)) {
    const errs = [...Value.Errors(WalletFormatsFileSchema, json)].slice(0, 5);
    throw new Error(`wallet-formats: ${errs.map((e) => `${e.path} ${e.message}`).join('; ')}`);
  }
  const seen = new Set<string>();
  for (const e of json.entries) {
    if (seen.has(e.id)) throw new Error(`wallet-formats: duplicate id ${e.id}`);
    seen.add(e.id);
  }
  return json;
}

export const WALLET_FORMATS_FILE = 'wallet-formats.json';
const BUILTIN_DIR = packagePath('data', 'intel');
export const WALLET_FORMATS_URL = pathToFileURL(join(BUILTIN_DIR, WALLET_FORMATS_FILE));

/**
 * The wallet formats of an intel directory, checked in full unless the directory's stamp (intel/stamp.ts,
 * `npm run intel:stamp`) vouches for exactly this text.
 */
export function readWalletFormats(dir: string = BUILTIN_DIR): WalletFormatsFile {
  const text = readFileSync(join(dir, WALLET_FORMATS_FILE), 'utf8');
  const doc = JSON.parse(text) as unknown;
  return stamped(dir, WALLET_FORMATS_FILE, text) ? (doc as WalletFormatsFile) : parseWalletFormats(doc);
}

let cached: WalletFormatsFile | undefined;
/** The built-in formats, read once per process. */
export function loadWalletFormats(): WalletFormatsFile {
  cached ??= readWalletFormats();
  return cached;
}

/** Indexes the validators use; built once. */
export interface FormatIndex {
  byId: Map<string, WalletFormat>;
  /** CryptoNote formats keyed by varint tag value (several coins may share one). */
  cryptonoteByTag: Map<number, WalletFormat[]>;
  /** CryptoNote formats keyed by address length, for cheap shape checks. */
  cryptonoteByLength: Map<number, WalletFormat[]>;
  /** base58check formats keyed by the version bytes as hex. */
  base58ByVersion: Map<string, WalletFormat>;
  base58: WalletFormat[];
  segwit: WalletFormat[];
  segwitHrps: Set<string>;
  bech32: WalletFormat[];
  cashaddr: WalletFormat[];
  eth?: WalletFormat;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

export function indexFormats(file: WalletFormatsFile): FormatIndex {
  const idx: FormatIndex = {
    byId: new Map(),
    cryptonoteByTag: new Map(),
    cryptonoteByLength: new Map(),
    base58ByVersion: new Map(),
    base58: [],
    segwit: [],
    segwitHrps: new Set(),
    bech32: [],
    cashaddr: [],
  };
  for (const f of file.entries) {
    idx.byId.set(f.id, f);
    switch (f.encoding) {
      case 'cryptonote-base58':
        for (const tag of f.network_bytes ?? []) push(idx.cryptonoteByTag, tag, f);
        if (typeof f.length === 'number') push(idx.cryptonoteByLength, f.length, f);
        break;
      case 'base58check':
        if (f.version) idx.base58ByVersion.set(Buffer.from(f.version).toString('hex'), f);
        idx.base58.push(f);
        break;
      case 'segwit':
        idx.segwit.push(f);
        if (f.hrp) idx.segwitHrps.add(f.hrp);
        break;
      case 'bech32':
        idx.bech32.push(f);
        break;
      case 'cashaddr':
        idx.cashaddr.push(f);
        break;
      case 'hex-eip55':
        idx.eth ??= f;
        break;
      default:
        break; // 'unknown': documented, never matched
    }
  }
  return idx;
}

let cachedIndex: FormatIndex | undefined;
export function formatIndex(): FormatIndex {
  cachedIndex ??= indexFormats(loadWalletFormats());
  return cachedIndex;
}

/** The WalletInfo of an address in format `f`: the one shape every validator answers in. */
export function walletInfo(s: string, f: WalletFormat, valid: boolean | null, reason?: string): WalletInfo {
  const out: WalletInfo = {
    address: s,
    coin: f.coin,
    format: f.id,
    network: f.network as WalletNetwork,
    valid,
  };
  if (f.coins && f.coins.length > 1) out.coins = [...f.coins];
  if (reason !== undefined) out.reason = reason;
  return out;
}
