/**
 * Starting and stopping leaves nothing behind (no listening servers, sockets or timers, no
 * folders), and the command-line runner serves until SIGINT.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startComfyEmulator } from '../fakes/comfyui/index.js';
import { http, queuePrompt, slowWorkflow, WsRecorder } from './helpers.js';

/** Handles that would keep the process alive, by kind. */
function liveHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TCPServerWrap' || kind === 'TCPSocketWrap' || kind === 'Timeout') counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/** vitest's own timers come and go, so compare as "no more than before". */
function expectNoMoreThan(before: Map<string, number>): void {
  for (const [kind, count] of liveHandles()) expect(count, kind).toBeLessThanOrEqual(before.get(kind) ?? 0);
}

/** An emulator in the middle of a long run, with a socket watching it. */
async function busyEmulator(): Promise<{ emu: Awaited<ReturnType<typeof startComfyEmulator>>; ws: WsRecorder }> {
  const emu = await startComfyEmulator({ stepMs: 5 });
  const ws = await WsRecorder.open(emu.url);
  await queuePrompt(emu, { prompt: slowWorkflow({ steps: 100 }), client_id: ws.sid });
  await ws.waitFor((m) => m.kind === 'json' && m.type === 'progress');
  return { emu, ws };
}

describe('lifecycle', () => {
  it('close() mid-run, with a stalled request, leaves no servers, sockets or timers of its own', async () => {
    const before = liveHandles();
    const { emu, ws } = await busyEmulator();
    emu.faults.stall.push({ route: '/queue', delayMs: 60_000 });
    const stalled = http(emu.url, 'GET', '/queue').catch(() => 'dropped');
    await emu.close();
    expect(await stalled).toBe('dropped');
    await ws.waitFor((m) => m.kind === 'closed');
    await new Promise((r) => setImmediate(r));
    expectNoMoreThan(before);
  });

  it('kill() then close() also leaves nothing running', async () => {
    const before = liveHandles();
    const { emu, ws } = await busyEmulator();
    await emu.kill();
    await emu.close();
    await ws.waitFor((m) => m.kind === 'closed');
    await new Promise((r) => setImmediate(r));
    expectNoMoreThan(before);
  });
});

describe('npm run fake-comfyui', () => {
  it('prints its URL, honours --models/--token/--step-ms, and stops on SIGINT', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fake-comfyui-cli-'));
    const models = path.join(dir, 'models.json');
    await writeFile(models, JSON.stringify({ checkpoints: ['cli.safetensors'] }));
    const main = fileURLToPath(new URL('../fakes/comfyui/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--step-ms', '1', '--models', models, '--token', 'T'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${String(code)}`)));
      });
      expect((await http(url, 'GET', '/models/checkpoints')).status).toBe(401);
      expect((await http(url, 'GET', '/models/checkpoints', undefined, { authorization: 'Bearer T' })).json).toEqual(['cli.safetensors']);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a bad models file with a clear message and exit code 2', async () => {
    const main = fileURLToPath(new URL('../fakes/comfyui/main.ts', import.meta.url));
    const missing = path.join(tmpdir(), 'no-such-models-file.json');
    expect(existsSync(missing)).toBe(false);
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--models', missing], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toContain(`--models ${missing}: cannot read it as JSON`);
  });
});
