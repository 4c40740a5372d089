/**
 * Issue 16, "secrets in files", beyond `generate`: the other commands that print what a
 * server said. A hostile ComfyUI-like server (test/support/hostile-comfy.ts) echoes the
 * bearer token it was sent, with terminal escape sequences, in healthy-looking answers (its
 * version, its device, its checkpoint names: mode `catalogue-echo`) and in an HTML login page
 * on /object_info. `comic doctor` (text and --json), `comic templates validate --server` and
 * `templates import --server`, `comic validate` on a script with escape sequences in it, and
 * the `comfyui.launch` log line: no form of the token and no ESC byte in stdout, stderr or any
 * file under the project, output, cache and user config folders.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { launchIfDown } from '../../src/run/launch.js';
import { Secret } from '../../src/config/secret.js';
import { rememberSecrets } from '../../src/util/redact.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { ESC, FORMS, startHostileComfy, TOKEN, type HostileComfy, type HostileMode } from '../support/hostile-comfy.js';
import { filesUnder } from '../support/files.js';

let dir: string;
let userDir: string;
let emulator: ComfyEmulator;
let hostile: HostileComfy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-secrets-commands-'));
  userDir = join(dir, 'user-config');
  emulator = await startComfyEmulator({ stepMs: 1 });
  hostile = await startHostileComfy(emulator);
  // The token is the configured server's (a file names its credentials itself).
  await writeFile(
    join(dir, 'comic.config.yaml'),
    [`servers:`, `  - url: ${hostile.url}`, `    name: hostile`, `    auth: { bearer: "\${COMFYUI_TOKEN}" }`, `output: ${join(dir, 'out')}`, `cache: ${join(dir, 'cache')}`, 'timeouts: { connect: 5s }', ''].join('\n'),
  );
});
afterAll(async () => {
  await hostile?.close();
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

async function comic(mode: HostileMode, args: readonly string[]) {
  hostile.mode = mode;
  const cli = memoryIO({ cwd: dir, env: { COMFYUI_TOKEN: TOKEN, COMIC_USER_CONFIG_DIR: userDir, NO_COLOR: '1' } });
  const code = await main(['node', 'comic', ...args], cli.io);
  const texts: [string, string][] = [
    ['stdout', cli.stdout()],
    ['stderr', cli.stderr()],
  ];
  for (const file of await filesUnder(dir)) texts.push([file, (await readFile(file)).toString('latin1')]);
  return { code, stdout: cli.stdout(), stderr: cli.stderr(), texts };
}

function expectClean(texts: readonly [string, string][]): void {
  for (const [where, text] of texts) {
    for (const form of FORMS.bearer) expect(text.includes(form), `${JSON.stringify(form)} in ${where}:\n${text.slice(0, 3000)}`).toBe(false);
    expect(text.includes(ESC), `ESC in ${where}:\n${text.slice(0, 3000)}`).toBe(false);
  }
}

describe('commands that print what a hostile server said', { timeout: 60_000 }, () => {
  it('comic doctor: the server version, device and checkpoint names echo the token; masked in every line', async () => {
    const run = await comic('catalogue-echo', ['doctor', '--no-fallback']);
    // The echo did reach doctor's findings (masked), so this run shows the masking at work.
    expect(run.stdout).toContain('denied for Bearer ***');
    expect(run.stdout).toContain('\\u001b[31m');
    expectClean(run.texts);
  });

  it('comic doctor --json: the same, in the JSON document', async () => {
    const run = await comic('catalogue-echo', ['doctor', '--no-fallback', '--json']);
    const report = JSON.parse(run.stdout) as { checks: { id: string; message: string }[] };
    expect(report.checks.find((c) => c.id === 'server:hostile')?.message).toContain('***');
    expectClean(run.texts);
  });

  it('comic doctor against an HTML login page on /object_info that echoes the token', async () => {
    const run = await comic('object-info-html', ['doctor', '--no-fallback']);
    expect(run.code).not.toBe(0);
    expectClean(run.texts);
  });

  it('comic templates validate --server: the server lists only checkpoints named with the token', async () => {
    const run = await comic('catalogue-echo', ['templates', 'validate', '--server', hostile.url]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('the server has');
    expect(run.stdout).toContain('***');
    expectClean(run.texts);
    const json = await comic('catalogue-echo', ['templates', 'validate', '--server', hostile.url, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ templates: expect.any(Array) });
    expectClean(json.texts);
  });

  it('comic templates validate --server against the HTML login page: the error is masked', async () => {
    const run = await comic('object-info-html', ['templates', 'validate', '--server', hostile.url]);
    expect(run.code).not.toBe(0);
    expectClean(run.texts);
  });

  it('comic templates import --server: the preflight against the echoing catalogue is masked, and so are the files written', async () => {
    const workflow = join(dir, 'echo-flow.json');
    await writeFile(
      workflow,
      JSON.stringify({
        '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
      }),
    );
    const run = await comic('catalogue-echo', ['templates', 'import', workflow, '--server', hostile.url, '--out', join(dir, 'templates', 'echo-flow'), '--force']);
    expectClean(run.texts);
  });
});

describe('comic validate', () => {
  it('escape sequences in a script reach no terminal: diagnostics show them as visible escapes', async () => {
    const script = join(dir, 'escapes.yaml');
    await writeFile(script, `comic:\n  title: "x"\n  bogus${ESC}[2J: 1\npages:\n  - layout: "${ESC}]0;pwned${ESC}\\\\"\n    panels: [{ prompt: a }]\n`);
    const run = await comic('catalogue-echo', ['validate', script]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('\\u001b');
    const json = await comic('catalogue-echo', ['validate', script, '--json']);
    expect(json.code).toBe(2);
    await rm(script);
    // The script itself holds them, of course; nothing else does.
    for (const texts of [run.texts, json.texts]) expectClean(texts.filter(([where]) => where !== script));
  });
});

describe('comfyui.launch', () => {
  it('the "starting …" line masks a credential in the launch args', async () => {
    rememberSecrets([new Secret(TOKEN)]);
    const lines: string[] = [];
    const started = launchIfDown({
      url: 'http://127.0.0.1:9', // nothing listens there
      launch: { command: process.execPath, args: ['-e', 'process.exit(3)', '--api-key', TOKEN, `\u001b[2J`], cwd: dir, env: {} },
      signal: AbortSignal.timeout(20_000),
      startTimeoutMs: 10_000,
      log: (line) => lines.push(line),
    });
    await expect(started).rejects.toThrow(/exited with code/);
    expect(lines.join('\n')).toContain('--api-key ***');
    expectClean([['launch log', lines.join('\n')]]);
  });
});
