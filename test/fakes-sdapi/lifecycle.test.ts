import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../fakes/sdapi/cli-args.js';
import { startSdApiEmulator } from '../fakes/sdapi/index.js';
import { generate, waitFor } from './helpers.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = 'test/fakes/sdapi/main.ts';

/** Our sockets and servers among the event loop's live resources. */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind.startsWith('TCP')).length;
}

describe('start and stop', () => {
  it('leaves no TCP handle behind after close()', async () => {
    const before = tcpHandles();
    const emu = await startSdApiEmulator({ stepMs: 0 });
    await generate(emu, 'txt2img', { steps: 1, width: 64, height: 64 });
    expect(tcpHandles()).toBeGreaterThan(before);
    await emu.close();
    await waitFor(() => tcpHandles() === before);
  });

  it('leaves no TCP handle behind after kill()', async () => {
    const before = tcpHandles();
    const emu = await startSdApiEmulator({ stepMs: 0 });
    await generate(emu, 'txt2img', { steps: 1, width: 64, height: 64 });
    await emu.kill();
    await waitFor(() => tcpHandles() === before);
  });

  it('two emulators on ephemeral ports run side by side', async () => {
    const [a, b] = await Promise.all([startSdApiEmulator(), startSdApiEmulator()]);
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(a.url).not.toBe(b.url);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses an empty model list', async () => {
    await expect(startSdApiEmulator({ models: [] })).rejects.toThrow(/at least one checkpoint/);
  });
});

describe('command line', () => {
  it('parses --port, --step-ms, --api-auth and --models', () => {
    expect(parseCommandLine(['--port', '0', '--step-ms', '5', '--api-auth', 'me:pa:ss', '--models', 'a.safetensors, b.ckpt'])).toEqual({
      port: 0,
      stepMs: 5,
      apiAuth: { user: 'me', password: 'pa:ss' },
      models: ['a.safetensors', 'b.ckpt'],
    });
    expect(parseCommandLine([])).toEqual({ port: 7861 });
  });

  it('rejects malformed options with a usage error', () => {
    for (const argv of [['--port', 'x'], ['--api-auth', 'nocolon'], ['--api-auth', ':pw'], ['--models', ','], ['--bogus'], ['--step-ms', '-1']]) {
      expect(() => parseCommandLine(argv), argv.join(' ')).toThrow(UsageError);
    }
  });

  it('npm run fake-sdapi prints its URL, serves with auth, and exits 0 on SIGINT', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', '0', '--step-ms', '1', '--api-auth', 'u:p'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const url = await waitFor(() => /^(http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout)?.[1]);
    const anonymous = await fetch(`${url}/sdapi/v1/sd-models`);
    expect(anonymous.status).toBe(401);
    await anonymous.text();
    const authorised = await fetch(`${url}/sdapi/v1/sd-models`, { headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } });
    expect(authorised.status).toBe(200);
    await authorised.text();
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    expect(await exited).toEqual([0, null]);
  });

  it('exits 2 with the usage on a bad option', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--api-auth', 'nocolon'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--api-auth must be user:password\nusage: npm run fake-sdapi/);
  });
});
