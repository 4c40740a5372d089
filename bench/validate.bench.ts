/**
 * bench/validate: `comic validate` on 1 MB scripts (issue 16). Target: under 1 s each on our
 * 2-core machine. Three scripts of about 1 MB:
 *
 * - `long novel`: a generated graphic novel (bench/plan's generator) of some 1 MB, valid;
 * - `1 MB language tag`: a small script whose `comic.language` is one 1 MB well-formed tag
 *   (quadratic in Intl.getCanonicalLocales: minutes before the length cap);
 * - `1 MB colour`: a border colour of 1 MB (an edit-distance search against every CSS
 *   colour name: 159 s before the length check in `nearest`).
 *
 * Each is timed in-process (analyzeScript with the same template checks `comic validate`
 * makes: ids, references per panel, params; median after warm-up) and as the user runs it
 * (`node bin/comic.js validate FILE`, a child process: startup and template loading included).
 * The novel's panels each name two characters with sheets on a template that takes one, so
 * it has a warning per panel, and every warning needs its line and column.
 * Prints a markdown table; copy it into docs/benchmarks.md (section `## validate`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { analyzeScript, type ParseOptions } from '../src/script/index.js';
import { paramLookupFrom } from '../src/script/params.js';
import type { TemplateReferenceLookup } from '../src/script/references.js';
import { loadTemplateRegistry } from '../src/templates/index.js';
import { generateScript } from './plan.bench.js';

const MB = 1_000_000;
const WARMUP = 2;
const RUNS = 7;
const CLI_RUNS = 3;
const TARGET_MS = 1000;
const root = join(fileURLToPath(import.meta.url), '..', '..');

function novel(): string {
  let pages = 200;
  let text = generateScript(pages);
  while (text.length < MB) text = generateScript((pages = Math.ceil((pages * MB) / text.length) + 1));
  return text;
}

function longLanguage(): string {
  const parts: string[] = [];
  for (let i = 0, n = 0; n < MB; i++, n += 6) parts.push(`a${i.toString(36).padStart(4, '0')}`);
  return readFileSync(join(root, 'examples', 'lighthouse.yaml'), 'utf8').replace('language: en', `language: en-u-${parts.join('-')}`);
}

function longColour(): string {
  return readFileSync(join(root, 'examples', 'lighthouse.yaml'), 'utf8').replace('pages:\n', `defaults:\n  page:\n    border: { color: ${'q'.repeat(MB)} }\npages:\n`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const ms = (n: number) => `${n.toFixed(0)} ms`;

/** The template checks `comic validate` makes, from the built-in templates. */
async function templateChecks(): Promise<Pick<ParseOptions, 'templateIds' | 'templateReferences' | 'templateParams'>> {
  const registry = await loadTemplateRegistry({ dirs: [] });
  const templateReferences: TemplateReferenceLookup = (ref) => {
    try {
      const template = registry.resolve(ref);
      return { name: `${template.id}@${template.version}`, references: template.references, slots: template.imageInputs.length };
    } catch {
      return null;
    }
  };
  return { templateIds: registry.ids(), templateReferences, templateParams: paramLookupFrom(registry) };
}

async function main(): Promise<void> {
  const checks = await templateChecks();
  const dir = mkdtempSync(join(tmpdir(), 'comic-bench-validate-'));
  const scripts: [string, string][] = [
    ['long novel (valid)', novel()],
    ['1 MB language tag', longLanguage()],
    ['1 MB colour', longColour()],
  ];
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.versions.node}; load average ${loadavg().map((n) => n.toFixed(1)).join(' ')}`);
  console.log(`in-process: median of ${RUNS} runs after ${WARMUP} warm-up runs; CLI: median of ${CLI_RUNS} runs of node bin/comic.js validate\n`);
  console.log('| script | size | result | in-process median | min | max | `comic validate` (CLI) |');
  console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: |');
  let worst = 0;
  try {
    for (const [name, text] of scripts) {
      const file = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, text);
      const times: number[] = [];
      let result = '';
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const started = performance.now();
        const analysis = analyzeScript(text, { file, checkFiles: false, ...checks });
        const elapsed = performance.now() - started;
        if (i >= WARMUP) times.push(elapsed);
        const warnings = analysis.diagnostics.filter((d) => d.severity === 'warning').length;
        result = analysis.comic ? `valid, ${analysis.comic.pages.length} pages, ${warnings} warnings` : `${analysis.diagnostics.filter((d) => d.severity === 'error').length} errors`;
      }
      const cli: number[] = [];
      for (let i = 0; i < CLI_RUNS; i++) {
        const started = performance.now();
        try {
          execFileSync(process.execPath, [join(root, 'bin', 'comic.js'), 'validate', file], { cwd: dir, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
        } catch {
          // exit 2 for the scripts with problems: that is the answer, not a failure
        }
        cli.push(performance.now() - started);
      }
      worst = Math.max(worst, median(times), median(cli));
      console.log(`| ${name} | ${(Buffer.byteLength(text) / MB).toFixed(2)} MB | ${result} | **${ms(median(times))}** | ${ms(Math.min(...times))} | ${ms(Math.max(...times))} | ${ms(median(cli))} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\ntarget: every median < ${TARGET_MS} ms → ${worst < TARGET_MS ? 'met' : 'MISSED'} (worst ${ms(worst)})`);
  if (worst >= TARGET_MS) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
