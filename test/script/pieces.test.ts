/** The small pieces: lengths, layouts, template references, suggestions, diagnostics. */
import { describe, expect, it } from 'vitest';
import { compareDiagnostics, formatDiagnostic, sortDiagnostics, type Diagnostic } from '../../src/script/diagnostics.js';
import { interpretLayoutText, layoutCellCount, layoutRows, layoutSpecFrom, presetsWithCells, PRESET_LAYOUTS, suggestRowCode } from '../../src/script/layouts.js';
import { didYouMean, editDistance, nearest } from '../../src/util/suggest.js';
import { formatTemplateRef, parseTemplateRef } from '../../src/script/template-ref.js';
import { parseLength, toPixels } from '../../src/script/units.js';

describe('lengths', () => {
  it.each([
    [40, 300, 40],
    ['40px', 300, 40],
    ['0.125in', 300, 38],
    ['3mm', 300, 35], // 35.43
    ['1cm', 254, 100],
    ['36pt', 300, 150],
    [' 2 IN ', 100, 200],
    ['.5in', 300, 150],
  ] as const)('%s at %i dpi is %i px', (input, dpi, px) => {
    const result = parseLength(input);
    expect(result.ok).toBe(true);
    if (result.ok) expect(toPixels(result.length, dpi)).toBe(px);
  });

  it.each([
    ['3furlongs', "unknown unit 'furlongs' in '3furlongs'; use one of px, in, mm, cm, pt"],
    ['in', `'in' is not a length; write a number with a unit, such as "0.125in", "3mm", "36pt" or "40px"`],
    ['1.2.3mm', `'1.2.3mm' is not a length; write a number with a unit, such as "0.125in", "3mm", "36pt" or "40px"`],
  ])('rejects %s', (input, message) => {
    expect(parseLength(input)).toEqual({ ok: false, message });
  });

  it('rejects non-finite numbers', () => {
    expect(parseLength(Infinity).ok).toBe(false);
  });
});

describe('layouts', () => {
  it('counts cells of every kind of layout', () => {
    expect(layoutCellCount({ kind: 'rows', rows: [2, 1, 2], heights: null })).toBe(5);
    expect(layoutCellCount({ kind: 'preset', name: 'nine-grid' })).toBe(9);
    expect(layoutCellCount({ kind: 'cells', cells: [{ x: 0, y: 0, w: 1, h: 1 }] })).toBe(1);
  });

  it('defines the documented presets', () => {
    const counts = Object.fromEntries(Object.entries(PRESET_LAYOUTS).map(([name, p]) => [name, p.rows.join('-')]));
    expect(counts).toMatchObject({ splash: '1', 'two-tier': '1-1', 'three-tier': '2-1-2', 'nine-grid': '3-3-3', widescreen: '1-1-1-1', 'four-koma': '1-1-1-1', 'grid-2x2': '2-2', 'grid-2x3': '2-2-2' });
    expect(layoutRows({ kind: 'preset', name: 'big-top' })).toEqual({ rows: [1, 3], heights: [3, 2] });
    expect(layoutRows({ kind: 'cells', cells: [] })).toBeNull();
  });

  it('reads row codes and preset names, and refuses the rest with a suggestion', () => {
    expect(interpretLayoutText('2-1-2')).toEqual({ ok: true, spec: { kind: 'rows', rows: [2, 1, 2], heights: null } });
    expect(interpretLayoutText('splash')).toEqual({ ok: true, spec: { kind: 'preset', name: 'splash' } });
    expect(interpretLayoutText('13')).toEqual({ ok: false, message: "layout '13': row 1 has 13 panels; each row needs 1 to 12" });
    expect(interpretLayoutText('1-1-1-1-1-1-1-1-1-1-1-1-1')).toEqual({ ok: false, message: "layout '1-1-1-1-1-1-1-1-1-1-1-1-1': a layout has at most 12 rows, not 13" });
    expect(interpretLayoutText('splish')).toEqual({ ok: false, message: "unknown layout 'splish'", hint: "did you mean 'splash'?" });
    expect(interpretLayoutText('toString')).toMatchObject({ ok: false });
  });

  it('gives a page without a layout one panel per row', () => {
    expect(layoutSpecFrom(undefined, 3)).toEqual({ kind: 'rows', rows: [1, 1, 1], heights: null });
    expect(layoutSpecFrom(4, 4)).toEqual({ kind: 'rows', rows: [4], heights: null });
  });

  it('suggests row codes and presets with a given number of cells', () => {
    expect([1, 2, 3, 4, 5, 7].map(suggestRowCode)).toEqual(['1', '2', '3', '2-2', '3-2', '3-2-2']);
    expect(presetsWithCells(6)).toEqual(['grid-2x3']);
  });
});

describe('template references', () => {
  it('parses ids with and without ranges', () => {
    expect(parseTemplateRef('panel')).toEqual({ ok: true, ref: { id: 'panel', range: null } });
    expect(parseTemplateRef('panel@^2')).toEqual({ ok: true, ref: { id: 'panel', range: '^2' } });
    expect(parseTemplateRef('my.panel_v2@>=1.2 <3')).toEqual({ ok: true, ref: { id: 'my.panel_v2', range: '>=1.2 <3' } });
    expect(formatTemplateRef({ id: 'panel', range: '~1.4' })).toBe('panel@~1.4');
  });

  it('rejects bad ids and ranges', () => {
    expect(parseTemplateRef('panel@').ok).toBe(false);
    expect(parseTemplateRef('panel@not a range').ok).toBe(false);
    expect(parseTemplateRef('../panel').ok).toBe(false);
    expect(parseTemplateRef('').ok).toBe(false);
  });
});

describe('suggestions', () => {
  it('measures edits, counting a transposition as one', () => {
    expect(editDistance('title', 'tilte')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only plausible typos', () => {
    expect(nearest('charcters', ['characters', 'backgrounds'])).toBe('characters');
    expect(nearest('Mara', ['mara', 'tobias'])).toBe('mara');
    expect(nearest('x', ['panel', 'sheet'])).toBeNull();
    expect(nearest('zebra', ['mara'])).toBeNull();
    expect(didYouMean('zebra', ['mara', 'tobias'], 'known characters')).toBe("known characters: 'mara', 'tobias'");
    expect(didYouMean('zebra', [])).toBeUndefined();
  });
});

describe('diagnostics', () => {
  const at = (line: number, column: number, severity: Diagnostic['severity'] = 'error'): Diagnostic => ({ file: 'a.yaml', line, column, severity, message: `m${line}` });

  it('sorts by position, errors first, without repeats', () => {
    const sorted = sortDiagnostics([at(3, 1), at(1, 5, 'warning'), at(1, 5), at(1, 2), at(3, 1)]);
    expect(sorted.map((d) => `${d.line}:${d.column}:${d.severity}`)).toEqual(['1:2:error', '1:5:error', '1:5:warning', '3:1:error']);
    expect(compareDiagnostics(at(1, 1), at(1, 1))).toBe(0);
  });

  it('formats as file:line:column: message with a hint line', () => {
    expect(formatDiagnostic({ ...at(2, 3), hint: 'do this' })).toBe('a.yaml:2:3: m2\n  hint: do this');
    expect(formatDiagnostic(at(2, 3, 'warning'))).toBe('a.yaml:2:3: warning: m2');
  });
});
