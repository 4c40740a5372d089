/**
 * The SD API client's byte caps and total deadlines, against a small hostile HTTP server on
 * loopback: a huge JSON answer is cut off at the cap (bytes measured on the server's side),
 * a route that never answers ends at `requestMs`, a render answer that drips ends at
 * `downloadMs`, while a render that simply takes long is waited for.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SdApiClient, type SdApiClientOptions } from '../../src/sdapi/client.js';
import { rejection } from '../support/rejection.js';

const MiB = 1024 * 1024;
let server: Server;
let url: string;
let sent = 0;
let handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
const held: ServerResponse[] = [];

beforeEach(async () => {
  sent = 0;
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  for (const res of held.splice(0)) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const client = (options: SdApiClientOptions) => new SdApiClient({ url, auth: null }, options);
const live = () => new AbortController().signal;

/** Writes `total` bytes of a JSON list of strings, with backpressure, counting what was flushed. */
async function streamJson(res: ServerResponse, total: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(64 * 1024, 'a');
  chunk[0] = '['.charCodeAt(0);
  chunk[1] = '"'.charCodeAt(0);
  let written = 0;
  while (written < total && !res.destroyed) {
    written += chunk.length;
    if (!res.write(chunk, (error) => void (error ? undefined : (sent += chunk.length)))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.once('drain', done);
        res.once('close', done);
      });
    }
  }
  res.end();
}

describe('SD API answers are bounded', () => {
  it('a huge JSON answer is cut off at jsonBytes, with the URL and route in the error', async () => {
    handler = (_req, res) => streamJson(res, 512 * MiB);
    const error = await rejection(client({ jsonBytes: 1 * MiB }).samplers(live()));
    expect(error.code).toBe('SERVER_PROTOCOL');
    expect(error.message).toBe(`Stable Diffusion API at ${url} answered GET /sdapi/v1/samplers with more than 1 MiB; it was not read further`);
    expect(error.hint).toContain('limits.jsonBytes');
    expect(sent).toBeLessThan(32 * MiB);
  });

  it('a route that never answers ends at requestMs', async () => {
    handler = (_req, res) => void held.push(res);
    const started = Date.now();
    const error = await rejection(client({ requestMs: 300 }).sdModels(live()));
    expect(error.code).toBe('SERVER_UNREACHABLE');
    expect(error.message).toBe(`Stable Diffusion API at ${url} did not answer GET /sdapi/v1/sd-models in time (0.3 s)`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a render may take longer than requestMs, but its answer must then arrive within downloadMs', async () => {
    const image = Buffer.from('not really a png').toString('base64');
    // Slow to start (a render), then quick: waited for.
    handler = (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ images: [image], info: '{}' }));
      }, 600);
    };
    const slow = await client({ requestMs: 200, downloadMs: 300 }).txt2img({}, live());
    expect(slow.images).toEqual([image]);

    // Headers at once, then a byte every 100 ms: ends at downloadMs.
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      held.push(res);
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 100);
    };
    const started = Date.now();
    const error = await rejection(client({ requestMs: 200, downloadMs: 400 }).txt2img({}, live()));
    expect(error.code).toBe('SERVER_UNREACHABLE');
    expect(error.message).toContain('did not answer POST /sdapi/v1/txt2img in time');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('an image over imageBytes is refused', async () => {
    const image = Buffer.alloc(4096, 1).toString('base64');
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ images: [image], info: '{}' }));
    };
    const error = await rejection(client({ imageBytes: 1024 }).txt2img({}, live()));
    expect(error.code).toBe('SERVER_PROTOCOL');
    expect(error.message).toBe(`Stable Diffusion API at ${url} answered POST /sdapi/v1/txt2img with an image larger than 1 KiB`);
  });
});
