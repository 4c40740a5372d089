/**
 * Positions for the fast path (src/script/fast-yaml.ts) without the position-keeping read.
 *
 * A valid script with warnings (a 1 MB novel whose panels each name one sheet more than
 * their template takes) needs a line and column for each; the `yaml` library's read that
 * gives them takes five times as long as everything else `validate` does. js-yaml reports
 * every node it opens and closes to a listener, with its offset: a second js-yaml read with
 * that listener records where each node starts, which answers the same questions at a
 * fraction of the cost. `Locate` semantics are those of src/script/positions.ts (the node's
 * start; the key for `key` and for blank values; the nearest node for missing paths).
 *
 * Only texts the fast path takes come here (no anchors, tags, complex or non-text keys).
 * When the recorded nodes do not line up with the data (a construct this reading does not
 * expect), it returns null and the caller takes the full read: never a wrong position.
 */
import jsYaml from 'js-yaml';
import type { SourceLocation } from '../errors.js';
import type { YamlPath } from './model.js';
import type { Locate } from './positions.js';

interface Frame {
  /** Where composing the node began (before the whitespace in front of it). */
  readonly open: number;
  close: number;
  value: unknown;
  readonly children: Frame[];
}

/** A node as located: where it starts, and its entries (a mapping's by key, a sequence's by index). */
interface Located {
  readonly start: number;
  readonly blank: boolean;
  readonly entries: Map<string, { key: Located; value: Located | null }> | Located[] | null;
}

/** Skips spaces, line breaks and comments from `at`. */
function contentStart(text: string, at: number, end: number): number {
  let i = at;
  while (i < end) {
    const ch = text.charCodeAt(i);
    if (ch === 0x20 || ch === 0x09 || ch === 0x0a || ch === 0x0d) i++;
    else if (ch === 0x23) while (i < end && text.charCodeAt(i) !== 0x0a) i++;
    else break;
  }
  return i;
}

class Misaligned extends Error {}

function locateFrame(text: string, outer: Frame): Located {
  // A block-mapping attempt that found no key wraps the node it read (`- { who: … }`): the same node.
  let frame = outer;
  while (frame.children.length === 1 && frame.children[0]!.value === frame.value && typeof frame.value === 'object' && frame.value !== null) frame = frame.children[0]!;
  const start = contentStart(text, frame.open, Math.max(frame.close, frame.open));
  const blank = frame.value === null && start >= frame.close;
  const { value, children } = frame;
  if (Array.isArray(value)) {
    if (children.length !== value.length) throw new Misaligned();
    return { start, blank, entries: children.map((child) => locateFrame(text, child)) };
  }
  if (value !== null && typeof value === 'object') {
    const entries = new Map<string, { key: Located; value: Located | null }>();
    for (let i = 0; i < children.length; i++) {
      const key = children[i]!;
      if (typeof key.value !== 'string') throw new Misaligned();
      // A key is followed by ':'; in a flow mapping, `{ a }` is a key with no value node.
      const hasValue = text.charCodeAt(contentStart(text, key.close, text.length)) === 0x3a && i + 1 < children.length;
      entries.set(key.value, { key: locateFrame(text, key), value: hasValue ? locateFrame(text, children[++i]!) : null });
    }
    if (entries.size !== Object.keys(value).length) throw new Misaligned();
    return { start, blank, entries };
  }
  return { start, blank, entries: null };
}

/** Line starts of the text, for offset → line:column. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function position(starts: readonly number[], offset: number, file: string): SourceLocation {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return { file, line: low + 1, column: offset - starts[low]! + 1 };
}

/** A Locate for a text the fast path read, or null when the full read must give positions. */
export function fastLocator(text: string, file: string): Locate | null {
  // js-yaml drops a byte-order mark, which would shift every offset by one.
  if (text.charCodeAt(0) === 0xfeff) return null;
  const root: Frame = { open: 0, close: text.length, value: undefined, children: [] };
  const stack: Frame[] = [root];
  let tree: Located;
  try {
    jsYaml.load(text, {
      schema: jsYaml.CORE_SCHEMA,
      listener(event, state) {
        if (event === 'open') {
          const frame: Frame = { open: state.position, close: state.position, value: undefined, children: [] };
          stack[stack.length - 1]!.children.push(frame);
          stack.push(frame);
        } else {
          const frame = stack.pop()!;
          frame.close = state.position;
          frame.value = state.result;
        }
      },
    });
    const document = root.children[0];
    if (root.children.length !== 1 || document === undefined) return null;
    tree = locateFrame(text, document);
  } catch {
    return null; // misaligned, or anything js-yaml did not expect this time: the full read answers
  }
  const starts = lineStarts(text);
  const at = (offset: number) => position(starts, offset, file);
  return (path: YamlPath, where = 'value') => {
    let node = tree;
    let key: Located | null = null;
    for (const segment of path) {
      const entries = node.entries;
      const next = entries instanceof Map ? entries.get(String(segment)) : Array.isArray(entries) && typeof segment === 'number' ? { key: null, value: entries[segment] ?? null } : undefined;
      // A missing step: the key that owns the nearest existing node, or that node.
      if (next === undefined || (next.value === null && next.key === null)) return at((key ?? node).start);
      if (next.value === null) return at(next.key!.start);
      node = next.value;
      key = next.key;
    }
    if (where === 'key' || node.blank) return at((key ?? node).start);
    return at(node.start);
  };
}
