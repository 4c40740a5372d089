/**
 * The seed's five acceptance criteria, each as one test of the product as a user runs it:
 * the built CLI (`bin/comic.js serve` or `generate`) as a child process, the ComfyUI and
 * SD API emulators as processes of their own (stopped by SIGKILL to their pid), everything
 * on 127.0.0.1, answers read over real HTTP and WebSocket sockets.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { killEmulators, plannedJobs, runComic, startEmulator, writeExample, type EmulatorProcess } from '../support/process.js';

const KEY = 'seed-acceptance-key-5c0ffee1d2';
const AUTH = { authorization: `Bearer ${KEY}` };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await killEmulators();
});

/** A temporary project folder holding the example comic at 72 dpi (the same jobs, light pages). */
async function project(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'comic-seed-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeExample(join(dir, 'comic.yaml'));
  return dir;
}

/** "127.0.0.1:PORT", the name a server given by `--server URL` goes by in events and logs. */
const hostPort = (emulator: EmulatorProcess): string => emulator.url.replace('http://', '');

// ---------------------------------------------------------------------------------------------
// `comic serve` as a child process

interface ServeProcess {
  readonly url: string;
  readonly pid: number;
  /** What it logged (stderr) so far. */
  log(): string;
}

/** Runs `node bin/comic.js serve --port 0 ...` in `cwd` and resolves once it listens. */
async function startServe(cwd: string, args: readonly string[]): Promise<ServeProcess> {
  const child = runComic(['serve', '--port', '0', '--backend', 'comfyui', '--out', 'out', '--cache', 'cache', ...args], {
    cwd,
    env: { COMIC_API_KEYS: KEY },
    // A safety net only: each test stops its server.
    timeout: 300_000,
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => void (log += chunk.toString()));
  const exited = child.then((result) => result);
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const stopping = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(stopping);
    }
  });
  const url = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (match) {
        child.stderr!.off('data', check);
        resolve(match[1]!);
      }
    };
    child.stderr!.on('data', check);
    void exited.then((result) => reject(new Error(`comic serve exited (${result.exitCode ?? result.signal}) before listening:\n${log}${String(result.stdout)}`)));
  });
  return { url, pid: child.pid!, log: () => log };
}

/** The usual flags: one ComfyUI emulator, the SD API emulator as fallback. */
const backends = (comfy: EmulatorProcess, sd: EmulatorProcess): string[] => ['--server', comfy.url, '--fallback', sd.url];

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  json(): any;
}

async function api(base: string, path: string, json?: unknown): Promise<Answer> {
  const response = await fetch(base + path, {
    method: json === undefined ? 'GET' : 'POST',
    headers: json === undefined ? AUTH : { ...AUTH, 'content-type': 'application/json' },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body, json: () => JSON.parse(body.toString('utf8')) };
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A WebSocket client of /api/ws that keeps every message and can wait for one. */
class WsClient {
  readonly messages: any[] = [];
  readonly #waiters = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)));
      for (const waiter of [...this.#waiters]) waiter();
    });
  }

  static open(serve: ServeProcess, query: string, headers: Record<string, string> = {}): Promise<WsClient> {
    const socket = new WebSocket(`${serve.url.replace(/^http/, 'ws')}/api/ws${query}`, { headers });
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        const client = new WsClient(socket);
        cleanups.push(() => client.close());
        resolve(client);
      });
      socket.once('unexpected-response', (_request, response) => reject(new Error(`WebSocket refused: ${response.statusCode}`)));
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  waitFor(match: (message: any) => boolean, what: string): Promise<any> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.messages.find(match);
        if (hit === undefined) return;
        this.#waiters.delete(check);
        this.socket.off('close', onClose);
        resolve(hit);
      };
      const onClose = (): void => {
        this.#waiters.delete(check);
        reject(new Error(`the socket closed before ${what}; got ${JSON.stringify(this.messages.map((m) => m.type))}`));
      };
      this.#waiters.add(check);
      this.socket.once('close', onClose);
      check();
    });
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** The message types a job went through, in order, without repeats in a row. */
function lifecycle(messages: readonly any[], job: string): string[] {
  // Previews are pictures sent while processing, not states of the job.
  const types = messages.filter((m) => m.job === job && m.type !== 'preview').map((m) => m.type as string);
  return types.filter((type, i) => type !== types[i - 1]);
}

// ---------------------------------------------------------------------------------------------
// What the ComfyUI emulator received: its /history (every prompt it ran, with its workflow)

interface Node {
  readonly class_type: string;
  readonly inputs: Record<string, unknown>;
}
interface Ran {
  readonly id: string;
  readonly nodes: readonly Node[];
  /** SaveImage's filename_prefix: comic/character, comic/panel, … */
  readonly prefix: string;
  /** Every CLIPTextEncode text. */
  readonly texts: readonly string[];
  /** LoadImage's image inputs (uploaded reference images). */
  readonly loads: readonly string[];
  readonly outputs: readonly { filename: string; subfolder: string; type: string }[];
}

async function history(comfy: EmulatorProcess): Promise<Ran[]> {
  const entries = (await (await fetch(`${comfy.url}/history`)).json()) as Record<string, { prompt: [number, string, Record<string, Node>]; outputs: Record<string, { images?: Ran['outputs'] }> }>;
  return Object.entries(entries).map(([id, entry]) => {
    const nodes = Object.values(entry.prompt[2]);
    const of = (type: string, input: string) => nodes.filter((n) => n.class_type === type).map((n) => String(n.inputs[input]));
    return {
      id,
      nodes,
      prefix: of('SaveImage', 'filename_prefix')[0] ?? '',
      texts: of('CLIPTextEncode', 'text'),
      loads: of('LoadImage', 'image'),
      outputs: Object.values(entry.outputs).flatMap((o) => o.images ?? []),
    };
  });
}

async function comfyFile(comfy: EmulatorProcess, file: { filename: string; subfolder?: string; type: string }): Promise<Buffer> {
  const query = new URLSearchParams({ filename: file.filename, subfolder: file.subfolder ?? '', type: file.type });
  const response = await fetch(`${comfy.url}/view?${query}`);
  expect(response.status, `GET /view?${query}`).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** Used VRAM as ComfyUI's /system_stats reports it (total - free of the first device). */
async function vramUsed(comfy: EmulatorProcess): Promise<{ used: number; total: number }> {
  const stats = (await (await fetch(`${comfy.url}/system_stats`)).json()) as { devices: { vram_total: number; vram_free: number }[] };
  const device = stats.devices[0]!;
  return { used: device.vram_total - device.vram_free, total: device.vram_total };
}

/** The resident memory of a process, from /proc/<pid>/status (bytes). */
async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (kb === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

// ---------------------------------------------------------------------------------------------

describe('the seed acceptance criteria, on the built CLI and emulator processes', () => {
  it('a panel from POST /api/comic/generate-panel with character and scene prompts returns an image URL within 30 s', { timeout: 120_000 }, async () => {
    const dir = await project();
    const [comfy, sd] = await Promise.all([startEmulator('comfyui', ['--step-ms', '5']), startEmulator('sdapi', ['--step-ms', '1'])]);
    const serve = await startServe(dir, backends(comfy, sd));

    const request = {
      scene: 'Ada climbs the spiral stairs of the lighthouse, lantern in hand',
      characters: [{ name: 'Ada', description: 'young lighthouse keeper, red oilskin raincoat, short black hair' }],
      camera: 'low angle',
      size: { width: 768, height: 1024 },
    };
    const started = performance.now();
    const answer = await api(serve.url, '/api/comic/generate-panel?wait=true', request);
    const elapsed = performance.now() - started;

    expect(answer.status, answer.body.toString()).toBe(200);
    const { job } = answer.json();
    expect(elapsed).toBeLessThan(30_000);
    expect(job).toMatchObject({ kind: 'panel', state: 'completed', error: null });
    expect(job.outputs).toEqual([
      { image: 'panel:1-1', url: `/api/files/${job.id}/panels/1-1.png`, backend: 'comfyui', server: hostPort(comfy), cached: false },
    ]);
    // The URL serves the panel: a PNG of the requested size.
    const image = await api(serve.url, job.outputs[0].url);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(image.body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 768, 1024]);
    // ComfyUI rendered it from the scene and the character, in one prompt.
    const ran = await history(comfy);
    expect(ran).toHaveLength(1);
    expect(ran[0]!.texts.join('\n')).toMatch(/Ada climbs the spiral stairs of the lighthouse, lantern in hand.*Ada: young lighthouse keeper, red oilskin raincoat, short black hair.*camera: low angle/);
    const served = await comfyFile(comfy, ran[0]!.outputs[0]!);
    expect(sha256(image.body)).toBe(sha256(served));
    expect(serve.log()).toMatch(new RegExp(`job ${job.id} completed: panel:1-1 via comfyui \\(${hostPort(comfy)}\\)`));
  });

  it('WebSocket clients see queued, processing and completed', { timeout: 120_000 }, async () => {
    const dir = await project();
    const [comfy, sd] = await Promise.all([startEmulator('comfyui', ['--step-ms', '20']), startEmulator('sdapi', ['--step-ms', '1'])]);
    const serve = await startServe(dir, backends(comfy, sd));

    // A browser's way (the key in ?token=, subscribed at connection) and a service's way
    // (the key in a header, subscribed by a message).
    const browser = await WsClient.open(serve, `?token=${KEY}&job=*`);
    const service = await WsClient.open(serve, '', AUTH);
    service.send({ type: 'subscribe', job: '*' });
    await Promise.all([browser, service].map((ws) => ws.waitFor((m) => m.type === 'subscribed' && m.job === '*', 'subscribed')));

    const answer = await api(serve.url, '/api/comic/generate-panel', {
      scene: 'the radio set crackles, a green dial glowing in the dark',
      characters: [{ name: 'Mara', description: 'young lighthouse keeper, red oilskin raincoat' }],
      size: { width: 512, height: 512 },
      params: { steps: 8 },
    });
    expect(answer.status, answer.body.toString()).toBe(202);
    const { job, links } = answer.json();
    expect(links).toMatchObject({ job: `/api/jobs/${job.id}`, ws: `/api/ws?job=${job.id}`, files: [`/api/files/${job.id}/panels/1-1.png`] });

    for (const ws of [browser, service]) {
      const completed = await ws.waitFor((m) => m.type === 'completed' && m.job === job.id, 'completed');
      // queued (ours) → processing → queued (on ComfyUI) → processing (nodes, steps) → completed
      expect(lifecycle(ws.messages, job.id)).toEqual(['queued', 'processing', 'queued', 'processing', 'completed']);
      const mine = ws.messages.filter((m) => m.job === job.id);
      expect(mine.filter((m) => m.type === 'queued')).toEqual([
        { type: 'queued', job: job.id, position: 1, server: null },
        expect.objectContaining({ type: 'queued', job: job.id, server: hostPort(comfy) }),
      ]);
      expect(mine.filter((m) => m.type === 'processing').map((m) => m.progress)).toContainEqual(
        expect.objectContaining({ image: 'panel:1-1', server: hostPort(comfy), node: 'Sampler', step: { value: 8, max: 8 } }),
      );
      expect(completed.outputs).toEqual([expect.objectContaining({ image: 'panel:1-1', url: `/api/files/${job.id}/panels/1-1.png`, backend: 'comfyui', cached: false })]);
      expect(ws.messages.filter((m) => m.type === 'failed' || m.type === 'error')).toEqual([]);
    }
    // What the sockets said is what the job says.
    const { outputs } = await browser.waitFor((m) => m.type === 'completed', 'completed');
    expect((await api(serve.url, `/api/jobs/${job.id}`)).json().job).toMatchObject({ state: 'completed', outputs });
    // A client that subscribes late is told where the job stands: completed.
    const late = await WsClient.open(serve, `?token=${KEY}&job=${job.id}`);
    expect((await late.waitFor((m) => m.type === 'completed', 'completed')).outputs).toEqual(outputs);
    expect(late.messages.map((m) => m.type)).toEqual(['subscribed', 'completed']);
  });

  it('the same character in different poses comes from the same sheet with the pose in each prompt', { timeout: 120_000 }, async () => {
    const dir = await project();
    const [comfy, sd] = await Promise.all([startEmulator('comfyui', ['--step-ms', '2']), startEmulator('sdapi', ['--step-ms', '1'])]);
    // The example's cast: Mara has a character sheet (template character-sheet, seed 42).
    const serve = await startServe(dir, [...backends(comfy, sd), '--script', 'comic.yaml']);

    const poses = ['climbing, looking up', 'kneeling, head bowed', 'running, arms outstretched'];
    // All three at once, as a front end would send them: the sheet is still made only once.
    const answers = await Promise.all(
      poses.map((pose) =>
        api(serve.url, '/api/comic/generate-panel?wait=true', {
          scene: 'Mara on the spiral iron stairs of the lighthouse',
          characters: [{ id: 'mara' }],
          pose,
          size: { width: 512, height: 768 },
        }),
      ),
    );
    for (const answer of answers) expect(answer.status, answer.body.toString()).toBe(200);
    const jobs = answers.map((answer) => answer.json().job);
    for (const job of jobs) expect(job.outputs).toEqual([expect.objectContaining({ image: 'panel:1-1', backend: 'comfyui', cached: false })]);

    const ran = await history(comfy);
    // The sheet was rendered once, from Mara's description, for all three panels.
    const sheets = ran.filter((r) => r.prefix === 'comic/character');
    expect(sheets).toHaveLength(1);
    expect(sheets[0]!.texts.join('\n')).toContain('character reference sheet. Mara: young lighthouse keeper, red oilskin raincoat');
    const sheetBytes = await comfyFile(comfy, sheets[0]!.outputs[0]!);

    const panels = ran.filter((r) => r.prefix === 'comic/panel');
    expect(panels).toHaveLength(poses.length);
    const panelBytes = await Promise.all(panels.map(async (panel) => sha256(await comfyFile(comfy, panel.outputs[0]!))));
    // Every panel's reference is the same upload, and that upload is the sheet ComfyUI rendered.
    const uploads = new Set(panels.flatMap((p) => p.loads));
    expect(uploads.size).toBe(1);
    const upload = await comfyFile(comfy, { filename: [...uploads][0]!, type: 'input' });
    expect(sha256(upload)).toBe(sha256(sheetBytes));

    for (const [i, job] of jobs.entries()) {
      // The prompt behind this job's panel: the one whose output is the image the job serves.
      const image = sha256((await api(serve.url, job.outputs[0].url)).body);
      const panel = panels[panelBytes.indexOf(image)];
      expect(panel, `the prompt that made ${job.outputs[0].url}`).toBeDefined();
      const positive = panel!.texts.find((t) => t.includes('Mara on the spiral iron stairs'));
      expect(positive).toContain('Mara: young lighthouse keeper, red oilskin raincoat');
      // Its own pose, and no other.
      expect(positive).toContain(`pose: ${poses[i]}`);
      for (const other of poses.filter((_, j) => j !== i)) expect(positive).not.toContain(other);
      // One reference image: the sheet.
      expect(panel!.loads).toEqual([...uploads]);
      // The job's folder holds that same sheet.
      const sheet = await api(serve.url, `/api/files/${job.id}/characters/mara.png`);
      expect(sheet.status).toBe(200);
      expect(sha256(sheet.body)).toBe(sha256(sheetBytes));
    }
    // Three poses, three different panels.
    expect(new Set(panelBytes).size).toBe(poses.length);
  });

  it('ten concurrent panel requests complete with the server\'s memory and the VRAM readings stable', { timeout: 120_000 }, async () => {
    const dir = await project();
    const [comfy, sd] = await Promise.all([startEmulator('comfyui', ['--step-ms', '1']), startEmulator('sdapi', ['--step-ms', '1'])]);
    const serve = await startServe(dir, backends(comfy, sd));
    const size = { width: 1536, height: 1536 };
    const panel = (scene: string) => ({ scene, characters: [{ name: 'Ada', description: 'a sailor in a yellow coat' }], size, params: { steps: 4 } });
    const tenAtOnce = (round: string) =>
      Promise.all(Array.from({ length: 10 }, (_, i) => api(serve.url, '/api/comic/generate-panel?wait=true', panel(`the harbour crowd, ${round} ${i}`))));

    // Warm up with a round of ten: modules, JIT, allocator arenas, connections, models on the GPU.
    expect((await tenAtOnce('warm-up')).map((a) => a.status)).toEqual(Array(10).fill(200));
    const vramBefore = await vramUsed(comfy);
    const rssBefore = await rss(serve.pid);

    // Ten at once, reading the VRAM all along.
    const readings: number[] = [];
    let pending = true;
    const sampling = (async () => {
      while (pending) {
        readings.push((await vramUsed(comfy)).used);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const answers = await tenAtOnce('round');
    pending = false;
    await sampling;

    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const outputs = answers.map((a) => a.json().job.outputs[0]);
    expect(outputs.every((o) => o.backend === 'comfyui' && o.server === hostPort(comfy) && !o.cached)).toBe(true);
    expect(new Set(outputs.map((o) => o.url)).size).toBe(10);
    for (const output of outputs.slice(0, 2)) {
      const meta = await sharp((await api(serve.url, output.url)).body).metadata();
      expect([meta.width, meta.height]).toEqual([size.width, size.height]);
    }
    // Nothing left queued or running, on our side or on ComfyUI's.
    expect((await api(serve.url, '/api/health')).json()).toMatchObject({ status: 'ok', queue: { queued: 0, running: 0 }, fallback: { active: false } });
    expect(await (await fetch(`${comfy.url}/queue`)).json()).toEqual({ queue_running: [], queue_pending: [] });

    // VRAM: the models the warm-up loaded, no more, at every reading and after.
    expect(readings.length).toBeGreaterThan(0);
    expect(new Set(readings)).toEqual(new Set([vramBefore.used]));
    expect(await vramUsed(comfy)).toEqual(vramBefore);
    expect(vramBefore.used).toBeLessThan(vramBefore.total);

    // The server's memory: bounded. Keeping the ten images' pixels would take 10 × 1536² × 4
    // bytes (90 MiB); the bound is half of that, far above what a settled server adds.
    const rssAfter = await rss(serve.pid);
    const keptPixels = 10 * size.width * size.height * 4;
    expect(rssAfter - rssBefore, `RSS ${rssBefore} → ${rssAfter}`).toBeLessThan(keptPixels / 2);
  });

  it('ComfyUI stopped before and during a run falls back to the SD API with the reason logged', { timeout: 300_000 }, async () => {
    const dir = await project();
    // A short reconnect grace (default 10 s): a server that does not answer is retried for 2 s,
    // then counts as down.
    await writeFile(join(dir, 'comic.config.yaml'), 'timeouts: { reconnect: 2s }\n');
    const sd = await startEmulator('sdapi', ['--step-ms', '1']);
    const generate = (out: string, server: string, onOutput?: (text: string) => void) => {
      const child = runComic(
        ['generate', 'comic.yaml', '--config', 'comic.config.yaml', '--out', out, '--cache', `${out}-cache`, '--backend', 'comfyui', '--server', server, '--fallback', sd.url, '--plain'],
        { cwd: dir, all: true, timeout: 240_000 },
      );
      if (onOutput) child.all!.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
      return child;
    };
    const report = async (out: string) => JSON.parse(await readFile(join(dir, out, 'report.json'), 'utf8'));
    const pages = async (out: string) => (await readdir(join(dir, out, 'pages'))).filter((f) => f.endsWith('.png')).sort();
    const imageJobs = (r: any) => r.jobs.filter((j: any) => j.kind !== 'page' && j.kind !== 'export');

    // Before: the server was stopped (killed) before the run.
    const stopped = await startEmulator('comfyui');
    await stopped.kill();
    const before = await generate('before', stopped.url);
    expect(before.exitCode, String(before.all)).toBe(0);
    const log = String(before.all);
    expect(log).toContain(`server   ${hostPort(stopped)} down`);
    expect(log).toMatch(new RegExp(`fallback comfyui → sdapi: no ComfyUI server is available:[\\s\\S]*${hostPort(stopped)}[\\s\\S]*ECONNREFUSED`));
    const jobs = await plannedJobs(join(dir, 'comic.yaml'));
    expect(log).toMatch(new RegExp(`finished ${jobs} jobs in [^\\n]*fell back[^\\n]*\\(exit code 0\\)`));
    const r1 = await report('before');
    expect(r1.fallback).toMatchObject({ from: 'comfyui', to: 'sdapi', reason: expect.stringMatching(/no ComfyUI server is available/) });
    expect(r1.fallback.reason).toContain(hostPort(stopped));
    expect(r1.totals).toMatchObject({ jobs, failed: 0, skipped: 0 });
    expect(imageJobs(r1).every((j: any) => j.status === 'done' && j.backend === 'sdapi' && j.server === sd.url)).toBe(true);
    expect(await pages('before')).toEqual(['001.png', '002.png', '003.png', '004.png']);

    // During: the only ComfyUI server is killed (SIGKILL) after its third image.
    const dying = await startEmulator('comfyui', ['--step-ms', '10']);
    let output = '';
    let killed: Promise<void> | null = null;
    let exitedBeforeKill = false;
    const doneOnComfy = new RegExp(`\\bdone\\s+\\S+ in \\d+ms on ${hostPort(dying).replace(/\./g, '\\.')}\\n`, 'g');
    const during = generate('during', dying.url, (text) => {
      output += text;
      if (killed === null && (output.match(doneOnComfy) ?? []).length >= 3) killed = dying.kill('SIGKILL');
    });
    void during.then(() => (exitedBeforeKill = killed === null));
    const result = await during;
    expect(exitedBeforeKill, 'the run ended before ComfyUI was killed').toBe(false);
    await killed;
    expect(result.exitCode, String(result.all)).toBe(0);
    const log2 = String(result.all);
    expect(log2).toContain(`server   ${hostPort(dying)} down`);
    expect(log2).toMatch(new RegExp(`fallback comfyui → sdapi: no ComfyUI server is available:[\\s\\S]*${hostPort(dying)}`));
    expect(log2).toMatch(new RegExp(`finished ${jobs} jobs in [^\\n]*fell back[^\\n]*\\(exit code 0\\)`));
    const r2 = await report('during');
    expect(r2.fallback).toMatchObject({ from: 'comfyui', to: 'sdapi', reason: expect.stringContaining(hostPort(dying)) });
    expect(r2.totals).toMatchObject({ jobs, failed: 0, skipped: 0 });
    const images = imageJobs(r2);
    expect(images.every((j: any) => j.status === 'done')).toBe(true);
    // Three (or a few more finishing as it died) from ComfyUI, the rest from the SD API.
    expect(images.filter((j: any) => j.backend === 'comfyui').length).toBeGreaterThanOrEqual(3);
    expect(images.filter((j: any) => j.backend === 'sdapi').length).toBeGreaterThan(0);
    expect(await pages('during')).toEqual(['001.png', '002.png', '003.png', '004.png']);
    for (const out of ['before', 'during']) expect(existsSync(join(dir, out, 'the-last-lighthouse.pdf'))).toBe(true);
  });
});
