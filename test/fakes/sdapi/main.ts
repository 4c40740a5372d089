/**
 * `npm run fake-sdapi -- [--port N] [--step-ms N] [--api-auth user:pass] [--models a.safetensors,b.ckpt]`
 * Starts the SD API emulator, prints its URL on stdout and runs until SIGINT or SIGTERM.
 */
import { parseCommandLine, UsageError, USAGE } from './cli-args.js';
import { startSdApiEmulator, type SdApiEmulatorOptions } from './index.js';

async function main(): Promise<number> {
  let options: SdApiEmulatorOptions;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`fake-sdapi: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  const emulator = await startSdApiEmulator(options);
  process.stdout.write(`${emulator.url}\n`);
  process.stderr.write(`SD API emulator listening on ${emulator.url}${options.apiAuth ? ' (basic auth on)' : ''}; Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emulator.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fake-sdapi: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
