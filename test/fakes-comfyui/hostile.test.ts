/**
 * The emulator's hostile answers (faults.hostile) serve what they say, straight over HTTP:
 * sizes, declared lengths, drips, silences, valid JSON padding, PNGs cut inside their image
 * data; what they sent is counted, and `reset()` turns them off.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ComfyEmulator } from '../fakes/comfyui/index.js';
import { emulatorHarness, historyEntry, queuePrompt, slowWorkflow } from './helpers.js';

const harness = emulatorHarness({ stepMs: 1 });
const KiB = 1024;

/** A finished prompt's first SaveImage output, as /view query parameters. */
async function savedImage(emu: ComfyEmulator): Promise<string> {
  const { prompt_id } = await queuePrompt(emu, { prompt: slowWorkflow({ steps: 1 }) });
  const entry = await historyEntry(emu, prompt_id);
  const image = ((entry.outputs as Record<string, { images: { filename: string; subfolder: string; type: string }[] }>)['3']!.images)[0]!;
  return `/view?${new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type })}`;
}

async function bodyOf(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

describe('hostile answers', () => {
  it('oversized-view streams the size asked for, chunked or declared, starting like a PNG', async () => {
    const emu = await harness.start();
    const view = await savedImage(emu);
    emu.faults.hostile.push({ kind: 'oversized-view', bytes: 300 * KiB });
    const chunked = await fetch(`${emu.url}${view}`);
    expect(chunked.headers.get('content-length')).toBeNull();
    const body = await bodyOf(chunked);
    expect(body.length).toBe(300 * KiB);
    expect(body.subarray(1, 4).toString()).toBe('PNG');
    emu.faults.hostile[0] = { kind: 'oversized-view', bytes: 100 * KiB, declared: true };
    const declared = await fetch(`${emu.url}${view}`);
    expect(declared.headers.get('content-length')).toBe(String(100 * KiB));
    expect((await bodyOf(declared)).length).toBe(100 * KiB);
    expect(emu.faults.hostileHits['oversized-view']).toBe(2);
    expect(emu.faults.hostileBytesSent).toBe(400 * KiB);
  });

  it('truncated-png keeps the header and half the image data, with a matching Content-Length', async () => {
    const emu = await harness.start();
    const view = await savedImage(emu);
    const whole = await bodyOf(await fetch(`${emu.url}${view}`));
    emu.faults.hostile.push({ kind: 'truncated-png' });
    const response = await fetch(`${emu.url}${view}`);
    const cut = await bodyOf(response);
    expect(response.headers.get('content-length')).toBe(String(cut.length));
    expect(cut.length).toBeLessThan(whole.length);
    expect(whole.subarray(0, cut.length).equals(cut)).toBe(true);
    expect((await sharp(cut).metadata()).width).toBe(64);
    await expect(sharp(cut).raw().toBuffer()).rejects.toThrow();
  });

  it('dripping-view declares the whole file and sends it a byte at a time', async () => {
    const emu = await harness.start();
    const view = await savedImage(emu);
    const size = (await bodyOf(await fetch(`${emu.url}${view}`))).length;
    emu.faults.hostile.push({ kind: 'dripping-view', everyMs: 50 });
    const response = await fetch(`${emu.url}${view}`);
    expect(response.headers.get('content-length')).toBe(String(size));
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.value?.length).toBe(1);
    await reader.cancel();
  });

  it('silent-view and silent-history never answer; other routes still do', async () => {
    const emu = await harness.start();
    const view = await savedImage(emu);
    emu.faults.hostile.push({ kind: 'silent-view' }, { kind: 'silent-history' });
    for (const path of [view, '/history', '/api/history/some-id']) {
      await expect(fetch(`${emu.url}${path}`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    }
    expect((await fetch(`${emu.url}/queue`)).status).toBe(200);
    expect(emu.faults.hostileHits).toMatchObject({ 'silent-view': 1, 'silent-history': 2 });
  });

  it('huge-object-info pads the real catalogue to the size asked for, as valid JSON; reset() turns it off', async () => {
    const emu = await harness.start();
    emu.faults.hostile.push({ kind: 'huge-object-info', bytes: 2048 * KiB });
    const body = await bodyOf(await fetch(`${emu.url}/object_info`));
    expect(body.length).toBe(2048 * KiB);
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    expect(parsed['KSampler']).toBeDefined();
    expect(parsed['HostilePadding']).toBeDefined();
    await emu.faults.reset();
    const normal = JSON.parse(await (await fetch(`${emu.url}/object_info`)).text()) as Record<string, unknown>;
    expect(normal['HostilePadding']).toBeUndefined();
  });
});
