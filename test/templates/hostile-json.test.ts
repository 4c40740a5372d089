/**
 * Issue #16: mutated workflow.json files (a value nested 100,000 levels deep, a 400-digit
 * integer) and editor-format imports crashed with INTERNAL stack traces (stack overflow in
 * the hasher, "cannot hash non-finite number"), exit 1. They are bad input: exit 2, with
 * the file, line:column and the node named. And an editor file whose subgraphs hold
 * instances of subgraphs that hold more (2^30 nodes from thirty definitions) is refused
 * at once instead of never finishing.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { loadTemplateDir, loadTemplateRegistry, readWorkflowFile, toApiWorkflow } from '../../src/templates/index.js';
import { MAX_FLAT_NODES } from '../../src/templates/flatten.js';
import { syntaxErrorOffset } from '../../src/templates/json-file.js';
import { canonicalJson, hashValue } from '../../src/util/hash.js';
import { objectInfo, rejected, sampleTemplate, tempDir, thrown, UI_WORKFLOWS, writeTemplate } from './helpers.js';

const DEEP = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
const HUGE = `1${'0'.repeat(400)}`;

/** The sample template's workflow text with `"name": raw` added to the sampler's inputs (node 5). */
function samplerWith(name: string, raw: string): string {
  const text = JSON.stringify(sampleTemplate().workflow, null, 2);
  return text.replace('"inputs": {\n      "model"', `"inputs": {\n      "${name}": ${raw},\n      "model"`);
}

async function templateWith(workflowText: string, manifestText?: string): Promise<string> {
  const root = await tempDir();
  const dir = await writeTemplate(root, 'broken', sampleTemplate());
  await writeFile(join(dir, 'workflow.json'), workflowText);
  if (manifestText !== undefined) await writeFile(join(dir, 'manifest.json'), manifestText);
  return dir;
}

function problemsOf(result: Awaited<ReturnType<typeof loadTemplateDir>>): string {
  expect(result.ok).toBe(false);
  return result.ok ? '' : result.problems.join('\n');
}

async function cli(argv: readonly string[], cwd: string) {
  const io = memoryIO({ cwd, env: { HOME: cwd, COMIC_USER_CONFIG_DIR: join(cwd, '.user-settings') } });
  const code = await main(['node', 'comic', ...argv], io.io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('template files holding values nothing can hash', () => {
  it('a value nested 100,000 levels deep names the file, line:column and node', async () => {
    const dir = await templateWith(samplerWith('deep', DEEP));
    const problems = problemsOf(await loadTemplateDir(dir, { kind: 'user', dir }));
    expect(problems).toContain(`${join(dir, 'workflow.json')}:`);
    expect(problems).toMatch(/workflow\.json:\d+:\d+: .*node #5 "Sampler" \(KSampler\), input "deep".*nested more than 100 levels deep/);
    const line = Number(/workflow\.json:(\d+):/.exec(problems)![1]);
    expect(readFileSync(join(dir, 'workflow.json'), 'utf8').split('\n')[line - 1]).toContain('"deep"');
  });

  it('a 400-digit integer names the number and the node', async () => {
    const dir = await templateWith(samplerWith('seed2', HUGE));
    const problems = problemsOf(await loadTemplateDir(dir, { kind: 'user', dir }));
    expect(problems).toMatch(/node #5 "Sampler" \(KSampler\), input "seed2": the number 1000000000…0000 \(401 digits\) is too large/);
  });

  it('so does a huge number in the manifest, by its JSON path', async () => {
    const { manifest } = sampleTemplate();
    const text = JSON.stringify(manifest, null, 2).replace('"default": 20', '"default": -1e999');
    const dir = await templateWith(JSON.stringify(sampleTemplate().workflow), text);
    const problems = problemsOf(await loadTemplateDir(dir, { kind: 'user', dir }));
    expect(problems).toMatch(/manifest\.json:\d+:\d+: .*at params\.steps\.default: the number -1e999 is too large \(beyond -1\.8e308\)/);
  });

  it('loading the registry fails with TEMPLATE_INVALID (exit 2), not INTERNAL', async () => {
    const dir = await templateWith(samplerWith('deep', DEEP));
    const error = await rejected(() => loadTemplateRegistry({ dirs: [join(dir, '..')], builtin: false }));
    expect(error.code).toBe('TEMPLATE_INVALID');
    expect(error.exitCode).toBe(2);
  });

  it('`comic templates validate` exits 2 without a stack trace', async () => {
    const dir = await templateWith(samplerWith('big', HUGE));
    const { code, stdout, stderr } = await cli(['templates', 'validate', '--templates', join(dir, '..')], dir);
    expect(`${stdout}${stderr}`).not.toMatch(/INTERNAL|\n\s+at /);
    expect(stdout).toMatch(/node #5 "Sampler" \(KSampler\), input "big"/);
    expect(code).toBe(2);
  });
});

describe('workflow files to import', () => {
  const editorFile = join(UI_WORKFLOWS, '01-txt2img-control-after-generate.json');
  const editorText = readFileSync(editorFile, 'utf8');
  const editor = JSON.parse(editorText) as { nodes: { id: number; type: string; title?: string; widgets_values: unknown[] }[] };

  it('an editor node with a deeply nested widget value is named by id and type', async () => {
    const dir = await tempDir();
    const target = editor.nodes.find((n) => Array.isArray(n.widgets_values) && n.widgets_values.length > 0)!;
    const copy = structuredClone(editor);
    copy.nodes.find((n) => n.id === target.id)!.widgets_values[0] = '@DEEP@';
    const file = join(dir, 'deep.json');
    await writeFile(file, JSON.stringify(copy, null, 2).replace('"@DEEP@"', DEEP));
    const error = await rejected(() => readWorkflowFile(file, { objectInfo: objectInfo() }));
    expect(error.code).toBe('WORKFLOW_INVALID');
    expect(error.message).toContain(`node #${target.id}`);
    expect(error.message).toContain(`(${target.type}), at widgets_values[0]`);
    expect(error.location?.file).toBe(file);
    expect(error.location?.line).toBeGreaterThan(1);
  });

  it('an API workflow with a huge number is refused, not written as null', async () => {
    const dir = await tempDir();
    const file = join(dir, 'big.json');
    await writeFile(file, samplerWith('cfg2', HUGE));
    await writeFile(join(dir, 'object_info.json'), JSON.stringify(objectInfo()));
    const { code, stdout, stderr } = await cli(['templates', 'import', file, '--object-info', join(dir, 'object_info.json'), '--print'], dir);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/big\.json:\d+:\d+: .*node #5 "Sampler" \(KSampler\), input "cfg2": the number 1000000000…0000 \(401 digits\) is too large .*\(WORKFLOW_INVALID\)/);
    expect(stderr).not.toMatch(/INTERNAL|\n\s+at /);
    expect(code).toBe(2);
  });

  it('`comic templates import` of a deep editor file exits 2 without a stack trace', async () => {
    const dir = await tempDir();
    const file = join(dir, 'deep.json');
    await writeFile(file, editorText.replace('"widgets_values": [', `"widgets_values": [${DEEP},`));
    await writeFile(join(dir, 'object_info.json'), JSON.stringify(objectInfo()));
    const { code, stderr } = await cli(['templates', 'import', file, '--object-info', join(dir, 'object_info.json'), '--out', join(dir, 'out')], dir);
    expect(stderr).toMatch(/deep\.json:\d+:\d+: .*node #\d+.*nested more than 100 levels deep/);
    expect(stderr).not.toMatch(/INTERNAL|\n\s+at /);
    expect(code).toBe(2);
  });

  it('values handed in directly (not from a file) are checked as well', () => {
    const workflow = sampleTemplate().workflow as Record<string, { inputs: Record<string, unknown> }>;
    workflow['5']!.inputs.cfg = Number.NaN;
    const error = thrown(() => toApiWorkflow(workflow, { file: 'request' }));
    expect(error.code).toBe('WORKFLOW_INVALID');
    expect(error.message).toBe('request: node #5 "Sampler" (KSampler), input "cfg": the value is NaN, not a number');
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    workflow['5']!.inputs.cfg = cyclic;
    expect(thrown(() => toApiWorkflow(workflow)).message).toMatch(/input "cfg".*nested more than 100 levels deep/);
  });

  it('finds where truncated deep JSON breaks without overflowing the stack', () => {
    const text = '['.repeat(100_000);
    expect(syntaxErrorOffset(text)).toBe(text.length);
    expect(syntaxErrorOffset(`${'{"a":'.repeat(50_000)}1${'}'.repeat(49_999)}]`)).toBe(50_000 * 5 + 1 + 49_999);
  });
});

describe('subgraph bombs', () => {
  /** `levels` subgraph definitions, each holding two instances of the next: 2^(levels-1) nodes once flattened. */
  function bomb(levels: number) {
    const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const definitions = Array.from({ length: levels }, (_, i) => ({
      id: id(i),
      name: `level ${i}`,
      version: 1,
      inputs: [],
      outputs: [],
      links: [],
      nodes:
        i === levels - 1
          ? [{ id: 1, type: 'EmptyLatentImage', mode: 0, inputs: [], outputs: [], widgets_values: [512, 512, 1] }]
          : [1, 2].map((n) => ({ id: n, type: id(i + 1), mode: 0, inputs: [], outputs: [] })),
    }));
    return { version: 1, nodes: [{ id: 1, type: id(0), mode: 0, inputs: [], outputs: [] }], links: [], definitions: { subgraphs: definitions } };
  }

  it('a workflow expanding to 2^29 nodes is refused within a second, with WORKFLOW_CONVERT (exit 2)', () => {
    const started = Date.now();
    const error = thrown(() => toApiWorkflow(bomb(30), { objectInfo: objectInfo(), file: 'bomb.json' }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.code).toBe('WORKFLOW_CONVERT');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`bomb.json: the workflow expands to more than ${MAX_FLAT_NODES.toLocaleString('en')} nodes through its subgraphs (instances of subgraphs inside subgraphs multiply)`);
  });

  it('a few levels of nesting still convert', () => {
    expect(Object.keys(toApiWorkflow(bomb(6), { objectInfo: objectInfo() }).workflow)).toHaveLength(32);
  });
});

describe('content hashes of parsed JSON', () => {
  it('count a key named __proto__ like any other', () => {
    const a = JSON.parse('{"__proto__": {"steps": 1}, "b": 2}') as unknown;
    const b = JSON.parse('{"__proto__": {"steps": 2}, "b": 2}') as unknown;
    expect(canonicalJson(a)).toBe('{"__proto__":{"steps":1},"b":2}');
    expect(hashValue(a)).not.toBe(hashValue(b));
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[1,{"c":2,"d":1}]}');
  });
});
