import { describe, expect, it } from 'vitest';
import { JsonRenderer } from '../../src/progress/json.js';
import { PlainRenderer } from '../../src/progress/plain.js';
import { chooseMode, createRenderer } from '../../src/progress/renderer.js';
import { captureIO } from './fixtures.js';

describe('chooseMode', () => {
  const tty = captureIO({ tty: true }).io;
  const pipe = captureIO({ tty: false }).io;
  const mode = (flags: { json?: boolean; plain?: boolean }, io = tty, env: NodeJS.ProcessEnv = {}) => chooseMode({ flags, io, env });

  it('picks --json first, then --plain', () => {
    expect(mode({ json: true, plain: true }, tty)).toBe('json');
    expect(mode({ json: true }, pipe, { CI: 'true' })).toBe('json');
    expect(mode({ plain: true }, tty)).toBe('plain');
  });

  it('picks plain in CI, on a dumb terminal and when stdout is not a terminal', () => {
    expect(mode({}, tty, { CI: 'true' })).toBe('plain');
    expect(mode({}, tty, { CI: '1' })).toBe('plain');
    expect(mode({}, tty, { TERM: 'dumb' })).toBe('plain');
    expect(mode({}, pipe)).toBe('plain');
  });

  it('picks the dashboard on a terminal otherwise (CI=false does not count as CI)', () => {
    expect(mode({}, tty)).toBe('interactive');
    expect(mode({ json: false, plain: false }, tty, { CI: 'false' })).toBe('interactive');
    expect(mode({}, tty, { CI: '' })).toBe('interactive');
  });

  it('builds the renderer of each mode', () => {
    expect(createRenderer('json', pipe)).toBeInstanceOf(JsonRenderer);
    expect(createRenderer('plain', pipe)).toBeInstanceOf(PlainRenderer);
  });
});
