import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { closedSafe, closedSafeOf } from '../../src/cli/io.js';
import { maskSecrets, rememberSecrets } from '../../src/util/redact.js';

/** A stream whose reader goes away after `accepted` writes: later writes fail as a pipe's do. */
function pipe(accepted: number, code = 'EPIPE') {
  const received: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (received.length >= accepted) return callback(Object.assign(new Error(`write ${code}`), { code, syscall: 'write' }));
      received.push(chunk.toString());
      callback();
    },
  });
  return { stream, received };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('closedSafe', () => {
  it('swallows the EPIPE of a reader gone away, marks the stream closed and drops later writes', async () => {
    const { stream, received } = pipe(1);
    const safe = closedSafe(stream);
    safe.write('one\n');
    safe.write('two\n');
    await tick();
    expect(safe.closed).toBe(true);
    const done = vi.fn();
    expect(safe.write('three\n', done)).toBe(true);
    await tick();
    // The callback still comes: ink waits for one before it lets a run end.
    expect(done).toHaveBeenCalledOnce();
    expect(received).toEqual(['one\n']);
  });

  it('passes every text write through its clean step: the process streams mask remembered secrets there', async () => {
    const { stream, received } = pipe(10);
    rememberSecrets(['tok-io-7f3a']);
    const safe = closedSafe(stream, () => {}, maskSecrets);
    safe.write('Authorization: Bearer tok-io-7f3a\n');
    safe.write('\u001b[2K frame\n'); // a renderer's own escapes are left alone
    await tick();
    expect(received).toEqual(['Authorization: Bearer ***\n', '\u001b[2K frame\n']);
  });

  it('is the stream in every other way', () => {
    const { stream } = pipe(10);
    const safe = closedSafe(Object.assign(stream, { isTTY: true, columns: 120 }));
    expect(safe.isTTY).toBe(true);
    expect(safe.columns).toBe(120);
    const listener = vi.fn();
    safe.on('drain', listener);
    stream.emit('drain');
    expect(listener).toHaveBeenCalledOnce();
    expect(safe.closed).toBe(false);
  });

  it('tells an error other than a reader gone away once, and closes the stream too', async () => {
    const { stream } = pipe(0, 'ENOSPC');
    const told = vi.fn();
    const safe = closedSafe(stream, told);
    safe.write('a');
    safe.write('b');
    await tick();
    expect(told).toHaveBeenCalledOnce();
    expect(told.mock.calls[0]![0]).toMatchObject({ code: 'ENOSPC' });
    expect(safe.closed).toBe(true);
  });

  it('diverts writes while asked to; what the diversion writes itself reaches the stream', () => {
    const { stream, received } = pipe(10);
    const safe = closedSafe(stream);
    const seen: string[] = [];
    closedSafeOf(safe)!.divert((text) => {
      seen.push(text);
      safe.write(`[${text.trim()}]\n`);
    });
    safe.write('cancelling\n');
    safe.divert(null);
    safe.write('after\n');
    expect(seen).toEqual(['cancelling\n']);
    expect(received).toEqual(['[cancelling]\n', 'after\n']);
    expect(closedSafeOf(stream)).toBeNull();
  });
});
