/**
 * Host sensors: everything below a root directory (live '/', a mounted image, a container rootfs, a test
 * tree). `scanHost` (sensors + rules + verdict) is re-exported from src/detect/host for convenience.
 */

export { type ScanResult, scanHost } from '../../detect/host/scan.ts';
export { type CollectOptions, collectHost, DEFAULT_MAX_FILE_BYTES, type ScanOptions } from './collect.ts';
export { DEFAULT_LINUX_PATHS, DEFAULT_WINDOWS_PATHS, scanFiles } from './files.ts';
export { RootFs, type ScanWarning } from './fsroot.ts';
export { decodeIpv4, decodeIpv6, parseProcNet } from './net.ts';
export { accountCpu, containerIdFromCgroup, parseProcStat, parseStat, parseStatus } from './proc.ts';
export type * from './types.ts';
