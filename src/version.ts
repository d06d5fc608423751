import { PACKAGE_JSON } from './package-root.ts';

/** From package.json, so `--version` and the User-Agent never drift from the published version. */
export const VERSION: string = PACKAGE_JSON.version;
