/**
 * The order nodes run in, as ComfyUI's ExecutionList decides it: outputs are added first and
 * their uncached ancestors pulled in depth-first; among the nodes whose inputs are ready, an
 * output node goes first, then a node feeding an output, then one two steps before an output,
 * else the first ready node in insertion order. (This is why smoke_image_nodes.json runs the
 * PreviewImage before the rest of the graph.)
 */
import type { ApiPrompt } from './validate.js';

export type Link = readonly [string, number];

/** is_link(): a two-element [string, number] array. */
export function asLink(value: unknown): Link | undefined {
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number') {
    return [value[0], value[1]];
  }
  return undefined;
}

export class ExecutionList {
  private readonly pending = new Map<string, true>();
  private readonly blockCount = new Map<string, number>();
  private readonly blocking = new Map<string, Set<string>>();

  constructor(
    private readonly prompt: ApiPrompt,
    private readonly isCached: (id: string) => boolean,
    private readonly isOutput: (id: string) => boolean,
  ) {}

  isEmpty(): boolean {
    return this.pending.size === 0;
  }

  addNode(nodeId: string): void {
    const stack = [nodeId];
    const links: Array<[string, string]> = [];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (this.pending.has(id)) continue;
      this.pending.set(id, true);
      this.blockCount.set(id, 0);
      this.blocking.set(id, new Set());
      // A cached node never reads its inputs, so its ancestors are not needed.
      if (this.isCached(id)) continue;
      for (const value of Object.values(this.prompt[id]?.inputs ?? {})) {
        const link = asLink(value);
        if (link === undefined) continue;
        if (!this.isCached(link[0])) stack.push(link[0]);
        links.push([link[0], id]);
      }
    }
    for (const [from, to] of links) this.addStrongLink(from, to);
  }

  /** The next node to run (the caller runs it, then calls complete). */
  next(): string | undefined {
    const ready = [...this.pending.keys()].filter((id) => this.blockCount.get(id) === 0);
    if (ready.length === 0) return undefined;
    const feeds = (id: string): string[] => [...(this.blocking.get(id) ?? [])];
    return (
      ready.find((id) => this.isOutput(id)) ??
      ready.find((id) => feeds(id).some((b) => this.isOutput(b))) ??
      ready.find((id) => feeds(id).some((b) => feeds(b).some((c) => this.isOutput(c)))) ??
      ready[0]
    );
  }

  complete(nodeId: string): void {
    this.pending.delete(nodeId);
    for (const blocked of this.blocking.get(nodeId) ?? []) this.blockCount.set(blocked, (this.blockCount.get(blocked) ?? 1) - 1);
    this.blocking.delete(nodeId);
  }

  private addStrongLink(from: string, to: string): void {
    if (this.isCached(from)) return;
    this.addNode(from);
    const blocked = this.blocking.get(from) as Set<string>;
    if (!blocked.has(to)) {
      blocked.add(to);
      this.blockCount.set(to, (this.blockCount.get(to) ?? 0) + 1);
    }
  }
}
