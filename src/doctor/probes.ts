/**
 * What `comic doctor` asks the outside world: each ComfyUI server (system_stats and
 * object_info, through the ComfyUI client's routes, so auth and errors are the same as in a
 * run), the SD API fallback, and the folders and disks a run writes to. Each probe answers
 * with a result, never by throwing: a failure is a finding.
 */
import { sdApiServer } from '../run/backends.js';
import { constants } from 'node:fs';
import { access, stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { FallbackConfig, ServerConfig } from '../config/index.js';
import { Routes } from '../comfy/routes.js';
import { Transport } from '../comfy/transport.js';
import { ComicError, isComicError } from '../errors.js';
import { SdApiClient } from '../sdapi/client.js';
import { parseObjectInfo, type ObjectInfo } from '../templates/index.js';

export type ComfyProbe =
  | {
      readonly ok: true;
      readonly server: ServerConfig;
      /** `"name" (url)`, as every message names a server. */
      readonly label: string;
      readonly version: string | null;
      readonly device: string | null;
      readonly vram: { readonly free: number; readonly total: number } | null;
      readonly objectInfo: ObjectInfo;
    }
  | { readonly ok: false; readonly server: ServerConfig; readonly label: string; readonly error: ComicError };

export async function probeComfy(server: ServerConfig, timeoutMs: number): Promise<ComfyProbe> {
  const routes = new Routes(new Transport(server, timeoutMs));
  const signal = AbortSignal.timeout(Math.max(timeoutMs, 60_000));
  try {
    const stats = await routes.systemStats(signal);
    const objectInfo = parseObjectInfo(await routes.objectInfo(signal), routes.label);
    const device = stats.devices[0];
    return {
      ok: true,
      server,
      label: routes.label,
      version: stats.system?.comfyui_version ?? null,
      device: device?.name ?? null,
      vram: device ? { free: device.vram_free, total: device.vram_total } : null,
      objectInfo,
    };
  } catch (error) {
    return { ok: false, server, label: routes.label, error: asComicError(error, `server ${routes.label}`) };
  }
}

export type FallbackProbe = { readonly ok: true; readonly url: string; readonly models: number } | { readonly ok: false; readonly url: string; readonly error: ComicError };

/** GET /sdapi/v1/sd-models: the webui answers it only when started with --api, and lists its checkpoints. */
export async function probeFallback(fallback: FallbackConfig, timeoutMs: number): Promise<FallbackProbe> {
  const client = new SdApiClient(sdApiServer(fallback));
  try {
    const models = await client.sdModels(AbortSignal.timeout(timeoutMs));
    return { ok: true, url: fallback.url, models: Array.isArray(models) ? models.length : 0 };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    const reason = timedOut ? new ComicError('SERVER_UNREACHABLE', `Stable Diffusion API at ${fallback.url} did not answer in ${Math.round(timeoutMs / 1000)} s`) : error;
    return { ok: false, url: fallback.url, error: asComicError(reason, `Stable Diffusion API at ${fallback.url}`) };
  }
}

export type FolderProbe =
  | { readonly ok: true; readonly path: string; readonly exists: boolean }
  | { readonly ok: false; readonly path: string; readonly reason: string };

/** Whether a run can write `path`: it is a writable folder, or the nearest existing parent is (then it will be created). */
export async function probeFolder(path: string): Promise<FolderProbe> {
  const target = resolve(path);
  const existing = await nearestExisting(target);
  try {
    const info = await stat(existing);
    if (!info.isDirectory()) return { ok: false, path: target, reason: `${existing} is a file, not a folder` };
    await access(existing, constants.W_OK | constants.X_OK);
    return { ok: true, path: target, exists: existing === target };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { ok: false, path: target, reason: existing === target ? `${target} is not writable (${code})` : `${target} cannot be created: ${existing} is not writable (${code})` };
  }
}

export interface DiskProbe {
  /** The folder the numbers are about (the nearest existing one). */
  readonly path: string;
  readonly free: number;
  readonly total: number;
}

/** Free space for the disk that holds `path` (via its nearest existing folder). */
export async function probeDisk(path: string): Promise<DiskProbe | null> {
  const existing = await nearestExisting(resolve(path));
  try {
    const fs = await statfs(existing);
    return { path: existing, free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
  } catch {
    return null;
  }
}

/** The device a path is on, to count a disk once when output and cache share it. */
export async function deviceOf(path: string): Promise<number | null> {
  try {
    return (await stat(await nearestExisting(resolve(path)))).dev;
  } catch {
    return null;
  }
}

async function nearestExisting(path: string): Promise<string> {
  let current = path;
  for (;;) {
    try {
      await stat(current);
      return current;
    } catch {
      const parent = dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

function asComicError(error: unknown, what: string): ComicError {
  if (isComicError(error)) return error;
  return new ComicError('SERVER_UNREACHABLE', `${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
