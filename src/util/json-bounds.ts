/**
 * What a parsed JSON value from a user's file must not hold before anything hashes, copies
 * or prints it: nesting so deep that every recursive step (JSON.stringify, structuredClone,
 * the canonical JSON of content keys) overflows the stack, and numbers JSON.parse turned
 * into Infinity (`1e999`, a 400-digit integer), which no hash or workflow can carry.
 */
import type { JsonPath } from './json-scan.js';

/** Far beyond any real file: ComfyUI workflows nest about 10 levels, /object_info about 13. */
export const MAX_JSON_DEPTH = 100;

export interface JsonFlaw {
  /** Where the offending value is. */
  readonly path: JsonPath;
  readonly kind: 'depth' | 'number';
  /** What is wrong with it, for a user: "the value is nested more than 100 levels deep". */
  readonly problem: string;
}

/**
 * The first flaw in `value`, depth first in document order, or null. Walks with a stack
 * of its own, so a value of any depth (even a cyclic one) is checked without recursing.
 */
export function jsonValueFlaw(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonFlaw | null {
  interface Item {
    readonly value: unknown;
    readonly depth: number;
    readonly parent: Item | null;
    readonly step: string | number | null;
  }
  const pathOf = (item: Item): JsonPath => {
    const steps: (string | number)[] = [];
    for (let at: Item | null = item; at !== null && at.step !== null; at = at.parent) steps.push(at.step);
    return steps.reverse();
  };
  const stack: Item[] = [{ value, depth: 0, parent: null, step: null }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const v = item.value;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      const problem = Number.isNaN(v) ? 'the value is NaN, not a number' : `the number is too large (beyond ${v < 0 ? '-' : ''}1.8e308)`;
      return { path: pathOf(item), kind: 'number', problem };
    }
    if (v === null || typeof v !== 'object') continue;
    if (item.depth >= maxDepth) return { path: pathOf(item), kind: 'depth', problem: `the value is nested more than ${maxDepth} levels deep` };
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((child, i) => [i, child]) : Object.entries(v);
    // Pushed last to first, so the first child is looked at first.
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], depth: item.depth + 1, parent: item, step: entries[i]![0] });
  }
  return null;
}
