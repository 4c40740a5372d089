/**
 * The store in a shared folder (NFS, SMB, a synced volume) given by `--store DIR`: one file
 * per blob under `<dir>/<kind>/<first two hex digits>/<hash>`, each written to a temp file
 * and renamed, so a reader on any machine sees the whole file or none. Nothing expires here;
 * prune old files with the tools of the share (e.g. `find DIR -mtime +7 -delete`).
 */
import { access, readFile } from 'node:fs/promises';
import { safeJoin, writeFileAtomic } from '../util/fs.js';
import { checkBlobName, type Blob, type BlobKind, type BlobStore } from './store.js';

export class FolderStore implements BlobStore {
  readonly description: string;

  constructor(readonly dir: string) {
    this.description = `folder ${dir}`;
  }

  async has(kind: BlobKind, name: string): Promise<boolean> {
    return access(this.#path(kind, name)).then(
      () => true,
      () => false,
    );
  }

  async get(kind: BlobKind, name: string): Promise<Buffer | null> {
    try {
      return await readFile(this.#path(kind, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async put(kind: BlobKind, name: string, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.#path(kind, name), bytes);
  }

  async putAll(blobs: readonly Blob[]): Promise<void> {
    for (const { kind, name, bytes } of blobs) await this.put(kind, name, bytes);
  }

  #path(kind: BlobKind, name: string): string {
    return safeJoin(this.dir, kind, checkBlobName(name).slice(0, 2), name);
  }
}
