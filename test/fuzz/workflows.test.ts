/**
 * Fuzzed workflow templates and editor-format imports, in-process. Sources are real: the
 * built-in templates (manifest.json + workflow.json) and the editor-workflow corpus with
 * its API prompts. Whatever a mutated file holds, loading a template returns problems that
 * name the file (and the node, for a value nothing can hash), and importing either converts
 * or throws a ComicError with exit 2 naming the file. Never INTERNAL, never a stack overflow.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ComicError } from '../../src/errors.js';
import { loadTemplateDir, preflight, readWorkflowFile, toApiWorkflow, type ObjectInfo } from '../../src/templates/index.js';
import { formatJson } from '../../src/templates/json-file.js';
import { manifestWorkflowProblems } from '../../src/templates/manifest.js';
import { manifestSkeleton } from '../../src/templates/skeleton.js';
import { templateServerProblems } from '../../src/templates/validate.js';
import { hashValue } from '../../src/util/hash.js';
import { applyText, CaseCounter, fuzzOptions, mutateJson, textMutation, valueMutation, type MutatedJson, type ValueMutation } from './mutate.js';

/** The documented minimum per run of the suite (docs/testing.md, "Fuzzing"): templates and imports together. */
const MIN_WORKFLOWS = 500;

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const TEMPLATES = here('../../templates/');
const CORPUS = here('../fixtures/ui-workflows/corpus/');
const FIXTURES = here('../fixtures/ui-workflows/');
/** The catalogue every corpus workflow converts against (test/templates/corpus.test.ts). */
const info = JSON.parse(readFileSync(here('../fixtures/comfyui/traces/0.28/GET_object_info_full.json'), 'utf8')) as ObjectInfo;

interface Source {
  readonly name: string;
  readonly value: unknown;
}
const read = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const templates = readdirSync(TEMPLATES)
  .sort()
  .map((id) => ({ id, manifest: read(join(TEMPLATES, id, 'manifest.json')), workflow: read(join(TEMPLATES, id, 'workflow.json')) }));
const corpusFiles = readdirSync(CORPUS).filter((f) => f.endsWith('.json')).sort();
const imports: Source[] = [
  ...corpusFiles.map((f) => ({ name: f, value: read(join(CORPUS, f)) })),
  ...readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, value: read(join(FIXTURES, f)) })),
  ...templates.map((t) => ({ name: `${t.id}.api.json`, value: t.workflow })),
];

const counter = new CaseCounter();
const cpuAtStart = process.cpuUsage();
const work = mkdtempSync(join(tmpdir(), 'comic-fuzz-workflows-'));
let caseNumber = 0;

/** A mutated file's text: value mutations (hostile values placed in the parsed JSON) or text mutations. */
const mutation = fc.oneof(
  { weight: 3, arbitrary: fc.record({ values: fc.array(valueMutation, { minLength: 1, maxLength: 3 }), pretty: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ text: fc.array(textMutation, { minLength: 1, maxLength: 3 }) }) },
);
type Mutation = { values: ValueMutation[]; pretty: boolean } | { text: ((t: string) => string)[] };

function mutated(value: unknown, m: Mutation): MutatedJson {
  if ('values' in m) return mutateJson(value, m.values, m.pretty);
  return { text: applyText(JSON.stringify(value, null, 2), m.text), hostile: [] };
}

/** Anything thrown must be an error a user can act on: a ComicError with exit 2, not INTERNAL. */
function expectInputError(error: unknown, file: string): ComicError {
  if (!(error instanceof ComicError) || error.code === 'INTERNAL') throw error;
  expect(error.exitCode, error.message).toBe(2);
  expect(`${error.location?.file ?? ''} ${error.message}`, error.message).toContain(file);
  return error;
}

describe('fuzzed workflow templates', () => {
  it('mutated workflow.json and manifest.json of the built-in templates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: templates.length - 1 }), fc.boolean(), mutation, async (index, inWorkflow, m) => {
        counter.add('templates');
        const template = templates[index]!;
        const dir = join(work, `template-${caseNumber++}`);
        mkdirSync(dir);
        const changed = mutated(inWorkflow ? template.workflow : template.manifest, m as Mutation);
        const manifestFile = join(dir, 'manifest.json');
        const workflowFile = join(dir, 'workflow.json');
        writeFileSync(manifestFile, inWorkflow ? JSON.stringify(template.manifest) : changed.text);
        writeFileSync(workflowFile, inWorkflow ? changed.text : JSON.stringify(template.workflow));
        try {
          const result = await loadTemplateDir(dir, { kind: 'user', dir: work });
          if (!result.ok) {
            expect(result.problems.length).toBeGreaterThan(0);
            for (const problem of result.problems) expect(problem.includes(manifestFile) || problem.includes(workflowFile), problem).toBe(true);
            // A value nothing can hash, placed inside a node of the workflow: the node is named.
            if (inWorkflow && changed.hostile.length > 0 && result.problems.some((p) => /nested more than|too large/.test(p))) {
              expect(result.problems.join('\n')).toMatch(/workflow\.json:\d+:\d+: .*node #/);
            }
            return;
          }
          counter.add('templates loaded');
          // What `comic templates validate` does with a template that loads: build, resolve models, preflight.
          templateServerProblems(result.template, info, 'fuzz');
          hashValue(result.template.workflow);
        } catch (error) {
          expectInputError(error, dir);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      fuzzOptions(300, 11),
    );
  });
});

describe('fuzzed imports (editor format and API format)', () => {
  it('mutated corpus workflows, read and imported as `comic templates import` does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: imports.length - 1 }), mutation, async (index, m) => {
        counter.add('imports');
        const source = imports[index]!;
        const file = join(work, `import-${caseNumber++}-${source.name}`);
        const changed = mutated(source.value, m as Mutation);
        writeFileSync(file, changed.text);
        try {
          const converted = await readWorkflowFile(file, { objectInfo: info });
          counter.add('imports converted');
          const skeleton = manifestSkeleton(converted.workflow, {
            id: 'fuzz',
            source: source.name,
            appInputs: converted.appInputs.map((input) => ({ widget: input.source.widget, label: input.label, targets: input.targets })),
          });
          manifestWorkflowProblems(skeleton.manifest, converted.workflow);
          formatJson(converted.workflow);
          formatJson(skeleton.manifest);
          preflight(converted.workflow, info, { server: 'fuzz' });
        } catch (error) {
          const comic = expectInputError(error, file);
          if (changed.hostile.length > 0 && /nested more than|too large/.test(comic.message)) {
            expect(comic.location?.file).toBe(file);
            expect(comic.message).toMatch(/node|at /);
          }
        } finally {
          rmSync(file, { force: true });
        }
      }),
      fuzzOptions(300, 12),
    );
  });

  it('values handed to toApiWorkflow directly: NaN, Infinity and cycles too', () => {
    const strange = fc.constantFrom<unknown>(Number.NaN, Infinity, -Infinity, 'cycle');
    fc.assert(
      fc.property(fc.nat({ max: imports.length - 1 }), fc.nat(), strange, (index, at, value) => {
        counter.add('imports');
        const copy = structuredClone(imports[index]!.value) as Record<string, unknown>;
        const keys = Object.keys(copy);
        const key = keys[at % keys.length]!;
        if (value === 'cycle') {
          const loop: unknown[] = [];
          loop.push(loop);
          copy[key] = { nested: loop };
        } else copy[key] = [value];
        try {
          toApiWorkflow(copy, { objectInfo: info, file: 'direct.json' });
          expect.unreachable('a workflow holding NaN, Infinity or a cycle is refused');
        } catch (error) {
          expect(expectInputError(error, 'direct.json').message).toMatch(/NaN|too large|nested more than/);
        }
      }),
      fuzzOptions(60, 13),
    );
  });
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  expect(counter.get('templates') + counter.get('imports')).toBeGreaterThanOrEqual(MIN_WORKFLOWS);
  expect(counter.get('templates loaded')).toBeGreaterThan(20);
  expect(counter.get('imports converted')).toBeGreaterThan(20);
  console.log(
    `fuzz: ${counter.get('templates')} templates (${counter.get('templates loaded')} loaded), ${counter.get('imports')} imports (${counter.get('imports converted')} converted), ${cpuSeconds()} s of CPU`,
  );
});

function cpuSeconds(): string {
  const cpu = process.cpuUsage(cpuAtStart);
  return ((cpu.user + cpu.system) / 1e6).toFixed(1);
}
