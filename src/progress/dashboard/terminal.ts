/**
 * The terminal as the dashboard sees it. A pseudo-terminal may report 0 rows and columns
 * (`script` without a size, some CI runners): ink would then take every frame for a
 * full-screen one and clear the whole screen, scrollback included, on each redraw. Both the
 * frame's layout and ink get the same fallback size instead.
 */
import type { FrameSize } from './lines.js';

export type Terminal = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };

const FALLBACK: FrameSize = { columns: 80, rows: 24 };

export function frameSize(terminal: Terminal): FrameSize {
  const { columns, rows } = terminal;
  return { columns: columns && columns > 0 ? columns : FALLBACK.columns, rows: rows && rows > 0 ? rows : FALLBACK.rows };
}

/** `terminal` with its size read through frameSize(); everything else is the stream's own. */
export function sizedTerminal<T extends Terminal>(terminal: T): T {
  return new Proxy(terminal, {
    get(target, key) {
      if (key === 'columns' || key === 'rows') return frameSize(target)[key];
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
