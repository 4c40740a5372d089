/**
 * The YAML comic script, as a zod 4 schema. Strict objects everywhere: an unknown key is an
 * error (with a "did you mean"), never silently ignored.
 *
 * Why zod rather than valibot: the script's TypeScript types are inferred from this one
 * schema, and zod's issues carry the exact path of the offending value (["pages", 2,
 * "panels", 0, "who"]), which maps directly onto the YAML node, so every problem gets a
 * file:line:column. Its per-parse error map lets us word messages for artists, not
 * programmers, while messages written here stay in charge.
 *
 * The schema only checks shapes and values. Cross-references (character ids in panels,
 * files on disk, panel counts against layouts) are checked in semantic.ts; defaults that
 * depend on other keys (page sizes by trim preset) are applied in build.ts.
 */
import cssColourNames from 'color-name';
import { z } from 'zod';
import { nearest } from '../util/suggest.js';
import { interpretLayoutText, MAX_PANELS_PER_ROW, MAX_ROWS } from './layouts.js';
import { parseTemplateRef, TEMPLATE_FAMILY_NAMES } from './template-ref.js';
import { parseLength } from './units.js';

/** Seeds are whole numbers a JavaScript number holds exactly: 0 … 2^53 − 1. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

export const TRIM_PRESETS = ['us-comic', 'manga-b6', 'a4', 'webtoon'] as const;
export const DIRECTIONS = ['ltr', 'rtl'] as const;
export const DIALOGUE_KINDS = ['speech', 'thought', 'whisper', 'shout'] as const;
export const PANEL_SIDES = ['left', 'right', 'top', 'bottom'] as const;
/** How a panel meets the page: framed by a border, without one, or running off the page's edges. */
export const PANEL_FRAMES = ['border', 'borderless', 'bleed'] as const;
export const AUTHOR_ROLES = ['writer', 'penciller', 'inker', 'colorist', 'letterer', 'cover-artist', 'editor', 'translator', 'artist'] as const;
export const SFX_POSITIONS = ['top-left', 'top', 'top-right', 'left', 'center', 'right', 'bottom-left', 'bottom', 'bottom-right'] as const;

/** Character and background ids name jobs and files (`character:mara`), so they stay simple. */
export const ENTITY_ID = /^[a-z0-9][a-z0-9_-]*$/i;

/** A hint travels with a custom issue in `params.hint`; issues.ts turns it into the diagnostic's hint. */
function addProblem(ctx: z.RefinementCtx, message: string, hint?: string): void {
  ctx.addIssue({ code: 'custom', message, ...(hint ? { params: { hint } } : {}) });
}

const text = z.string().refine((s) => s.trim() !== '', { error: 'must not be empty' });

const seed = z
  .int({ error: `a seed must be a whole number from 0 to ${MAX_SEED}` })
  .min(0, { error: `a seed must be a whole number from 0 to ${MAX_SEED}` })
  .max(MAX_SEED, { error: `a seed must be a whole number from 0 to ${MAX_SEED}` });

const entityId = (what: string) =>
  z.string().regex(ENTITY_ID, { error: (iss) => `${what} id '${String(iss.input)}' may only use letters, digits, '-' and '_' (it names jobs and files)` });

const templateRef = z.string().superRefine((value, ctx) => {
  const result = parseTemplateRef(value);
  if (!result.ok) addProblem(ctx, result.message, result.hint);
});

/** Template parameters, passed through to the template (checked against its manifest later). */
const params = z.record(z.string().min(1), z.json());

/** `template`, `seed` and `params`: how an entity asks a template for an image. */
const templateUse = { template: templateRef.optional(), seed: seed.optional(), params: params.optional() };

const lengthError = 'expected a length: a number of pixels, or text with a unit such as "0.125in", "3mm", "36pt"';
const length = (minimum: 'positive' | 'non-negative') =>
  z.union([z.number(), z.string()], { error: lengthError }).superRefine((value, ctx) => {
    const result = parseLength(value);
    if (!result.ok) return addProblem(ctx, result.message);
    const { value: amount } = result.length;
    if (minimum === 'positive' && amount <= 0) addProblem(ctx, `must be greater than zero, not ${String(value)}`);
    if (minimum === 'non-negative' && amount < 0) addProblem(ctx, `must not be negative, not ${String(value)}`);
  });

/**
 * Longest language tag accepted: 35 characters, what BCP 47 (RFC 5646 §4.4.1) asks every
 * implementation to take. Checked first: canonicalising a long tag costs time quadratic in
 * its length (a 1 MB tag took minutes).
 */
export const MAX_LANGUAGE_TAG = 35;

const languageTag = z.string().superRefine((value, ctx) => {
  if (value.length > MAX_LANGUAGE_TAG) {
    return addProblem(ctx, `a language tag has at most ${MAX_LANGUAGE_TAG} characters, not ${value.length}`, 'use a BCP 47 tag such as "en", "fr" or "ja"');
  }
  try {
    if (Intl.getCanonicalLocales(value).length === 1) return;
  } catch {
    // RangeError: not a well-formed BCP 47 tag; reported below.
  }
  addProblem(ctx, `'${value}' is not a language tag`, 'use a BCP 47 tag such as "en", "fr" or "ja"');
});

export const FormatSchema = z
  .strictObject({
    trim: z.enum(TRIM_PRESETS).optional(),
    width: length('positive').optional(),
    height: length('positive').optional(),
    dpi: z.int().min(1).max(2400).optional(),
    bleed: length('non-negative').optional(),
    margin: length('non-negative').optional(),
  })
  .superRefine((format, ctx) => {
    if (format.trim !== undefined) return;
    if ((format.width === undefined) !== (format.height === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [format.width === undefined ? 'width' : 'height'],
        message: `a custom page size needs both width and height`,
        params: { hint: 'or name a trim preset: ' + TRIM_PRESETS.join(', ') },
      });
    }
  });

const author = z.union([text, z.strictObject({ name: text, role: z.enum(AUTHOR_ROLES).default('writer') })], {
  error: 'expected an author name, or { name, role }',
});

/** ComicInfo's age ratings (Anansi ComicInfo v2.0/v2.1), as Komga and Kavita read them. */
export const AGE_RATINGS = [
  'Adults Only 18+',
  'Early Childhood',
  'Everyone',
  'Everyone 10+',
  'G',
  'Kids to Adults',
  'M',
  'MA15+',
  'Mature 17+',
  'PG',
  'R18+',
  'Rating Pending',
  'Teen',
  'X18+',
] as const;

export const MetaSchema = z.strictObject({
  title: text,
  series: text.optional(),
  issue: z.number().min(0).optional(),
  // What comic readers and servers show about the book (ComicInfo.xml); nothing else uses them.
  summary: text.optional(),
  volume: z.int().min(0).optional(),
  count: z.int().min(1).optional(),
  year: z.int().min(1000).max(9999).optional(),
  month: z.int().min(1).max(12).optional(),
  day: z.int().min(1).max(31).optional(),
  publisher: text.optional(),
  genres: z.array(text).optional(),
  tags: z.array(text).optional(),
  web: z.url({ error: 'expected a URL (https://…)' }).optional(),
  storyArc: text.optional(),
  ageRating: z.enum(AGE_RATINGS).optional(),
  // A GTIN as printed on the barcode: EAN-13 / ISBN-13 (hyphens and spaces allowed), UPC-A, EAN-8, GTIN-14.
  gtin: z
    .string()
    .regex(/^(?:\d[- ]?){7}\d$|^(?:\d[- ]?){11}\d(?:[- ]?\d){0,2}$/, { error: 'expected a GTIN: the 8, 12, 13 or 14 digits of an EAN, UPC or ISBN-13' })
    .optional(),
  authors: z.array(author).default([]),
  language: languageTag.default('en'),
  style: z.string().default(''),
  negative: z.string().default(''),
  seed: seed.default(0),
  direction: z.enum(DIRECTIONS).default('ltr'),
  format: FormatSchema.optional(),
});

const templateDefault = z.strictObject({ template: templateRef.optional(), params: params.optional() });

const HEX_COLOUR = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
/** A colour the renderer knows: an unknown name would silently draw black. */
const colour = z.string().superRefine((value, ctx) => {
  if (HEX_COLOUR.test(value) || Object.hasOwn(cssColourNames, value.toLowerCase())) return;
  const match = nearest(value.toLowerCase(), Object.keys(cssColourNames));
  addProblem(ctx, 'expected a colour: #rgb, #rrggbb or a CSS colour name', match ? `did you mean '${match}'?` : undefined);
});

/** The look of every page's frames: gutters between panels, and the panels' borders. */
const pageStyle = z.strictObject({
  gutter: length('non-negative').optional(),
  border: z.strictObject({ width: length('non-negative').optional(), color: colour.optional() }).optional(),
});

export const DefaultsSchema = z.strictObject({
  /** The built-in template set (sdxl, flux2, qwen-image-edit) for everything that names no template. */
  family: z.enum(TEMPLATE_FAMILY_NAMES).optional(),
  page: pageStyle.optional(),
  panel: templateDefault.optional(),
  sheet: templateDefault.optional(),
  background: templateDefault.optional(),
});

export const CharacterSchema = z.strictObject({
  name: text.optional(),
  description: text,
  reference: text.optional(),
  sheet: z.union([z.literal(false), z.strictObject(templateUse)], { error: 'expected false (no sheet) or { template, seed, params }' }).optional(),
});

export const BackgroundSchema = z.strictObject({
  prompt: text,
  reference: text.optional(),
  ...templateUse,
});

/** A number from 0 to 1: a place or size as a fraction of the page or of a panel. */
const fractionOf = (whole: 'page' | 'panel') =>
  z.number().min(0, { error: `must be a ${whole} fraction from 0 to 1` }).max(1, { error: `must be a ${whole} fraction from 0 to 1` });

export const DialogueSchema = z.strictObject({
  who: z.string(),
  text,
  kind: z.enum(DIALOGUE_KINDS).default('speech'),
  /** Where the balloon's tail points, in panel fractions; by default, at the speaker's place in `characters`. */
  tail: z.strictObject({ x: fractionOf('panel'), y: fractionOf('panel') }).optional(),
  /** The speaker is off-panel on this side: the tail runs to that edge of the panel. */
  offPanel: z.enum(PANEL_SIDES).optional(),
});

const sfxItem = z.union([text, z.strictObject({ text, at: z.enum(SFX_POSITIONS).optional() })], {
  error: 'expected sound-effect text, or { text, at }',
});

export const PanelSchema = z.strictObject({
  ...templateUse,
  prompt: text,
  characters: z.array(z.string()).default([]),
  pose: text.optional(),
  camera: text.optional(),
  background: z.string().optional(),
  dialogue: z.array(DialogueSchema).default([]),
  frame: z.enum(PANEL_FRAMES).default('border'),
  caption: text.optional(),
  sfx: z.union([text, z.array(sfxItem)], { error: 'expected sound-effect text, or a list of them' }).optional(),
});

const fraction = fractionOf('page');
const cell = z
  .strictObject({ x: fraction, y: fraction, w: fraction.refine((n) => n > 0, 'must be greater than zero'), h: fraction.refine((n) => n > 0, 'must be greater than zero') })
  .superRefine((c, ctx) => {
    // A little slack for fractions such as 1/3 written as 0.333.
    if (c.x + c.w > 1.001) ctx.addIssue({ code: 'custom', path: ['w'], message: `x + w is ${+(c.x + c.w).toFixed(4)}; the cell runs off the page (at most 1)` });
    if (c.y + c.h > 1.001) ctx.addIssue({ code: 'custom', path: ['h'], message: `y + h is ${+(c.y + c.h).toFixed(4)}; the cell runs off the page (at most 1)` });
  });

const layoutObject = z
  .strictObject({
    rows: z
      .array(z.int().min(1, { error: `each row needs 1 to ${MAX_PANELS_PER_ROW} panels` }).max(MAX_PANELS_PER_ROW, { error: `each row needs 1 to ${MAX_PANELS_PER_ROW} panels` }))
      .min(1, { error: 'a layout needs at least one row' })
      .max(MAX_ROWS, { error: `a layout has at most ${MAX_ROWS} rows` })
      .optional(),
    heights: z.array(z.number().positive({ error: 'row heights must be greater than zero' })).optional(),
    cells: z.array(cell).min(1, { error: 'a layout needs at least one cell' }).optional(),
  })
  .superRefine((layout, ctx) => {
    if ((layout.rows === undefined) === (layout.cells === undefined)) {
      addProblem(ctx, 'a layout mapping needs either rows or cells (not both)', 'e.g. { rows: [2, 1, 2] } or { cells: [{ x: 0, y: 0, w: 1, h: 0.5 }, …] }');
    }
    if (layout.heights !== undefined) {
      if (layout.rows === undefined) {
        ctx.addIssue({ code: 'custom', path: ['heights'], message: 'heights apply to rows; cells carry their own size' });
      } else if (layout.heights.length !== layout.rows.length) {
        ctx.addIssue({ code: 'custom', path: ['heights'], message: `${layout.heights.length} ${layout.heights.length === 1 ? 'height' : 'heights'} for ${layout.rows.length} rows; give one height per row` });
      }
    }
  });

const layoutText = z.string().superRefine((value, ctx) => {
  const result = interpretLayoutText(value);
  if (!result.ok) addProblem(ctx, result.message, result.hint);
});

export const LayoutSchema = z.union([z.int().min(1).max(MAX_PANELS_PER_ROW), layoutText, layoutObject], {
  error: 'expected a row code such as "2-1-2", a preset name, { rows, heights } or { cells }',
});

export const PageSchema = z.strictObject({
  layout: LayoutSchema.optional(),
  /** The page is the issue's cover: ComicInfo.xml calls it FrontCover, the EPUB's cover image. */
  cover: z.boolean().optional(),
  panels: z.array(PanelSchema).min(1, { error: 'a page needs at least one panel' }),
});

export const ScriptSchema = z.strictObject({
  comic: MetaSchema,
  defaults: DefaultsSchema.optional(),
  characters: z.record(entityId('character'), CharacterSchema).default({}),
  backgrounds: z.record(entityId('background'), BackgroundSchema).default({}),
  pages: z.array(PageSchema).min(1, { error: 'the script has no pages; add at least one page with panels' }),
});

export type ScriptInput = z.output<typeof ScriptSchema>;
export type MetaInput = z.output<typeof MetaSchema>;
export type FormatInput = z.output<typeof FormatSchema>;
export type DefaultsInput = z.output<typeof DefaultsSchema>;
export type CharacterInput = z.output<typeof CharacterSchema>;
export type BackgroundInput = z.output<typeof BackgroundSchema>;
export type PageInput = z.output<typeof PageSchema>;
export type PanelInput = z.output<typeof PanelSchema>;
export type LayoutInput = z.output<typeof LayoutSchema>;
