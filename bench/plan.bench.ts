/**
 * bench/plan: parse + validate + expand a generated 200-page / 1,200-panel script.
 * Target: under 300 ms on our 2-core machine (issue 2). The built-in templates are loaded
 * once before timing: that is I/O done once per command, not part of the target, and the
 * planner resolves each template reference once however many jobs use it.
 *
 * Prints a markdown table; copy it into docs/benchmarks.md (section `## plan`).
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { computeLayout } from '../src/compose/layout.js';
import { createFileHasher, planComic } from '../src/graph/index.js';
import { parseScript } from '../src/script/index.js';
import { loadTemplateRegistry } from '../src/templates/index.js';

const PAGES = 200;
const PANELS_PER_PAGE = 6;
const CHARACTERS = 12;
const BACKGROUNDS = 24;
const WARMUP = 3;
const RUNS = 15;
const TARGET_MS = 300;

const SHOTS = ['wide shot', 'close-up', 'low angle', 'over the shoulder', 'aerial view', 'medium shot'];
const POSES = ['running', 'arms crossed', 'looking up', 'kneeling', 'pointing ahead', 'sitting on the stairs'];
const LAYOUTS = ['2-2-2', '3-3', '1-2-3', '2-1-2-1', '3-2-1', '2-2-2'];

/** A script like a long graphic novel's: every panel with characters, a background, dialogue. */
export function generateScript(pages = PAGES, perPage = PANELS_PER_PAGE, dpi = 300): string {
  const lines = [
    'comic:',
    '  title: Benchmark of the Long Storm',
    '  style: ink and watercolor graphic novel, muted palette',
    '  negative: blurry, extra fingers, watermark',
    `  format: { trim: us-comic, dpi: ${dpi}, bleed: 0.125in }`,
    '  seed: 1234',
    'characters:',
  ];
  for (let c = 0; c < CHARACTERS; c++) {
    lines.push(`  hero-${c}:`, `    name: Hero ${c}`, `    description: keeper number ${c}, red raincoat, short black hair, freckles, scar ${c}`);
  }
  lines.push('backgrounds:');
  for (let b = 0; b < BACKGROUNDS; b++) lines.push(`  place-${b}: { prompt: "place ${b}: lamp room at the top of a lighthouse, brass lens, storm outside" }`);
  lines.push('pages:');
  for (let p = 0; p < pages; p++) {
    lines.push(`  - layout: ${LAYOUTS[p % LAYOUTS.length]}`, '    panels:');
    for (let n = 0; n < perPage; n++) {
      const i = p * perPage + n;
      const a = `hero-${i % CHARACTERS}`;
      const b = `hero-${(i * 7 + 3) % CHARACTERS}`;
      lines.push(
        `      - prompt: Scene ${i}, the keepers climb the spiral stairs, lantern in hand`,
        `        characters: [${a}, ${b}]`,
        `        pose: ${POSES[i % POSES.length]}`,
        `        camera: ${SHOTS[n % SHOTS.length]}`,
        `        background: place-${i % BACKGROUNDS}`,
        '        dialogue:',
        `          - { who: ${a}, text: "Who lit the lamp on night ${i}?" }`,
        `          - { who: ${b}, text: "Nobody has been up here for years.", kind: whisper }`,
        `        caption: Night ${p} of the storm.`,
        '        sfx: [{ text: KRAAK, at: top-right }]',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const text = generateScript();
  const file = '/bench/long-storm.yaml';
  // The real built-in templates, loaded once before timing (as the CLI does before planning).
  const benchTemplates = await loadTemplateRegistry({ dirs: [] });
  const ctx = { templates: benchTemplates, layoutPage: computeLayout, fileHash: createFileHasher() };

  const parseMs: number[] = [];
  const expandMs: number[] = [];
  // CPU time as well as wall time: on a busy machine wall time counts other processes' turns.
  const cpuMs: number[] = [];
  let jobs = 0;
  let panels = 0;
  for (let run = 0; run < WARMUP + RUNS; run++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const comic = parseScript(text, { file, checkFiles: false, templateIds: benchTemplates.ids() });
    const t1 = performance.now();
    const graph = planComic(comic, ctx, { exports: ['pdf', 'cbz'] });
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    jobs = graph.counts.total;
    panels = graph.counts.panel;
    if (run >= WARMUP) {
      parseMs.push(t1 - t0);
      expandMs.push(t2 - t1);
      cpuMs.push((cpu.user + cpu.system) / 1000);
    }
  }
  // For comparison: the position-keeping read (the `yaml` library, as src/script/yaml-source.ts
  // uses it), which a script only pays for when it has problems to report.
  const yamlMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const t0 = performance.now();
    parseDocument(text, { lineCounter: new LineCounter(), prettyErrors: false, uniqueKeys: false });
    yamlMs.push(performance.now() - t0);
  }
  const totals = parseMs.map((p, i) => p + (expandMs[i] as number));
  const total = median(totals);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const ms = (n: number) => `${n.toFixed(1)} ms`;

  console.log(`script: ${PAGES} pages, ${panels} panels, ${(text.length / 1024).toFixed(0)} KiB of YAML → ${jobs} jobs`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.versions.node}`);
  console.log(`median of ${RUNS} runs after ${WARMUP} warm-up runs; load average ${loadavg().map((n) => n.toFixed(1)).join(' ')}\n`);
  console.log('| step | median | min | max |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, values] of [
    ['parse + validate', parseMs],
    ['(position-keeping YAML read, taken only for scripts with problems)', yamlMs],
    ['expand (plan)', expandMs],
    ['total', totals],
    ['total, CPU time (all threads)', cpuMs],
  ] as const) {
    console.log(`| ${name} | ${ms(median(values))} | ${ms(Math.min(...values))} | ${ms(Math.max(...values))} |`);
  }
  console.log(`\npeak RSS: ${peakRssMb.toFixed(0)} MB · target: total < ${TARGET_MS} ms → ${total < TARGET_MS ? 'met' : 'MISSED'}`);
  if (total >= TARGET_MS) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
