/**
 * A panel request (`POST /api/comic/generate-panel`) and the one-page, one-panel comic
 * script it becomes. The request is checked here, field by field, so a client learns the
 * path of every problem (`characters[1].id`, `size.width`); the script built from it then
 * goes through the same parser and planner as a script file, so every script rule applies
 * and the panel gets the same kind of content key: an identical request is a cache hit.
 *
 * The panel fills a borderless page of exactly the requested size, and the template's size
 * rule is aimed at that size (see `sizedResolver`), so the image has the requested pixels.
 */
import { z } from 'zod';
import { renderSize, RESERVED_PARAMS } from '../graph/index.js';
import { parseTemplateRef } from '../script/index.js';
import { valueProblem, type Template, type TemplateRegistry, type TemplateResolver } from '../templates/index.js';
import type { Cast } from './cast.js';

const MAX_SEED = Number.MAX_SAFE_INTEGER;
const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const seed = z.number().int('must be a whole number').min(0).max(MAX_SEED);

const characterSchema = z.strictObject({
  /** A character of the server's script, by id. */
  id: z.string().optional(),
  /** Or a character described here. */
  name: text(200).optional(),
  description: text(2000).optional(),
  /** Render a reference sheet for an inline character first (default false: one render). */
  sheet: z.boolean().optional(),
});

export const panelRequestSchema = z.strictObject({
  scene: text(4000),
  characters: z.array(characterSchema).max(8, 'at most 8 characters').optional(),
  /** A background of the server's script, by id. */
  background: z.string().optional(),
  pose: text(1000).optional(),
  camera: text(1000).optional(),
  style: z.string().max(2000).optional(),
  negative: z.string().max(2000).optional(),
  template: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  size: z.strictObject({ width: z.number().int('must be a whole number'), height: z.number().int('must be a whole number') }).optional(),
  /** `"2:3"`, `"16:9"` or a number (width / height); the template's size rule picks the pixels. */
  aspect: z.union([z.string(), z.number()]).optional(),
  seed: seed.optional(),
});

export type PanelRequest = z.infer<typeof panelRequestSchema>;

export interface PanelIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** The script as plain data (the parser reads it as JSON text). */
export type PanelScript = Record<string, unknown>;

export interface PanelCheck {
  /** The script of what is valid in the request (invalid characters and backgrounds left out). */
  readonly script: PanelScript;
  readonly issues: readonly PanelIssue[];
  /** False when the template reference itself is wrong: nothing can be checked against it. */
  readonly templateKnown: boolean;
}

/** The panel's job id in the one-page comic. */
export const PANEL_JOB = 'panel:1-1';

/**
 * Checks a parsed request against the cast and builds its script. The page size is set
 * afterwards (`withPanelSize`), once the script has said which template the panel uses:
 * the script's own rules pick it (a panel with a character sheet takes a reference template).
 */
export function panelScript(request: PanelRequest, cast: Cast, templates: TemplateRegistry): PanelCheck {
  const issues: PanelIssue[] = [];
  const characters: Record<string, unknown> = {};
  const shown: string[] = [];
  for (const [i, character] of (request.characters ?? []).entries()) {
    const at = ['characters', i];
    if (character.id !== undefined) {
      if (character.name !== undefined || character.description !== undefined || character.sheet !== undefined) {
        issues.push({ path: at, message: 'give either an id from the server\'s script, or a name and a description' });
      } else if (!cast.characters.has(character.id)) {
        issues.push({ path: [...at, 'id'], message: `unknown character "${character.id}"; ${known('characters', cast.characters)}` });
      } else {
        characters[character.id] = cast.characters.get(character.id);
        shown.push(character.id);
      }
    } else if (character.name === undefined || character.description === undefined) {
      issues.push({ path: at, message: 'an inline character needs a name and a description (or give the id of one in the server\'s script)' });
    } else {
      let id = `inline-${i + 1}`;
      while (cast.characters.has(id)) id += '_'; // never one of the script's ids
      characters[id] = { name: character.name, description: character.description, sheet: character.sheet === true ? {} : false };
      shown.push(id);
    }
  }

  const backgrounds: Record<string, unknown> = {};
  const background = request.background;
  if (background !== undefined) {
    if (cast.backgrounds.has(background)) backgrounds[background] = cast.backgrounds.get(background);
    else issues.push({ path: ['background'], message: `unknown background "${background}"; ${known('backgrounds', cast.backgrounds)}` });
  }
  const templateKnown = request.template === undefined || checkTemplateRef(request.template, templates, issues);
  if (request.size !== undefined && request.aspect !== undefined) issues.push({ path: ['aspect'], message: 'give size or aspect, not both' });

  const panel: Record<string, unknown> = { prompt: request.scene };
  if (shown.length > 0) panel.characters = shown;
  if (background !== undefined && background in backgrounds) panel.background = background;
  if (request.pose !== undefined) panel.pose = request.pose;
  if (request.camera !== undefined) panel.camera = request.camera;
  if (request.template !== undefined && templateKnown) panel.template = request.template;
  if (request.seed !== undefined) panel.seed = request.seed;
  if (request.params !== undefined) panel.params = request.params;

  const meta: Record<string, unknown> = { title: 'Panel', ...cast.meta };
  if (request.style !== undefined) meta.style = request.style;
  if (request.negative !== undefined) meta.negative = request.negative;

  const script: PanelScript = { comic: meta };
  if (cast.defaults !== undefined) script.defaults = cast.defaults;
  if (Object.keys(characters).length > 0) script.characters = characters;
  if (Object.keys(backgrounds).length > 0) script.backgrounds = backgrounds;
  script.pages = [{ layout: 1, panels: [panel] }];
  return { script: withPanelSize(script, { width: 1024, height: 1024 }), issues, templateKnown };
}

/** The script on a borderless page of exactly `size`: its one panel is a splash that covers it. */
export function withPanelSize(script: PanelScript, size: PanelSize): PanelScript {
  const meta = script.comic as Record<string, unknown>;
  return { ...script, comic: { ...meta, format: { width: size.width, height: size.height, dpi: 300, bleed: 0, margin: 0 } } };
}

export interface PanelSize {
  readonly width: number;
  readonly height: number;
}

/**
 * The request against the template the panel uses: its params (by the manifest) and its
 * size (by the size rule). Returns the pixel size, or the problems.
 */
export function checkAgainstTemplate(request: PanelRequest, template: Template): { size: PanelSize } | { issues: PanelIssue[] } {
  const issues: PanelIssue[] = [];
  checkParams(request.params ?? {}, template, issues);
  const size = panelSize(request, template, issues);
  return size && issues.length === 0 ? { size } : { issues };
}

function known(what: string, ids: ReadonlyMap<string, unknown>): string {
  return ids.size === 0
    ? `the server was started without a script defining ${what} (comic serve --script FILE), so describe it inline`
    : `the server's script defines: ${[...ids.keys()].join(', ')}`;
}

function checkTemplateRef(text: string, templates: TemplateRegistry, issues: PanelIssue[]): boolean {
  const parsed = parseTemplateRef(text);
  if (!parsed.ok) {
    issues.push({ path: ['template'], message: parsed.message });
    return false;
  }
  try {
    templates.resolve(parsed.ref);
    return true;
  } catch (error) {
    issues.push({ path: ['template'], message: error instanceof Error ? error.message : String(error) });
    return false;
  }
}

/**
 * The request's params against the template's manifest. The planner sets prompts, seed and
 * size, and feeds image parameters from the characters' sheets, so those are refused here.
 */
function checkParams(params: Readonly<Record<string, unknown>>, template: Template, issues: PanelIssue[]): void {
  for (const [name, value] of Object.entries(params)) {
    const at = ['params', name];
    const spec = template.params[name];
    if (RESERVED_PARAMS.includes(name)) {
      issues.push({ path: at, message: `"${name}" is set from the request's ${name === 'negative' ? 'negative' : name === 'positive' ? 'scene, characters, pose and camera' : name === 'seed' ? 'seed' : 'size'}, not through params` });
    } else if (spec === undefined) {
      const names = Object.keys(template.params).filter((p) => !RESERVED_PARAMS.includes(p) && template.params[p]!.type !== 'image');
      issues.push({ path: at, message: `template ${template.id}@${template.version} has no parameter "${name}"; it takes: ${names.join(', ')}` });
    } else if (spec.type === 'image') {
      issues.push({ path: at, message: `"${name}" is an image input, fed from the characters' reference sheets` });
    } else {
      const problem = valueProblem(spec, value);
      if (problem) issues.push({ path: at, message: problem });
    }
  }
}

/** The requested pixels (checked against the template's size rule), or the aspect's best fit. */
function panelSize(request: PanelRequest, template: Template, issues: PanelIssue[]): PanelSize | null {
  const rule = template.size;
  if (request.size !== undefined) {
    const before = issues.length;
    for (const side of ['width', 'height'] as const) {
      const value = request.size[side];
      if (value < rule.min || value > rule.max || value % rule.multiple !== 0) {
        issues.push({
          path: ['size', side],
          message: `${value} does not fit template ${template.id}: it takes multiples of ${rule.multiple} from ${rule.min} to ${rule.max}`,
        });
      }
    }
    return issues.length > before ? null : { ...request.size };
  }
  const aspect = parseAspect(request.aspect ?? 1);
  if (aspect === null || aspect < 1 / 8 || aspect > 8) {
    issues.push({ path: ['aspect'], message: 'must be width:height such as "2:3" or "16:9", or a number from 0.125 to 8' });
    return null;
  }
  return renderSize(aspect, rule);
}

function parseAspect(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*[:x/]\s*(\d+(?:\.\d+)?)\s*$/.exec(value);
  if (!match) return null;
  const ratio = Number(match[1]) / Number(match[2]);
  return Number.isFinite(ratio) && ratio > 0 ? ratio : null;
}

/**
 * The planner's view of the templates, with the panel template's size rule aimed at the
 * requested pixels: for an aspect of exactly width/height and a target of width·height
 * pixels, the rule's best fit is that size (it is a valid step, checked above). Only the
 * panel's template is changed; a sheet's size stays the same as in any other run.
 */
export function sizedResolver(templates: TemplateRegistry, panelTemplate: Template, size: PanelSize): TemplateResolver {
  const pixels = size.width * size.height;
  return {
    ids: () => templates.ids(),
    resolve: (ref) => {
      const template = templates.resolve(ref);
      if (template.id !== panelTemplate.id || template.version !== panelTemplate.version) return template;
      return { ...template, size: { ...template.size, pixels } };
    },
  };
}

/** `characters[1].id` from a path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(body)' : out;
}
