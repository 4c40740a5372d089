/**
 * `comic validate <script...> [--json]`: checks scripts without rendering anything. Each
 * good script gets a one-line summary; each bad one every problem as file:line:column.
 * The exit code is 2 when any script is invalid.
 */
import { loadConfig } from '../../config/index.js';
import { loadTemplateRegistry, type TemplateRegistry } from '../../templates/index.js';
import { ExitCode, isComicError } from '../../errors.js';
import { analyzeScript, formatDiagnostic, readScriptText, type Comic, type Diagnostic } from '../../script/index.js';
import type { TemplateReferenceLookup } from '../../script/references.js';
import { paramLookupFrom, type TemplateParamLookup } from '../../script/params.js';
import { githubAnnotation, inGithubActions } from '../../progress/github.js';
import type { CliContext } from '../io.js';
import { maskedContext } from '../masked-io.js';
import { configFlags, sharedOption } from '../options.js';
import type { RegisterCommand } from './index.js';

/** `--templates DIR` and `--config FILE`: which templates the checks see, as for `comic plan`. */
export interface TemplateFlags {
  readonly templates?: string[];
  readonly config?: string;
}

export interface ValidateDependencies {
  /** The installed template ids, to check template references; undefined leaves them unchecked. */
  readonly templateIds?: (ctx: CliContext, flags: TemplateFlags) => Promise<readonly string[] | undefined>;
  /** How many references each template takes, to warn about panels that name more; undefined skips that. */
  readonly templateReferences?: (ctx: CliContext, flags: TemplateFlags) => Promise<TemplateReferenceLookup | undefined>;
  /** Each template's parameters, to check the script's params against; undefined leaves params unchecked. */
  readonly templateParams?: (ctx: CliContext, flags: TemplateFlags) => Promise<TemplateParamLookup | undefined>;
}

/** One script's outcome; `--json` prints an array of these. */
export interface ValidateResult {
  readonly file: string;
  readonly ok: boolean;
  readonly diagnostics: readonly Diagnostic[];
  /** Set when the file could not be read at all. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly summary?: { readonly pages: number; readonly panels: number; readonly characters: number };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function summarize(comic: Comic): NonNullable<ValidateResult['summary']> {
  return {
    pages: comic.pages.length,
    panels: comic.pages.reduce((sum, page) => sum + page.panels.length, 0),
    characters: comic.characters.length,
  };
}

interface TemplateChecks {
  readonly templateIds?: readonly string[] | undefined;
  readonly templateReferences?: TemplateReferenceLookup | undefined;
  readonly templateParams?: TemplateParamLookup | undefined;
}

async function validateOne(file: string, ctx: CliContext, checks: TemplateChecks): Promise<ValidateResult> {
  let text: string;
  try {
    text = await readScriptText(file, ctx.io.cwd);
  } catch (error) {
    if (!isComicError(error)) throw error;
    return { file, ok: false, diagnostics: [], error: { code: error.code, message: error.message } };
  }
  const { templateIds, templateReferences, templateParams } = checks;
  const { comic, diagnostics } = analyzeScript(text, {
    file,
    cwd: ctx.io.cwd,
    ...(templateIds ? { templateIds } : {}),
    ...(templateReferences ? { templateReferences } : {}),
    ...(templateParams ? { templateParams } : {}),
  });
  return comic ? { file, ok: true, diagnostics, summary: summarize(comic) } : { file, ok: false, diagnostics };
}

function printText(result: ValidateResult, ctx: CliContext): void {
  const { stdout, stderr } = ctx.io;
  for (const d of result.diagnostics) stderr.write(`${formatDiagnostic(d)}\n`);
  if (result.summary) {
    const { pages, panels, characters } = result.summary;
    stdout.write(`✓ ${result.file}: ${plural(pages, 'page')}, ${plural(panels, 'panel')}, ${plural(characters, 'character')}\n`);
  } else if (result.error) {
    stderr.write(`✗ ${result.error.message} (${result.error.code})\n`);
  } else {
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    stderr.write(`✗ ${result.file}: ${plural(errors, 'problem')}\n`);
  }
}

export function createValidateCommand(dependencies: ValidateDependencies = {}): RegisterCommand {
  return (program, unmasked) => {
    // A script's text reaches the diagnostics: its control characters (and any credential of the configuration) are masked.
    const ctx = maskedContext(unmasked);
    program
      .command('validate')
      .description('Check comic scripts and report every problem as file:line:column (exit code 2 if any is invalid)')
      .argument('<script...>', 'comic scripts (YAML)')
      .option('--json', 'print an array of { file, ok, diagnostics } for tools')
      .addOption(sharedOption.templates())
      .addOption(sharedOption.config())
      .action(async (scripts: string[], flags: { json?: boolean } & TemplateFlags) => {
        const checks: TemplateChecks = {
          templateIds: await dependencies.templateIds?.(ctx, flags),
          templateReferences: await dependencies.templateReferences?.(ctx, flags),
          templateParams: await dependencies.templateParams?.(ctx, flags),
        };
        const results: ValidateResult[] = [];
        for (const file of scripts) results.push(await validateOne(file, ctx, checks));
        if (flags.json) ctx.io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
        else for (const result of results) printText(result, ctx);
        if (inGithubActions(ctx.io.env)) {
          // Workflow annotations on the script lines; stderr under --json, where stdout is the JSON.
          const out = flags.json ? ctx.io.stderr : ctx.io.stdout;
          for (const diagnostic of results.flatMap((r) => r.diagnostics)) out.write(`${githubAnnotation(diagnostic)}\n`);
        }
        if (results.some((r) => !r.ok)) ctx.setExitCode(ExitCode.invalidInput);
      });
  };
}

/** The built-in and configured templates (`--templates` first), loaded once per command. */
const registries = new WeakMap<CliContext, Promise<TemplateRegistry>>();
function registryFor(ctx: CliContext, flags: TemplateFlags): Promise<TemplateRegistry> {
  let registry = registries.get(ctx);
  if (!registry) {
    registry = loadConfig({ cwd: ctx.io.cwd, env: ctx.io.env, flags: configFlags(flags) }).then((config) => loadTemplateRegistry({ dirs: [...config.templates] }));
    registries.set(ctx, registry);
  }
  return registry;
}

/**
 * `comic validate` as registered: template ids are checked against the built-in and
 * configured templates, panels against how many references theirs take, and every
 * template use's params against the template's manifest.
 */
export const registerValidate: RegisterCommand = createValidateCommand({
  templateIds: async (ctx, flags) => (await registryFor(ctx, flags)).ids(),
  templateReferences: async (ctx, flags) => {
    const registry = await registryFor(ctx, flags);
    return (ref) => {
      try {
        const template = registry.resolve(ref);
        return { name: `${template.id}@${template.version}`, references: template.references, slots: template.imageInputs.length };
      } catch {
        return null; // an unknown template is reported by the id check
      }
    };
  },
  templateParams: async (ctx, flags) => paramLookupFrom(await registryFor(ctx, flags)),
});
