/**
 * The intel base: pools, endpoints, ports, coins, miner markers and families, each entry with its
 * sources and licence. Data lives in data/intel/ (rebuilt by scripts/curate-intel.ts); this is its face.
 */
export {
  classifyEntry,
  IntelFormatError,
  type ListItem,
  parseFalcoYaml,
  parseHosts,
  parsePlain,
  parseTrail,
} from './formats.ts';
export {
  BUILTIN_DATA_DIR,
  buildIntel,
  builtinIntelFiles,
  defaultUserIntelDir,
  type IntelBase,
  IntelSchemaError,
  type IntelStats,
  type LookupResult,
  loadIntel,
  readIntelFiles,
  USER_LICENCE,
  validateIntelFile,
} from './load.ts';
export { EndpointMatcher, ExclusionIndex, PoolMatcher, SuffixIndex } from './match.ts';
export { isDomain, normalizeDomain, normalizeIp, parseHostPort, registrableDomain } from './names.ts';
export type {
  CoinEntry,
  EndpointEntry,
  ExclusionEntry,
  FamilyEntry,
  IntelFiles,
  MinerKnowledge,
  MinerMarker,
  PoolEntry,
  PoolKind,
  PortEntry,
  SourceEntry,
  SourceRef,
  Weight,
} from './schema.ts';
export { exportIntel, type ImportFormat, type ImportResult, importIntel, parseCsv } from './user.ts';
