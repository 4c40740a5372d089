/**
 * The template registry: every template from every source, with versions and shadowing.
 *
 * Sources, highest precedence first: the user folders given (`--templates DIR`, then the
 * project's config dirs), then the built-in templates shipped in the repo's `templates/`.
 * An id belongs to the first source that has it: a user template with a built-in's id hides
 * every version of the built-in (`list` shows it as shadowed). Within a source, several
 * versions of one id may coexist (in separate folders); `resolve` picks the newest version
 * that satisfies the reference's semver range.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { ComicError, type SourceLocation } from '../errors.js';
import type { TemplateRef } from '../script/model.js';
import { formatTemplateRef, parseTemplateRef } from '../script/template-ref.js';
import { nearest } from '../util/suggest.js';
import type { TemplateResolver } from './types.js';
import { loadTemplateDir, MANIFEST_FILE, type Template, type TemplateSource } from './loader.js';

/** The repo's `templates/` folder, found next to src/ (or dist/) whichever runs. */
export const BUILTIN_TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

export interface RegistryOptions {
  /** User template folders, highest precedence first (`--templates`, then config dirs). */
  readonly dirs: readonly string[];
  /** Include the built-in templates (default true). */
  readonly builtin?: boolean;
  /** Where the built-in templates are (tests point this elsewhere). */
  readonly builtinDir?: string;
  /**
   * With `strict` (the default) a template that fails to load is an error (TEMPLATE_INVALID);
   * without it the others load and `problems` lists the broken ones (for `templates validate`).
   */
  readonly strict?: boolean;
}

export interface TemplateListing {
  readonly template: Template;
  /** The source whose template of the same id hides this one, or null when it is active. */
  readonly shadowedBy: TemplateSource | null;
}

export interface TemplateProblem {
  readonly dir: string;
  readonly problems: readonly string[];
}

export interface TemplateRegistry extends TemplateResolver {
  /** The newest active version of `ref.id` within `ref.range`; TEMPLATE_NOT_FOUND otherwise. */
  resolve(ref: TemplateRef, location?: SourceLocation): Template;
  /** Like resolve, from text such as `panel` or `panel@^2`. */
  get(ref: string, location?: SourceLocation): Template;
  /** Every loaded template, shadowed ones included, by id then newest version first. */
  list(): readonly TemplateListing[];
  /** Active ids, sorted. */
  ids(): readonly string[];
  readonly sources: readonly TemplateSource[];
  readonly problems: readonly TemplateProblem[];
}

export async function loadTemplateRegistry(options: RegistryOptions): Promise<TemplateRegistry> {
  const sources: TemplateSource[] = options.dirs.map((dir) => ({ kind: 'user', dir: resolvePath(dir) }));
  if (options.builtin ?? true) sources.push({ kind: 'builtin', dir: resolvePath(options.builtinDir ?? BUILTIN_TEMPLATES_DIR) });

  const problems: TemplateProblem[] = [];
  const loaded: Template[] = [];
  for (const source of sources) {
    const seen = new Map<string, string>();
    for (const dir of await templateDirs(source)) {
      const result = await loadTemplateDir(dir, source);
      if (!result.ok) {
        problems.push({ dir, problems: result.problems });
        continue;
      }
      const key = `${result.template.id}@${result.template.version}`;
      const first = seen.get(key);
      if (first !== undefined) {
        problems.push({ dir, problems: [`${key} is also defined in ${first}; give one of them another version`] });
        continue;
      }
      seen.set(key, dir);
      loaded.push(result.template);
    }
  }
  if ((options.strict ?? true) && problems.length > 0) {
    const details = problems.flatMap((p) => p.problems.map((line) => `  ${line}`)).join('\n');
    throw new ComicError('TEMPLATE_INVALID', `${problems.length} template${problems.length > 1 ? 's' : ''} could not be loaded:\n${details}`, {
      hint: 'fix the files listed, or run `comic templates validate` for details',
    });
  }
  return new Registry(sources, loaded, problems);
}

/** A folder holding manifest.json is one template; otherwise look two levels down for them. */
async function templateDirs(source: TemplateSource): Promise<string[]> {
  const isDir = await stat(source.dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) {
    throw new ComicError('CONFIG_INVALID', `the template folder ${source.dir} does not exist or is not a folder`, {
      hint: source.kind === 'builtin' ? 'the installation is incomplete: reinstall comic' : 'check --templates and the `templates` dirs in comic.config.yaml',
    });
  }
  const found: string[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    if (await exists(join(dir, MANIFEST_FILE))) {
      found.push(dir);
      return;
    }
    if (depth === 0) return;
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && !entry.name.startsWith('.')) await visit(join(dir, entry.name), depth - 1);
    }
  };
  await visit(source.dir, 2);
  return found;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

class Registry implements TemplateRegistry {
  readonly #listing: TemplateListing[];
  /** Active versions per id, newest first. */
  readonly #active = new Map<string, Template[]>();

  constructor(
    readonly sources: readonly TemplateSource[],
    templates: readonly Template[],
    readonly problems: readonly TemplateProblem[],
  ) {
    const owner = new Map<string, TemplateSource>();
    for (const template of templates) if (!owner.has(template.id)) owner.set(template.id, template.source);
    this.#listing = templates
      .map((template) => {
        const source = owner.get(template.id)!;
        return { template, shadowedBy: source === template.source ? null : source };
      })
      .sort((a, b) => a.template.id.localeCompare(b.template.id) || semver.rcompare(a.template.version, b.template.version));
    for (const { template, shadowedBy } of this.#listing) {
      if (shadowedBy !== null) continue;
      const versions = this.#active.get(template.id) ?? [];
      versions.push(template);
      this.#active.set(template.id, versions);
    }
  }

  list(): readonly TemplateListing[] {
    return this.#listing;
  }

  ids(): readonly string[] {
    return [...this.#active.keys()].sort();
  }

  get(text: string, location?: SourceLocation): Template {
    const parsed = parseTemplateRef(text);
    if (!parsed.ok) throw new ComicError('TEMPLATE_NOT_FOUND', parsed.message, { ...(parsed.hint ? { hint: parsed.hint } : {}), ...(location ? { location } : {}) });
    return this.resolve(parsed.ref, location);
  }

  resolve(ref: TemplateRef, location?: SourceLocation): Template {
    const at = location ? { location } : {};
    const versions = this.#active.get(ref.id);
    if (!versions) {
      const guess = nearest(ref.id, this.#active.keys());
      throw new ComicError('TEMPLATE_NOT_FOUND', `no template "${ref.id}"; known templates: ${this.ids().join(', ') || 'none'}`, {
        ...at,
        hint: guess ? `did you mean "${guess}"?` : 'run `comic templates list` to see every template and where it comes from',
      });
    }
    const range = ref.range ?? '*';
    const match = versions.find((t) => semver.satisfies(t.version, range));
    if (match) return match;
    const shadowed = this.#listing.find((l) => l.template.id === ref.id && l.shadowedBy !== null && semver.satisfies(l.template.version, range));
    const owner = versions[0]!.source;
    throw new ComicError(
      'TEMPLATE_NOT_FOUND',
      `template "${ref.id}" has no version matching "${range}" (${formatTemplateRef(ref)}); it has ${versions.map((t) => t.version).join(', ')} in ${owner.dir}`,
      {
        ...at,
        hint: shadowed
          ? `${ref.id}@${shadowed.template.version} in ${shadowed.template.dir} would match, but the ${ref.id} in ${owner.dir} shadows it`
          : `change the range, or add a version of ${ref.id} that satisfies it`,
      },
    );
  }
}
