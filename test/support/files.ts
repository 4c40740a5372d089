import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every file below `folder` (none when it does not exist): what a test scans for leaks. */
export async function filesUnder(folder: string): Promise<string[]> {
  try {
    const entries = await readdir(folder, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}
