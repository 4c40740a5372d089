/**
 * ComfyUI's default ("classic") node-output cache: a node's output is reused when its input
 * signature — class, IS_CHANGED value, literal inputs and the signatures of everything
 * upstream, but not its node id — matches an entry. At the start of each prompt every entry
 * the new prompt does not use is dropped, so the cache holds at most the last prompt's nodes.
 * POST /free with free_memory empties it.
 */
import { sha256 } from '../../../src/util/hash.js';
import { asLink } from './execution-list.js';
import type { NodeOutput } from './nodes.js';
import type { ApiPrompt } from './validate.js';

/**
 * Text that is equal exactly when two JSON values are equal, whatever their key order
 * (validation can produce NaN/Infinity, which canonical JSON refuses, so they are spelled out).
 */
export function stableKey(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return `<${String(v)}>`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

export class OutputCache {
  private readonly entries = new Map<string, NodeOutput>();

  get(signature: string | undefined): NodeOutput | undefined {
    return signature === undefined ? undefined : this.entries.get(signature);
  }

  set(signature: string, output: NodeOutput): void {
    this.entries.set(signature, output);
  }

  /** set_prompt + clean_unused: keep only what the new prompt can use. */
  retainOnly(signatures: Iterable<string>): void {
    const keep = new Set(signatures);
    for (const key of [...this.entries.keys()]) if (!keep.has(key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The input signature of every node of a prompt. `isChanged` is the node's IS_CHANGED value, if it has one. */
export function nodeSignatures(prompt: ApiPrompt, isChanged: ReadonlyMap<string, string>): Map<string, string> {
  const signatures = new Map<string, string>();
  const visiting = new Set<string>();
  const sign = (id: string): string => {
    const known = signatures.get(id);
    if (known !== undefined) return known;
    const node = prompt[id];
    // Unvalidated leftovers (cycles, dangling links) never run; give them a signature nothing shares.
    if (node === undefined || visiting.has(id)) return `unresolvable:${id}`;
    visiting.add(id);
    const inputs = Object.keys(node.inputs ?? {})
      .sort()
      .map((name) => {
        const value = node.inputs[name];
        const link = asLink(value);
        return link === undefined ? [name, value] : [name, { from: sign(link[0]), slot: link[1] }];
      });
    visiting.delete(id);
    const signature = sha256(stableKey([node.class_type, isChanged.get(id) ?? null, inputs]));
    signatures.set(id, signature);
    return signature;
  };
  for (const id of Object.keys(prompt)) sign(id);
  return signatures;
}
