import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root directory (the one holding package.json and data/). Found by walking up from this module
 * rather than by a fixed `../..`: the sources sit at different depths under src/, and the published build is
 * one bundle whose chunks all sit in dist/.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'minewatch') return dir;
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

export const PACKAGE_ROOT: string = findRoot();

/** A path inside the package, e.g. `packagePath('data', 'intel')`. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
