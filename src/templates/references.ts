/**
 * Which of a panel's references a template takes. A template's image parameters are
 * slots filled in order: first the panel's characters that have an image (a rendered sheet
 * or the user's own), in the panel's order, up to `references.character`; then the
 * background, when the template takes one (`references.background`) and a slot is left.
 * What does not fit is left out: the planner does not wait for it, and `comic validate`
 * names it. Used by both, so the warning and the plan always agree.
 */
import type { ReferenceCaps } from './types.js';

export interface ReferenceChoice<C, B> {
  /** In slot order: the characters taken, then the background if taken. */
  readonly characters: readonly C[];
  readonly background: B | null;
  /** What the panel names (with an image) that the template cannot take. */
  readonly leftOut: { readonly characters: readonly C[]; readonly background: B | null };
}

export function chooseReferences<C, B>(characters: readonly C[], background: B | null, caps: ReferenceCaps, slots: number): ReferenceChoice<C, B> {
  const characterRoom = Math.min(caps.character, slots);
  const taken = characters.slice(0, characterRoom);
  const backgroundFits = background !== null && caps.background > 0 && slots - taken.length > 0;
  return {
    characters: taken,
    background: backgroundFits ? background : null,
    leftOut: { characters: characters.slice(taken.length), background: backgroundFits ? null : background },
  };
}

/** "image {n}" → "image 2" for slot 2 (1-based). */
export function referenceLabel(pattern: string, slot: number): string {
  return pattern.replaceAll('{n}', String(slot));
}
