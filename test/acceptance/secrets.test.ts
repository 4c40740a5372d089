/**
 * Issue 16, "secrets in files": a hostile ComfyUI-like server echoes the credential it was
 * sent (and terminal escape sequences) in every place a server's text reaches us: an HTML
 * login page on /object_info, an HTTP 500 body, `node_errors` of a refused prompt, and the
 * `exception_message` of a failed node. `comic generate` runs as a child process with
 * `--server` carrying the credential (COMFYUI_TOKEN for Bearer, `user:password@` for
 * Basic); afterwards no file under --out and --cache, and neither stdout nor stderr, holds
 * the credential in any form (raw, URL-encoded, base64 of user:password) or an ESC byte.
 * The server: test/support/hostile-comfy.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { ESC, FORMS, PASSWORD, startHostileComfy, TOKEN, USER, type HostileComfy, type HostileMode } from '../support/hostile-comfy.js';
import { runComic, writeExample } from '../support/process.js';
import { filesUnder } from '../support/files.js';

let dir: string;
let script: string;
let emulator: ComfyEmulator;
let hostile: HostileComfy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-secrets-'));
  script = await writeExample(join(dir, 'comic.yaml'));
  await writeFile(join(dir, 'comic.config.yaml'), 'timeouts: { reconnect: 1s }\n');
  emulator = await startComfyEmulator({ stepMs: 1 });
  hostile = await startHostileComfy(emulator);
});
afterEach(() => {
  emulator.faults.failNode = null;
});
afterAll(async () => {
  await hostile?.close();
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

let runs = 0;
async function generate(mode: HostileMode, auth: 'bearer' | 'basic', extra: readonly string[] = []) {
  hostile.mode = mode;
  const n = ++runs;
  const out = join(dir, `out-${n}`);
  const cache = join(dir, `cache-${n}`);
  const server = auth === 'basic' ? hostile.url.replace('http://', `http://${USER}:${encodeURIComponent(PASSWORD)}@`) : hostile.url;
  const run = await runComic(
    ['generate', script, '--server', server, '--no-fallback', '--config', join(dir, 'comic.config.yaml'), '--only', 'character:mara', '--out', out, '--cache', cache, ...extra],
    { cwd: dir, env: auth === 'bearer' ? { COMFYUI_TOKEN: TOKEN } : {}, timeout: 90_000 },
  );
  const texts: [string, string][] = [
    ['stdout', String(run.stdout)],
    ['stderr', String(run.stderr)],
  ];
  for (const file of [...(await filesUnder(out)), ...(await filesUnder(cache))]) texts.push([file, (await readFile(file)).toString('latin1')]);
  return { run, out, texts, forms: FORMS[auth] };
}

function expectClean({ texts, forms }: { texts: readonly [string, string][]; forms: readonly string[] }): void {
  for (const [where, text] of texts) {
    for (const form of forms) expect(text.includes(form), `${JSON.stringify(form)} in ${where}:\n${text.slice(0, 2000)}`).toBe(false);
    expect(text.includes(ESC), `ESC in ${where}:\n${text.slice(0, 2000)}`).toBe(false);
  }
}

describe('a server that echoes the credential and escape sequences', { timeout: 120_000 }, () => {
  it('an HTML login page on /object_info: the run stops, nothing anywhere holds the token (--plain)', async () => {
    const result = await generate('object-info-html', 'bearer', ['--plain']);
    const { run, out, texts } = result;
    expect(run.exitCode).not.toBe(0);
    expect(texts.map(([where]) => where)).toContain(join(out, 'report.md'));
    expectClean(result);
  });

  it('an HTTP 500 on /prompt with Basic auth: neither the password nor user:password in base64 (--json)', async () => {
    const result = await generate('prompt-500', 'basic', ['--json']);
    const { run, out, texts } = result;
    expect(run.exitCode).not.toBe(0);
    const report = texts.find(([where]) => where === join(out, 'report.json'))![1];
    expect(report).toContain('***');
    expectClean(result);
  });

  it('node_errors of a refused prompt (--plain)', async () => {
    const result = await generate('node-errors', 'bearer', ['--plain']);
    const { run, out, texts } = result;
    expect(run.exitCode).not.toBe(0);
    expect(texts.find(([where]) => where === join(out, 'report.md'))![1]).toContain('***');
    expectClean(result);
  });

  it('the exception_message of a failed node, on the WebSocket and in /history (--json)', async () => {
    emulator.faults.failNode = 'KSampler';
    const result = await generate('exception-message', 'bearer', ['--json']);
    const { run, out, texts } = result;
    expect(run.exitCode).not.toBe(0);
    const report = texts.find(([where]) => where === join(out, 'report.json'))![1];
    expect(report).toMatch(/failed on purpose/);
    expectClean(result);
  });
});
