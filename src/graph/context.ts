import { readFileSync } from 'node:fs';
import type { PageLayout } from '../compose/types.js';
import type { Page, PageFormat, ReadingDirection } from '../script/model.js';
import type { TemplateResolver } from '../templates/types.js';
import { sha256 } from '../util/hash.js';

/** What the planner needs from the rest of the program; it does no I/O of its own. */
export interface PlanContext {
  readonly templates: TemplateResolver;
  /** The page's layout; PageLayout.panels holds one box per panel, in Page.panels order. */
  layoutPage(page: Page, format: PageFormat, direction: ReadingDirection): PageLayout;
  /** The sha256 (hex) of a file's bytes: a user reference image counts by its content. */
  fileHash(path: string): string;
}

/** A PlanContext.fileHash that reads each file once; read errors propagate (the planner adds where). */
export function createFileHasher(read: (path: string) => Uint8Array = readFileSync): (path: string) => string {
  const hashes = new Map<string, string>();
  return (path) => {
    let hash = hashes.get(path);
    if (hash === undefined) {
      hash = sha256(read(path));
      hashes.set(path, hash);
    }
    return hash;
  };
}
