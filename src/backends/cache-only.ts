/**
 * The "backend" of `comic compose`: it renders nothing. Every image must already be in the
 * cache; one that is not fails with a clear error, and the pages that need it are skipped.
 */
import { ComicError } from '../errors.js';
import type { Backend, RenderRequest, RenderResult } from './types.js';

export class CacheOnlyBackend implements Backend {
  readonly name = 'cache' as const;

  async ready(): Promise<void> {}

  async render(request: RenderRequest): Promise<RenderResult> {
    throw new ComicError('NOT_CACHED', `${request.jobId} has not been rendered yet (or its inputs changed since)`, {
      hint: 'run `comic generate` first; `comic compose` only re-composes pages from cached images',
    });
  }

  async close(): Promise<void> {}
}
