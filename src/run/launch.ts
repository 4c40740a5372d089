/**
 * Starts a local ComfyUI when the config says how (`comfyui.launch`) and the first server
 * does not answer, waits until it does, and stops it when the run ends. A server that is
 * already up is left alone: we only stop what we started.
 */
import { execa, type ResultPromise } from 'execa';
import type { LaunchConfig } from '../config/index.js';
import { ComicError } from '../errors.js';
import { mask } from '../util/redact.js';

export interface LaunchedServer {
  /** Stops the process we started: SIGTERM, then SIGKILL if it lingers. */
  stop(): Promise<void>;
}

export interface LaunchOptions {
  readonly url: string;
  readonly launch: LaunchConfig;
  readonly signal: AbortSignal;
  /** How long a starting ComfyUI may take to answer (it loads custom nodes first). */
  readonly startTimeoutMs?: number;
  readonly log: (line: string) => void;
}

/** Launch args may carry a credential (`--api-key ${TOKEN}`): every line is masked before it is logged. */
function logger(options: LaunchOptions): (line: string) => void {
  return (line) => options.log(mask(line));
}

/** Returns null when the server is already up (nothing was started). */
export async function launchIfDown(options: LaunchOptions): Promise<LaunchedServer | null> {
  if (await answers(options.url, options.signal)) return null;
  const { launch } = options;
  const log = logger(options);
  log(`comic: no ComfyUI at ${options.url}; starting ${launch.command} ${launch.args.join(' ')} in ${launch.cwd}`);
  const env = Object.fromEntries(Object.entries(launch.env).map(([k, v]) => [k, v.reveal()]));
  const child: ResultPromise = execa(launch.command, [...launch.args], { cwd: launch.cwd, env, stdio: 'ignore', reject: false, cleanup: true, forceKillAfterDelay: 5000 });
  let exited = false;
  void child.then(() => (exited = true));

  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  const stop = async () => {
    if (!exited) child.kill('SIGTERM');
    await child;
  };
  while (!(await answers(options.url, options.signal))) {
    if (exited) {
      const result = await child;
      throw new ComicError('SERVER_UNREACHABLE', `the local ComfyUI (${launch.command}) exited with code ${result.exitCode ?? result.signal} before answering at ${options.url}`, {
        hint: 'run the comfyui.launch command by hand to see its output',
      });
    }
    if (Date.now() > deadline || options.signal.aborted) {
      await stop();
      throw new ComicError('SERVER_UNREACHABLE', `the local ComfyUI did not answer at ${options.url} within ${Math.round((options.startTimeoutMs ?? 120_000) / 1000)} s of starting`, {
        hint: 'check comfyui.launch in comic.config.yaml (command, args, cwd) and the port it listens on',
      });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`comic: ComfyUI is up at ${options.url}`);
  return { stop };
}

async function answers(url: string, signal: AbortSignal): Promise<boolean> {
  try {
    const response = await fetch(new URL('api/system_stats', url.endsWith('/') ? url : `${url}/`), {
      signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]),
    });
    await response.body?.cancel();
    // Any answer but a gateway error means a server is there (a 401 is an auth problem, not a missing server).
    return response.status < 500;
  } catch {
    return false;
  }
}
