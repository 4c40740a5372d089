/**
 * The script reader: YAML text → checked Comic model, or every problem at once.
 *
 * Stages: YAML syntax (stop there on errors: the tree would be a guess) → schema (shapes,
 * types, unknown keys) → cross-references (ids, templates, files, layouts) → the model.
 * The schema and cross-reference stages both run, so a user sees every problem in one go.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ComicError } from '../errors.js';
import { buildComic } from './build.js';
import { hasErrors, ScriptError, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { diagnosticsFromIssues, messageFor } from './issues.js';
import type { Comic } from './model.js';
import { ScriptSchema } from './schema.js';
import { splitScript } from './script-data.js';
import { referenceWarnings, type TemplateReferenceLookup } from './references.js';
import { checkSemantics } from './semantic.js';
import { paramDiagnostics, paramProblems, type TemplateParamLookup } from './params.js';
import { fastYamlValue } from './fast-yaml.js';
import { fastLocator } from './fast-positions.js';
import type { Locate } from './positions.js';
import { readYaml } from './yaml-source.js';

export interface ParseOptions {
  /** The script's path as the user gave it: diagnostics name it; the model holds it resolved. */
  readonly file: string;
  /** The folder a relative `file` is resolved from (default: the process's). */
  readonly cwd?: string;
  /** Reference images are relative to this folder; by default the script's own. */
  readonly baseDir?: string;
  /** Installed template ids; when omitted, template ids are not checked. */
  readonly templateIds?: readonly string[];
  /** Check that reference images exist (default true). */
  readonly checkFiles?: boolean;
  /** How many references each template takes; with it, panels that name more get a warning. */
  readonly templateReferences?: TemplateReferenceLookup;
  /** Each template's parameters; with it, the script's params are checked against them. */
  readonly templateParams?: TemplateParamLookup;
}

export interface ScriptAnalysis {
  /** The model, or null when any diagnostic is an error. */
  readonly comic: Comic | null;
  /** Errors and warnings, sorted by position. */
  readonly diagnostics: readonly Diagnostic[];
}

const MiB = 1024 * 1024;
/** The largest script read (a 200-page graphic novel is some 300 KiB); larger ones are refused at once. */
export const MAX_SCRIPT_BYTES = 4 * MiB;

function tooLarge(file: string, bytes: number): Diagnostic {
  return {
    file,
    line: 1,
    column: 1,
    severity: 'error',
    message: `the script is ${(bytes / MiB).toFixed(1)} MiB; a script may be at most ${MAX_SCRIPT_BYTES / MiB} MiB`,
    hint: 'split the comic into several scripts (one per issue or chapter)',
  };
}

function analyze(text: string, options: ParseOptions): ScriptAnalysis {
  const { file } = options;
  const absolute = resolve(options.cwd ?? process.cwd(), file);
  const baseDir = resolve(options.baseDir ?? dirname(absolute));
  return analyzeFast(text, options, absolute, baseDir) ?? analyzeFull(text, options, absolute, baseDir);
}

/**
 * The fast path (src/script/fast-yaml.ts): a script that reads cleanly and has no problem
 * at all becomes the model without the position-keeping read; `locate` does that read the
 * first time something asks for a position. Anything to report goes the full way, so
 * every diagnostic has its line and column.
 */
function analyzeFast(text: string, options: ParseOptions, absolute: string, baseDir: string): ScriptAnalysis | null {
  const value = fastYamlValue(text);
  if (value === undefined) return null;
  const result = ScriptSchema.safeParse(value, { reportInput: true, error: messageFor });
  if (!result.success) return null;
  let full: Locate | null = null;
  // Positions from a second js-yaml read when it can give them (src/script/fast-positions.ts), else the full read.
  const locate: Locate = (path, at) => (full ??= fastLocator(text, options.file) ?? readYaml(text, options.file).locate)(path, at);
  const problems = checkSemantics(splitScript(value), {
    locate,
    baseDir,
    templateIds: options.templateIds ?? null,
    checkFiles: options.checkFiles ?? true,
  });
  if (problems.length > 0) return null;
  const comic = buildComic(result.data, { file: absolute, baseDir, locate });
  if (options.templateParams && paramProblems(comic, options.templateParams).length > 0) return null;
  return { comic, diagnostics: options.templateReferences ? sortDiagnostics(referenceWarnings(comic, options.templateReferences)) : [] };
}

function analyzeFull(text: string, options: ParseOptions, absolute: string, baseDir: string): ScriptAnalysis {
  const source = readYaml(text, options.file);
  const diagnostics = [...source.diagnostics];
  if (source.value === undefined) return { comic: null, diagnostics: sortDiagnostics(diagnostics) };

  const result = ScriptSchema.safeParse(source.value, { reportInput: true, error: messageFor });
  if (!result.success) {
    diagnostics.push(...diagnosticsFromIssues(result.error.issues, { schema: ScriptSchema, data: source.value, locate: source.locate }));
  }
  diagnostics.push(
    ...checkSemantics(splitScript(source.value), {
      locate: source.locate,
      baseDir,
      templateIds: options.templateIds ?? null,
      checkFiles: options.checkFiles ?? true,
    }),
  );
  let comic = result.success && !hasErrors(diagnostics) ? buildComic(result.data, { file: absolute, baseDir, locate: source.locate }) : null;
  if (comic && options.templateParams) {
    const paramErrors = paramDiagnostics(comic, paramProblems(comic, options.templateParams));
    diagnostics.push(...paramErrors);
    if (paramErrors.length > 0) comic = null;
  }
  if (comic && options.templateReferences) diagnostics.push(...referenceWarnings(comic, options.templateReferences));
  return { comic, diagnostics: sortDiagnostics(diagnostics) };
}

/**
 * Checks a script and reports everything: never throws for anything the text contains.
 * `comic validate` uses this to print warnings of valid scripts too.
 */
export function analyzeScript(text: string, options: ParseOptions): ScriptAnalysis {
  // Before anything reads it: time and memory of every later check grow with the text.
  const bytes = text.length > MAX_SCRIPT_BYTES / 4 ? Buffer.byteLength(text, 'utf8') : 0;
  if (bytes > MAX_SCRIPT_BYTES) return { comic: null, diagnostics: [tooLarge(options.file, bytes)] };
  try {
    return analyze(text, options);
  } catch (error) {
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      const tooDeep: Diagnostic = { file: options.file, line: 1, column: 1, severity: 'error', message: 'the script is nested too deeply to read' };
      return { comic: null, diagnostics: [tooDeep] };
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ComicError('INTERNAL', `reading ${options.file} failed unexpectedly: ${reason}`, { cause: error });
  }
}

/** The checked model of a script, or a ScriptError listing every problem (warnings are dropped). */
export function parseScript(text: string, options: ParseOptions): Comic {
  const { comic, diagnostics } = analyzeScript(text, options);
  if (comic === null) throw new ScriptError(options.file, diagnostics);
  return comic;
}

/** Reads the script text; SCRIPT_NOT_FOUND when the file cannot be read. */
export async function readScriptText(path: string, cwd: string = process.cwd()): Promise<string> {
  try {
    // The size first: a huge file is refused without being read into memory.
    const { size } = await stat(resolve(cwd, path));
    if (size > MAX_SCRIPT_BYTES) throw new ScriptError(path, [tooLarge(path, size)]);
    return await readFile(resolve(cwd, path), 'utf8');
  } catch (error) {
    if (error instanceof ScriptError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (code ?? String(error));
    throw new ComicError('SCRIPT_NOT_FOUND', `cannot read the comic script ${path}: ${reason}`, {
      hint: 'check the path; it is relative to the current folder',
      cause: error,
    });
  }
}

export type LoadOptions = Omit<ParseOptions, 'file'>;

/** Reads and parses a script file; `path` is relative to `options.cwd`. */
export async function loadScript(path: string, options: LoadOptions = {}): Promise<Comic> {
  const text = await readScriptText(path, options.cwd);
  return parseScript(text, { ...options, file: path });
}
