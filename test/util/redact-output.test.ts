/**
 * The masking step's helpers for outputs kept as data (`maskDeep`: doctor's findings, a
 * worker's failures and events) and for plain-text commands (`maskedOutput`, and
 * `maskedContext` of src/cli/masked-io.ts): every string masked, nothing else changed.
 */
import { describe, expect, it } from 'vitest';
import { maskedContext } from '../../src/cli/masked-io.js';
import { memoryIO } from '../../src/cli/io.js';
import { createMask, maskDeep, maskedOutput } from '../../src/util/redact.js';

const SECRET = 'hunter2/+x';
const clean = createMask([SECRET]);

describe('maskDeep', () => {
  it('masks every string of plain objects and arrays, keeps numbers, nulls, bytes and the shape', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const value = { id: 'server:a', n: 3, none: null, list: [`token ${SECRET}`, { deep: `\u001b[2J${encodeURIComponent(SECRET)}` }], bytes };
    const masked = maskDeep(value, clean);
    expect(masked).toEqual({ id: 'server:a', n: 3, none: null, list: ['token ***', { deep: '\\u001b[2J***' }], bytes });
    expect(masked.bytes).toBe(bytes);
    expect(value.list[0]).toBe(`token ${SECRET}`); // the original is left alone
  });
});

describe('maskedOutput and maskedContext', () => {
  it('mask every write, strings and bytes, and keep the rest of the stream and the exit code', () => {
    const cli = memoryIO();
    let code = 0;
    const ctx = maskedContext({ io: cli.io, setExitCode: (c) => (code = c) }, clean);
    ctx.io.stdout.write(`a ${SECRET}\n`);
    ctx.io.stderr.write(Buffer.from(`b ${JSON.stringify(SECRET)} \u001b]0;x\u0007\n`));
    ctx.setExitCode(2);
    expect(cli.stdout()).toBe('a ***\n');
    expect(cli.stderr()).toBe('b "***" \\u001b]0;x\\u0007\n');
    expect(code).toBe(2);
    const stream = Object.assign(memoryIO().io.stdout, { isTTY: false as boolean, columns: 99 });
    expect(maskedOutput(stream, clean).columns).toBe(99);
  });
});
