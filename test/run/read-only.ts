/**
 * Makes a folder read-only for a test, for real: chmod first; as root (CI containers),
 * where permission bits do not stop writes, the immutable attribute (`chattr +i`, ext4 and
 * the like) where the file system has it. When neither stops a write, the caller skips and
 * says why. The folder is writable again after `restore()`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReadOnly {
  /** Why the folder could not be made read-only (the test skips with this), or null when it is. */
  readonly skip: string | null;
  restore(): void;
}

function writable(dir: string): boolean {
  const probe = join(dir, '.probe');
  try {
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
    return true;
  } catch {
    return false;
  }
}

export function makeReadOnly(dir: string): ReadOnly {
  chmodSync(dir, 0o555);
  if (!writable(dir)) return { skip: null, restore: () => chmodSync(dir, 0o755) };
  let immutable = false;
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    immutable = true;
  } catch {
    // no chattr, or a file system without the attribute (tmpfs, overlayfs)
  }
  const restore = () => {
    if (immutable) execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
    chmodSync(dir, 0o755);
  };
  if (immutable && !writable(dir)) return { skip: null, restore };
  restore();
  const uid = process.getuid?.();
  return { skip: `writes to a chmod 555 folder still succeed here (uid ${uid ?? '?'}, no usable chattr +i): cannot make a folder read-only`, restore: () => undefined };
}

/**
 * The read-only folders of one test file: `make` creates a folder and locks it, `restoreAll`
 * (in afterEach) makes every one writable again so it can be removed.
 */
export function readOnlyFolders() {
  const locked: ReadOnly[] = [];
  return {
    make(path: string): { path: string; skip: string | null } {
      mkdirSync(path, { recursive: true });
      const folder = makeReadOnly(path);
      locked.push(folder);
      return { path, skip: folder.skip };
    },
    restoreAll(): void {
      for (const folder of locked.splice(0)) folder.restore();
    },
  };
}
