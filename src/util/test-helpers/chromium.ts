import { existsSync } from 'node:fs';

/** Debian's Chromium, driven by playwright-core (its own browser download is not reachable here). */
export const CHROMIUM = process.env.MINEWATCH_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for headless Chromium on a closed network: without the background-networking ones it keeps trying
 * (and failing) to reach Google's services.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Skip reason where Chromium is missing; under CI=true never skip, so a missing install fails loudly. */
export const chromiumSkip: false | string = existsSync(CHROMIUM)
  ? false
  : process.env.CI === 'true'
    ? false
    : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;
