/**
 * From a path in the script's data (['pages', 0, 'panels', 2, 'prompt']) to the place in
 * the YAML text: the node itself when it exists, else the nearest node that does.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { SourceLocation } from '../errors.js';
import type { YamlPath } from './model.js';

/** `value` (default): where the value starts; `key`: the key naming it (for unknown or duplicate keys). */
export type LocateAt = 'value' | 'key';

export type Locate = (path: YamlPath, at?: LocateAt) => SourceLocation;

interface Step {
  /** The node reached, or null for an empty value. */
  readonly node: Node | null;
  /** The key node when the step went through a mapping key. */
  readonly key: Node | null;
}

/** The scalar text of a mapping key, as the data model sees it; null for collection keys. */
export function keyText(key: unknown): string | null {
  if (key === null || key === undefined) return '';
  if (isScalar(key)) return key.value === null ? '' : String(key.value);
  return null;
}

function follow(doc: Document, node: unknown): Node | null {
  // Aliases point at their anchor; the anchor's node is where the value is written.
  const target = isAlias(node) ? node.resolve(doc) : node;
  return (target ?? null) as Node | null;
}

/** The nodes along `path`, stopping at the first segment that does not exist. */
function walk(doc: Document, path: YamlPath): { steps: Step[]; complete: boolean } {
  const steps: Step[] = [{ node: follow(doc, doc.contents), key: null }];
  for (const segment of path) {
    const current = steps[steps.length - 1]!.node;
    if (isMap(current)) {
      const pair = current.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) return { steps, complete: false };
      steps.push({ node: follow(doc, pair.value), key: (pair.key ?? null) as Node | null });
    } else if (isSeq(current) && typeof segment === 'number' && segment >= 0 && segment < current.items.length) {
      steps.push({ node: follow(doc, current.items[segment]), key: null });
    } else {
      return { steps, complete: false };
    }
  }
  return { steps, complete: true };
}

/** True for `key:` with nothing after it: such a value has no place of its own. */
function isBlank(node: Node | null): boolean {
  return node === null || !node.range || (isScalar(node) && node.value === null && !node.source);
}

/** Where a node starts, or null for nodes that have no place in the text. */
export function nodeLocation(node: Node | null | undefined, lineCounter: LineCounter, file: string): SourceLocation | null {
  const offset = node?.range?.[0];
  if (offset === undefined) return null;
  const { line, col } = lineCounter.linePos(offset);
  return { file, line: Math.max(1, line), column: Math.max(1, col) };
}

export function createLocator(doc: Document, lineCounter: LineCounter, file: string): Locate {
  const at = (node: Node | null | undefined) => nodeLocation(node, lineCounter, file);
  return (path, where = 'value') => {
    const { steps, complete } = walk(doc, path);
    const last = steps[steps.length - 1]!;
    const start = { file, line: 1, column: 1 };
    if (complete) {
      if (where === 'key' || isBlank(last.node)) return at(last.key) ?? at(last.node) ?? start;
      return at(last.node) ?? start;
    }
    // A missing key: point at the key that owns the nearest existing block ("comic:"),
    // or at the block itself when it has no key (a list item).
    return at(last.key) ?? at(last.node) ?? start;
  };
}
