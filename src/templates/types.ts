/**
 * The contract between the template manager and its users (the planner, the workflow
 * builder, the SD fallback). The manager (src/templates/) fills it in; nothing else
 * reads template files.
 */
import type { TemplateRef } from '../script/model.js';

/** How a template wants its image sized: the planner picks width/height from the panel's aspect. */
export interface SizeRule {
  /** Width and height are multiples of this (8 for most families, 64 for some). */
  readonly multiple: number;
  readonly min: number;
  readonly max: number;
  /** Target pixel count (e.g. 1024*1024 for SDXL); the aspect ratio is kept. */
  readonly pixels: number;
}

/** What the planner needs to know of a template: enough for content keys and sizes. */
export interface TemplateInfo {
  readonly id: string;
  /** Semver. */
  readonly version: string;
  /** sha256 over the manifest and workflow as loaded: editing either changes every key that uses it. */
  readonly digest: string;
  readonly size: SizeRule;
  /** Parameter defaults from the manifest (the script's params override them). */
  readonly defaults: Readonly<Record<string, unknown>>;
  /**
   * The template's image parameters, in manifest order: the reference images it takes. A
   * job feeds them its references in order (the panel's characters, then its background)
   * and depends on no more images than this: a text-only template waits for no sheet.
   */
  readonly imageInputs: readonly string[];
  /**
   * How many of the panel's references of each role fill `imageInputs` (characters first,
   * then the background); the rest are left out, and `comic validate` warns about them.
   */
  readonly references: ReferenceCaps;
  /** How prompts name the image in slot n ("image {n}"), or null when the model reads no such words. */
  readonly referenceLabel: string | null;
}

export interface ReferenceCaps {
  readonly character: number;
  readonly background: number;
}

export interface TemplateResolver {
  /** Throws ComicError TEMPLATE_NOT_FOUND (naming what exists) when nothing matches. */
  resolve(ref: TemplateRef): TemplateInfo;
  /** Ids of every known template, for validation and "did you mean". */
  ids(): readonly string[];
}
