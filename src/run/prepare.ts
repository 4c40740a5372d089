/**
 * From a script path to a planned job graph: the steps `plan`, `generate` and `serve` share.
 */
import type { ExportOptions } from '../compose/export/index.js';
import { computeLayout } from '../compose/layout.js';
import type { ResolvedConfig } from '../config/index.js';
import { createFileHasher, planComic, type ExportKind, type JobGraph } from '../graph/index.js';
import { loadScript } from '../script/index.js';
import { paramLookupFrom } from '../script/params.js';
import type { Comic } from '../script/model.js';
import type { TemplateRegistry } from '../templates/index.js';

export interface PreparedScript {
  readonly path: string;
  readonly comic: Comic;
  readonly graph: JobGraph;
}

/** Pages are the PNG output and always planned; the other kinds are files made from them. */
export function planExports(config: Pick<ResolvedConfig, 'exports'>): ExportKind[] {
  return config.exports.filter((kind): kind is ExportKind => kind !== 'png');
}

/** How the configuration asks for the exports to be made: given to the exporters, and part of each export's key. */
export function exportOptionsFrom(config: Pick<ResolvedConfig, 'pdf' | 'screen'>): ExportOptions {
  return {
    pdf: { edition: config.pdf.edition },
    cbz: { format: config.screen.format, quality: config.screen.quality },
    epub: { quality: config.screen.quality },
  };
}

export async function prepareScript(
  path: string,
  options: { cwd: string; templates: TemplateRegistry; exports: readonly ExportKind[]; exportOptions?: ExportOptions },
): Promise<PreparedScript> {
  // The parser checks template ids and params too, so every problem in the script is reported at once.
  const comic = await loadScript(path, { cwd: options.cwd, templateIds: options.templates.ids(), templateParams: paramLookupFrom(options.templates) });
  const graph = planComic(
    comic,
    { templates: options.templates, layoutPage: (page, format, direction) => computeLayout(page, format, direction), fileHash: createFileHasher() },
    { exports: [...options.exports], ...(options.exportOptions && { exportOptions: options.exportOptions }) },
  );
  return { path: comic.file, comic, graph };
}
