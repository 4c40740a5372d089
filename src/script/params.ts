/**
 * Template parameters checked against the template's manifest before anything renders:
 * `validate`, `plan` and `generate` (dry run or not) report an unknown name (with "did you
 * mean"), a value of the wrong type or out of bounds (with what the template expects), a
 * parameter the planner sets itself, and a required one nobody gives, each at the script
 * position it comes from (the entity's own `params`, or the script's `defaults`).
 *
 * The builder checks the same things again at render time; this makes sure a script that
 * passes `validate` does not fail there.
 */
import type { ParamSpec } from '../templates/manifest.js';
import { describeParam, valueProblem } from '../templates/builder.js';
import { nearest } from '../util/suggest.js';
import type { Diagnostic } from './diagnostics.js';
import { displayPath } from './issues.js';
import type { Comic, TemplateRef, TemplateUse, YamlPath } from './model.js';

/**
 * Parameters the planner sets on every image job: the script may not set them in params
 * (it has `prompt`, `seed` and the page layout for that). `negative` is the exception: the
 * script's is appended to the comic's negative prompt.
 */
export const RESERVED_PARAMS: readonly string[] = ['positive', 'negative', 'seed', 'width', 'height'];

/** What the check needs of a template. */
export interface TemplateParamInfo {
  /** `id@version`, for messages. */
  readonly name: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
}

/** The template a reference resolves to, or null when it does not resolve (reported elsewhere). */
export type TemplateParamLookup = (ref: TemplateRef) => TemplateParamInfo | null;

/** A lookup over any registry whose templates carry their manifest's params (the template registry does). */
export function paramLookupFrom(registry: { resolve(ref: TemplateRef): { id: string; version: string; params: Readonly<Record<string, ParamSpec>> } }): TemplateParamLookup {
  const known = new Map<string, TemplateParamInfo | null>();
  return (ref) => {
    const key = `${ref.id}@${ref.range ?? '*'}`;
    if (!known.has(key)) {
      let info: TemplateParamInfo | null = null;
      try {
        const template = registry.resolve(ref);
        info = { name: `${template.id}@${template.version}`, params: template.params };
      } catch {
        // An unknown template or version is reported by the template-id check, with its own hint.
      }
      known.set(key, info);
    }
    return known.get(key)!;
  };
}

/** A problem found, by YAML path; `locateParamProblems` gives it its file:line:column. */
export interface ParamProblem {
  readonly path: YamlPath;
  readonly at: 'key' | 'value';
  readonly message: string;
  readonly hint?: string;
}

/** Where the comic asks templates for images: each use with the path its template use is written at. */
function templateUses(comic: Comic): { use: TemplateUse; usePath: YamlPath }[] {
  const uses: { use: TemplateUse; usePath: YamlPath }[] = [];
  for (const c of comic.characters) if (c.sheet) uses.push({ use: c.sheet, usePath: [...c.path, 'sheet'] });
  for (const b of comic.backgrounds) if (b.render) uses.push({ use: b.render, usePath: b.path });
  for (const page of comic.pages) for (const panel of page.panels) uses.push({ use: panel.render, usePath: panel.path });
  return uses;
}

export function reservedParamHint(name: string): string {
  switch (name) {
    case 'seed':
      return 'write `seed:` next to `template:` instead of inside params';
    case 'positive':
      return 'the positive prompt is built from the style, the prompt, characters, pose, camera and background';
    default:
      return `${name} comes from the panel's box in the page layout and the template's size rule`;
  }
}

/** The parameters a script may set on a template: neither the planner's nor the reference images'. */
function settable(template: TemplateParamInfo): string[] {
  return Object.entries(template.params)
    .filter(([name, spec]) => spec.type !== 'image' && (!RESERVED_PARAMS.includes(name) || name === 'negative'))
    .map(([name]) => name);
}

function checkUse(use: TemplateUse, usePath: YamlPath, template: TemplateParamInfo, problems: ParamProblem[]): void {
  const add = (path: YamlPath, at: ParamProblem['at'], message: string, hint?: string, shown: YamlPath = path) =>
    problems.push({ path, at, message: `${displayPath(shown)}: ${message}`, ...(hint ? { hint } : {}) });
  for (const [name, value] of Object.entries(use.params)) {
    const path = use.paramPaths?.[name] ?? [...usePath, 'params', name];
    const spec = template.params[name];
    if (RESERVED_PARAMS.includes(name) && name !== 'negative') {
      add(path, 'key', `the parameter "${name}" is set by the planner, not by the script`, reservedParamHint(name));
    } else if (spec === undefined) {
      if (name === 'negative') {
        // Appended to the negative prompt whether or not the template declares it.
        if (typeof value !== 'string' && value !== null) add(path, 'value', `the parameter "negative" must be text (got ${JSON.stringify(value)})`);
        continue;
      }
      const names = settable(template);
      const guess = nearest(name, names);
      add(path, 'key', `template ${template.name} has no parameter "${name}"`, `${guess ? `did you mean "${guess}"? ` : ''}it takes ${names.join(', ') || 'no parameters'} (see \`comic templates show ${template.name.split('@')[0]}\`)`);
    } else {
      const problem = valueProblem(spec, value);
      if (problem !== null) {
        add(path, 'value', `parameter "${name}" of template ${template.name} ${problem} (got ${JSON.stringify(value)})`, `${name}: ${describeParam(spec)}${spec.description ? ` (${spec.description})` : ''}`);
      }
    }
  }
  for (const [name, spec] of Object.entries(template.params)) {
    if (RESERVED_PARAMS.includes(name) || spec.type === 'image' || use.params[name] !== undefined) continue;
    if ('default' in spec && spec.default !== undefined) continue;
    // At the template's name when the entity writes one (else the entity itself: the nearest node).
    const message = `template ${template.name} needs the parameter "${name}" (${describeParam(spec)}), and it has no default`;
    add([...usePath, 'template'], 'value', message, `set ${name} under params${spec.description ? ` (${spec.description})` : ''}`, usePath);
  }
}

/** Every parameter problem of the comic, by path; an empty list when all are fine. */
export function paramProblems(comic: Comic, lookup: TemplateParamLookup): ParamProblem[] {
  const problems: ParamProblem[] = [];
  for (const { use, usePath } of templateUses(comic)) {
    const template = lookup(use.template);
    if (template !== null) checkUse(use, usePath, template, problems);
  }
  return problems;
}

/** The problems as error diagnostics. A default's problem appears once however many entities share it. */
export function paramDiagnostics(comic: Comic, problems: readonly ParamProblem[]): Diagnostic[] {
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const problem of problems) {
    if (seen.has(problem.message)) continue;
    seen.add(problem.message);
    diagnostics.push({ ...comic.locate(problem.path, problem.at), severity: 'error', message: problem.message, ...(problem.hint ? { hint: problem.hint } : {}) });
  }
  return diagnostics;
}
