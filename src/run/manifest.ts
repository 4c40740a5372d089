/**
 * The run manifest: one JSON line per finished job, appended (and flushed) the moment the
 * job finishes, so a crashed, killed or cancelled run leaves an exact record of what is
 * already done. A rerun reads it back: a job whose content key is recorded, and whose
 * output file still exists, is not done again. A torn last line (the process died
 * mid-append) is ignored.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BackendName } from '../backends/types.js';

export interface ManifestEntry {
  readonly job: string;
  readonly key: string;
  readonly status: 'done' | 'cached';
  readonly output: string;
  readonly backend: BackendName | 'compose' | null;
  readonly server: string | null;
  readonly at: string;
}

export class RunManifest {
  readonly #entries = new Map<string, ManifestEntry>();

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<RunManifest> {
    const manifest = new RunManifest(path);
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return manifest;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as ManifestEntry;
        if (typeof entry.job === 'string' && typeof entry.key === 'string') manifest.#entries.set(entry.job, entry);
      } catch {
        // a torn line from a crash mid-append: that job simply is not recorded
      }
    }
    return manifest;
  }

  /** The recorded entry for a job, if it finished with this exact content key. */
  finished(job: string, key: string): ManifestEntry | null {
    const entry = this.#entries.get(job);
    return entry && entry.key === key ? entry : null;
  }

  async record(entry: ManifestEntry): Promise<void> {
    this.#entries.set(entry.job, entry);
    await mkdir(dirname(this.path), { recursive: true });
    const file = await open(this.path, 'a');
    try {
      await file.write(`${JSON.stringify(entry)}\n`);
      await file.datasync();
    } finally {
      await file.close();
    }
  }

  entries(): ManifestEntry[] {
    return [...this.#entries.values()];
  }
}
