/**
 * Problems found in a script. Every check adds to one list so that a user sees every
 * problem at once; `ScriptError` carries that list when any of them is an error.
 */
import { ComicError, formatLocation, type SourceLocation } from '../errors.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic extends SourceLocation {
  readonly message: string;
  /** What to do about it, when we know. */
  readonly hint?: string;
  readonly severity: Severity;
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    a.file.localeCompare(b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
    a.message.localeCompare(b.message)
  );
}

/** Sorted by position, without exact repeats (two checks may notice the same thing). */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique: Diagnostic[] = [];
  for (const d of diagnostics) {
    const key = `${formatLocation(d)}\u0000${d.severity}\u0000${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(d);
  }
  return unique.sort(compareDiagnostics);
}

/** `file:line:column: message` (warnings say so), then an indented hint line. */
export function formatDiagnostic(d: Diagnostic): string {
  const label = d.severity === 'warning' ? 'warning: ' : '';
  const hint = d.hint ? `\n  hint: ${d.hint}` : '';
  return `${formatLocation(d)}: ${label}${d.message}${hint}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** The script has problems; `diagnostics` lists every one of them, sorted by position. */
export class ScriptError extends ComicError {
  override readonly name = 'ScriptError';
  readonly diagnostics: readonly Diagnostic[];

  constructor(file: string, diagnostics: readonly Diagnostic[]) {
    const sorted = sortDiagnostics(diagnostics);
    const errors = sorted.filter((d) => d.severity === 'error').length;
    const heading = `${file}: ${errors} ${errors === 1 ? 'problem' : 'problems'} in the comic script`;
    // No single `location`: every line of the message carries its own.
    super('SCRIPT_INVALID', [heading, ...sorted.map(formatDiagnostic)].join('\n'), {
      hint: 'fix each problem at the file:line:column shown, then run `comic validate` again',
    });
    this.diagnostics = sorted;
  }
}
