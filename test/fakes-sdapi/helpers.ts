/** Small HTTP and waiting helpers shared by the SD API emulator's tests. */
import sharp from 'sharp';
import type { SdApiEmulator } from '../fakes/sdapi/index.js';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body (throws when the body is not JSON). */
  json<T = unknown>(): T;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
}

export async function get(emu: SdApiEmulator, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return answer(await fetch(`${emu.url}${path}`, { headers }));
}

export async function post(
  emu: SdApiEmulator,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return answer(
    await fetch(`${emu.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
}

/** The generation response with `info` parsed. */
export interface Generation {
  readonly images: string[];
  readonly parameters: Record<string, unknown>;
  readonly info: Record<string, unknown> & { infotexts: string[]; all_seeds: number[] };
}

export async function generate(
  emu: SdApiEmulator,
  route: 'txt2img' | 'img2img',
  body: Record<string, unknown>,
): Promise<Generation> {
  const reply = await post(emu, `/sdapi/v1/${route}`, body);
  if (reply.status !== 200) throw new Error(`${route} answered ${reply.status}: ${reply.text}`);
  const raw = reply.json<{ images: string[]; parameters: Record<string, unknown>; info: string }>();
  return { images: raw.images, parameters: raw.parameters, info: JSON.parse(raw.info) as Generation['info'] };
}

export function png(base64: string): Buffer {
  return Buffer.from(base64, 'base64');
}

export async function meanRgb(image: Buffer): Promise<[number, number, number]> {
  const { channels } = await sharp(image).stats();
  return [channels[0]?.mean ?? NaN, channels[1]?.mean ?? NaN, channels[2]?.mean ?? NaN];
}

export async function solidPng(color: string, width = 64, height = 64): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } }).png().toBuffer();
}

/** Polls (every few ms, no deadline of its own: the test timeout bounds it) until `check` returns a value. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface ProgressBody {
  progress: number;
  eta_relative: number;
  state: Record<string, unknown> & { sampling_step: number; sampling_steps: number; job_count: number; job_no: number };
  current_image: string | null;
  textinfo: string | null;
  current_task: string | null;
}

export async function progress(emu: SdApiEmulator, query = ''): Promise<ProgressBody> {
  return (await get(emu, `/sdapi/v1/progress${query}`)).json<ProgressBody>();
}

/** Resolves once the emulator runs a job with this task id and sampling has started. */
export async function runningTask(emu: SdApiEmulator, taskId: string): Promise<ProgressBody> {
  return waitFor(async () => {
    const now = await progress(emu);
    return now.current_task === taskId && now.state.job_count > 0 && now.state.sampling_steps > 0 ? now : undefined;
  });
}

/** The error a fetch rejects with, with its network-level cause code (ECONNREFUSED, …). */
export async function networkFailure(request: Promise<unknown>): Promise<{ code: string }> {
  try {
    await request;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { code: cause?.code ?? 'UNKNOWN' };
  }
  throw new Error('the request succeeded but a network failure was expected');
}
