/**
 * File-system errors of our own writes, told apart from everything else: the output folder,
 * the cache, a download's staging file and a worker's work folder all ask the same questions.
 */

/** A file-system error (it has an errno code and a system call), as opposed to anything else. */
export function isFileSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/** Errno codes of a write that the folder (not the data) refused: permissions, a read-only disk, a full one, a file in the way. */
const WRITE_REFUSED: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR']);

/** A write to a named path that the folder refused; the caller says whether the path is one of its folders. */
export function isRefusedWrite(error: unknown): error is NodeJS.ErrnoException & { code: string; path: string } {
  return isFileSystemError(error) && typeof error.path === 'string' && WRITE_REFUSED.has(error.code);
}

/** The disk (or the user's quota) is full: DISK_FULL rather than FOLDER_NOT_WRITABLE. */
export function isNoSpace(code: string | undefined): boolean {
  return code === 'ENOSPC' || code === 'EDQUOT';
}
