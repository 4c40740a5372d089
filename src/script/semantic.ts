/**
 * Checks that need more than one value at a time: ids used in panels and dialogue exist,
 * templates exist (when the caller knows which do), reference images are on disk, each
 * page has as many panels as its layout has cells, and the page format makes sense in
 * pixels.
 *
 * A speaker missing from the panel's `characters` is a warning, not an error: off-panel
 * voices are ordinary comics grammar (the balloon's tail points out of the panel).
 */
import { statSync, type Stats } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { Diagnostic, Severity } from './diagnostics.js';
import { describeLayout, layoutCellCount, layoutSpecFrom, presetsWithCells, suggestRowCode } from './layouts.js';
import type { YamlPath } from './model.js';
import { resolvePageFormat, pageFormatProblems } from './page-format.js';
import type { Locate } from './positions.js';
import type { EntityPart, PagePart, ScriptParts } from './script-data.js';
import { didYouMean } from '../util/suggest.js';
import { DEFAULT_TEMPLATE_IDS, familyTemplate, parseTemplateRef, type TemplateKind } from './template-ref.js';
import { displayPath } from './issues.js';

export const REFERENCE_IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const;

export interface SemanticOptions {
  readonly locate: Locate;
  /** Reference images are relative to this folder (the script's). */
  readonly baseDir: string;
  /** The installed template ids; null leaves template ids unchecked. */
  readonly templateIds: readonly string[] | null;
  readonly checkFiles: boolean;
}

class Report {
  readonly diagnostics: Diagnostic[] = [];
  constructor(private readonly locate: Locate) {}

  add(severity: Severity, path: YamlPath, message: string, hint?: string, at: 'key' | 'value' = 'value'): void {
    const prefix = path.length > 0 ? `${displayPath(path)}: ` : '';
    this.diagnostics.push({ ...this.locate(path, at), severity, message: prefix + message, ...(hint ? { hint } : {}) });
  }
}

function checkReference(report: Report, path: YamlPath, reference: string, options: SemanticOptions): void {
  const extension = extname(reference).toLowerCase();
  if (!(REFERENCE_IMAGE_EXTENSIONS as readonly string[]).includes(extension)) {
    report.add('error', path, `reference image '${reference}' must be a ${REFERENCE_IMAGE_EXTENSIONS.join(', ')} file`);
    return;
  }
  if (!options.checkFiles) return;
  const absolute = resolve(options.baseDir, reference);
  let stats: Stats | undefined;
  try {
    stats = statSync(absolute, { throwIfNoEntry: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an invalid path';
    report.add('error', path, `reference image '${reference}' cannot be read (${code})`, `looked for ${absolute}`);
    return;
  }
  if (!stats) {
    report.add('error', path, `reference image '${reference}' not found`, `looked for ${absolute}; paths are relative to the script's folder`);
  } else if (!stats.isFile()) {
    report.add('error', path, `reference image '${reference}' is not a file`, `${absolute} is a folder or a device`);
  }
}

/** Template ids: explicit references, and built-in defaults that something relies on. */
class TemplateCheck {
  private readonly defaultUsers = new Map<TemplateKind, YamlPath>();
  constructor(
    private readonly report: Report,
    private readonly installed: readonly string[],
    private readonly parts: ScriptParts,
  ) {}

  explicit(path: YamlPath, template: string): void {
    const ref = parseTemplateRef(template);
    if (!ref.ok || this.installed.includes(ref.ref.id)) return;
    this.report.add('error', path, `unknown template '${ref.ref.id}'`, didYouMean(ref.ref.id, this.installed, 'installed templates'));
  }

  /** An entity of `kind` with no template of its own; remembers the first one. */
  implicit(kind: TemplateKind, path: YamlPath): void {
    if (!this.defaultUsers.has(kind)) this.defaultUsers.set(kind, path);
  }

  finish(): void {
    for (const [kind, path] of this.defaultUsers) {
      if (this.parts.defaults?.[kind]?.template !== undefined) continue; // checked where it is written
      const family = this.parts.defaults?.family;
      const id = familyTemplate(family, kind);
      if (this.installed.includes(id)) continue;
      const which = family ? `the ${family} family's ${kind} template` : `the default ${kind} template`;
      this.report.add('error', path, `uses ${which} '${id}', which is not installed`, `install a '${id}' template, or set defaults.${kind}.template`);
    }
  }
}

/** Characters and backgrounds: reference images, and the template of what gets rendered. */
function checkEntities(report: Report, parts: ScriptParts, options: SemanticOptions, templates: TemplateCheck | null): void {
  const kinds = [
    { entities: parts.characters, kind: 'sheet', explicitPath: ['sheet', 'template'], ignored: 'a character with a reference image gets no sheet' },
    { entities: parts.backgrounds, kind: 'background', explicitPath: ['template'], ignored: 'a background with a reference image is not rendered' },
  ] as const;
  for (const { entities, kind, explicitPath, ignored } of kinds) {
    for (const entity of entities) {
      if (entity.reference !== null) {
        checkReference(report, [...entity.path, 'reference'], entity.reference, options);
        for (const key of entity.renderKeys) report.add('warning', [...entity.path, key], `ignored: ${ignored}`, `remove \`${key}\`, or remove \`reference\` to render one`, 'key');
      } else if (!entity.optedOut) {
        if (entity.template !== null) templates?.explicit([...entity.path, ...explicitPath], entity.template);
        else templates?.implicit(kind, entity.path);
      }
    }
  }
}

function checkLayout(report: Report, page: PagePart): void {
  if (page.layout === null || page.panels === null || page.panels.length === 0) return;
  const spec = layoutSpecFrom(page.layout, page.panels.length);
  const cells = layoutCellCount(spec);
  const panels = page.panels.length;
  if (cells === panels) return;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const options = [`"${suggestRowCode(panels)}"`, ...presetsWithCells(panels).map((p) => `'${p}'`)].join(', ');
  report.add(
    'error',
    [...page.path, 'layout'],
    `layout ${describeLayout(spec)} has ${count(cells, 'cell')} but page ${page.number} has ${count(panels, 'panel')}`,
    `add or remove panels, or use a layout with ${count(panels, 'cell')}: ${options}`,
  );
}

function idHint(id: string, known: readonly string[], section: 'characters' | 'backgrounds'): string {
  return didYouMean(id, known, `known ${section}`) ?? `define '${id}' under ${section}:`;
}

function checkPanels(report: Report, parts: ScriptParts, templates: TemplateCheck | null): { complete: boolean; used: Set<string> } {
  const characterIds = parts.characters.map((c) => c.id);
  const backgroundIds = parts.backgrounds.map((b) => b.id);
  const used = new Set<string>();
  let complete = true;
  for (const page of parts.pages) {
    checkLayout(report, page);
    if (page.panels === null) complete = false;
    for (const panel of page.panels ?? []) {
      if (!panel.readable) complete = false;
      if (panel.template !== null) templates?.explicit([...panel.path, 'template'], panel.template);
      else if (panel.readable) templates?.implicit('panel', panel.path);
      const drawn = new Set<string>();
      for (const { id, path } of panel.characters) {
        used.add(`character:${id}`);
        if (drawn.has(id)) report.add('error', path, `character '${id}' is listed twice`);
        drawn.add(id);
        if (!characterIds.includes(id)) report.add('error', path, `unknown character '${id}'`, idHint(id, characterIds, 'characters'));
      }
      if (panel.background) {
        const { id, path } = panel.background;
        used.add(`background:${id}`);
        if (!backgroundIds.includes(id)) report.add('error', path, `unknown background '${id}'`, idHint(id, backgroundIds, 'backgrounds'));
      }
      for (const { id, path, offPanel } of panel.speakers) {
        used.add(`character:${id}`);
        if (!characterIds.includes(id)) report.add('error', path, `unknown character '${id}'`, idHint(id, characterIds, 'characters'));
        // A line marked offPanel says so on purpose: no warning.
        else if (!drawn.has(id) && !offPanel) report.add('warning', path, `'${id}' speaks but is not drawn in this panel (an off-panel voice)`, `add '${id}' to this panel's characters to draw them`);
      }
    }
  }
  return { complete, used };
}

function warnUnused(report: Report, entries: readonly EntityPart[], kind: 'character' | 'background', used: Set<string>): void {
  for (const { id, path } of entries) {
    if (!used.has(`${kind}:${id}`)) report.add('warning', path, `${kind} '${id}' appears in no panel`, `remove it, or use it in a panel (it would still be rendered)`, 'key');
  }
}

export function checkSemantics(parts: ScriptParts, options: SemanticOptions): Diagnostic[] {
  const report = new Report(options.locate);
  const templates = options.templateIds === null ? null : new TemplateCheck(report, options.templateIds, parts);
  if (parts.format !== null) {
    for (const problem of pageFormatProblems(resolvePageFormat(parts.format.value))) report.add('error', problem.path, problem.message);
  }
  if (templates && parts.defaults) {
    for (const kind of Object.keys(DEFAULT_TEMPLATE_IDS) as TemplateKind[]) {
      const template = parts.defaults[kind]?.template;
      if (template !== undefined) templates.explicit(['defaults', kind, 'template'], template);
    }
  }
  checkEntities(report, parts, options, templates);
  const { complete, used } = checkPanels(report, parts, templates);
  // With a broken panel we cannot know what it uses; say nothing rather than something wrong.
  if (complete) {
    warnUnused(report, parts.characters, 'character', used);
    warnUnused(report, parts.backgrounds, 'background', used);
  }
  templates?.finish();
  return report.diagnostics;
}
