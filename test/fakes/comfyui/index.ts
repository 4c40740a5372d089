/**
 * A faithful ComfyUI emulator (profiles 0.8.0 and 0.28.0, see profile.ts) for tests and development: real HTTP and WebSocket
 * servers on 127.0.0.1, the real node catalogue, validation, queue, history, cache, event
 * order and binary frames, with synthetic PNGs instead of diffusion. See docs/testing.md
 * ("ComfyUI emulator") for what it models and what it does not.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveModels } from './catalogue.js';
import { EmulatorCore, type PromptRecord } from './core.js';
import { Faults } from './faults.js';
import { renderPng } from './images.js';
import { resolveProfile, type Profile, type ProfileName } from './profile.js';
import { EmulatorServer, type LogEntry } from './server.js';
import { DEFAULT_VRAM_TOTAL } from './vram.js';
import { Workspace } from './workspace.js';

export { DEFAULT_MODELS, MODEL_FOLDERS } from './catalogue.js';
export { Faults } from './faults.js';
export type { HostileAnswer, HostileFilenameMode, HostileKind, HttpErrorRule, RoutePattern, StallRule } from './faults.js';
export { DEFAULT_PROFILE, PROFILE_NAMES, type ProfileName } from './profile.js';
export { BASELINE_BYTES, DEFAULT_VRAM_TOTAL } from './vram.js';

export interface ComfyEmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Milliseconds per sampler step (default 20); also `faults.stepMs` at run time. */
  stepMs?: number;
  /** Model folder → file names; a folder given here replaces that folder's default list. */
  models?: Partial<Record<string, string[]>>;
  /** Require `Authorization: Bearer <token>` or `?token=<token>` on HTTP and on the WebSocket upgrade. */
  token?: string;
  /** Require HTTP Basic credentials (either credential is enough when both are set). */
  basicAuth?: { user: string; password: string };
  /** Simulated VRAM in bytes (default 24 GiB). */
  vramTotal?: number;
  /** Which server version to be: '0.28' (the default) or '0.8'. */
  profile?: ProfileName;
  /** false: no /api/jobs routes at all (aiohttp's 404), as on servers older than 0.8.0. */
  jobsApi?: boolean;
  /** 0.28 only: as with `--enable-assets` (features.assets true, `assets.seed.*` broadcasts after uploads). */
  assets?: boolean;
}

export interface ComfyEmulator {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly faults: Faults;
  /** The server version this emulator is ('0.8' or '0.28'). */
  readonly profile: ProfileName;
  /** Every HTTP request seen (WebSocket upgrades included, as GET with status 101 or the refusal). */
  readonly log: readonly { method: string; path: string; status: number }[];
  /** Accepted prompts by prompt_id, with how many times the worker actually ran each. */
  readonly prompts: ReadonlyMap<string, { prompt: unknown; clientId: string | null; executions: number }>;
  vram(): { used: number; total: number };
  /** Takes node classes out of the catalogue at once (as if their pack were gone), without a restart. */
  removeNodes(classTypes: readonly string[]): void;
  /** Sends a message of any type to every registered socket, as newer servers do with types old clients do not know. */
  broadcast(type: string, data: Record<string, unknown>): void;
  /** Closes every WebSocket abruptly; clients must reconnect. */
  dropSockets(): void;
  /** Dies at once, mid-run: every socket destroyed, the port closed, the worker stopped. */
  kill(): Promise<void>;
  /** Graceful shutdown; removes the emulator's folders. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_STEP_MS = 20;

/** input/example.png, as every ComfyUI install ships it. */
async function seedInputFolder(workspace: Workspace): Promise<void> {
  const png = await renderPng({ hash: 'comfyui-emulator example.png', width: 512, height: 512, tints: [] }, 6);
  await writeFile(path.join(workspace.dir('input'), 'example.png'), png);
}

/** --enable-assets: the 0.28 feature flag says so (0.8.0 has no asset system). */
function withAssets(profile: Profile, assets: boolean): Profile {
  if (!assets) return profile;
  if (profile.name === '0.8') throw new Error('the 0.8 profile has no asset system (assets: true needs profile 0.28)');
  return { ...profile, assets: true, features: { ...profile.features, assets: true } };
}

export async function startComfyEmulator(options: ComfyEmulatorOptions = {}): Promise<ComfyEmulator> {
  const faults = new Faults(options.stepMs ?? DEFAULT_STEP_MS);
  const workspace = await Workspace.create();
  await seedInputFolder(workspace);
  const chosen = withAssets(resolveProfile(options.profile), options.assets === true);
  const profile = options.jobsApi === false ? { ...chosen, jobsApi: false, jobs: { ...chosen.jobs, cancelRoutes: false } } : chosen;
  const core = new EmulatorCore(faults, workspace, resolveModels(options.models), options.vramTotal ?? DEFAULT_VRAM_TOTAL, profile);
  const credentials = {
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.basicAuth !== undefined ? { basicAuth: options.basicAuth } : {}),
  };
  const server = new EmulatorServer(core, credentials);
  try {
    await server.listen(options.port ?? 0);
  } catch (error) {
    await workspace.remove();
    throw error;
  }
  const port = server.port;
  let dead = false;
  faults.bindRefuseHandler(async (refuse) => {
    if (dead) return;
    if (refuse) await server.stopListening();
    else await server.listen(port);
  });
  core.start();

  let killing: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  const kill = (): Promise<void> => {
    killing ??= (async () => {
      dead = true;
      await Promise.all([core.stop(), server.shutdown(false)]);
    })();
    return killing;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    faults,
    profile: profile.name,
    log: server.log as readonly LogEntry[],
    prompts: core.prompts as ReadonlyMap<string, PromptRecord>,
    vram: () => ({ used: core.vram.used(), total: core.vram.total }),
    broadcast: (type, data) => core.hub.send(type, data, null),
    removeNodes: (classTypes) => {
      for (const classType of classTypes) core.catalogue.remove(classType);
    },
    dropSockets: () => core.hub.dropAll(),
    kill,
    close: () => {
      closing ??= (async () => {
        if (!dead) {
          dead = true;
          await core.stop();
          await server.shutdown(true);
        }
        await killing;
        await workspace.remove();
      })();
      return closing;
    },
  };
}
