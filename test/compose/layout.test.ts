import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ComicError } from '../../src/errors.js';
import { computeLayout, resolveLayoutStyle } from '../../src/compose/layout.js';
import type { PanelBox, Rect } from '../../src/compose/types.js';
import { page, rows, SMALL, US_COMIC } from './fixtures.js';

const blank = (n: number) => Array.from({ length: n }, () => ({}));
const right = (r: Rect) => r.x + r.width;
const bottom = (r: Rect) => r.y + r.height;

function inside(outer: Rect, inner: Rect): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && right(inner) <= right(outer) && bottom(inner) <= bottom(outer);
}

function disjoint(a: Rect, b: Rect): boolean {
  return right(a) <= b.x || right(b) <= a.x || bottom(a) <= b.y || bottom(b) <= a.y;
}

describe('computeLayout', () => {
  it('puts a us-comic 2-1-2 page inside the safe area with exact gutters', () => {
    const layout = computeLayout(page(1, rows(2, 1, 2), blank(5)), US_COMIC, 'ltr');
    expect(layout.canvas).toEqual({ width: 1988 + 76, height: 3075 + 76 });
    expect(layout.trim).toEqual({ x: 38, y: 38, width: 1988, height: 3075 });
    expect(layout.safe).toEqual({ x: 113, y: 113, width: 1988 - 150, height: 3075 - 150 });
    const [a, b, c, d, e] = layout.panels as [PanelBox, PanelBox, PanelBox, PanelBox, PanelBox];
    for (const box of layout.panels) expect(inside(layout.safe, box)).toBe(true);
    // The live area's edges are the outer panels' edges.
    expect(a.x).toBe(layout.safe.x);
    expect(a.y).toBe(layout.safe.y);
    expect(right(b)).toBe(right(layout.safe));
    expect(bottom(e)).toBe(bottom(layout.safe));
    // One gutter (36 px at 300 dpi) between neighbours, across and down.
    expect(b.x - right(a)).toBe(36);
    expect(e.x - right(d)).toBe(36);
    expect(c.y - bottom(a)).toBe(36);
    expect(d.y - bottom(c)).toBe(36);
    // Equal rows and equal panels within a row (to the pixel).
    expect(Math.abs(a.width - b.width)).toBeLessThanOrEqual(1);
    expect(Math.abs(a.height - c.height)).toBeLessThanOrEqual(1);
    expect(c.width).toBe(layout.safe.width);
    expect(layout.panels.map((p) => [p.panelId, p.readingOrder, p.bleeds])).toEqual([
      ['1-1', 0, false],
      ['1-2', 1, false],
      ['1-3', 2, false],
      ['1-4', 3, false],
      ['1-5', 4, false],
    ]);
  });

  it('mirrors the placement for right-to-left pages and keeps the reading order', () => {
    const spec = page(1, rows(1, 3, 2), blank(6));
    const ltr = computeLayout(spec, US_COMIC, 'ltr');
    const rtl = computeLayout(spec, US_COMIC, 'rtl');
    rtl.panels.forEach((box, i) => {
      const mirror = ltr.panels[i]!;
      expect(box.readingOrder).toBe(i);
      expect(box.y).toBe(mirror.y);
      expect(box.width).toBeCloseTo(mirror.width, -1);
      expect(Math.abs(box.x - (ltr.canvas.width - right(mirror)))).toBeLessThanOrEqual(1);
    });
    // The first panel of the three-panel row is the rightmost one.
    expect(rtl.panels[1]!.x).toBeGreaterThan(rtl.panels[2]!.x);
    expect(rtl.panels[2]!.x).toBeGreaterThan(rtl.panels[3]!.x);
  });

  it('honours per-row height ratios', () => {
    const layout = computeLayout(page(1, { kind: 'rows', rows: [1, 2], heights: [3, 1] }, blank(3)), US_COMIC, 'ltr');
    const top = layout.panels[0]!;
    const low = layout.panels[1]!;
    // The panels themselves are 3:1, and together with the gutter fill the live height.
    expect(top.height / low.height).toBeCloseTo(3, 2);
    expect(top.height + 36 + low.height).toBe(layout.safe.height);
  });

  it('resolves presets from the script layer', () => {
    const layout = computeLayout(page(1, { kind: 'preset', name: 'nine-grid' }, blank(9)), US_COMIC, 'ltr');
    const xs = new Set(layout.panels.map((p) => p.x));
    const ys = new Set(layout.panels.map((p) => p.y));
    expect(xs.size).toBe(3);
    expect(ys.size).toBe(3);
  });

  it('makes a single-panel page a splash that covers the canvas, bleed included', () => {
    const layout = computeLayout(page(1, { kind: 'preset', name: 'splash' }, blank(1)), US_COMIC, 'ltr');
    expect(layout.panels[0]).toMatchObject({ x: 0, y: 0, width: layout.canvas.width, height: layout.canvas.height, bleeds: true });
  });

  it('a bleed panel runs off the page on the sides that lie on the live area\'s edge; a borderless one keeps its box', () => {
    const layout = computeLayout(page(1, rows(2, 2), [{ frame: 'bleed' }, { frame: 'borderless' }, {}, {}]), SMALL, 'ltr');
    const plain = computeLayout(page(1, rows(2, 2), blank(4)), SMALL, 'ltr');
    const [bleed, borderless, other] = layout.panels as [PanelBox, PanelBox, PanelBox];
    // Top-left: the top and left sides reach the canvas edge; right and bottom keep the gutter.
    expect(bleed).toMatchObject({ x: 0, y: 0, bleeds: true, bordered: false });
    expect(right(bleed)).toBe(right(plain.panels[0]!));
    expect(bottom(bleed)).toBe(bottom(plain.panels[0]!));
    expect(borderless).toEqual({ ...plain.panels[1]!, bordered: false });
    expect(other).toEqual(plain.panels[2]);
  });

  it('takes the gutter and border from the page (the script\'s defaults.page)', () => {
    const layout = computeLayout(page(1, rows(2), blank(2), { gutter: 40, borderWidth: 9, borderColor: 'navy' }), SMALL, 'ltr');
    const [a, b] = layout.panels as [PanelBox, PanelBox];
    expect(b.x - right(a)).toBe(40);
    expect(layout.border).toEqual({ width: 9, color: 'navy' });
  });

  it('places explicit cells in live-area fractions; an edge beyond the live area bleeds', () => {
    const layout = computeLayout(
      page(1, { kind: 'cells', cells: [{ x: 0, y: -0.1, w: 1.1, h: 0.6 }, { x: 0, y: 0.5, w: 0.5, h: 0.5 }, { x: 0.5, y: 0.5, w: 0.5, h: 0.5 }] }, blank(3)),
      SMALL,
      'ltr',
    );
    const [top, left, rightCell] = layout.panels as [PanelBox, PanelBox, PanelBox];
    expect(top).toMatchObject({ x: layout.safe.x, y: 0, bleeds: true });
    expect(right(top)).toBe(layout.canvas.width);
    expect(left.y - bottom(top)).toBe(resolveLayoutStyle(undefined, SMALL.dpi).gutter);
    expect(rightCell.x - right(left)).toBe(12);
    expect(left.bleeds || rightCell.bleeds).toBe(false);
  });

  it('scales the default gutter and border with the dpi', () => {
    expect(resolveLayoutStyle(undefined, 300)).toEqual({ gutter: 36, borderWidth: 6, borderColor: '#1a1a1a' });
    expect(resolveLayoutStyle(undefined, 150)).toMatchObject({ gutter: 18, borderWidth: 3 });
    expect(resolveLayoutStyle({ gutter: 10 }, 150).gutter).toBe(10);
    const wide = computeLayout(page(1, rows(2), blank(2)), US_COMIC, 'ltr', { gutter: 100 });
    expect(wide.panels[1]!.x - right(wide.panels[0]!)).toBe(100);
  });

  it('rejects a layout whose cell count differs from the panel count', () => {
    const run = () => computeLayout(page(4, rows(2, 2), blank(3)), US_COMIC, 'ltr');
    expect(run).toThrow(ComicError);
    expect(run).toThrow(/page 4: layout '2-2' has 4 cells but the page has 3 panels/);
    expect(() => computeLayout(page(1, { kind: 'preset', name: 'nope' }, blank(1)), US_COMIC, 'ltr')).toThrow(/unknown layout preset 'nope'/);
  });

  it('never overlaps panels, keeps them in the safe area and a gutter apart (any row code)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 6 }),
        fc.constantFrom<'ltr' | 'rtl'>('ltr', 'rtl'),
        (code, direction) => {
          const count = code.reduce((a, b) => a + b, 0);
          const layout = computeLayout(page(1, rows(...code), blank(count)), US_COMIC, direction);
          const boxes = layout.panels;
          for (const box of boxes) {
            expect(inside(layout.safe, box)).toBe(true);
            expect(box.width).toBeGreaterThan(0);
          }
          for (let i = 0; i < boxes.length; i++) {
            for (let j = i + 1; j < boxes.length; j++) {
              const a = boxes[i]!;
              const b = boxes[j]!;
              expect(disjoint(a, b)).toBe(true);
              const gap = Math.max(b.x - right(a), a.x - right(b), b.y - bottom(a), a.y - bottom(b));
              expect(gap).toBeGreaterThanOrEqual(36);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
