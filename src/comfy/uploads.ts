/**
 * Input images (character sheets, reference images) go to each server once per content:
 * a cache keyed by sha256 maps to the name the server gave the file, and concurrent
 * requests for the same content share one upload.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Routes } from './routes.js';

export interface UploadInput {
  /** Absolute path of the file on this machine. */
  readonly file: string;
  /** sha256 of its bytes (hex). */
  readonly sha256: string;
}

/** The name we ask for: derived from the content, so a re-upload of the same bytes is recognised by the server too. */
export function uploadName(input: UploadInput): string {
  const ext = extname(input.file).toLowerCase().replace(/[^.a-z0-9]/g, '') || '.png';
  return `comic_${input.sha256.slice(0, 24)}${ext}`;
}

export class UploadCache {
  readonly #names = new Map<string, Promise<string>>();

  constructor(private readonly routes: Routes) {}

  /** The name to put in LoadImage for this content, uploading it first if this server has not got it. */
  upload(input: UploadInput, signal: AbortSignal): Promise<string> {
    const known = this.#names.get(input.sha256);
    if (known !== undefined) return known;
    const pending = this.#send(input, signal);
    this.#names.set(input.sha256, pending);
    // A failed upload is forgotten so the next job tries again.
    pending.catch(() => this.#names.delete(input.sha256));
    return pending;
  }

  /** Content hashes already on the server (for tests and diagnostics). */
  get size(): number {
    return this.#names.size;
  }

  async #send(input: UploadInput, signal: AbortSignal): Promise<string> {
    const bytes = await readFile(input.file);
    return this.routes.uploadImage(bytes, uploadName(input), signal);
  }
}
