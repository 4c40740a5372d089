/** Command-line options of `npm run fake-sdapi` (see main.ts). */
import { parseArgs } from 'node:util';
import type { SdApiEmulatorOptions } from './index.js';

export const USAGE =
  'usage: npm run fake-sdapi -- [--port N] [--step-ms N] [--api-auth user:pass] [--models a.safetensors,b.ckpt]';

/** webui's own default port when started with --nowebui. */
const DEFAULT_PORT = 7861;

export class UsageError extends Error {}

function nonNegativeInteger(flag: string, raw: string): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) throw new UsageError(`${flag} must be a whole number ≥ 0, got "${raw}"`);
  return value;
}

export function parseCommandLine(argv: readonly string[]): SdApiEmulatorOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        'step-ms': { type: 'string' },
        'api-auth': { type: 'string' },
        models: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  const options: SdApiEmulatorOptions = { port: DEFAULT_PORT };
  if (values.port !== undefined) options.port = nonNegativeInteger('--port', values.port);
  if (values['step-ms'] !== undefined) options.stepMs = nonNegativeInteger('--step-ms', values['step-ms']);
  const auth = values['api-auth'];
  if (auth !== undefined) {
    const colon = auth.indexOf(':');
    if (colon <= 0) throw new UsageError('--api-auth must be user:password');
    options.apiAuth = { user: auth.slice(0, colon), password: auth.slice(colon + 1) };
  }
  if (values.models !== undefined) {
    const models = values.models.split(',').map((m) => m.trim()).filter((m) => m !== '');
    if (models.length === 0) throw new UsageError('--models needs at least one checkpoint file name');
    options.models = models;
  }
  return options;
}
