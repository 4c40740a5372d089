/** The SD API fallback says, per reference image, which it honoured and which it could not. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { referencePlan } from '../../src/backends/sdapi/mapping.js';
import { SdApiBackend } from '../../src/backends/sdapi/backend.js';
import type { RenderInput, RenderRequest } from '../../src/backends/types.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../src/templates/index.js';
import { sha256 } from '../../src/util/hash.js';
import { startSdApiEmulator, type SdApiEmulator } from '../fakes/sdapi/index.js';

let dir: string;
let emulator: SdApiEmulator;
let templates: TemplateRegistry;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'comic-sd-refs-'));
  emulator = await startSdApiEmulator({ stepMs: 1 });
  templates = await loadTemplateRegistry({ dirs: [] });
});
afterEach(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

async function image(name: string, colour: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, await sharp({ create: { width: 64, height: 64, channels: 3, background: colour } }).png().toBuffer());
  return file;
}

function request(templateId: string, inputs: RenderInput[]): RenderRequest {
  return {
    jobId: 'panel:1-1',
    key: sha256(templateId),
    template: templates.get(templateId),
    params: { positive: 'two keepers at the lamp', negative: '', seed: 1, width: 512, height: 512, steps: 4 },
    inputs,
    shot: { title: 'Panel 1-1', summary: '', subjects: [], camera: null, pose: null, dialogue: null },
    outputPath: join(dir, 'out.png'),
  };
}

const opts = () => ({ signal: new AbortController().signal, onEvent: () => {} });

describe('SD API fallback and reference images', () => {
  it('starts img2img from the first image and names every other one it could not use', async () => {
    const inputs: RenderInput[] = [
      { param: 'image1', file: await image('mara.png', '#ff0000'), sha256: sha256('m'), what: 'character mara' },
      { param: 'image2', file: await image('tobias.png', '#0000ff'), sha256: sha256('t'), what: 'character tobias' },
      { param: 'image3', file: await image('room.png', '#00ff00'), sha256: sha256('r'), what: 'background lamp-room' },
    ];
    const backend = new SdApiBackend({ server: { url: emulator.url, auth: null }, progressEveryMs: 5 });
    const result = await backend.render(request('panel-flux2', inputs), opts());
    expect(emulator.requests[0]!.path).toBe('/sdapi/v1/img2img');
    const body = emulator.requests[0]!.body as { init_images: string[] };
    expect(body.init_images).toHaveLength(1);
    expect(result.dropped.filter((d) => d.startsWith('reference '))).toEqual([
      'reference image2 (character tobias): img2img takes one init image; character mara was used',
      'reference image3 (background lamp-room): img2img takes one init image; character mara was used',
    ]);
    // The red sheet was the one used: the emulator's image leans red.
    const { dominant } = await sharp(result.outputPath).stats();
    expect(dominant.r).toBeGreaterThan(dominant.b);
    await backend.close();
  });

  it('lists every image of a template that renders from the prompt alone on the SD API', () => {
    const panel = templates.get('panel');
    const plan = referencePlan(panel, [{ param: 'reference', what: 'character mara' }]);
    expect(plan.init).toBeNull();
    expect(plan.dropped).toEqual(['reference reference (character mara): template panel renders from the prompt alone on the SD API']);
    // One image on panel-ref is honoured, and nothing is reported dropped for it.
    const one = referencePlan(templates.get('panel-ref'), [{ param: 'reference', what: 'character mara' }]);
    expect(one.init?.param).toBe('reference');
    expect(one.dropped).toEqual([]);
  });
});
