/**
 * `comic doctor`'s findings, from the probes: one CheckResult per thing checked, each saying
 * what was found and how to fix it, and the verdict: can `comic generate` run, and if not,
 * which problem blocks it (its code gives the exit code). Pure functions: no I/O here.
 */
import type { ResolvedConfig } from '../config/index.js';
import { ErrorCodes, formatLocation, type ComicError, type ErrorCode } from '../errors.js';
import { formatBytes } from '../progress/format.js';
import { DEFAULT_TEMPLATE_IDS } from '../script/index.js';
import type { Template } from '../templates/index.js';
import { templateServerProblems } from '../templates/validate.js';
import type { ComfyProbe, DiskProbe, FallbackProbe, FolderProbe } from './probes.js';

export type CheckStatus = 'ok' | 'warning' | 'failed' | 'skipped';

export interface CheckResult {
  /** Stable, for tools: `config`, `templates`, `server:<name>`, `templates:<name>`, `fallback`, `output`, `cache`, `disk`, `generate`. */
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly message: string;
  /** What to do about it (null when nothing needs doing). */
  readonly fix: string | null;
  readonly code: ErrorCode | null;
}

export interface DiskLimits {
  /** Below this, a run would fail: a failure. */
  readonly minFree: number;
  /** Below this, a long run may fill the disk: a warning. */
  readonly warnFree: number;
}

export const DEFAULT_DISK_LIMITS: DiskLimits = { minFree: 256 * 2 ** 20, warnFree: 2 * 2 ** 30 };

/** The templates scripts use when they name none: every one must run somewhere. */
const DEFAULT_TEMPLATES: readonly string[] = Object.values(DEFAULT_TEMPLATE_IDS);

const result = (id: string, title: string, status: CheckStatus, message: string, fix: string | null = null, code: ErrorCode | null = null): CheckResult => ({
  id,
  title,
  status,
  message,
  fix,
  code,
});

export function configCheck(config: ResolvedConfig): CheckResult {
  const file = config.files.project ?? 'no comic.config.yaml found: using defaults';
  const fallback = config.fallback ? `, fallback ${config.fallback.url}` : '';
  const servers = `${config.servers.length} ComfyUI server${config.servers.length === 1 ? '' : 's'}`;
  return result('config', 'Configuration', 'ok', `${file} (backend ${config.backend}, ${servers}${fallback})`);
}

export function configFailure(error: ComicError): CheckResult {
  const message = error.location ? `${formatLocation(error.location)}: ${error.message}` : error.message;
  return result('config', 'Configuration', 'failed', message, error.hint ?? 'fix the setting named above; `comic config list` shows every setting and where it comes from', error.code);
}

export function templatesCheck(templates: readonly Template[], problems: readonly { dir: string; problems: readonly string[] }[]): CheckResult {
  if (problems.length > 0) {
    const lines = problems.flatMap((p) => p.problems.map((line) => `  ${line}`));
    return result('templates', 'Templates', 'failed', `${problems.length} template folder${problems.length === 1 ? '' : 's'} cannot be loaded:\n${lines.join('\n')}`, 'fix the files listed (`comic templates validate` shows every problem)', 'TEMPLATE_INVALID');
  }
  return result('templates', 'Templates', 'ok', `${templates.length} templates: ${templates.map((t) => `${t.id}@${t.version}`).join(', ')}`);
}

/**
 * A server by its name, with its URL when the name does not already say it (a name defaults
 * to the URL's host:port).
 */
export function serverTitle(server: { readonly name: string; readonly url: string }): string {
  return server.url === `http://${server.name}` ? server.name : `${server.name} (${server.url})`;
}

/**
 * One ComfyUI server: up, with its version (`/system_stats` → `system.comfyui_version`),
 * device and VRAM; or down, with why. A server that is down fails the check only when it is
 * `required`: nothing else (another server, or the SD API fallback) can do its work.
 */
export function serverCheck(probe: ComfyProbe, required: boolean): CheckResult {
  const id = `server:${probe.server.name}`;
  const title = serverTitle(probe.server);
  if (!probe.ok) {
    const fix = probe.error.hint ?? (probe.error.code === 'SERVER_AUTH' ? "set this server's auth or headers in comic.config.yaml" : 'start ComfyUI there, or fix the URL (--server or `servers` in comic.config.yaml)');
    // The message names the server with its URL already.
    return result(id, title, required ? 'failed' : 'warning', probe.error.message, fix, probe.error.code);
  }
  const parts = ['up', probe.version ? `ComfyUI ${probe.version}` : 'ComfyUI version unknown'];
  if (probe.device) parts.push(probe.device);
  if (probe.vram && probe.vram.total > 0) parts.push(`VRAM ${formatBytes(probe.vram.free)} free of ${formatBytes(probe.vram.total)}`);
  return result(id, title, 'ok', parts.join(', '));
}

/**
 * A check in one line, as doctor lists it: `title: message` (first line only for a warning,
 * whose whole text is repeated below the verdict), or for a server that answers
 * `127.0.0.1:8188 up, ComfyUI 0.8.0, …`.
 */
export function headline(check: CheckResult): string {
  if (check.id.startsWith('server:') && check.status === 'ok') return `${check.title} ${check.message}`;
  const message = check.status === 'warning' ? check.message.split('\n')[0]! : check.message;
  return `${check.title}: ${message}`;
}

/** What each template lacks on one reachable server; empty lists for the templates it can run. */
export function templateProblemsOn(probe: Extract<ComfyProbe, { ok: true }>, templates: readonly Template[]): Map<Template, string[]> {
  return new Map(templates.map((template) => [template, templateServerProblems(template, probe.objectInfo, probe.label)]));
}

/**
 * One server's templates: a warning when it cannot run some, a failure when it lacks a
 * default template that no other server that answers can run either.
 */
export function serverTemplatesCheck(probe: Extract<ComfyProbe, { ok: true }>, all: ReadonlyMap<string, ReadonlyMap<Template, readonly string[]>>): CheckResult {
  const id = `templates:${probe.server.name}`;
  const problems = all.get(probe.server.name) ?? new Map<Template, readonly string[]>();
  const failing = [...problems].filter(([, lines]) => lines.length > 0);
  if (failing.length === 0) return result(id, `${probe.server.name}: templates`, 'ok', `all ${problems.size} templates can run`);
  const coveredElsewhere = (template: Template) =>
    [...all].some(([server, others]) => server !== probe.server.name && [...others].some(([t, lines]) => t.id === template.id && lines.length === 0));
  const blocking = failing.some(([t]) => DEFAULT_TEMPLATES.includes(t.id) && !coveredElsewhere(t));
  const message = failing.map(([t, lines]) => `${t.id}@${t.version}${DEFAULT_TEMPLATES.includes(t.id) ? ' (a default template)' : ''}:\n${lines.map((l) => `  ${l}`).join('\n')}`).join('\n');
  return result(
    id,
    `${probe.server.name}: templates`,
    blocking ? 'failed' : 'warning',
    `${failing.length} of ${problems.size} templates cannot run on ${probe.label}:\n${message}`,
    'install the missing nodes or model files on that server (each line says what it lacks and what it has), or render those templates elsewhere',
    'SERVER_MISSING_CAPABILITY',
  );
}

export function fallbackCheck(config: ResolvedConfig, probe: FallbackProbe | null): CheckResult {
  const title = 'SD API fallback';
  const needed = config.backend === 'sdapi';
  if (probe === null) {
    if (needed) return result('fallback', title, 'failed', 'backend sdapi needs the Stable Diffusion API URL, and none is configured', 'pass --fallback URL, set fallback.url in comic.config.yaml, or COMIC_FALLBACK_URL', 'CONFIG_INVALID');
    if (config.backend === 'draft') return result('fallback', title, 'skipped', 'not used with backend draft');
    return result('fallback', title, 'warning', 'none configured: a run stops when no ComfyUI server answers', 'optional: set fallback.url (or --fallback URL) to an AUTOMATIC1111-compatible webui started with --api', null);
  }
  if (probe.ok) return result('fallback', `${title} ${probe.url}`, 'ok', `reachable, ${probe.models} checkpoint${probe.models === 1 ? '' : 's'}`);
  return result(
    'fallback',
    `${title} ${probe.url}`,
    needed ? 'failed' : 'warning',
    probe.error.message,
    probe.error.hint ?? 'start the webui with --api (or --nowebui), or fix fallback.url',
    probe.error.code,
  );
}

export function folderCheck(id: 'output' | 'cache', probe: FolderProbe): CheckResult {
  const title = id === 'output' ? 'Output folder' : 'Cache folder';
  if (!probe.ok) {
    const flag = id === 'output' ? '--out' : '--cache';
    return result(id, `${title} ${probe.path}`, 'failed', probe.reason, `create it or fix its permissions, or choose another folder with ${flag} (\`${id}\` in comic.config.yaml)`, 'FOLDER_NOT_WRITABLE');
  }
  return result(id, `${title} ${probe.path}`, 'ok', probe.exists ? 'writable' : 'will be created (its parent is writable)');
}

export function diskCheck(disks: readonly DiskProbe[], limits: DiskLimits): CheckResult {
  if (disks.length === 0) return result('disk', 'Free disk', 'skipped', 'free space cannot be read on this system');
  const lowest = disks.reduce((a, b) => (b.free < a.free ? b : a));
  const message = disks.map((d) => `${formatBytes(d.free)} free of ${formatBytes(d.total)} at ${d.path}`).join('; ');
  if (lowest.free < limits.minFree) {
    return result('disk', 'Free disk', 'failed', `only ${message}; a run needs at least ${formatBytes(limits.minFree)}`, 'free some space, run `comic cache prune`, or move the output or cache to a larger disk', 'DISK_FULL');
  }
  if (lowest.free < limits.warnFree) {
    return result('disk', 'Free disk', 'warning', `${message}: a long run may fill it`, 'free some space, or run `comic cache prune`', 'DISK_FULL');
  }
  return result('disk', 'Free disk', 'ok', message);
}

/** Everything the verdict needs to know, gathered from the checks run. */
export interface Findings {
  readonly config: ResolvedConfig;
  readonly checks: readonly CheckResult[];
  readonly servers: readonly ComfyProbe[];
  /** Per reachable server, what each template lacks there. */
  readonly templateProblems: ReadonlyMap<string, ReadonlyMap<Template, readonly string[]>>;
  readonly fallback: FallbackProbe | null;
}

/**
 * Whether `comic generate` can run. It needs: a valid config and templates; a backend (draft
 * needs nothing; sdapi its server; comfyui at least one server that answers and can run each
 * default template, or, when none answers, the SD API fallback); writable folders; disk.
 */
export function verdict(findings: Findings): CheckResult {
  const { config, checks } = findings;
  const blockers: CheckResult[] = [];
  const block = (code: ErrorCode, message: string, fix: string) => blockers.push(result('generate', 'Ready for comic generate', 'failed', message, fix, code));
  for (const id of ['config', 'templates']) {
    const check = checks.find((c) => c.id === id);
    if (check?.status === 'failed') block(check.code ?? 'CONFIG_INVALID', check.message, check.fix ?? '');
  }
  let readyText = `comic generate can run with backend ${config.backend}`;
  /** Whether generate runs, but not as configured (every ComfyUI server down, the fallback takes over). */
  let degraded = false;
  if (blockers.length === 0 && config.backend === 'sdapi') {
    if (findings.fallback?.ok !== true) block('NO_BACKEND', 'backend sdapi is selected but the Stable Diffusion API does not answer', 'start the webui with --api, or fix --fallback / fallback.url');
  }
  if (blockers.length === 0 && config.backend === 'comfyui') {
    const up = findings.servers.filter((s): s is Extract<ComfyProbe, { ok: true }> => s.ok);
    if (up.length === 0) {
      if (findings.fallback?.ok === true) {
        readyText = `comic generate can run, but no ComfyUI server answers, so it will use the SD API fallback ${findings.fallback.url}`;
        degraded = true;
      } else {
        const why = findings.servers.map((s) => (s.ok ? '' : `  ${s.error.message}`)).filter(Boolean);
        const fallback = findings.fallback === null ? 'no SD API fallback is configured' : `the SD API fallback does not answer either`;
        block('NO_BACKEND', `no ComfyUI server answers and ${fallback}:\n${why.join('\n')}`, 'start ComfyUI (or pass --server URL), or configure a reachable SD API fallback; `--backend draft` renders storyboards with no GPU');
      }
    } else {
      const usable = up.filter((s) => DEFAULT_TEMPLATES.every((id) => (problemsFor(findings, s.server.name, id) ?? []).length === 0));
      for (const id of DEFAULT_TEMPLATES) {
        const runnable = up.some((s) => (problemsFor(findings, s.server.name, id) ?? ['unknown']).length === 0);
        if (!runnable) {
          const lines = up.flatMap((s) => (problemsFor(findings, s.server.name, id) ?? []).map((l) => `  ${l}`));
          block('SERVER_MISSING_CAPABILITY', `the default template "${id}" cannot run on any server that answers:\n${lines.join('\n')}`, 'install the missing nodes or models on a server (see the lines above)');
        }
      }
      const down = findings.servers.length - up.length;
      readyText = `comic generate can run: ${usable.length} of ${findings.servers.length} ComfyUI server${findings.servers.length === 1 ? '' : 's'} can run every default template${usable.length > 0 ? ` (${usable.map((s) => s.server.name).join(', ')})` : ''}${down > 0 ? `; ${down} down` : ''}`;
    }
  }
  for (const id of ['output', 'cache', 'disk']) {
    const check = checks.find((c) => c.id === id);
    if (check?.status === 'failed') block(check.code ?? 'INTERNAL', check.message, check.fix ?? '');
  }
  // Whatever else failed blocks too: a run never starts over a check shown as failed, so
  // doctor's exit code always follows the lines above it.
  if (blockers.length === 0) {
    for (const check of checks.filter((c) => c.status === 'failed')) block(check.code ?? 'INTERNAL', check.message, check.fix ?? '');
  }
  const first = blockers[0];
  if (first) {
    const more = blockers.length > 1 ? `\n(and ${blockers.length - 1} more problem${blockers.length > 2 ? 's' : ''} listed above)` : '';
    return { ...first, message: `comic generate cannot run: ${first.message}${more}` };
  }
  const warnings = checks.filter((c) => c.status === 'warning').length;
  return result('generate', 'Ready for comic generate', warnings > 0 || degraded ? 'warning' : 'ok', `${readyText}${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'} above)` : ''}`);
}

/** The exit code of a verdict: 0 when generate can run, else that of the blocking problem's code. */
export function verdictExitCode(check: CheckResult): number {
  return check.status === 'failed' ? ErrorCodes[check.code ?? 'INTERNAL'].exit : 0;
}

function problemsFor(findings: Findings, server: string, templateId: string): readonly string[] | undefined {
  const problems = findings.templateProblems.get(server);
  if (!problems) return undefined;
  for (const [template, lines] of problems) if (template.id === templateId) return lines;
  return undefined;
}
