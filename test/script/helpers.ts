import { analyzeScript, type Diagnostic, type ParseOptions } from '../../src/script/index.js';

/** A script's diagnostics as `line:column severity message | hint` lines, for exact assertions. */
export function diagnose(text: string, options: Partial<ParseOptions> = {}): Diagnostic[] {
  return [...analyzeScript(text, { file: 'test.yaml', checkFiles: false, ...options }).diagnostics];
}

export function lines(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.line}:${d.column} ${d.severity === 'warning' ? 'warning ' : ''}${d.message}${d.hint ? ` | ${d.hint}` : ''}`);
}

export function errorsOf(text: string, options: Partial<ParseOptions> = {}): string[] {
  return lines(diagnose(text, options).filter((d) => d.severity === 'error'));
}

/** The smallest valid script, with one character and one background, as a base for variants. */
export const MINIMAL = `comic:
  title: Test
characters:
  mara: { description: keeper }
backgrounds:
  lamp-room: { prompt: lamp room }
pages:
  - layout: 2
    panels:
      - prompt: one
        characters: [mara]
        background: lamp-room
      - prompt: two
        characters: [mara]
        dialogue:
          - { who: mara, text: Hello }
`;
