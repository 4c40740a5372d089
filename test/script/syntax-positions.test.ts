/**
 * Issue #16: after the first YAML syntax error, every later position came out a line early
 * (`68:47` on a 28-character line, really `69:18`): the reader's own line count loses the
 * line breaks inside the tokens it gives up on. Each position must point at the real spot.
 */
import { describe, expect, it } from 'vitest';
import { analyzeScript } from '../../src/script/index.js';

/** The character each kind of token the reader names starts with. */
const TOKEN_START: Record<string, string> = {
  'flow-map-start': '{',
  'flow-map-end': '}',
  'flow-seq-start': '[',
  'flow-seq-end': ']',
  'map-value-ind': ':',
  'seq-item-ind': '-',
  comma: ',',
};

/** The text a diagnostic's message says is at its position, when it says. */
function namedToken(message: string): string | null {
  const quoted = /token in YAML stream: (".*")$/.exec(message);
  if (quoted) return JSON.parse(quoted[1]!) as string;
  const kind = /Unexpected ([a-z-]+)(?: token)? (?:at node end|in YAML stream)/.exec(message)?.[1];
  return kind !== undefined ? (TOKEN_START[kind] ?? null) : null;
}

function errorsOf(text: string) {
  return analyzeScript(text, { file: 'broken.yaml', checkFiles: false }).diagnostics.filter((d) => d.severity === 'error');
}

/** A script broken in several places; the first break (an unclosed `{` inside a flow map) is the one that threw the count off. */
const BROKEN = [
  'comic:',
  '  title: The Last Lighthouse',
  'pages:',
  '  - panels:',
  '      - prompt: Mara climbs the stairs',
  '        dialogue:',
  '          - { who: mara, text: GRAND{PA! YOU DIED, kind: shout }',
  '      - prompt: Tobias smiles gently, the light passing through his hand',
  '        dialogue:',
  '          - { who: tobias, text: "Then learn the crank, girl." }',
  '  - panels:',
  '      - prompt: the storm breaks',
  '        caption: "Night three" of the storm',
  '      - prompt: a gull cries out',
  '        who: mara: tobias',
  '      - prompt: "the end" at last',
  '',
].join('\n');

describe('YAML syntax error positions', () => {
  it('point at the real spot for every error in a file with several', () => {
    const lines = BROKEN.split('\n');
    const errors = errorsOf(BROKEN);
    const at = (line: number, column: number) => lines[line - 1]!.slice(column - 1);
    expect(errors.length).toBeGreaterThan(5);

    // Each error where the text says it is: the token it names starts there.
    let checked = 0;
    for (const d of errors) {
      expect(d.line, d.message).toBeLessThanOrEqual(lines.length);
      expect(d.column, `${d.line}:${d.column} ${d.message}`).toBeLessThanOrEqual(lines[d.line - 1]!.length + 1);
      const token = namedToken(d.message);
      if (token === null) continue;
      expect(at(d.line, d.column).startsWith(token.split('\n')[0]!), `${d.line}:${d.column} ${d.message}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);

    // And by hand, one per broken line: the first break, then spots on later lines.
    const spots = errors.map((d) => `${d.line}:${d.column}`);
    expect(spots[0]).toBe('7:37');
    expect(at(7, 37)).toMatch(/^\{PA!/);
    expect(spots).toContain('10:34');
    expect(at(10, 34)).toMatch(/^"Then learn/);
    expect(spots).toContain('13:9');
    expect(at(13, 9)).toMatch(/^caption:/);
    expect(spots).toContain('15:20');
    expect(at(15, 20)).toBe('tobias');
    expect(spots).toContain('16:27');
    expect(at(16, 27)).toBe('at last');
  });

  it('keep counting lines of CRLF text', () => {
    const text = BROKEN.replaceAll('\n', '\r\n');
    const spots = errorsOf(text).map((d) => `${d.line}:${d.column}`);
    expect(spots[0]).toBe('7:37');
    expect(spots).toContain('16:27');
  });

  it('stay right for independent errors too', () => {
    const text = ['comic:', '  title: "x" tail', '  style: ok', 'characters:', '  mara: { description: a, b }}', '  tobias:', '    description: "y" z', ''].join('\n');
    const errors = errorsOf(text);
    const lines = text.split('\n');
    expect(errors.length).toBeGreaterThanOrEqual(2);
    for (const d of errors) expect(d.column).toBeLessThanOrEqual(lines[d.line - 1]!.length + 1);
    expect(errors[0]).toMatchObject({ line: 2, column: 14 });
    expect(lines[1]!.slice(13)).toBe('tail');
  });
});
