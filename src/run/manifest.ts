/**
 * The run manifest: one JSON line per finished job, appended the moment the job finishes,
 * so a crashed, killed or cancelled run leaves an exact record of what is already done.
 * Each line is handed to the kernel with one write before the job counts as recorded: a
 * killed process loses nothing written. (No fsync per line: that guards only against the
 * machine itself going down, and costs more than the rest of a cached job; bench/generate.) A rerun reads it back: a job whose content key is recorded, and whose
 * output file still exists, is not done again. A torn last line (the process died
 * mid-append) is ignored.
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
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
  #file: Promise<FileHandle> | null = null;
  /** Appends are chained so lines never interleave. */
  #tail: Promise<void> = Promise.resolve();

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

  record(entry: ManifestEntry): Promise<void> {
    this.#entries.set(entry.job, entry);
    const line = `${JSON.stringify(entry)}\n`;
    const write = this.#tail.then(async () => {
      this.#file ??= mkdir(dirname(this.path), { recursive: true }).then(() => open(this.path, 'a'));
      await (await this.#file).write(line);
    });
    this.#tail = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.#tail;
    const file = this.#file;
    this.#file = null;
    await (await file)?.close();
  }

  entries(): ManifestEntry[] {
    return [...this.#entries.values()];
  }
}
