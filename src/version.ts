import { readFileSync } from 'node:fs';
import { packagePath } from './package-root.ts';

/** Read from package.json so `--version` and the User-Agent never drift from the published version. */
export const VERSION: string = (
  JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }
).version;
