/**
 * Schemas of the intel data files. The loader validates every file against these, so a hand edit that
 * breaks the shape fails at load time with the file and the JSON path, not later inside a detector.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

const Str = (opts = {}) => Type.String({ minLength: 1, ...opts });
const Symbol_ = Str({ pattern: '^[A-Z0-9]{2,6}$' });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Month = Str({ pattern: '^\\d{4}-\\d{2}(-\\d{2})?$' });

export const Weight = Type.Union([Type.Literal('strong'), Type.Literal('medium'), Type.Literal('weak')]);
export type Weight = Static<typeof Weight>;

/** A pointer to where an entry came from: a source id plus, optionally, the file or rule inside it. */
export const SourceRef = Type.Object(
  { id: Str(), ref: Type.Optional(Str()) },
  { additionalProperties: false },
);
export type SourceRef = Static<typeof SourceRef>;
const Sources = Type.Array(SourceRef, { minItems: 1 });

export const SourceEntry = Type.Object(
  {
    id: Str(),
    name: Str(),
    url: Type.Optional(Str()),
    /** Commit or version of the snapshot the entries were taken from. */
    ref: Type.Optional(Str()),
    licence: Str(),
    /** What was taken from it, in words. */
    taken: Str(),
    /** Entries this source contributed, by kind (filled in by the curation script). */
    counts: Type.Optional(Type.Record(Type.String(), Type.Integer({ minimum: 0 }))),
    note: Type.Optional(Str()),
  },
  { additionalProperties: false },
);
export type SourceEntry = Static<typeof SourceEntry>;

export const PoolKind = Type.Union([
  Type.Literal('pool'),
  Type.Literal('proxy'),
  Type.Literal('browser-miner'),
  /** A coin's P2P/seed node or project site: solo miners talk to it, but it is not a pool. */
  Type.Literal('node'),
  /** Where miner software is downloaded from. */
  Type.Literal('download'),
]);
export type PoolKind = Static<typeof PoolKind>;

export const PoolEntry = Type.Object(
  {
    host: Str({ pattern: '^[a-z0-9_.-]+$' }),
    name: Str(),
    kind: PoolKind,
    coins: Type.Array(Symbol_),
    coins_inferred: Type.Optional(Type.Boolean()),
    algos: Type.Array(Str()),
    ports: Type.Object({ plain: Type.Array(Port), tls: Type.Array(Port) }, { additionalProperties: false }),
    status: Type.Union([Type.Literal('active'), Type.Literal('closed')]),
    closed: Type.Optional(Month),
    sources: Sources,
    hashrate_share: Type.Optional(Str()),
    /** Where the sources saw it (report URLs from the source's own section references), at most a few. */
    seen: Type.Optional(Type.Array(Str())),
    popularity_rank: Type.Optional(Type.Integer({ minimum: 1 })),
    note: Type.Optional(Str()),
  },
  { additionalProperties: false },
);
export type PoolEntry = Static<typeof PoolEntry>;

export const EndpointEntry = Type.Object(
  {
    ip: Str(),
    /** Absent when the source listed the bare IP. */
    port: Type.Optional(Port),
    pool: Type.Optional(Str()),
    /** True when the pool was inferred from the other entries of the same source section. */
    pool_inferred: Type.Optional(Type.Boolean()),
    coins: Type.Optional(Type.Array(Symbol_)),
    sources: Sources,
    seen: Type.Optional(Type.Array(Str())),
    note: Type.Optional(Str()),
  },
  { additionalProperties: false },
);
export type EndpointEntry = Static<typeof EndpointEntry>;

export const PortEntry = Type.Object(
  {
    port: Port,
    weight: Weight,
    tls: Type.Optional(Type.Boolean()),
    /** Operators known to listen on this port. */
    pools: Type.Array(Str()),
    /** How many source endpoints use this port. */
    observed: Type.Optional(Type.Integer({ minimum: 0 })),
    sources: Sources,
    note: Type.Optional(Str()),
  },
  { additionalProperties: false },
);
export type PortEntry = Static<typeof PortEntry>;

export const CoinEntry = Type.Object(
  {
    symbol: Symbol_,
    name: Str(),
    algos: Type.Array(Str(), { minItems: 1 }),
    /** Algorithms used in the past (Monero: CryptoNight until 2019-11). */
    former_algos: Type.Optional(Type.Array(Str())),
    family: Str(),
    cpu_mineable: Type.Boolean(),
    /** False when proof-of-work mining of the coin has ended. */
    mineable: Type.Boolean(),
    sources: Sources,
    note: Type.Optional(Str()),
  },
  { additionalProperties: false },
);
export type CoinEntry = Static<typeof CoinEntry>;

export const MarkerMatch = Type.Union([
  Type.Literal('exact'),
  Type.Literal('prefix'),
  Type.Literal('substring'),
  Type.Literal('regex'),
]);
export type MarkerMatch = Static<typeof MarkerMatch>;

export const MinerMarker = Type.Object(
  {
    value: Str(),
    match: MarkerMatch,
    weight: Weight,
    sources: Sources,
    note: Type.Optional(Str()),
  },
  { additionalProperties: false },
);
export type MinerMarker = Static<typeof MinerMarker>;

export const MinerKnowledge = Type.Object(
  {
    /** Process (comm/argv[0]) names. */
    processes: Type.Array(MinerMarker),
    /** File names and paths seen on disk. */
    files: Type.Array(MinerMarker),
    /** Command-line markers. */
    cmdline: Type.Array(MinerMarker),
    /** Keys of miner config files (xmrig config.json). */
    config_keys: Type.Array(MinerMarker),
    /** HTTP User-Agent prefixes. */
    user_agents: Type.Array(MinerMarker),
    /** Strings inside miner binaries and scripts. */
    strings: Type.Array(MinerMarker),
    /** Host tuning that miners do (hugepages, MSR, NMI watchdog). */
    system: Type.Array(MinerMarker),
    /** JA4 / JA3 fingerprints of miners' TLS ClientHellos (match 'exact'). */
    tls_fingerprints: Type.Array(MinerMarker),
  },
  { additionalProperties: false },
);
export type MinerKnowledge = Static<typeof MinerKnowledge>;

export const FamilyEntry = Type.Object(
  {
    id: Str({ pattern: '^[a-z0-9-]+$' }),
    name: Str(),
    aliases: Type.Array(Str()),
    description: Type.Optional(Str()),
    processes: Type.Array(Str()),
    paths: Type.Array(Str()),
    script_markers: Type.Array(Str()),
    domains: Type.Array(Str()),
    /** IPs, or ip:port. */
    ips: Type.Array(Str()),
    /** URL paths or full URLs from the trails. */
    urls: Type.Array(Str()),
    sources: Sources,
  },
  { additionalProperties: false },
);
export type FamilyEntry = Static<typeof FamilyEntry>;

export const ExclusionEntry = Type.Object(
  {
    domain: Str({ pattern: '^[a-z0-9.-]+$' }),
    category: Type.Union([
      Type.Literal('exchange'),
      Type.Literal('wallet'),
      Type.Literal('info'),
      Type.Literal('infrastructure'),
      Type.Literal('shared-dns'),
    ]),
    /**
     * subtree: the domain and everything below it is never a pool (an exchange).
     * exact: the name itself is never a pool, but names below it may be (a dynamic-DNS zone such as
     * ddns.net, where each customer subdomain is a different party).
     */
    scope: Type.Union([Type.Literal('subtree'), Type.Literal('exact')]),
    sources: Sources,
    note: Type.Optional(Str()),
  },
  { additionalProperties: false },
);
export type ExclusionEntry = Static<typeof ExclusionEntry>;

export const INTEL_KINDS = [
  'sources',
  'pools',
  'endpoints',
  'ports',
  'coins',
  'miners',
  'families',
  'exclusions',
] as const;
export type IntelKind = (typeof INTEL_KINDS)[number];

const ENTRY_SCHEMAS = {
  sources: SourceEntry,
  pools: PoolEntry,
  endpoints: EndpointEntry,
  ports: PortEntry,
  coins: CoinEntry,
  families: FamilyEntry,
  exclusions: ExclusionEntry,
} as const;

function fileSchema<K extends string, T extends TSchema>(kind: K, entries: T) {
  return Type.Object(
    {
      schema: Type.Literal(`minewatch-intel/${kind}@1`),
      generated: Str(),
      entries,
    },
    { additionalProperties: false },
  );
}

/** One schema per data file, keyed by kind. miners.json holds one object, the others an array. */
export const FILE_SCHEMAS = {
  sources: fileSchema('sources', Type.Array(ENTRY_SCHEMAS.sources)),
  pools: fileSchema('pools', Type.Array(ENTRY_SCHEMAS.pools)),
  endpoints: fileSchema('endpoints', Type.Array(ENTRY_SCHEMAS.endpoints)),
  ports: fileSchema('ports', Type.Array(ENTRY_SCHEMAS.ports)),
  coins: fileSchema('coins', Type.Array(ENTRY_SCHEMAS.coins)),
  miners: fileSchema('miners', MinerKnowledge),
  families: fileSchema('families', Type.Array(ENTRY_SCHEMAS.families)),
  exclusions: fileSchema('exclusions', Type.Array(ENTRY_SCHEMAS.exclusions)),
} as const;

export interface IntelFiles {
  sources: SourceEntry[];
  pools: PoolEntry[];
  endpoints: EndpointEntry[];
  ports: PortEntry[];
  coins: CoinEntry[];
  miners: MinerKnowledge;
  families: FamilyEntry[];
  exclusions: ExclusionEntry[];
}

/** Entries a user imports live in one JSON file per imported list, in the user intel dir. */
export const UserIntelFile = Type.Object(
  {
    schema: Type.Literal('minewatch-intel/user@1'),
    source: SourceEntry,
    imported: Str(),
    format: Str(),
    pools: Type.Array(PoolEntry),
    endpoints: Type.Array(EndpointEntry),
    ports: Type.Array(PortEntry),
    processes: Type.Array(MinerMarker),
  },
  { additionalProperties: false },
);
export type UserIntelFile = Static<typeof UserIntelFile>;
