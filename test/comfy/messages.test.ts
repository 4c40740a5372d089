import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBinary, parseMessage, type ComfyMessage } from '../../src/comfy/messages.js';

type TraceMessage = { type?: string; data?: unknown; binary?: boolean; byteLength?: number; eventType?: number; imageFormat?: number; metadataLength?: number; metadata?: Record<string, unknown>; imageMagic?: string };

function trace(name: string): { ws: TraceMessage[] } {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as { ws: TraceMessage[] };
}

/** Python's json.dumps with default separators, as ComfyUI writes preview metadata. */
function pythonJson(value: Record<string, unknown>): string {
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}: ${v === null ? 'null' : JSON.stringify(v)}`)
    .join(', ')}}`;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function imageBytes(magic: string, length: number): Uint8Array {
  const bytes = new Uint8Array(length).fill(7);
  bytes.set(Buffer.from(magic, 'hex'));
  return bytes;
}

describe('parseMessage on recorded ComfyUI 0.8.0 traffic', () => {
  for (const file of ['b_run_feature_flags_preview.json', 'b_run_legacy_preview.json']) {
    it(`understands every text message of ${file}`, () => {
      const messages = trace(file).ws.filter((m) => m.type !== undefined);
      const parsed = messages.map((m) => parseMessage(JSON.stringify({ type: m.type, data: m.data })));
      expect(parsed.map((p) => p.type)).toEqual(messages.map((m) => m.type));
      const last = parsed.at(-1) as Extract<ComfyMessage, { type: 'executing' }>;
      expect(last).toMatchObject({ type: 'executing', node: null });
      expect(last.promptId).toMatch(/^[0-9a-f-]{36}$/);
      const progress = parsed.filter((p) => p.type === 'progress');
      expect(progress.map((p) => (p.type === 'progress' ? `${p.value}/${p.max}@${p.node}` : ''))).toEqual(['1/3@2', '2/3@2', '3/3@2']);
    });
  }

  it('reads the first status sid and the server feature flags', () => {
    const [status, flags] = trace('b_run_feature_flags_preview.json').ws.map((m) => parseMessage(JSON.stringify({ type: m.type, data: m.data })));
    expect(status).toEqual({ type: 'status', queueRemaining: 0, sid: '74799314-7768-4c21-932b-d98d559f8956' });
    expect(flags).toMatchObject({ type: 'feature_flags', flags: { supports_preview_metadata: true, max_upload_size: 104857600 } });
  });

  it('keeps the bare reconnect form of executing (no prompt_id)', () => {
    expect(parseMessage('{"type":"executing","data":{"node":"2"}}')).toEqual({ type: 'executing', promptId: null, node: '2', displayNode: null });
  });

  it('marks ExecutionBlocked errors as not terminal and trims the exception text', () => {
    const blocked = parseMessage(JSON.stringify({ type: 'execution_error', data: { prompt_id: 'p', node_id: '4', node_type: 'X', exception_type: 'ExecutionBlocked', exception_message: 'blocked\n' } }));
    expect(blocked).toMatchObject({ type: 'execution_error', blocked: true, exceptionMessage: 'blocked' });
    const real = parseMessage(JSON.stringify({ type: 'execution_error', data: { prompt_id: 'p', node_id: '4', node_type: 'X', exception_type: 'RuntimeError', exception_message: 'boom\n' } }));
    expect(real).toMatchObject({ blocked: false, exceptionType: 'RuntimeError', nodeId: '4' });
  });

  it('turns garbage, unknown types and id-less prompt events into `other`', () => {
    expect(parseMessage('{"type":"crystools.monitor","data":{"cpu":3}}')).toEqual({ type: 'other', name: 'crystools.monitor' });
    expect(parseMessage('{not json')).toEqual({ type: 'other', name: 'malformed' });
    expect(parseMessage('[1,2]')).toEqual({ type: 'other', name: 'malformed' });
    expect(parseMessage('{"type":"execution_start","data":{}}')).toEqual({ type: 'other', name: 'execution_start' });
  });
});

describe('decodeBinary with the byte layouts of the traces', () => {
  it('type 1 (legacy client): [u32 1][u32 format][image], image at byte 8', () => {
    const recorded = trace('b_run_legacy_preview.json').ws.find((m) => m.binary === true)!;
    expect(recorded).toMatchObject({ eventType: 1, imageFormat: 1, byteLength: 4734, imageMagic: 'ffd8ffe0' });
    const frame = concat(u32(1), u32(recorded.imageFormat!), imageBytes(recorded.imageMagic!, recorded.byteLength! - 8));
    const decoded = decodeBinary(frame, false);
    expect(decoded).toMatchObject({ kind: 'preview', mime: 'image/jpeg', promptId: null, nodeId: null });
    if (decoded.kind !== 'preview') throw new Error('not a preview');
    expect(decoded.bytes.byteLength).toBe(4726);
    expect(Buffer.from(decoded.bytes.subarray(0, 4)).toString('hex')).toBe('ffd8ffe0');
    expect(decodeBinary(concat(u32(1), u32(2), imageBytes('89504e47', 20)), false)).toMatchObject({ mime: 'image/png' });
  });

  it('type 4 (feature flags): [u32 4][u32 m][m bytes of JSON metadata][image]', () => {
    const recorded = trace('b_run_feature_flags_preview.json').ws.find((m) => m.binary === true)!;
    const metadata = pythonJson(recorded.metadata!);
    expect(Buffer.byteLength(metadata)).toBe(recorded.metadataLength);
    const imageLength = recorded.byteLength! - 8 - recorded.metadataLength!;
    const frame = concat(u32(4), u32(recorded.metadataLength!), Buffer.from(metadata), imageBytes(recorded.imageMagic!, imageLength));
    expect(frame.byteLength).toBe(4901);
    const decoded = decodeBinary(frame, false);
    expect(decoded).toMatchObject({ kind: 'preview', mime: 'image/jpeg', promptId: '1329e299-8efd-4e55-a31f-626475b4bf98', nodeId: '2' });
    if (decoded.kind !== 'preview') throw new Error('not a preview');
    expect(decoded.bytes.byteLength).toBe(imageLength);
    expect(Buffer.from(decoded.bytes.subarray(0, 4)).toString('hex')).toBe('ffd8ffe0');
  });

  it('decodes from a Buffer slice that does not start at offset 0 of its ArrayBuffer', () => {
    const pool = Buffer.alloc(64, 0xaa);
    const frame = concat(u32(1), u32(2), imageBytes('89504e47', 8));
    pool.set(frame, 13);
    const decoded = decodeBinary(pool.subarray(13, 13 + frame.byteLength), false);
    expect(decoded).toMatchObject({ kind: 'preview', mime: 'image/png' });
  });

  it('type 3 text: legacy layout, and the prompt-id layout only when the server advertises it', () => {
    const node = Buffer.from('12:5');
    const legacy = concat(u32(3), u32(node.byteLength), node, Buffer.from('1024x1024'));
    expect(decodeBinary(legacy, false)).toEqual({ kind: 'text', promptId: null, nodeId: '12:5', text: '1024x1024' });
    const prompt = Buffer.from('abc');
    const withPrompt = concat(u32(3), u32(prompt.byteLength), prompt, u32(node.byteLength), node, Buffer.from('hi'));
    expect(decodeBinary(withPrompt, true)).toEqual({ kind: 'text', promptId: 'abc', nodeId: '12:5', text: 'hi' });
  });

  it('never throws on truncated or unknown frames', () => {
    expect(decodeBinary(new Uint8Array([0, 0]), false)).toEqual({ kind: 'unknown', eventType: -1 });
    expect(decodeBinary(concat(u32(4), u32(500), Buffer.from('{}')), false)).toEqual({ kind: 'unknown', eventType: 4 });
    expect(decodeBinary(concat(u32(4), u32(2), Buffer.from('no')), false)).toEqual({ kind: 'unknown', eventType: 4 });
    expect(decodeBinary(concat(u32(3), u32(99)), false)).toEqual({ kind: 'unknown', eventType: 3 });
    expect(decodeBinary(u32(2), false)).toEqual({ kind: 'unknown', eventType: 2 });
  });
});
