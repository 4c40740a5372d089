/**
 * The run manifest: one JSON line per finished job, appended the moment the job finishes,
 * so a crashed, killed or cancelled run leaves an exact record of what is already done.
 * Each line is handed to the kernel with one write before the job counts as recorded: a
 * killed process loses nothing written. (No fsync per line: that guards only against the
 * machine itself going down, and costs more than the rest of a cached job; bench/generate.) A rerun reads it back: a job whose content key is recorded, and whose
 * output file still exists, is not done again. A torn last line (the process died
 * mid-append) is ignored.
 *
 * Prompts are recorded too, before they are sent (a `sent` line: job, key, server, prompt
 * id), so a rerun after a crash takes over the prompts the dead run left queued or running
 * on a server instead of rendering them a second time.
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BackendName, SentPrompt } from '../backends/types.js';
import { maskedJson } from '../util/redact.js';

export interface ManifestEntry {
  readonly job: string;
  readonly key: string;
  readonly status: 'done' | 'cached';
  readonly output: string;
  readonly backend: BackendName | 'compose' | null;
  readonly server: string | null;
  readonly at: string;
}

/** A prompt handed to a server for a job, written before it is sent. */
export interface SentEntry {
  readonly job: string;
  readonly key: string;
  readonly sent: SentPrompt;
  readonly at: string;
}

export class RunManifest {
  readonly #entries = new Map<string, ManifestEntry>();
  /** Per job: its key and the prompts sent for it under that key, oldest first. */
  readonly #sent = new Map<string, { key: string; prompts: SentPrompt[] }>();
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
        const entry = JSON.parse(line) as ManifestEntry | SentEntry;
        if (typeof entry.job !== 'string' || typeof entry.key !== 'string') continue;
        if ('sent' in entry) manifest.#noteSent(entry);
        else manifest.#entries.set(entry.job, entry);
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

  /** Prompts sent for this job under this key by earlier runs (none once it finished). */
  sent(job: string, key: string): readonly SentPrompt[] {
    const sent = this.#sent.get(job);
    return sent && sent.key === key && this.finished(job, key) === null ? sent.prompts : [];
  }

  /** Records a prompt before it is sent: resolves once the line is with the kernel. */
  recordSent(entry: SentEntry): Promise<void> {
    this.#noteSent(entry);
    return this.#append(entry);
  }

  #noteSent(entry: SentEntry): void {
    const { server, promptId } = entry.sent ?? {};
    if (typeof server !== 'string' || typeof promptId !== 'string') return;
    const known = this.#sent.get(entry.job);
    if (known?.key === entry.key) known.prompts.push({ server, promptId });
    else this.#sent.set(entry.job, { key: entry.key, prompts: [{ server, promptId }] });
  }

  record(entry: ManifestEntry): Promise<void> {
    this.#entries.set(entry.job, entry);
    return this.#append(entry);
  }

  #append(entry: ManifestEntry | SentEntry): Promise<void> {
    // Through the masking step (src/util/redact.ts), like every file this process writes.
    const line = `${maskedJson(entry)}\n`;
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
