/** Template references in a script: `panel` (the newest version) or `panel@^2` (a semver range). */
import semver from 'semver';
import type { TemplateRef } from './model.js';

/** Built-in template ids, used when neither the entity nor the script's `defaults` names one. */
export const DEFAULT_TEMPLATE_IDS = { panel: 'panel', sheet: 'character-sheet', background: 'background' } as const;

/**
 * The default template of a panel that shows a character with a sheet or reference image:
 * one that takes the image as visual reference, so the character stays recognisable.
 * `defaults.panel.template` or the panel's own `template` override it.
 */
export const DEFAULT_REFERENCE_PANEL_TEMPLATE = 'panel-ref';
export type TemplateKind = keyof typeof DEFAULT_TEMPLATE_IDS;

/**
 * The built-in template sets, one per model family: `defaults.family` in a script picks
 * the set for every sheet, background and panel that names no template of its own. SDXL is
 * the default. `referencePanel` is the panel template of a panel that shows a character
 * with an image (the reference-taking families use one panel template for both).
 */
export const TEMPLATE_FAMILIES = {
  sdxl: { ...DEFAULT_TEMPLATE_IDS, referencePanel: DEFAULT_REFERENCE_PANEL_TEMPLATE },
  flux2: { panel: 'panel-flux2', sheet: 'character-sheet-flux2', background: 'background-flux2', referencePanel: 'panel-flux2' },
  'qwen-image-edit': { panel: 'panel-qwen-edit', sheet: 'character-sheet-qwen-edit', background: 'background-qwen-edit', referencePanel: 'panel-qwen-edit' },
} as const satisfies Record<string, Record<TemplateKind | 'referencePanel', string>>;
export type TemplateFamily = keyof typeof TEMPLATE_FAMILIES;
export const TEMPLATE_FAMILY_NAMES = Object.keys(TEMPLATE_FAMILIES) as TemplateFamily[];
export const DEFAULT_FAMILY: TemplateFamily = 'sdxl';

/** The built-in template of `kind` for a family (SDXL when none is chosen). */
export function familyTemplate(family: TemplateFamily | undefined | null, kind: TemplateKind | 'referencePanel'): string {
  return TEMPLATE_FAMILIES[family ?? DEFAULT_FAMILY][kind];
}

/** Template ids name folders and files, so they stay simple. */
export const TEMPLATE_ID = /^[a-z0-9][a-z0-9._-]*$/i;

export type TemplateRefResult = { readonly ok: true; readonly ref: TemplateRef } | { readonly ok: false; readonly message: string; readonly hint?: string };

export function parseTemplateRef(text: string): TemplateRefResult {
  const at = text.indexOf('@');
  const id = (at < 0 ? text : text.slice(0, at)).trim();
  if (!TEMPLATE_ID.test(id)) {
    return {
      ok: false,
      message: `'${text}' is not a template reference`,
      hint: 'write a template id such as "panel", optionally with a version range: "panel@^2"',
    };
  }
  if (at < 0) return { ok: true, ref: { id, range: null } };
  const range = text.slice(at + 1).trim();
  if (range === '' || semver.validRange(range) === null) {
    return {
      ok: false,
      message: `'${range}' in '${text}' is not a semver version range`,
      hint: 'use a range such as "^2", "~1.4", ">=1.2 <3" or an exact "1.0.0"',
    };
  }
  return { ok: true, ref: { id, range } };
}

export function formatTemplateRef(ref: TemplateRef): string {
  return ref.range === null ? ref.id : `${ref.id}@${ref.range}`;
}
