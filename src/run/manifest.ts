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
  /** The file ends in a torn line: the first append starts a line of its own, or it would be lost with the fragment. */
  #torn = false;

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<RunManifest> {
    const manifest = new RunManifest(path);
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return manifest;
    }
    manifest.#torn = text.length > 0 && !text.endsWith('\n');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue; // a torn line from a crash mid-append: that job simply is not recorded
      }
      // A line of any other shape (a damaged or hand-edited file) records nothing either: the job is done again.
      const sent = sentEntry(value);
      if (sent) manifest.#noteSent(sent);
      const finished = sent ? null : finishedEntry(value);
      if (finished) manifest.#entries.set(finished.job, finished);
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
    const { server, promptId } = entry.sent;
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
    const line = `${this.#torn ? '\n' : ''}${maskedJson(entry)}\n`;
    this.#torn = false;
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

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string';

/** A `sent` line as recordSent writes it, or null. */
function sentEntry(value: unknown): SentEntry | null {
  if (!isRecord(value) || !isText(value.job) || !isText(value.key) || !isRecord(value.sent)) return null;
  const { server, promptId } = value.sent;
  if (!isText(server) || !isText(promptId)) return null;
  return { job: value.job, key: value.key, at: isText(value.at) ? value.at : '', sent: { server, promptId } };
}

/** A finished job's line as record writes it, or null. */
function finishedEntry(value: unknown): ManifestEntry | null {
  if (!isRecord(value) || 'sent' in value || !isText(value.job) || !isText(value.key) || !isText(value.at) || !isText(value.output)) return null;
  if (value.status !== 'done' && value.status !== 'cached') return null;
  // Who made it is only reported; a line without it (or with something odd there) still counts.
  const backend = isText(value.backend) ? (value.backend as ManifestEntry['backend']) : null;
  const server = isText(value.server) ? value.server : null;
  return { job: value.job, key: value.key, status: value.status, output: value.output, backend, server, at: value.at };
}
