/**
 * Positions in a configuration file. Loaders hand us plain data; to point at the exact
 * place of a problem we re-parse the text with `yaml` (JSON is YAML too) and follow the
 * path of the problem through its nodes.
 */
import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import type { SourceLocation } from '../errors.js';
import { lineCounterOf } from '../util/line-counter.js';

/** A path into the configuration data, e.g. ['servers', 0, 'url']. */
export type YamlPath = readonly (string | number)[];

export interface Locator {
  readonly file: string;
  /**
   * Where the value at `path` is (or `needle` inside it); the nearest written ancestor when
   * the path is absent (a missing key). null for formats without positions (JS modules).
   */
  value(path: YamlPath, needle?: string): SourceLocation | null;
  /** Where the key that ends `path` is written. */
  key(path: YamlPath): SourceLocation | null;
}

/** `prefix` is where the configuration sits in the file, e.g. ['comic'] in package.json. */
export function createLocator(file: string, text: string | null, prefix: YamlPath = []): Locator {
  if (text === null) return { file, value: () => null, key: () => null };
  // Lines counted from the text, not by the reader: it loses count after a syntax error.
  const lineCounter = lineCounterOf(text);
  const doc = parseDocument(text, { uniqueKeys: false });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };

  /** The deepest node along the path, and the key node of its last step when it was a map entry. */
  const follow = (path: YamlPath) => {
    let node: Node | null = (doc.contents as Node | null) ?? null;
    let keyNode: Node | null = null;
    let complete = true;
    for (const segment of [...prefix, ...path]) {
      const next = childOf(node, segment);
      if (!next) {
        complete = false;
        break;
      }
      node = next.value;
      keyNode = next.key;
    }
    return { node, keyNode: complete ? keyNode : null };
  };

  return {
    file,
    value(path, needle) {
      const { node } = follow(path);
      const range = node?.range;
      if (!range) return at(0);
      if (needle !== undefined) {
        const index = text.slice(range[0], range[1]).indexOf(needle);
        if (index >= 0) return at(range[0] + index);
      }
      return at(range[0]);
    },
    key(path) {
      const { node, keyNode } = follow(path);
      const range = keyNode?.range ?? node?.range;
      return at(range ? range[0] : 0);
    },
  };
}

function childOf(node: Node | null, segment: string | number): { value: Node | null; key: Node | null } | null {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key;
      const name = isScalar(key) ? key.value : key;
      if (String(name) === String(segment)) {
        return { value: (pair.value as Node | null) ?? (key as Node | null), key: key as Node | null };
      }
    }
    return null;
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment] as Node | undefined;
    return item ? { value: item, key: null } : null;
  }
  return null;
}
