/**
 * `npm run fake-comfyui -- --port 8188 --step-ms 20 --models models.json --token T --profile 0.28 [--enable-assets]`
 * Runs the ComfyUI emulator until SIGINT/SIGTERM. The models file is JSON: folder → file names,
 * e.g. {"checkpoints": ["a.safetensors"], "loras": []}; folders it names replace the defaults.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { PROFILE_NAMES, startComfyEmulator, type ComfyEmulatorOptions, type ProfileName } from './index.js';

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer, got "${text}"`);
  return value;
}

async function readModels(file: string): Promise<Partial<Record<string, string[]>>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`--models ${file}: cannot read it as JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`--models ${file}: expected an object of folder → list of file names`);
  }
  const models: Partial<Record<string, string[]>> = {};
  for (const [folder, files] of Object.entries(parsed)) {
    if (!Array.isArray(files) || !files.every((f) => typeof f === 'string')) {
      throw new Error(`--models ${file}: "${folder}" must be a list of file names`);
    }
    models[folder] = files as string[];
  }
  return models;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8188' },
      'step-ms': { type: 'string' },
      models: { type: 'string' },
      token: { type: 'string' },
      'vram-gb': { type: 'string' },
      profile: { type: 'string' },
      'enable-assets': { type: 'boolean' },
    },
    strict: true,
  });
  const options: ComfyEmulatorOptions = { port: integer('port', values.port) ?? 8188 };
  const stepMs = integer('step-ms', values['step-ms']);
  if (stepMs !== undefined) options.stepMs = stepMs;
  if (values.models !== undefined) options.models = await readModels(values.models);
  if (values.token !== undefined) options.token = values.token;
  const vramGb = integer('vram-gb', values['vram-gb']);
  if (vramGb !== undefined) options.vramTotal = vramGb * 1024 ** 3;
  if (values.profile !== undefined) {
    if (!(PROFILE_NAMES as readonly string[]).includes(values.profile)) throw new Error(`--profile must be one of ${PROFILE_NAMES.join(', ')}, got "${values.profile}"`);
    options.profile = values.profile as ProfileName;
  }
  if (values['enable-assets'] === true) options.assets = true;

  // Handle signals before starting, so a stop during start-up still removes the temp folders.
  let stopRequested = false;
  let emulator: Awaited<ReturnType<typeof startComfyEmulator>> | undefined;
  const stop = (): void => {
    stopRequested = true;
    if (emulator !== undefined) void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  emulator = await startComfyEmulator(options);
  if (stopRequested) return stop();
  process.stdout.write(`ComfyUI emulator listening on ${emulator.url} (ComfyUI ${emulator.profile} profile)${options.token !== undefined ? ' (token required)' : ''}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`fake-comfyui: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
