/**
 * Outputs come down from `/view` as a stream into a temp file that is renamed into place,
 * at a path we chose. The server's file name is only ever a query parameter: one that
 * tries to climb out of its folder is refused before any request is made.
 */
import { ComicError } from '../errors.js';
import { cancelledError } from './signals.js';
import { writeStreamAtomic } from '../util/fs.js';
import type { Routes } from './routes.js';
import type { FileRef } from './types.js';

const FOLDER_TYPES = new Set(['output', 'temp', 'input']);

/** Refuses names that a well-behaved ComfyUI never produces and a hostile one might. */
export function checkFileRef(ref: FileRef, serverLabel: string): void {
  const problem = fileRefProblem(ref);
  if (problem !== null) {
    throw new ComicError('SERVER_PROTOCOL', `server ${serverLabel} reported an output file we refuse to fetch: ${problem}`, {
      hint: 'a ComfyUI server only reports plain file names; this server (or a proxy) is misbehaving',
    });
  }
}

function fileRefProblem(ref: FileRef): string | null {
  const name = JSON.stringify(ref.filename);
  if (ref.filename === '' || ref.filename === '.' || ref.filename === '..') return `file name ${name}`;
  if (/[/\\\0]/.test(ref.filename) || /^[a-z]:/i.test(ref.filename)) return `file name ${name} is a path`;
  if (ref.subfolder !== '') {
    if (ref.subfolder.includes('\0') || /^([/\\]|[a-z]:)/i.test(ref.subfolder)) return `subfolder ${JSON.stringify(ref.subfolder)} is absolute`;
    if (ref.subfolder.split(/[/\\]/).some((part) => part === '..')) return `subfolder ${JSON.stringify(ref.subfolder)} climbs out of its folder`;
  }
  if (!FOLDER_TYPES.has(ref.type)) return `folder type ${JSON.stringify(ref.type)} for ${name}`;
  return null;
}

/** Streams `ref` to `destination` (a path the caller chose) atomically. */
export async function downloadFile(routes: Routes, ref: FileRef, destination: string, signal: AbortSignal): Promise<void> {
  checkFileRef(ref, routes.label);
  const { response, idle } = await routes.view(ref, signal);
  const body = response.body;
  try {
    if (body === null) throw routes.transport.protocolError('GET', '/view', `no body for ${JSON.stringify(ref.filename)}`);
    await writeStreamAtomic(destination, touching(body, idle.touch));
  } catch (error) {
    if (signal.aborted) throw cancelledError(`the download of ${ref.filename}`);
    if (idle.expired()) {
      throw new ComicError('SERVER_UNREACHABLE', `server ${routes.label} stopped sending ${JSON.stringify(ref.filename)} (silence budget exceeded)`);
    }
    if (error instanceof ComicError) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new ComicError('SERVER_UNREACHABLE', `server ${routes.label}: the download of ${JSON.stringify(ref.filename)} broke off (${why})`, { cause: error });
  } finally {
    idle.dispose();
  }
}

/** Passes chunks through, restarting the silence budget on each. */
async function* touching(body: ReadableStream<Uint8Array>, touch: () => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    touch();
    yield chunk;
  }
}
