/** The SD API backend against the A1111 emulator over real loopback HTTP. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SdApiBackend } from '../../src/backends/sdapi/backend.js';
import type { RenderEvent, RenderRequest } from '../../src/backends/types.js';
import { loadTemplateRegistry, type Template } from '../../src/templates/index.js';
import { sha256 } from '../../src/util/hash.js';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';

let dir: string;
let emulator: SdApiEmulator;
let panel: Template;
let panelRef: Template;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-sd-'));
  emulator = await startSdApiEmulator({ stepMs: 1, apiAuth: { user: 'artist', password: 's3cret' } });
  const templates = await loadTemplateRegistry({ dirs: [] });
  panel = templates.get('panel');
  panelRef = templates.get('panel-ref');
});
afterEach(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

const backend = (password = 's3cret') =>
  new SdApiBackend({ server: { url: emulator.url, auth: { kind: 'basic', user: 'artist', password } }, progressEveryMs: 5 });

function request(template: Template, jobId: string, extra: Partial<RenderRequest> = {}): RenderRequest {
  return {
    jobId,
    key: sha256(jobId),
    template,
    params: { positive: 'a lighthouse in a storm', negative: 'blurry', seed: 42, width: 832, height: 1216, steps: 12, sampler: 'dpmpp_2m', scheduler: 'karras' },
    inputs: [],
    shot: { title: jobId, summary: '', subjects: [], camera: null, pose: null, dialogue: null },
    outputPath: join(dir, `${jobId}.png`),
    ...extra,
  };
}

const opts = (events: RenderEvent[] = []) => ({ signal: new AbortController().signal, onEvent: (e: RenderEvent) => events.push(e) });

describe('SdApiBackend', () => {
  it('renders txt2img with the template mapping: size, seed, sampler and scheduler translated', async () => {
    const sd = backend();
    await sd.ready(AbortSignal.timeout(5000));
    const events: RenderEvent[] = [];
    const result = await sd.render(request(panel, 'panel:1-1'), opts(events));
    const meta = await sharp(result.outputPath).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 832, 1216]);
    const body = emulator.requests[0]!.body as Record<string, unknown>;
    expect(emulator.requests[0]!.path).toBe('/sdapi/v1/txt2img');
    expect(body).toMatchObject({ prompt: 'a lighthouse in a storm', negative_prompt: 'blurry', seed: 42, steps: 12, sampler_name: 'DPM++ 2M', scheduler: 'karras' });
    expect(result).toMatchObject({ backend: 'sdapi', server: emulator.url });
    expect(events[0]).toMatchObject({ type: 'started', jobId: 'panel:1-1' });
  });

  it('is deterministic: same request, same bytes', async () => {
    const sd = backend();
    const a = await sd.render(request(panel, 'a'), opts());
    const b = await sd.render(request(panel, 'b'), opts());
    const [x, y] = await Promise.all([sharp(a.outputPath).raw().toBuffer(), sharp(b.outputPath).raw().toBuffer()]);
    expect(x.equals(y)).toBe(true);
  });

  it('feeds a reference to img2img where the template says so, and lists what it cannot honour', async () => {
    const sd = backend();
    const ref = join(dir, 'sheet.png');
    await writeFile(ref, await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ff0000' } }).png().toBuffer());
    const result = await sd.render(
      request(panelRef, 'panel:2-1', { inputs: [{ param: 'reference', file: ref, sha256: sha256('x') }], params: { ...request(panelRef, 'x').params, sampler: 'no_such_sampler' } }),
      opts(),
    );
    expect(result.dropped.join('\n')).toMatch(/sampler \(no_such_sampler is not offered by this server\)/);
    expect(emulator.requests[0]!.path).toBe('/sdapi/v1/img2img');
    const body = emulator.requests[0]!.body as { init_images: string[]; denoising_strength: number };
    expect(body.init_images).toHaveLength(1);
    expect(body.denoising_strength).toBe(0.8);
    // The red reference tints the emulator's image: the init image was used.
    const { dominant } = await sharp(result.outputPath).stats();
    expect(dominant.r).toBeGreaterThan(dominant.b);
  });

  it('runs one generation at a time per server', async () => {
    const sd = backend();
    await Promise.all(['a', 'b', 'c'].map((id) => sd.render(request(panel, id), opts())));
    const order = emulator.events.filter((e) => e.kind !== 'received').map((e) => e.kind);
    expect(order).toEqual(['started', 'finished', 'started', 'finished', 'started', 'finished']);
  });

  it('reports wrong credentials as SERVER_AUTH, without the password', async () => {
    const error = await backend('wrong').ready(AbortSignal.timeout(5000)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SERVER_AUTH' });
    expect(String((error as Error).message)).not.toContain('wrong');
  });

  it('reports a dead server as SERVER_UNREACHABLE naming its URL', async () => {
    await emulator.kill();
    const error = await backend().ready(AbortSignal.timeout(5000)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SERVER_UNREACHABLE' });
    expect((error as Error).message).toContain(emulator.url);
  });
});
