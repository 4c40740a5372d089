/**
 * Validate-time warnings about references a panel names but its template cannot take:
 * a panel with three characters on a template that takes one sheet, or a background on a
 * template whose slots the characters have filled. The planner leaves the same ones out
 * (both follow chooseReferences), so the warning says exactly what the render will miss.
 */
import { chooseReferences } from '../templates/references.js';
import type { ReferenceCaps } from '../templates/types.js';
import type { Diagnostic } from './diagnostics.js';
import type { Comic, TemplateRef, YamlPath } from './model.js';

/** What validation needs to know of a template's image inputs. */
export interface TemplateReferenceInfo {
  /** `id@version`, for the message. */
  readonly name: string;
  readonly references: ReferenceCaps;
  /** How many image parameters (slots) it has. */
  readonly slots: number;
}

/** The template a reference resolves to, or null when it does not resolve (reported elsewhere). */
export type TemplateReferenceLookup = (ref: TemplateRef) => TemplateReferenceInfo | null;

export function referenceWarnings(comic: Comic, lookup: TemplateReferenceLookup): Diagnostic[] {
  const withImage = new Set(comic.characters.filter((c) => c.sheet !== null || c.reference !== null).map((c) => c.id));
  const names = new Map(comic.characters.map((c) => [c.id, c.name]));
  const diagnostics: Diagnostic[] = [];
  for (const page of comic.pages) {
    for (const panel of page.panels) {
      const template = lookup(panel.render.template);
      // A text-only template takes no image at all: its characters live in the prompt, as always.
      if (template === null || template.slots === 0) continue;
      const characters = [...new Set(panel.characters)].filter((id) => withImage.has(id));
      const background = panel.background !== null && comic.backgrounds.some((b) => b.id === panel.background) ? panel.background : null;
      const { leftOut } = chooseReferences(characters, template.references.background > 0 ? background : null, template.references, template.slots);
      if (leftOut.characters.length === 0 && leftOut.background === null) continue;
      const parts: string[] = [];
      if (leftOut.characters.length > 0) parts.push(leftOut.characters.map((id) => `${id}'s ${comic.characters.find((c) => c.id === id)?.reference ? 'reference image' : 'sheet'}`).join(', '));
      if (leftOut.background !== null) parts.push(`background '${leftOut.background}'`);
      const first: YamlPath = leftOut.characters.length > 0 ? [...panel.path, 'characters', panel.characters.indexOf(leftOut.characters[0]!)] : [...panel.path, 'background'];
      const { references: caps, slots } = template;
      const takes = `${template.name} takes ${slots} image${slots === 1 ? '' : 's'} (up to ${caps.character} character${caps.character === 1 ? '' : 's'}${caps.background > 0 ? ' and a background' : ''})`;
      const drawn = leftOut.characters.map((id) => names.get(id) ?? id);
      diagnostics.push({
        ...comic.locate(first),
        severity: 'warning',
        message: `panel ${panel.id}: ${takes}; left out: ${parts.join('; ')}`,
        hint: `${drawn.length > 0 ? `${drawn.join(', ')} ${drawn.length === 1 ? 'is' : 'are'} drawn from the prompt alone. ` : ''}Use a template that takes more references (defaults.family: flux2 takes 4 characters and the background) or split the panel`,
      });
    }
  }
  return diagnostics;
}
