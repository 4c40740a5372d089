/**
 * vitest globalSetup: the acceptance tests run the built CLI (bin/comic.js → dist/), so dist/
 * is rebuilt first when any source is newer than it. On a fresh clone `npm ci` has built it.
 */
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { root } from './process.js';

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function builtAt(): number {
  try {
    return statSync(join(root, 'dist', 'cli', 'main.js')).mtimeMs;
  } catch {
    return 0;
  }
}

export default async function setup(): Promise<void> {
  const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'tsconfig.build.json')).mtimeMs);
  if (sources <= builtAt()) return;
  // tsc emits despite type errors; those fail `npm test`'s own typecheck, not this setup.
  await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit', reject: false });
}
