import { Option } from 'commander';
import { type IntelBase, loadIntel } from '../intel/index.ts';

/** `--intel-dir DIR` picks the user intel directory; `--no-user-intel` uses the built-in base alone. */
export function userDirOption(): Option {
  return new Option(
    '--intel-dir <dir>',
    'user intel directory (default: $MINEWATCH_HOME/intel or ~/.config/minewatch/intel)',
  );
}

/** `--no-user-intel`: the built-in base alone, whatever the user intel directory holds. */
export function noUserIntelOption(): Option {
  return new Option('--no-user-intel', 'use the built-in intel base only');
}

export function loadIntelFor(opts: { intelDir?: string; userIntel?: boolean }): IntelBase {
  if (opts.userIntel === false) return loadIntel({ userDir: null });
  return opts.intelDir ? loadIntel({ userDir: opts.intelDir }) : loadIntel();
}
