import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveSeed, jobSeed, renderSize, sizeRuleProblem } from '../../src/graph/index.js';

describe('deriveSeed', () => {
  it('depends on the base seed and the job id only, and stays below 2^48', () => {
    expect(deriveSeed(1234, 'panel:1-1')).toBe(deriveSeed(1234, 'panel:1-1'));
    expect(deriveSeed(1234, 'panel:1-1')).not.toBe(deriveSeed(1234, 'panel:1-2'));
    expect(deriveSeed(1234, 'panel:1-1')).not.toBe(deriveSeed(1235, 'panel:1-1'));
    // A fixed value: a change here re-seeds (and re-renders) every user's comic.
    expect(deriveSeed(1234, 'panel:1-1')).toBe(242568428927325);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 }), fc.string(), (base, id) => {
        const seed = deriveSeed(base, id);
        return Number.isSafeInteger(seed) && seed >= 0 && seed < 2 ** 48;
      }),
    );
  });

  it('is spread out: distinct for a thousand panel ids', () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, i) => deriveSeed(7, `panel:${i}-1`)));
    expect(seeds.size).toBe(1000);
  });

  it('lets an explicit seed win, including 0', () => {
    expect(jobSeed(0, 99, 'panel:1-1')).toBe(0);
    expect(jobSeed(null, 99, 'panel:1-1')).toBe(deriveSeed(99, 'panel:1-1'));
  });
});

describe('renderSize', () => {
  const sdxl = { multiple: 64, min: 512, max: 2048, pixels: 1024 * 1024 };

  it('gives the SDXL sizes for the common aspects', () => {
    expect(renderSize(1, sdxl)).toEqual({ width: 1024, height: 1024 });
    expect(renderSize(16 / 9, sdxl)).toEqual({ width: 1344, height: 768 });
    expect(renderSize(3 / 2, sdxl)).toEqual({ width: 1344, height: 896 });
    expect(renderSize(2 / 3, sdxl)).toEqual({ width: 896, height: 1344 });
  });

  it('keeps within bounds for extreme aspects, long side at max, short side at min', () => {
    expect(renderSize(20, sdxl)).toEqual({ width: 2048, height: 512 });
    expect(renderSize(1 / 20, sdxl)).toEqual({ width: 512, height: 2048 });
  });

  it('always returns multiples within [min, max], near the aspect when the bounds allow it', () => {
    const rule = fc.record({
      multiple: fc.constantFrom(8, 16, 64),
      min: fc.integer({ min: 64, max: 512 }),
      span: fc.integer({ min: 128, max: 4096 }),
      pixels: fc.integer({ min: 256 * 256, max: 2048 * 2048 }),
    });
    fc.assert(
      fc.property(rule, fc.double({ min: 0.1, max: 10, noNaN: true }), ({ multiple, min, span, pixels }, aspect) => {
        const r = { multiple, min, max: min + span, pixels };
        const { width, height } = renderSize(aspect, r);
        expect(width % multiple).toBe(0);
        expect(height % multiple).toBe(0);
        for (const side of [width, height]) {
          expect(side).toBeGreaterThanOrEqual(min);
          expect(side).toBeLessThanOrEqual(r.max);
        }
        // Unclamped and with steps small relative to the sides, the aspect is within 10%.
        const ideal = Math.sqrt(pixels * aspect);
        const roomy = ideal > 4 * multiple && ideal / aspect > 4 * multiple && ideal < r.max && ideal / aspect < r.max && ideal > min && ideal / aspect > min;
        if (roomy) expect(Math.abs(Math.log(width / height / aspect))).toBeLessThan(0.1);
      }),
    );
  });

  it('rejects rules that admit no size and aspects that are not positive', () => {
    expect(sizeRuleProblem({ multiple: 64, min: 600, max: 620, pixels: 1e6 })).toMatch(/no multiple of 64/);
    expect(sizeRuleProblem({ multiple: 0, min: 64, max: 128, pixels: 1e6 })).toMatch(/multiple/);
    expect(sizeRuleProblem(sdxl)).toBeNull();
    expect(() => renderSize(0, sdxl)).toThrow(RangeError);
    expect(() => renderSize(Number.NaN, sdxl)).toThrow(RangeError);
  });
});
