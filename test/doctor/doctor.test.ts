/**
 * `comic doctor` against the ComfyUI and SD API emulators: all green, a server down, a
 * missing model, no backend at all, bad config, an unwritable folder, a full disk: each
 * with its message, what to do, and its exit code.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryIO, type CliContext } from '../../src/cli/io.js';
import { createDoctorCommand } from '../../src/cli/commands/doctor.js';
import { main } from '../../src/cli/main.js';
import { startComfyEmulator, type ComfyEmulator } from '../fakes/comfyui/index.js';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';

// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

let healthy: ComfyEmulator;
let sdxlLess: ComfyEmulator;
let sd: SdApiEmulator;
/** A URL where nothing listens: an emulator that was started and killed. */
let deadUrl: string;
let cwd: string;

beforeAll(async () => {
  [healthy, sdxlLess, sd] = await Promise.all([
    startComfyEmulator({ stepMs: 0 }),
    startComfyEmulator({ stepMs: 0, models: { checkpoints: ['v1-5-pruned-emaonly.safetensors'] } }),
    startSdApiEmulator({ stepMs: 0 }),
  ]);
  const dead = await startComfyEmulator();
  deadUrl = dead.url;
  await dead.close();
});
afterAll(async () => {
  await Promise.all([healthy.close(), sdxlLess.close(), sd.close()]);
});
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'comic-doctor-'));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

async function doctor(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = memoryIO({ cwd, env });
  const code = await main(['node', 'comic', 'doctor', ...args], cli.io);
  return { code, out: plain(cli.stdout()), err: cli.stderr() };
}

async function doctorJson(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { code, out } = await doctor([...args, '--json'], env);
  const report = JSON.parse(out) as { ok: boolean; exitCode: number; checks: { id: string; status: string; message: string; fix: string | null; code: string | null }[] };
  expect(report.exitCode).toBe(code);
  // The exit code follows the checks: non-zero exactly when one of them failed.
  expect(report.exitCode !== 0).toBe(report.checks.slice(0, -1).some((c) => c.status === 'failed'));
  return { code, report, check: (id: string) => report.checks.find((c) => c.id === id)! };
}

describe('comic doctor', () => {
  it('all green: server version and VRAM, every template, the fallback, folders, disk; exit 0', async () => {
    const { code, out } = await doctor(['--server', healthy.url, '--fallback', sd.url]);
    expect(out).toContain(`✔ 127.0.0.1:${healthy.port} up, ComfyUI 0.28.0, `); // the emulator's default profile
    expect(out).toMatch(/VRAM \d+\.\d GiB free of 24\.0 GiB/);
    expect(out).toContain(`127.0.0.1:${healthy.port}: templates: all 12 templates can run`);
    expect(out).toContain(`SD API fallback ${sd.url}: reachable, 2 checkpoints`);
    expect(out).toMatch(/Free disk: .* free of /);
    expect(out).toContain('✔ comic generate can run: 1 of 1 ComfyUI server can run every default template');
    expect(out).not.toContain('✖');
    expect(code).toBe(0);
  });

  it('reports every check as JSON', async () => {
    const { code, report } = await doctorJson(['--server', healthy.url, '--fallback', sd.url]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['config', 'ok'],
      ['templates', 'ok'],
      [`server:127.0.0.1:${healthy.port}`, 'ok'],
      [`templates:127.0.0.1:${healthy.port}`, 'ok'],
      ['fallback', 'ok'],
      ['output', 'ok'],
      ['cache', 'ok'],
      ['disk', expect.stringMatching(/^(ok|warning)$/)],
      ['generate', expect.stringMatching(/^(ok|warning)$/)],
    ]);
  });

  it('one server down: says which and how to fix it, and still exits 0 when another server covers', async () => {
    const { code, out } = await doctor(['--server', healthy.url, '--server', deadUrl]);
    expect(out).toContain(`⚠ ${new URL(deadUrl).host}: server "${new URL(deadUrl).host}" (${deadUrl}) did not answer GET /api/system_stats (ECONNREFUSED)`);
    expect(out).toContain('check that ComfyUI is running and reachable at that address');
    expect(out).toContain('comic generate can run: 1 of 2 ComfyUI servers can run every default template');
    expect(out).toContain('1 down');
    expect(code).toBe(0);
    const { check } = await doctorJson(['--server', healthy.url, '--server', deadUrl]);
    expect(check(`server:${new URL(deadUrl).host}`)).toMatchObject({ status: 'warning', code: 'SERVER_UNREACHABLE' });
  });

  it('off a terminal, one line per check with its own verdict: a failed server is ✖, a warning ⚠, never ✔ with either', async () => {
    const host = new URL(deadUrl).host;
    const { code, out } = await doctor(['--server', deadUrl, '--no-fallback']);
    const lines = out.split('\n');
    expect(lines).toContain(`✖ ${host}: server "${host}" (${deadUrl}) did not answer GET /api/system_stats (ECONNREFUSED) (SERVER_UNREACHABLE)`);
    expect(lines).toContain('  → check that ComfyUI is running and reachable at that address');
    expect(lines).toContain(`↓ ${host}: templates: not checked (the server does not answer)`);
    expect(lines).toContain('⚠ SD API fallback: none configured: a run stops when no ComfyUI server answers');
    expect(lines.filter((line) => /^✔ .*(⚠|✖)/.test(line) || (line.startsWith('✔') && line.includes(host)))).toEqual([]);
    // Every line carries a verdict or belongs to the one above it: no "started" lines, nothing ticked in passing.
    expect(lines.filter((line) => line !== '' && !/^(✔|⚠|✖|↓) |^ {2}/.test(line))).toEqual([]);
    expect(code).toBe(3);
  });

  it('names a server by its name, with its URL when the name does not say it', async () => {
    await writeFile(join(cwd, 'comic.config.yaml'), `servers:\n  - url: ${healthy.url}\n    name: gpu-a\n`);
    const { code, out } = await doctor(['--no-fallback']);
    expect(out).toContain(`✔ gpu-a (${healthy.url}) up, ComfyUI 0.28.0, `); // the emulator's default profile
    expect(out).toContain('✔ gpu-a: templates: all 12 templates can run');
    expect(code).toBe(0);
  });

  it('the only server down and no fallback: no backend, exit 3', async () => {
    const { code, out } = await doctor(['--server', deadUrl]);
    expect(out).toContain('✖ comic generate cannot run: no ComfyUI server answers and no SD API fallback is configured');
    expect(out).toContain('error code NO_BACKEND (docs/errors.md)');
    expect(out).toContain('→ start ComfyUI (or pass --server URL), or configure a reachable SD API fallback');
    expect(code).toBe(3);
  });

  it('the only server down but the fallback answers: runs will use the SD API; exit 0', async () => {
    const { code, report, check } = await doctorJson(['--server', deadUrl, '--fallback', sd.url]);
    expect(code).toBe(0);
    expect(check('generate')).toMatchObject({ status: 'warning' });
    expect(check('generate').message).toContain(`it will use the SD API fallback ${sd.url}`);
    expect(report.ok).toBe(true);
    // The fallback does the server's work, so the server being down is a warning, not a failure.
    expect(check(`server:${new URL(deadUrl).host}`)).toMatchObject({ status: 'warning', code: 'SERVER_UNREACHABLE' });
  });

  it('a missing model: names the template, the model, the server and what it has; exit 2', async () => {
    const { code, out } = await doctor(['--server', sdxlLess.url, '--fallback', sd.url]);
    expect(out).toContain(`checkpoints model "sdxl-base" (required by panel@1.0.0) is not available on "127.0.0.1:${sdxlLess.port}" (${sdxlLess.url})`);
    expect(out).toContain('the server has "v1-5-pruned-emaonly.safetensors"; install the model or name one of these');
    expect(out).toContain(`✖ 127.0.0.1:${sdxlLess.port}: templates: 5 of 12 templates cannot run`);
    expect(out).toContain('✖ comic generate cannot run: the default template "panel" cannot run on any server that answers');
    expect(out).toContain('error code SERVER_MISSING_CAPABILITY (docs/errors.md)');
    expect(code).toBe(2);
  });

  it('a model missing on one server only is a warning when another server has it', async () => {
    const { code, check } = await doctorJson(['--server', sdxlLess.url, '--server', healthy.url]);
    expect(check(`templates:127.0.0.1:${sdxlLess.port}`)).toMatchObject({ status: 'warning', code: 'SERVER_MISSING_CAPABILITY' });
    expect(code).toBe(0);
  });

  it('never prints a credential, and says how to fix rejected credentials', async () => {
    const guarded = await startComfyEmulator({ token: 'right-token' });
    try {
      await writeFile(join(cwd, 'comic.config.yaml'), `servers:\n  - url: ${guarded.url}\n    name: guarded\n    auth: { bearer: "\${COMFY_TOKEN}" }\n`);
      const { code, out, err } = await doctor([], { COMFY_TOKEN: 'wrong-token-value' });
      expect(out).toContain('refused GET /api/system_stats with HTTP 401');
      expect(out).toContain('check the auth settings for this server');
      expect(`${out}${err}`).not.toContain('wrong-token-value');
      expect(code).toBe(3);
      const ok = await doctor([], { COMFY_TOKEN: 'right-token' });
      expect(ok.code).toBe(0);
    } finally {
      await guarded.close();
    }
  });

  it('an invalid config: says where, skips the rest; exit 2', async () => {
    await writeFile(join(cwd, 'comic.config.yaml'), 'backend: warp-drive\n');
    const { code, out, report } = await doctorJson([]).then(async (json) => ({ ...json, out: (await doctor([])).out }));
    expect(out).toContain(`Configuration: ${join(cwd, 'comic.config.yaml')}:1:10: backend: invalid value "warp-drive"`);
    expect(out).toContain('✖ comic generate cannot run');
    expect(report.checks.map((c) => c.id)).toEqual(['config', 'generate']);
    expect(report.checks[0]).toMatchObject({ status: 'failed', code: 'CONFIG_INVALID' });
    expect(code).toBe(2);
  });

  it('an output folder that cannot be created: exit 2', async () => {
    await writeFile(join(cwd, 'blocked'), 'a file, not a folder');
    await writeFile(join(cwd, 'comic.config.yaml'), 'backend: draft\noutput: blocked/out\n');
    const { code, check } = await doctorJson([]);
    expect(check('output')).toMatchObject({ status: 'failed', code: 'FOLDER_NOT_WRITABLE' });
    expect(check('output').message).toContain(`${join(cwd, 'blocked')} is a file, not a folder`);
    expect(check('generate').code).toBe('FOLDER_NOT_WRITABLE');
    expect(code).toBe(2);
  });

  it('backend draft needs no server: a down server is only a warning', async () => {
    await writeFile(join(cwd, 'comic.config.yaml'), `backend: draft\nservers: [${deadUrl}]\n`);
    const { code, check } = await doctorJson([]);
    expect(check(`server:${new URL(deadUrl).host}`).status).toBe('warning');
    expect(check('fallback').status).toBe('skipped');
    expect(code).toBe(0);
  });

  it('too little free disk: exit 1 with DISK_FULL', async () => {
    const cli = memoryIO({ cwd, env: {} });
    let exitCode = 0;
    const ctx: CliContext = { io: cli.io, setExitCode: (c) => (exitCode = c) };
    const program = new Command().exitOverride();
    createDoctorCommand({ disk: { minFree: Number.MAX_SAFE_INTEGER, warnFree: Number.MAX_SAFE_INTEGER } })(program, ctx);
    await program.parseAsync(['node', 'comic', 'doctor', '--server', healthy.url, '--json']);
    const report = JSON.parse(cli.stdout()) as { checks: { id: string; status: string; code: string | null; fix: string | null }[] };
    expect(report.checks.find((c) => c.id === 'disk')).toMatchObject({ status: 'failed', code: 'DISK_FULL', fix: expect.stringContaining('free some space') });
    expect(exitCode).toBe(1);
  });
});
