/**
 * The cast a server is started with (`comic serve --script FILE`): the script's characters,
 * backgrounds, template defaults and style, which panel requests refer to by id. The script
 * is checked in full at startup; its parts are kept as the script wrote them, so a panel
 * built from them plans exactly like the same panel in the script (same prompts, seeds and
 * content keys: a sheet rendered by `comic generate` is a cache hit here, and back).
 */
import { dirname } from 'node:path';
import { parse } from 'yaml';
import { loadScript, readScriptText } from '../script/index.js';
import type { TemplateParamLookup } from '../script/params.js';

export interface Cast {
  /** Absolute path of the script. */
  readonly file: string;
  /** Reference images in the script are relative to this folder. */
  readonly baseDir: string;
  /** `comic.style`, `comic.negative`, `comic.seed` as written (absent keys absent). */
  readonly meta: Readonly<Record<string, unknown>>;
  readonly defaults: unknown;
  readonly characters: ReadonlyMap<string, unknown>;
  readonly backgrounds: ReadonlyMap<string, unknown>;
}

/** A cast with nobody in it: panel requests then describe their characters inline. */
export const EMPTY_CAST: Cast = { file: '', baseDir: '', meta: {}, defaults: undefined, characters: new Map(), backgrounds: new Map() };

const INHERITED_META = ['style', 'negative', 'seed'] as const;

export async function loadCast(path: string, options: { cwd: string; templateIds: readonly string[]; templateParams?: TemplateParamLookup }): Promise<Cast> {
  // Throws a ScriptError listing every problem (template params too, as `comic validate`
  // checks them), with file:line:column, before the server starts.
  const comic = await loadScript(path, { cwd: options.cwd, templateIds: options.templateIds, ...(options.templateParams ? { templateParams: options.templateParams } : {}) });
  // Validated above, so the plain data has the script's shape.
  const data = parse(await readScriptText(path, options.cwd)) as {
    comic: Record<string, unknown>;
    defaults?: unknown;
    characters?: Record<string, unknown>;
    backgrounds?: Record<string, unknown>;
  };
  const meta: Record<string, unknown> = {};
  for (const key of INHERITED_META) if (data.comic[key] !== undefined) meta[key] = data.comic[key];
  return {
    file: comic.file,
    baseDir: dirname(comic.file),
    meta,
    defaults: data.defaults,
    characters: new Map(Object.entries(data.characters ?? {})),
    backgrounds: new Map(Object.entries(data.backgrounds ?? {})),
  };
}
