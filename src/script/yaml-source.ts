/**
 * Reads the YAML text: syntax errors and warnings with their positions, then the plain data
 * (objects, arrays, scalars) the schema checks. We convert the syntax tree ourselves rather
 * than call `toJS()` so that duplicate keys name the first definition, aliases cannot expand
 * without bound, and keys such as `__proto__` stay ordinary data.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Alias, type Document, type Node, type YAMLError, type YAMLMap } from 'yaml';
import type { SourceLocation } from '../errors.js';
import { lineCounterOf } from '../util/line-counter.js';
import type { Diagnostic, Severity } from './diagnostics.js';
import { createLocator, keyText, nodeLocation, type Locate } from './positions.js';

/** Aliases may repeat a block, but a script never needs more values than this. */
export const MAX_EXPANDED_VALUES = 1_000_000;

export interface YamlSource {
  readonly locate: Locate;
  /** Syntax errors and warnings, duplicate keys, bad aliases. */
  readonly diagnostics: Diagnostic[];
  /** The data, or undefined when the YAML could not be read far enough to check it. */
  readonly value: unknown;
}

function reword(error: YAMLError): string {
  if (/call stack/i.test(error.message)) return 'the YAML is nested too deeply to read';
  return error.message;
}

export function readYaml(text: string, file: string): YamlSource {
  // Lines counted from the text, not by the reader: it loses count after a syntax error.
  const lineCounter = lineCounterOf(text);
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false });
  const locate = createLocator(doc, lineCounter, file);
  const fromYaml = (error: YAMLError, severity: Severity): Diagnostic => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return { file, line: Math.max(1, line), column: Math.max(1, col), severity, message: `YAML: ${reword(error)}` };
  };
  const diagnostics = [...doc.errors.map((e) => fromYaml(e, 'error')), ...doc.warnings.map((w) => fromYaml(w, 'warning'))];
  // After a syntax error the tree is a guess; checking it would report phantom problems.
  if (doc.errors.length > 0) return { locate, diagnostics, value: undefined };
  const where = (node: Node | null | undefined) => nodeLocation(node, lineCounter, file) ?? { file, line: 1, column: 1 };
  const converter = new Converter(doc, where, diagnostics);
  const value = converter.convert(doc.contents);
  return { locate, diagnostics, value: converter.overflowed ? undefined : value };
}

function keyKind(parentKey: string | null, depth: number): string {
  if (depth === 1 && parentKey === 'characters') return 'character id';
  if (depth === 1 && parentKey === 'backgrounds') return 'background id';
  return 'key';
}

/** The syntax tree as plain data, reporting what plain data cannot say. */
class Converter {
  /** Converted anchored nodes and how many values each stands for (aliases reuse them). */
  private readonly anchored = new Map<Node, { value: unknown; size: number }>();
  /** Collections being converted: an alias to one of them is a cycle. */
  private readonly active = new Set<Node>();
  private expanded = 0;
  overflowed = false;

  constructor(
    private readonly doc: Document,
    private readonly where: (node: Node | null | undefined) => SourceLocation,
    private readonly diagnostics: Diagnostic[],
  ) {}

  private report(node: Node | null | undefined, message: string, hint?: string): void {
    this.diagnostics.push({ ...this.where(node), severity: 'error', message, ...(hint ? { hint } : {}) });
  }

  private count(values: number, node: Node): void {
    this.expanded += values;
    if (this.expanded > MAX_EXPANDED_VALUES && !this.overflowed) {
      this.overflowed = true;
      this.report(node, `the script expands to more than ${MAX_EXPANDED_VALUES.toLocaleString('en')} values through aliases`);
    }
  }

  /** `parentKey` and `depth` only serve to name duplicate keys ("duplicate character id"). */
  convert(node: unknown, parentKey: string | null = null, depth = 0): unknown {
    if (this.overflowed || node === null || node === undefined) return null;
    if (isAlias(node)) return this.convertAlias(node, parentKey, depth);
    if (isScalar(node)) {
      this.count(1, node);
      return node.value;
    }
    if (!isMap(node) && !isSeq(node)) return null;
    const before = this.expanded;
    this.active.add(node);
    const value = isMap(node) ? this.convertMap(node, parentKey, depth) : node.items.map((item) => this.convert(item, null, depth + 1));
    this.active.delete(node);
    this.count(1, node);
    if (node.anchor) this.anchored.set(node, { value, size: this.expanded - before });
    return value;
  }

  private convertAlias(alias: Alias, parentKey: string | null, depth: number): unknown {
    const target = alias.resolve(this.doc);
    if (!target) {
      this.report(alias, `unknown alias '*${alias.source}'`, `define the anchor '&${alias.source}' before using it`);
      return null;
    }
    if (this.active.has(target)) {
      this.report(alias, `alias '*${alias.source}' refers to a block that contains it`);
      return null;
    }
    const seen = this.anchored.get(target);
    if (!seen) return this.convert(target, parentKey, depth);
    // Shared, not copied; but it counts as many values as it stands for.
    this.count(seen.size, alias);
    return seen.value;
  }

  private convertMap(map: YAMLMap, parentKey: string | null, depth: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const firstKeys = new Map<string, Node | null>();
    for (const pair of map.items) {
      const keyNode = pair.key as Node | null;
      const key = keyText(keyNode);
      if (key === null) {
        this.report(keyNode, 'a mapping key must be plain text, not a list or mapping');
        continue;
      }
      if (firstKeys.has(key)) {
        const first = this.where(firstKeys.get(key) ?? map).line;
        this.report(keyNode, `duplicate ${keyKind(parentKey, depth)} '${key}' (first defined on line ${first})`, 'each key may appear once in a mapping; rename or remove one of them');
        continue;
      }
      firstKeys.set(key, keyNode);
      const value = this.convert(pair.value, key, depth + 1);
      // A key named __proto__ is data here: defineProperty keeps it from setting the prototype.
      if (key === '__proto__') Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      else result[key] = value;
    }
    return result;
  }
}
