/**
 * Expansion of a Comic into its job graph: character sheets and backgrounds first, then
 * each page's panels followed by the page, then the exports. Pure and synchronous: all it
 * reads from outside comes through the PlanContext.
 */
import type { ExportOptions } from '../compose/export/index.js';
import type { PageLayout, PanelBox } from '../compose/types.js';
import { ComicError, isComicError, type ErrorCode } from '../errors.js';
import type { Background, Character, Comic, Page, Panel, TemplateRef, TemplateUse, YamlPath } from '../script/model.js';
import { RESERVED_PARAMS, reservedParamHint } from '../script/params.js';
import { chooseReferences, referenceLabel } from '../templates/references.js';
import type { TemplateInfo } from '../templates/types.js';
import type { PlanContext } from './context.js';
import { createJobGraph } from './graph.js';
import { exportKey, imageKey, pageKey, type KeyOf, type PanelLettering } from './key.js';
import { PromptBuilder, type Prompts } from './prompt.js';
import { jobSeed } from './seed.js';
import { BACKGROUND_ASPECT, renderSize, SHEET_ASPECT, sizeRuleProblem } from './size.js';
import {
  EXPORT_KINDS,
  type ExportJob,
  type ExportKind,
  type ImageJob,
  type ImageReference,
  type ImageRequest,
  type Job,
  type JobGraph,
  type JobId,
  type PageJob,
  type ReferenceRole,
  type TemplateStamp,
} from './types.js';

export interface PlanOptions {
  /** Which files to make from the pages (they are always planned); default DEFAULT_EXPORTS. */
  readonly exports?: readonly ExportKind[];
  /** How the exports are made (PDF edition, CBZ format and quality…): part of each export's key. */
  readonly exportOptions?: ExportOptions;
}

/** PNG pages plus a print PDF and a CBZ, as `comic generate` makes by default. */
export const DEFAULT_EXPORTS: readonly ExportKind[] = ['pdf', 'cbz'];

/**
 * Parameters the planner itself sets on every image job (defined with the script's param
 * checks); a template's default for them is ignored, except `negative`, which is appended
 * to the comic's negative prompt.
 */
export { RESERVED_PARAMS };

export function planComic(comic: Comic, ctx: PlanContext, options: PlanOptions = {}): JobGraph {
  return new Planner(comic, ctx).plan(options.exports ?? DEFAULT_EXPORTS, options.exportOptions ?? {});
}

/** What a character sheet and a background have in common for the planner. */
interface InputSpec {
  readonly role: ReferenceRole;
  readonly subject: string;
  readonly reference: string | null;
  readonly use: TemplateUse | null;
  readonly origin: YamlPath;
  /** Where the template use is written, for errors about it. */
  readonly usePath: YamlPath;
  readonly aspect: number;
  readonly prompts: (templateNegative: string | null) => Prompts;
}

interface ResolvedTemplate {
  readonly info: TemplateInfo;
  readonly stamp: TemplateStamp;
}

interface ResolvedUse {
  readonly template: ResolvedTemplate;
  readonly params: Readonly<Record<string, unknown>>;
  /** The `negative` parameter (template default < script), appended to the negative prompt. */
  readonly negative: string | null;
}

class Planner {
  readonly #jobs: Job[] = [];
  readonly #keys = new Map<JobId, string>();
  readonly #templates = new Map<string, ResolvedTemplate>();
  /** How a panel refers to each character and background: null when it has no image. */
  readonly #characterRefs = new Map<string, ImageReference | null>();
  readonly #backgroundRefs = new Map<string, ImageReference | null>();
  readonly #characters: ReadonlyMap<string, Character>;
  readonly #backgrounds: ReadonlyMap<string, Background>;
  readonly #prompts: PromptBuilder;
  readonly #keyOf: KeyOf = (id) => {
    const key = this.#keys.get(id);
    if (key === undefined) throw new ComicError('INTERNAL', `the key of ${id} was needed before it was computed`);
    return key;
  };

  constructor(
    private readonly comic: Comic,
    private readonly ctx: PlanContext,
  ) {
    this.#characters = new Map(comic.characters.map((c) => [c.id, c]));
    this.#backgrounds = new Map(comic.backgrounds.map((b) => [b.id, b]));
    this.#prompts = new PromptBuilder({ style: comic.meta.style, negative: comic.meta.negative });
  }

  plan(exports: readonly ExportKind[], exportOptions: ExportOptions): JobGraph {
    for (const character of this.comic.characters) this.#planCharacter(character);
    // A background is rendered (or its file read) only when some panel's template takes it.
    const used = this.#backgroundsInUse();
    for (const background of this.comic.backgrounds) {
      if (used.has(background.id)) this.#planBackground(background);
      else this.#backgroundRefs.set(background.id, null);
    }
    const pages = this.comic.pages.map((page) => this.#planPage(page));
    // A fixed order whatever order the caller listed them in, so the graph is the same.
    for (const target of EXPORT_KINDS.filter((kind) => exports.includes(kind))) {
      const id = `export:${target}`;
      const job: ExportJob = {
        kind: 'export',
        id,
        deps: pages,
        target,
        pages,
        key: exportKey(target, this.comic.meta, pages, this.#keyOf, exportOptions),
      };
      this.#add(job);
    }
    return createJobGraph(this.#jobs);
  }

  #add(job: Job): void {
    this.#jobs.push(job);
    this.#keys.set(job.id, job.key);
  }

  #planCharacter(character: Character): void {
    const ref = this.#planInput({
      role: 'character',
      subject: character.id,
      reference: character.reference,
      use: character.sheet,
      origin: character.path,
      usePath: [...character.path, 'sheet'],
      aspect: SHEET_ASPECT,
      prompts: (negative) => this.#prompts.sheet(character, negative),
    });
    this.#characterRefs.set(character.id, ref);
  }

  #planBackground(background: Background): void {
    const ref = this.#planInput({
      role: 'background',
      subject: background.id,
      reference: background.reference,
      use: background.render,
      origin: background.path,
      usePath: background.path,
      aspect: BACKGROUND_ASPECT,
      prompts: (negative) => this.#prompts.background(background.prompt, negative),
    });
    this.#backgroundRefs.set(background.id, ref);
  }

  /** The backgrounds some panel's template will take as a reference image. */
  #backgroundsInUse(): Set<string> {
    const used = new Set<string>();
    for (const page of this.comic.pages) {
      for (const panel of page.panels) {
        if (panel.background === null || used.has(panel.background) || !this.#backgrounds.has(panel.background)) continue;
        const info = this.#resolveTemplate(panel.render.template, panel.path).info;
        const withImage = [...new Set(panel.characters)].filter((id) => this.#characterRefs.get(id));
        if (chooseReferences(withImage, panel.background, info.references, info.imageInputs.length).background !== null) used.add(panel.background);
      }
    }
    return used;
  }

  /** A sheet or background: the user's image, a job that renders one, or (neither) no image. */
  #planInput(input: InputSpec): ImageReference | null {
    const { role, subject, origin } = input;
    if (input.reference !== null) return this.#fileRef(role, subject, input.reference, [...origin, 'reference']);
    if (input.use === null) return null;
    const id = `${role}:${subject}`;
    const use = this.#resolveUse(input.use, input.usePath);
    const job = this.#imageJob(id, use, input.use, input.prompts(use.negative), input.aspect, [], origin);
    this.#add(role === 'character' ? { ...job, kind: 'character', character: subject } : { ...job, kind: 'background', background: subject });
    return { source: 'job', role, subject, job: id };
  }

  #planPage(page: Page): JobId {
    const layout = this.#layout(page);
    const panels = page.panels.map((panel, i) => this.#planPanel(panel, i + 1, layout.panels[i] as PanelBox));
    const id = `page:${page.number}`;
    const lettering: PanelLettering[] = page.panels.map((panel) => ({
      dialogue: panel.dialogue.map((line) => ({ who: line.who, text: line.text, kind: line.kind, ...(line.tail && { tail: line.tail }), ...(line.offPanel && { offPanel: line.offPanel }) })),
      caption: panel.caption,
      sfx: panel.sfx.map((sfx) => ({ text: sfx.text, at: sfx.at })),
    }));
    const { format, direction, language } = this.comic.meta;
    const job: PageJob = {
      kind: 'page',
      id,
      deps: panels,
      page: page.number,
      panels,
      layout,
      key: pageKey({ number: page.number, format, direction, language, seed: this.comic.meta.seed, spec: page.layout, layout, lettering, panels }, this.#keyOf),
      origin: page.path,
    };
    this.#add(job);
    return id;
  }

  #planPanel(panel: Panel, index: number, box: PanelBox): JobId {
    const id = `panel:${panel.id}`;
    const origin = panel.path;
    const shown: Character[] = [];
    const withImage: { character: Character; ref: ImageReference }[] = [];
    for (const characterId of new Set(panel.characters)) {
      const character = this.#characters.get(characterId);
      if (!character) {
        throw this.#error('SCRIPT_INVALID', `panel ${panel.id} shows character "${characterId}", which the script does not define`, [...origin, 'characters']);
      }
      shown.push(character);
      const ref = this.#characterRefs.get(characterId);
      if (ref) withImage.push({ character, ref });
    }
    let backgroundPrompt: string | null = null;
    let backgroundRef: ImageReference | null = null;
    if (panel.background !== null) {
      const background = this.#backgrounds.get(panel.background);
      if (!background) {
        throw this.#error('SCRIPT_INVALID', `panel ${panel.id} uses background "${panel.background}", which the script does not define`, [...origin, 'background']);
      }
      backgroundPrompt = background.prompt;
      backgroundRef = this.#backgroundRefs.get(background.id) ?? null;
    }
    if (!(box.width > 0 && box.height > 0)) {
      throw this.#error('SCRIPT_INVALID', `panel ${panel.id} gets an empty box (${box.width}×${box.height} px) from the page layout`, origin, 'check the page\'s layout: every panel needs a width and a height');
    }
    const use = this.#resolveUse(panel.render, origin);
    const { info } = use.template;
    // Characters first (the panel's order), then the background, as far as the template's slots go.
    const choice = chooseReferences(withImage, backgroundRef, info.references, info.imageInputs.length);
    const references: ImageReference[] = [...choice.characters.map((c) => c.ref), ...(choice.background ? [choice.background] : [])];
    const label = info.referenceLabel;
    const slotOf = new Map(choice.characters.map((c, i) => [c.character, i + 1]));
    const prompts = this.#prompts.panel(
      {
        prompt: panel.prompt,
        characters: shown,
        pose: panel.pose,
        camera: panel.camera,
        background: backgroundPrompt,
        ...(label !== null && {
          characterLabels: shown.map((c) => (slotOf.has(c) ? referenceLabel(label, slotOf.get(c)!) : null)),
          backgroundLabel: choice.background ? referenceLabel(label, choice.characters.length + 1) : null,
        }),
      },
      use.negative,
    );
    const job = this.#imageJob(id, use, panel.render, prompts, box.width / box.height, references, origin);
    this.#add({ ...job, kind: 'panel', page: panel.page, index });
    return id;
  }

  /** The parts every image job shares; the caller adds its kind and subject. */
  #imageJob(
    id: JobId,
    use: ResolvedUse,
    declared: TemplateUse,
    prompts: Prompts,
    aspect: number,
    references: readonly ImageReference[],
    origin: YamlPath,
  ): Omit<ImageJob, 'kind' | 'character' | 'background' | 'page' | 'index'> {
    const seed = jobSeed(declared.seed, this.comic.meta.seed, id);
    const size = renderSize(aspect, use.template.info.size);
    // Only the references the template takes feed the job (and so its deps and key).
    const used = references.slice(0, use.template.info.imageInputs.length);
    const request: ImageRequest = { ...prompts, ...size, seed, params: use.params, references: used };
    const deps = [...new Set(used.flatMap((ref) => (ref.source === 'job' ? [ref.job] : [])))];
    const key = imageKey(use.template.stamp, request, deps, this.#keyOf);
    return { id, deps, seed, key, template: use.template.stamp, request, origin };
  }

  #layout(page: Page): PageLayout {
    const layout = this.ctx.layoutPage(page, this.comic.meta.format, this.comic.meta.direction);
    const mismatch =
      layout.panels.length !== page.panels.length || layout.panels.some((box, i) => box.panelId !== page.panels[i]?.id);
    if (mismatch) {
      throw this.#error(
        'INTERNAL',
        `the layout of page ${page.number} has boxes for [${layout.panels.map((b) => b.panelId).join(', ')}] but the page has panels [${page.panels.map((p) => p.id).join(', ')}]`,
        [...page.path, 'layout'],
      );
    }
    return layout;
  }

  #resolveUse(use: TemplateUse, origin: YamlPath): ResolvedUse {
    const template = this.#resolveTemplate(use.template, origin);
    const paramPath = (name: string): YamlPath => use.paramPaths?.[name] ?? [...origin, 'params', name];
    for (const name of Object.keys(use.params)) {
      if (RESERVED_PARAMS.includes(name) && name !== 'negative') {
        throw this.#error('TEMPLATE_PARAM', `the parameter "${name}" of template ${use.template.id} is set by the planner, not by the script`, paramPath(name), reservedParamHint(name));
      }
    }
    const merged: Record<string, unknown> = { ...template.info.defaults, ...use.params };
    const negative = merged.negative;
    if (negative !== undefined && negative !== null && typeof negative !== 'string') {
      throw this.#error('TEMPLATE_PARAM', `the parameter "negative" of template ${use.template.id} must be text`, paramPath('negative'));
    }
    const params: Record<string, unknown> = {};
    for (const name of Object.keys(merged).sort()) {
      if (!RESERVED_PARAMS.includes(name)) params[name] = merged[name];
    }
    return { template, params, negative: negative ?? null };
  }

  #resolveTemplate(ref: TemplateRef, origin: YamlPath): ResolvedTemplate {
    const cacheKey = `${ref.id}@${ref.range ?? ''}`;
    const known = this.#templates.get(cacheKey);
    if (known) return known;
    let info: TemplateInfo;
    try {
      info = this.ctx.templates.resolve(ref);
    } catch (error) {
      if (!isComicError(error) || error.location) throw error;
      throw new ComicError(error.code, error.message, { hint: error.hint, location: this.comic.locate([...origin, 'template']), cause: error });
    }
    const problem = sizeRuleProblem(info.size);
    if (problem) {
      throw this.#error('TEMPLATE_INVALID', `template ${info.id}@${info.version} has an unusable size rule: ${problem}`, [...origin, 'template'], 'fix `size` in the template\'s manifest');
    }
    const resolved = { info, stamp: { id: info.id, version: info.version, digest: info.digest } };
    this.#templates.set(cacheKey, resolved);
    return resolved;
  }

  #fileRef(role: ReferenceRole, subject: string, file: string, origin: YamlPath): ImageReference {
    let sha256: string;
    try {
      sha256 = this.ctx.fileHash(file);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ComicError('SCRIPT_INVALID', `the reference image of ${role} "${subject}" cannot be read: ${reason}`, {
        location: this.comic.locate(origin),
        hint: `check that ${file} exists and is readable`,
        cause: error,
      });
    }
    return { source: 'file', role, subject, file, sha256 };
  }

  #error(code: ErrorCode, message: string, path: YamlPath, hint?: string): ComicError {
    return new ComicError(code, message, { location: this.comic.locate(path), ...(hint === undefined ? {} : { hint }) });
  }
}
