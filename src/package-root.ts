import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root directory (the one holding package.json and data/). Found by walking up from this module
 * rather than by a fixed `../..`: the sources sit at different depths under src/, and the published build is
 * one bundle whose chunks all sit in dist/.
 */
function findRoot(): { dir: string; pkg: { name: string; version: string } } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string };
        if (pkg.name === 'minewatch') return { dir, pkg };
      } catch {
        // not ours (or unreadable): keep looking further up
      }
    }
    const up = dirname(dir);
    if (up === dir)
      throw new Error(`minewatch: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

const found = findRoot();
export const PACKAGE_ROOT: string = found.dir;
/** The package's own package.json, as read when its root was found. */
export const PACKAGE_JSON: { readonly name: string; readonly version: string } = found.pkg;

/** A path inside the package, e.g. `packagePath('data', 'intel')`. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
