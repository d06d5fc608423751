/**
 * Loads the packet core (core.wasm, built from ./assembly by scripts/build-core.mjs) once per thread, compiled
 * synchronously: the module is small and every `pcap` run needs it at once. Found beside the bundle (dist/*.js)
 * or, from the sources, in the checkout's dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What every core exports (each part adds its own functions; see assembly/index.ts). */
export interface CoreExports {
  memory: WebAssembly.Memory;
  packetPtr(): number;
  packetLayout(field: number): number;
  [name: string]: unknown;
}

export type CoreImports = Record<string, (...args: number[]) => number | undefined>;

const CANDIDATES = ['./core.wasm', '../../../../dist/core.wasm'];

let module: WebAssembly.Module | undefined;

function coreModule(): WebAssembly.Module {
  if (module) return module;
  for (const rel of CANDIDATES) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) {
      module = new WebAssembly.Module(readFileSync(url));
      return module;
    }
  }
  throw new Error(
    `the packet core is not built (no ${fileURLToPath(new URL(CANDIDATES[1]!, import.meta.url))}): run \`npm run build\``,
  );
}

/** Imports every part may call, given to every instance. */
const SHARED: CoreImports = {
  // The reader's if_tsresol divisor, computed as the TS reader computed it (`10 ** v`, `2 ** v`): V8's power, so that
  // timestamps stay the same to the last bit whatever the core's own Math.pow would round.
  tsPow: (b, e) => b! ** e!,
};

/**
 * A fresh instance (its own linear memory): one per capture being read, so two analyses in one process never
 * share state. `imports` are the JS functions the core calls back (module "core").
 */
export function instantiateCore(imports: CoreImports = {}): CoreExports {
  const instance = new WebAssembly.Instance(coreModule(), {
    env: {
      // The core's assertions and bounds failures: a bug in the core, never the input's fault.
      abort(msg: number, file: number, line: number, col: number): never {
        throw new Error(`packet core aborted at ${line}:${col} (message ${msg}, file ${file})`);
      },
    },
    // Each part's imports are given by the part that uses them; one not given (a test of another part) fails
    // only if the core calls it.
    core: new Proxy(imports, {
      get: (given, name: string) =>
        given[name] ??
        SHARED[name] ??
        (() => {
          throw new Error(`packet core import ${name} not given`);
        }),
    }),
  });
  return instance.exports as unknown as CoreExports;
}
