/**
 * `npm run intel:stamp`: checks the built-in intel files (data/intel/*.json) against their schemas and source
 * references, and writes data/intel/checked.json with each file's SHA-256, so that loading them skips a check
 * they already passed (src/intel/load.ts, readIntelFiles). Run it after changing any of them; the intel tests
 * fail while the stamp is stale.
 */
import { BUILTIN_DATA_DIR, stampIntel } from '../src/intel/load.ts';

const files = stampIntel(BUILTIN_DATA_DIR);
process.stdout.write(`stamped ${Object.keys(files).length} intel files in ${BUILTIN_DATA_DIR}checked.json\n`);
