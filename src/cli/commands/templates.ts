/**
 * `comic templates list|show|validate|import`: see what templates exist and where they come
 * from, what a template takes, whether templates can run on a server (or against a saved
 * object_info), and turn a workflow saved in the ComfyUI editor into a template.
 */
import { existsSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { loadConfig, type ResolvedConfig, type ServerConfig } from '../../config/index.js';
import { Routes } from '../../comfy/routes.js';
import { Transport } from '../../comfy/transport.js';
import { ComicError, ExitCode } from '../../errors.js';
import { TEMPLATE_ID } from '../../script/template-ref.js';
import { writeFileAtomic } from '../../util/fs.js';
import { listingJson, listingTable, templateDetails, templateJson } from '../../templates/describe.js';
import { formatJson, readJsonFile } from '../../templates/json-file.js';
import { manifestWorkflowProblems } from '../../templates/manifest.js';
import { preflight } from '../../templates/preflight.js';
import { manifestSkeleton } from '../../templates/skeleton.js';
import { templateServerProblems } from '../../templates/validate.js';
import {
  loadTemplateRegistry,
  MANIFEST_FILE,
  parseObjectInfo,
  readWorkflowFile,
  WORKFLOW_FILE,
  type ObjectInfo,
  type TemplateRegistry,
} from '../../templates/index.js';
import type { CliContext } from '../io.js';
import { maskedContext } from '../masked-io.js';
import { configFlags, sharedOption } from '../options.js';
import type { RegisterCommand } from './index.js';

interface SourceFlags {
  readonly templates?: string[];
  readonly config?: string;
}

interface ServerFlags {
  readonly objectInfo?: string;
  readonly server?: string;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export const registerTemplates: RegisterCommand = (program: Command, unmasked: CliContext) => {
  // Server text (object_info, error bodies) and template files reach these lines: all masked.
  const ctx = maskedContext(unmasked);
  const templates = program.command('templates').description('List, inspect, validate and import ComfyUI workflow templates.');
  const withSources = (command: Command) =>
    command
      .addOption(sharedOption.templates())
      .addOption(sharedOption.config());
  const withServer = (command: Command) =>
    command
      .addOption(new Option('--object-info <file>', 'check against a saved GET /api/object_info body').conflicts('server'))
      .addOption(new Option('--server <url>', 'check against this ComfyUI server (fetches /api/object_info)').conflicts('objectInfo'));

  withSources(
    templates
      .command('list')
      .description('Every template: id, version, source, description, parameters (shadowed ones marked).')
      .option('--json', 'print JSON, one object per template version'),
  ).action(async (flags: SourceFlags & { json?: boolean }) => {
    const registry = await openRegistry(ctx, flags);
    ctx.io.stdout.write(flags.json ? json(listingJson(registry.list())) : listingTable(registry.list()));
    reportBroken(ctx, registry);
  });

  withSources(
    templates
      .command('show')
      .description('A template in detail: parameters (type, default, bounds, where injected), outputs, requirements, SD API mapping.')
      .argument('<template>', 'an id, optionally with a version range: panel, panel@^2')
      .option('--json', 'print JSON'),
  ).action(async (ref: string, flags: SourceFlags & { json?: boolean }) => {
    const template = (await openRegistry(ctx, flags)).get(ref);
    ctx.io.stdout.write(flags.json ? json(templateJson(template)) : templateDetails(template));
  });

  withServer(
    withSources(
      templates
        .command('validate')
        .description('Check manifests and workflows; with --server or --object-info, also that each template can run there.')
        .argument('[template]', 'only this template (id or id@range)')
        .option('--json', 'print JSON'),
    ),
  ).action(async (ref: string | undefined, flags: SourceFlags & ServerFlags & { json?: boolean }) => {
    await validate(ctx, ref, flags);
  });

  withServer(
    templates
      .command('import')
      .description('Turn a workflow saved in the ComfyUI editor (or exported in API format) into a template with a manifest skeleton.')
      .argument('<workflow>', 'the workflow JSON file (editor or API format)')
      .option('--print', 'only print the API-format workflow (what the editor sends to POST /prompt)')
      .option('--id <id>', 'template id (default: from the file name)')
      .option('--out <dir>', 'template folder to create (default: ./templates/<id>)')
      .option('--force', 'overwrite an existing template folder')
      .addOption(sharedOption.config()),
  ).action(async (file: string, flags: ServerFlags & { print?: boolean; id?: string; out?: string; force?: boolean; config?: string }) => {
    await importWorkflow(ctx, file, flags);
  });
};

async function configFor(ctx: CliContext, flags: SourceFlags): Promise<ResolvedConfig> {
  return loadConfig({
    cwd: ctx.io.cwd,
    env: ctx.io.env,
    // Only these two: `--server` here names the object_info to check against, not the servers to render on.
    flags: configFlags({ config: flags.config, templates: flags.templates }),
  });
}

/** Broken templates do not stop `list` and `show`; `list` reports them (`validate` details them). */
async function openRegistry(ctx: CliContext, flags: SourceFlags): Promise<TemplateRegistry> {
  const config = await configFor(ctx, flags);
  return loadTemplateRegistry({ dirs: [...config.templates], strict: false });
}

function reportBroken(ctx: CliContext, registry: TemplateRegistry): void {
  for (const broken of registry.problems) {
    ctx.io.stderr.write(`comic: ${broken.dir} was skipped:\n${broken.problems.map((p) => `  ${p}`).join('\n')}\n`);
  }
  if (registry.problems.length > 0) ctx.setExitCode(ExitCode.invalidInput);
}

async function validate(ctx: CliContext, ref: string | undefined, flags: SourceFlags & ServerFlags & { json?: boolean }): Promise<void> {
  const { io } = ctx;
  const config = await configFor(ctx, flags);
  const registry = await loadTemplateRegistry({ dirs: [...config.templates], strict: false });
  const target = await objectInfoFor(flags, config, ctx.io.cwd);
  const chosen = ref === undefined ? registry.list().map((l) => l.template) : [registry.get(ref)];
  const results = chosen.map((template) => ({
    template,
    problems: target ? templateServerProblems(template, target.objectInfo, target.label) : [],
  }));
  const broken = ref === undefined ? registry.problems : [];
  const failed = broken.length > 0 || results.some((r) => r.problems.length > 0);
  if (failed) ctx.setExitCode(ExitCode.invalidInput);

  if (flags.json) {
    io.stdout.write(
      json({
        against: target?.label ?? null,
        templates: results.map(({ template, problems }) => ({ id: template.id, version: template.version, dir: template.dir, ok: problems.length === 0, problems })),
        broken,
      }),
    );
    return;
  }
  const lines: string[] = [];
  for (const { template, problems } of results) {
    lines.push(`${problems.length === 0 ? 'ok  ' : 'FAIL'}  ${template.id}@${template.version}  (${template.dir})`);
    for (const problem of problems) lines.push(`        ${problem}`);
  }
  for (const { dir, problems } of broken) {
    lines.push(`FAIL  ${dir}`);
    for (const problem of problems) lines.push(`        ${problem}`);
  }
  lines.push(
    target
      ? `${results.length} template(s) checked against ${target.label}${failed ? '; see the problems above' : ': all can run there'}`
      : `${results.length} template(s) loaded${failed ? '; see the problems above' : ' cleanly'} (add --server URL or --object-info FILE to check them against a server)`,
  );
  io.stdout.write(`${lines.join('\n')}\n`);
}

async function importWorkflow(
  ctx: CliContext,
  file: string,
  flags: ServerFlags & { print?: boolean; id?: string; out?: string; force?: boolean; config?: string },
): Promise<void> {
  const { io } = ctx;
  const path = resolve(io.cwd, file);
  const config = await configFor(ctx, flags);
  const target = await objectInfoFor(flags, config, ctx.io.cwd);
  const converted = await readWorkflowFile(path, target ? { objectInfo: target.objectInfo } : {});
  for (const warning of converted.warnings) io.stderr.write(`comic: warning: ${warning}\n`);
  if (flags.print) {
    // What the server's catalogue says of the prompt (required inputs, link types); the import below runs the full preflight instead.
    for (const problem of converted.problems) io.stderr.write(`comic: warning: ${problem}\n`);
    io.stdout.write(json(converted.workflow));
    return;
  }

  const id = flags.id ?? basename(path, extname(path)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  if (!TEMPLATE_ID.test(id)) {
    throw new ComicError('USAGE', `"${id}" cannot be a template id`, { hint: 'pass --id with letters, digits, ".", "_" and "-"' });
  }
  const dir = resolve(io.cwd, flags.out ?? join('templates', id));
  const manifestPath = join(dir, MANIFEST_FILE);
  const workflowPath = join(dir, WORKFLOW_FILE);
  if (!flags.force && (existsSync(manifestPath) || existsSync(workflowPath))) {
    throw new ComicError('USAGE', `${dir} already holds a template`, { hint: 'pass --force to overwrite it, or --out to write elsewhere' });
  }
  const skeleton = manifestSkeleton(converted.workflow, {
    id,
    source: basename(path),
    // App mode (extra.linearData.inputs), resolved through subgraphs to the prompt's inputs.
    appInputs: converted.appInputs.map((input) => ({ widget: input.source.widget, label: input.label, targets: input.targets })),
  });
  const fit = manifestWorkflowProblems(skeleton.manifest, converted.workflow);
  await writeFileAtomic(workflowPath, formatJson(converted.workflow));
  await writeFileAtomic(manifestPath, formatJson(skeleton.manifest));

  const lines = [
    `wrote ${workflowPath} (${converted.format === 'ui' ? 'converted from the editor format' : 'API format'}, ${Object.keys(converted.workflow).length} nodes)`,
    `wrote ${manifestPath} (a skeleton: review it)`,
    'guessed:',
    ...skeleton.notes.map((note) => `  ${note}`),
    ...fit.problems.map((problem) => `  to fix: ${problem}`),
    `next: edit the manifest, then run \`comic templates validate ${id} --templates ${resolve(dir, '..')}${flags.server ? ` --server ${flags.server}` : ''}\``,
  ];
  if (target) {
    const problems = preflight(converted.workflow, target.objectInfo, { server: target.label }).map((p) => p.message);
    if (problems.length) lines.push(`on ${target.label}:`, ...problems.map((p) => `  ${p}`));
  }
  io.stdout.write(`${lines.join('\n')}\n`);
}

/** The object_info to check against: a saved file, or fetched from a server; null when neither is given. */
async function objectInfoFor(flags: ServerFlags, config: ResolvedConfig, cwd: string): Promise<{ objectInfo: ObjectInfo; label: string } | null> {
  if (flags.objectInfo !== undefined) {
    const file = resolve(cwd, flags.objectInfo);
    return { objectInfo: parseObjectInfo(await readJsonFile(file, 'USAGE'), file), label: file };
  }
  if (flags.server !== undefined) return fetchObjectInfo(flags.server, config);
  return null;
}

async function fetchObjectInfo(url: string, config: ResolvedConfig): Promise<{ objectInfo: ObjectInfo; label: string }> {
  let server: ServerConfig;
  try {
    const wanted = new URL(url).href.replace(/\/+$/, '');
    // A configured server with this URL lends its credentials; any other URL is asked without.
    server = config.servers.find((s) => new URL(s.url).href.replace(/\/+$/, '') === wanted) ?? {
      url,
      name: new URL(url).host,
      maxConcurrent: 1,
      headers: {},
      auth: { kind: 'none' },
    };
  } catch {
    throw new ComicError('USAGE', `--server ${url} is not a URL`, { hint: 'e.g. --server http://127.0.0.1:8188' });
  }
  // The client's transport: auth on every request, same-origin redirects only, errors that name the server.
  const transport = new Transport(server, Math.max(config.timeouts.connect, 60_000));
  const body = await new Routes(transport).objectInfo(AbortSignal.timeout(Math.max(config.timeouts.connect, 60_000)));
  const { endpoint } = transport;
  const label = `${endpoint.origin}${new URL(endpoint.apiBase).pathname.replace(/\/api$/, '')}`;
  return { objectInfo: parseObjectInfo(body, label), label };
}
