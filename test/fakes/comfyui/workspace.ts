/**
 * The emulator's own output/, temp/ and input/ folders (a fresh mkdtemp, removed on close),
 * with ComfyUI's path rules: "name [output]" annotations, SaveImage's prefix/counter naming,
 * and the containment checks of /view and /upload/image. Nothing is ever read or written
 * outside these folders.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PyError } from './python.js';

export type FolderType = 'output' | 'input' | 'temp';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.tif', '.tiff']);

/** Whether `child` is `base` or lies inside it (os.path.commonpath(...) == base). */
export function isInside(base: string, child: string): boolean {
  const rel = path.relative(base, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface SavePath {
  readonly folder: string;
  readonly filename: string;
  readonly counter: number;
  readonly subfolder: string;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** The %width%/%height%/%year%… variables the server itself expands in filename_prefix. */
function expandPrefixVariables(prefix: string, width: number, height: number): string {
  const now = new Date();
  return prefix
    .replaceAll('%width%', String(width))
    .replaceAll('%height%', String(height))
    .replaceAll('%year%', String(now.getFullYear()))
    .replaceAll('%month%', pad2(now.getMonth() + 1))
    .replaceAll('%day%', pad2(now.getDate()))
    .replaceAll('%hour%', pad2(now.getHours()))
    .replaceAll('%minute%', pad2(now.getMinutes()))
    .replaceAll('%second%', pad2(now.getSeconds()));
}

export class Workspace {
  private constructor(readonly root: string) {}

  static async create(): Promise<Workspace> {
    const root = await mkdtemp(path.join(tmpdir(), 'comfy-emulator-'));
    const workspace = new Workspace(root);
    for (const type of ['output', 'input', 'temp'] as const) mkdirSync(workspace.dir(type));
    return workspace;
  }

  dir(type: FolderType): string {
    return path.join(this.root, type);
  }

  dirFor(type: string | undefined): string | undefined {
    return type === 'output' || type === 'input' || type === 'temp' ? this.dir(type) : undefined;
  }

  /** folder_paths.annotated_filepath: "x.png [output]" names x.png in output/. */
  annotated(name: string): { name: string; dir: string | undefined } {
    for (const type of ['output', 'input', 'temp'] as const) {
      const suffix = `[${type}]`;
      if (name.endsWith(suffix)) return { name: name.slice(0, -(suffix.length + 1)), dir: this.dir(type) };
    }
    return { name, dir: undefined };
  }

  /** Where LoadImage reads `name` from, or undefined if that would leave the folders. */
  inputPath(name: string): string | undefined {
    const annotated = this.annotated(name);
    const base = annotated.dir ?? this.dir('input');
    const file = path.resolve(base, annotated.name);
    return isInside(base, file) ? file : undefined;
  }

  inputFileExists(name: string): boolean {
    const file = this.inputPath(name);
    return file !== undefined && existsSync(file);
  }

  /** The image files directly in input/ (what LoadImage's list shows). */
  inputImages(): string[] {
    const dir = this.dir('input');
    return readdirSync(dir).filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase()) && statSync(path.join(dir, f)).isFile());
  }

  /** folder_paths.get_save_image_path: folder, base name and next free counter for a prefix. */
  savePath(prefix: string, type: FolderType, width: number, height: number): SavePath {
    const base = this.dir(type);
    const expanded = prefix.includes('%') ? expandPrefixVariables(prefix, width, height) : prefix;
    const normalized = path.posix.normalize(expanded);
    const subfolder = path.posix.dirname(normalized) === '.' ? '' : path.posix.dirname(normalized);
    const filename = path.posix.basename(normalized);
    const folder = path.resolve(base, subfolder);
    if (!isInside(base, folder) || path.isAbsolute(subfolder)) {
      throw new PyError(
        'Exception',
        `**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: ${folder}\n         output_dir: ${base}`,
      );
    }
    if (!existsSync(folder)) {
      mkdirSync(folder, { recursive: true });
      return { folder, filename, counter: 1, subfolder };
    }
    const prefixLength = filename.length;
    let highest = 0;
    for (const entry of readdirSync(folder)) {
      const head = entry.slice(0, prefixLength + 1);
      if (head.slice(0, -1) !== filename || !head.endsWith('_')) continue;
      const digits = entry.slice(prefixLength + 1).split('_')[0] ?? '';
      highest = Math.max(highest, /^\s*[+-]?\d+\s*$/.test(digits) ? Number(digits) : 0);
    }
    return { folder, filename, counter: highest + 1, subfolder };
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
