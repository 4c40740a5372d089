/**
 * GET /api/cast: what a panel request may name, for a front end's form. The characters and
 * backgrounds of `--script` (ids, with the name and description the script gives them) and
 * the panel templates with their size rules. No file paths: where the script lives is not
 * the client's business.
 */
import type { TemplateRegistry } from '../templates/index.js';
import type { Cast } from './cast.js';

export interface CastView {
  /** The script's file name, or null when the server was started without one. */
  readonly script: string | null;
  readonly characters: readonly { readonly id: string; readonly name: string; readonly description: string | null; readonly sheet: boolean }[];
  readonly backgrounds: readonly { readonly id: string; readonly prompt: string | null }[];
  readonly templates: readonly {
    readonly id: string;
    readonly version: string;
    readonly description: string;
    readonly size: { readonly multiple: number; readonly min: number; readonly max: number };
  }[];
}

export function castView(cast: Cast, templates: TemplateRegistry): CastView {
  return {
    script: cast.file === '' ? null : (cast.file.split(/[\\/]/).pop() ?? null),
    characters: [...cast.characters].map(([id, data]) => {
      const entry = asRecord(data);
      return {
        id,
        name: typeof entry.name === 'string' ? entry.name : id,
        description: typeof entry.description === 'string' ? entry.description : null,
        sheet: entry.sheet !== undefined && entry.sheet !== false,
      };
    }),
    backgrounds: [...cast.backgrounds].map(([id, data]) => {
      const entry = asRecord(data);
      return { id, prompt: typeof entry.prompt === 'string' ? entry.prompt : null };
    }),
    templates: templates
      .list()
      .filter(({ template, shadowedBy }) => template.role === 'panel' && shadowedBy === null)
      // A request names a template by id, which picks its newest version: one entry per id.
      .filter(({ template }, i, all) => all.findIndex((other) => other.template.id === template.id) === i)
      .map(({ template }) => ({
        id: template.id,
        version: template.version,
        description: template.description,
        size: { multiple: template.size.multiple, min: template.size.min, max: template.size.max },
      })),
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
