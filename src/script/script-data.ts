/**
 * The script's data taken apart for cross-reference checks. Each reference is read on its
 * own, with type guards instead of the schema, so that checks still run on the healthy
 * parts of a script whose other parts have problems: every problem is reported in one go,
 * and a typo in a panel's dialogue does not hide an unknown character in the same panel.
 * (Wrong types are the schema's to report; here they are simply skipped.)
 */
import type { YamlPath } from './model.js';
import { DefaultsSchema, FormatSchema, LayoutSchema, type DefaultsInput, type FormatInput, type LayoutInput } from './schema.js';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export interface EntityPart {
  readonly id: string;
  readonly path: YamlPath;
  readonly reference: string | null;
  /** `sheet: false` (characters only). */
  readonly optedOut: boolean;
  /** The template written for the entity (a character's `sheet.template`), or null. */
  readonly template: string | null;
  /** Keys that a reference image makes pointless (`sheet`, or `template`/`seed`/`params`). */
  readonly renderKeys: readonly string[];
}

export interface IdUse {
  readonly id: string;
  readonly path: YamlPath;
}

export interface PanelPart {
  readonly path: YamlPath;
  readonly template: string | null;
  readonly characters: readonly IdUse[];
  readonly background: IdUse | null;
  /** `offPanel`: the line says the speaker is outside the panel (not drawn there on purpose). */
  readonly speakers: readonly (IdUse & { readonly offPanel?: true })[];
  /** False when the panel is not even a mapping: what it uses is unknown. */
  readonly readable: boolean;
}

export interface PagePart {
  readonly path: YamlPath;
  /** 1-based. */
  readonly number: number;
  /** A valid layout, or null when absent or invalid. */
  readonly layout: LayoutInput | null;
  /** The panels as written (null when `panels` is not a list). */
  readonly panels: readonly PanelPart[] | null;
}

export interface ScriptParts {
  /** The format when valid (`value` undefined when not given); null when it has problems. */
  readonly format: { readonly value: FormatInput | undefined } | null;
  readonly defaults: DefaultsInput | null;
  readonly characters: readonly EntityPart[];
  readonly backgrounds: readonly EntityPart[];
  readonly pages: readonly PagePart[];
}

function entities(section: unknown, name: 'characters' | 'backgrounds'): EntityPart[] {
  if (!isRecord(section)) return [];
  return Object.entries(section).map(([id, raw]) => {
    const fields = isRecord(raw) ? raw : {};
    const sheet = fields.sheet;
    const renderKeys = name === 'characters' ? ['sheet'] : ['template', 'seed', 'params'];
    return {
      id,
      path: [name, id],
      reference: text(fields.reference),
      optedOut: sheet === false,
      template: name === 'characters' ? text(isRecord(sheet) ? sheet.template : undefined) : text(fields.template),
      renderKeys: renderKeys.filter((key) => fields[key] !== undefined && fields[key] !== false),
    };
  });
}

function idUses(list: unknown, path: YamlPath): IdUse[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((id: unknown, index) => (typeof id === 'string' ? [{ id, path: [...path, index] }] : []));
}

function panelPart(raw: unknown, path: YamlPath): PanelPart {
  const fields = isRecord(raw) ? raw : {};
  const background = text(fields.background);
  const dialogue = Array.isArray(fields.dialogue) ? fields.dialogue : [];
  return {
    path,
    template: text(fields.template),
    characters: idUses(fields.characters, [...path, 'characters']),
    background: background === null ? null : { id: background, path: [...path, 'background'] },
    speakers: dialogue.flatMap((line: unknown, k) => {
      const who = isRecord(line) ? text(line.who) : null;
      if (who === null) return [];
      const offPanel = isRecord(line) && typeof line.offPanel === 'string';
      return [{ id: who, path: [...path, 'dialogue', k, 'who'], ...(offPanel && { offPanel: true as const }) }];
    }),
    readable: isRecord(raw),
  };
}

export function splitScript(data: unknown): ScriptParts {
  const root = isRecord(data) ? data : {};
  const comic = isRecord(root.comic) ? root.comic : {};
  const format = FormatSchema.optional().safeParse(comic.format);
  const defaults = DefaultsSchema.optional().safeParse(root.defaults);
  const pages = Array.isArray(root.pages) ? root.pages : [];
  return {
    format: format.success ? { value: format.data } : null,
    defaults: defaults.success ? (defaults.data ?? {}) : null,
    characters: entities(root.characters, 'characters'),
    backgrounds: entities(root.backgrounds, 'backgrounds'),
    pages: pages.map((page: unknown, index): PagePart => {
      const path: YamlPath = ['pages', index];
      const fields = isRecord(page) ? page : {};
      const layout = LayoutSchema.safeParse(fields.layout);
      return {
        path,
        number: index + 1,
        layout: layout.success ? layout.data : null,
        panels: Array.isArray(fields.panels) ? fields.panels.map((panel: unknown, n) => panelPart(panel, [...path, 'panels', n])) : null,
      };
    }),
  };
}
