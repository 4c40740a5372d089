/**
 * `<out>/report.html`: the run report for people who would rather look than read. One
 * self-contained file beside report.json, written by every `generate` and `compose` run:
 * each page as a thumbnail that opens full size, under it its panels (prompt, characters,
 * template, seed, backend and server, cached or rendered now, render time) with the warnings
 * that concern them and where in the script, a timeline of the run with one lane per server
 * (so idle GPUs show), what fell back and why, and where the exports are.
 *
 * No network and no script: images are relative links to the run's own files (report.html
 * opens the same from a file manager, a zip or `comic serve`), a Content-Security-Policy says
 * so to the browser, and every text (a server's name and error bodies included) is escaped.
 * No absolute path is written: links are relative to the output folder, and paths inside
 * messages are shortened. Secrets are masked by the caller, over the whole document.
 */
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { isImageJob, type ImageJob, type Job, type PageJob } from '../graph/index.js';
import type { Panel } from '../script/model.js';
import type { PreparedScript } from './prepare.js';
import type { JobRecord, RunReport, RunWarning } from './report.js';

export interface ReportHtmlContext {
  readonly script: PreparedScript;
  /** The folder report.html is written to: every link is relative to it. */
  readonly outDir: string;
  /** Applied to every text taken from the run (the caller masks the whole document as well). */
  readonly mask?: (text: string) => string;
}

/** A warning placed with the job (or panel) it concerns, and where the script asked for that. */
interface PlacedWarning {
  readonly message: string;
  readonly where: string | null;
}

interface Bar {
  readonly job: JobRecord;
  readonly start: number;
  readonly end: number;
  readonly queuedFrom: number | null;
  /** Still running when the run ended (cancelled). */
  readonly open: boolean;
}

const KIND_LABEL: Record<Job['kind'], string> = {
  character: 'character sheet',
  background: 'background',
  panel: 'panel',
  page: 'page',
  export: 'export',
};

const EXPORT_LABEL: Record<string, string> = {
  pdf: 'PDF (print)',
  'pdf-art': 'PDF without lettering (translators)',
  cbz: 'CBZ (comic readers)',
  webtoon: 'Webtoon strip',
};

const STATUS_LABEL: Record<JobRecord['status'], string> = {
  done: 'rendered now',
  cached: 'from the cache',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
  'not-run': 'not run',
};

export function reportHtml(report: RunReport, context: ReportHtmlContext): string {
  return new ReportPage(report, context).render();
}

class ReportPage {
  readonly #report: RunReport;
  readonly #script: PreparedScript;
  readonly #outDir: string;
  readonly #mask: (text: string) => string;
  readonly #records: Map<string, JobRecord>;
  /** Warnings per job id (a page's lettering warnings go to the panel they name). */
  readonly #warnings = new Map<string, PlacedWarning[]>();
  readonly #runWarnings: PlacedWarning[] = [];
  readonly #roots: [string, string][];

  constructor(report: RunReport, context: ReportHtmlContext) {
    this.#report = report;
    this.#script = context.script;
    this.#outDir = resolve(context.outDir);
    this.#mask = context.mask ?? ((text) => text);
    this.#records = new Map(report.jobs.map((job) => [job.id, job]));
    // Longest first: the output folder may sit inside the script's folder, both inside home.
    this.#roots = (
      [
        [this.#outDir, '.'],
        [dirname(resolve(this.#script.path)), '.'],
        [homedir(), '~'],
      ] as [string, string][]
    )
      .filter(([root]) => root.length > 1)
      .sort((a, b) => b[0].length - a[0].length);
    for (const warning of report.warnings) this.#place(warning);
  }

  render(): string {
    const r = this.#report;
    const lang = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(this.#script.comic.meta.language) ? this.#script.comic.meta.language : 'en';
    const pages = this.#script.graph.jobs.filter((j): j is PageJob => j.kind === 'page');
    const references = this.#script.graph.jobs.filter((j): j is ImageJob => j.kind === 'character' || j.kind === 'background');
    const sections = [
      this.#status(),
      this.#files(),
      `<section aria-labelledby="pages-h"><h2 id="pages-h">Pages</h2>${pages.length ? pages.map((p) => this.#page(p)).join('') : '<p>This run has no pages.</p>'}</section>`,
      references.length
        ? `<section aria-labelledby="refs-h"><h2 id="refs-h">Character sheets and backgrounds</h2><ul class="cards">${references.map((j) => this.#imageCard(j, null)).join('')}</ul></section>`
        : '',
      this.#timeline(),
      this.#warningList(),
    ];
    return `<!doctype html>
<html lang="${this.#esc(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<title>${this.#esc(`${r.title}: run report`)}</title>
<style>${STYLE}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the report</a>
<header>
<p class="eyebrow">comic run report</p>
<h1>${this.#esc(r.title)}</h1>
${this.#summary()}
<nav aria-label="Sections"><ul>
<li><a href="#pages-h">Pages</a></li>
${references.length ? '<li><a href="#refs-h">Sheets and backgrounds</a></li>' : ''}
<li><a href="#timeline-h">Timeline</a></li>
<li><a href="#warnings-h">Warnings (${r.warnings.length})</a></li>
<li><a href="#files-h">Files</a></li>
</ul></nav>
</header>
<main id="main" tabindex="-1">
${sections.filter(Boolean).join('\n')}
</main>
<footer><p>Written by <code>comic</code> beside <a href="report.json">report.json</a> (${this.#esc(r.schema)}) and <a href="report.md">report.md</a>. Times are in UTC.</p></footer>
</body>
</html>
`;
  }

  // --- the top of the page -----------------------------------------------------------------

  #summary(): string {
    const r = this.#report;
    const t = r.totals;
    const state = r.stopped?.code === 'CANCELLED' ? ['cancelled', 'bad'] : r.stopped ? ['stopped', 'bad'] : r.exitCode === 0 ? ['finished', 'ok'] : ['finished with problems', 'warn'];
    const counts = [
      `${t.done} rendered now`,
      `${t.cached} from the cache`,
      ...(t.failed ? [`${t.failed} failed`] : []),
      ...(t.skipped ? [`${t.skipped} skipped`] : []),
      ...(t.cancelled ? [`${t.cancelled} cancelled`] : []),
      ...(t['not-run'] ? [`${t['not-run']} not run`] : []),
    ];
    const made = Object.entries(t.byBackend).map(([name, n]) => `${name} ${n}`);
    return `<div class="summary">
<p><span class="chip ${state[1]}">${this.#esc(state[0]!)}</span> ${t.jobs} jobs in ${seconds(r.ms)}: ${this.#esc(counts.join(', '))}.</p>
<dl class="facts">
<div><dt>Script</dt><dd><code>${this.#esc(basename(r.script))}</code></dd></div>
<div><dt>Started</dt><dd><time datetime="${this.#esc(r.startedAt)}">${this.#esc(when(r.startedAt))}</time></dd></div>
${made.length ? `<div><dt>Made by</dt><dd>${this.#esc(made.join(', '))}</dd></div>` : ''}
<div><dt>Exit code</dt><dd>${r.exitCode}</dd></div>
</dl>
</div>`;
  }

  /** What happened to the run as a whole: stopped, fell back, what to do next, jobs not done. */
  #status(): string {
    const r = this.#report;
    const parts: string[] = [];
    if (r.stopped) parts.push(`<p class="note bad"><strong>${r.stopped.code === 'CANCELLED' ? 'Cancelled' : `Stopped (${this.#esc(r.stopped.code)})`}:</strong> ${this.#text(r.stopped.message)}</p>`);
    if (r.fallback) {
      const by = r.jobs.filter((j) => j.backend === r.fallback!.to && (j.status === 'done' || j.status === 'cached'));
      parts.push(
        `<div class="note warn"><p><strong>Fell back from ${this.#esc(r.fallback.from)} to ${this.#esc(r.fallback.to)}:</strong> ${this.#text(r.fallback.reason)}</p>` +
          (by.length ? `<p>Made by ${this.#esc(r.fallback.to)}: ${by.map((j) => this.#jobLink(j.id)).join(', ')}.</p>` : '') +
          '</div>',
      );
    }
    const dropped = r.jobs.filter((j) => j.dropped.length > 0);
    if (dropped.length) {
      parts.push(
        `<div class="note warn"><p><strong>Not honoured by the backend:</strong></p><ul>${dropped
          .map((j) => `<li>${this.#jobLink(j.id)} (${this.#esc(j.backend ?? '')}): ${this.#esc(j.dropped.join('; '))}</li>`)
          .join('')}</ul></div>`,
      );
    }
    if (r.next) parts.push(`<p class="note"><strong>Next:</strong> ${this.#text(r.next)}.</p>`);
    const problems = r.jobs.filter((j) => j.status !== 'done' && j.status !== 'cached');
    if (problems.length) {
      parts.push(
        `<h3>Not done</h3><ul class="problems">${problems
          .map((j) => `<li>${this.#jobLink(j.id)}: <span class="chip ${j.status === 'failed' ? 'bad' : 'warn'}">${this.#esc(STATUS_LABEL[j.status])}</span> ${this.#text(why(j))}</li>`)
          .join('')}</ul>`,
      );
    }
    if (parts.length === 0) return '';
    return `<section aria-labelledby="status-h"><h2 id="status-h">What happened</h2>${parts.join('')}</section>`;
  }

  #files(): string {
    const exports = this.#report.jobs.filter((j) => j.kind === 'export');
    const items = exports.map((j) => {
      const target = j.id.replace(/^export:/, '');
      const label = EXPORT_LABEL[target] ?? target;
      const href = j.output && (j.status === 'done' || j.status === 'cached') ? this.#href(j.output) : null;
      const status = j.status === 'done' ? 'made now' : STATUS_LABEL[j.status];
      return `<li><strong>${this.#esc(label)}</strong>: ${href ? `<a href="${href}">${this.#esc(this.#rel(j.output!) ?? basename(j.output!))}</a>` : '<em>not made</em>'} <span class="muted">(${this.#esc(status)})</span></li>`;
    });
    items.push('<li><strong>Pages</strong>: <a href="pages/">pages/</a> <span class="muted">(PNG, one per page)</span></li>');
    items.push('<li><strong>Run report</strong>: <a href="report.json">report.json</a> for tools, <a href="report.md">report.md</a> as text</li>');
    return `<section aria-labelledby="files-h"><h2 id="files-h">Files</h2><ul class="files">${items.join('')}</ul></section>`;
  }

  // --- pages and panels ----------------------------------------------------------------------

  #page(job: PageJob): string {
    const record = this.#records.get(job.id);
    const page = this.#script.comic.pages[job.page - 1];
    const panels = job.panels.map((id) => this.#script.graph.byId.get(id)).filter((j): j is ImageJob => j !== undefined && isImageJob(j));
    const alt = `Page ${job.page}, ${panels.length} panel${panels.length === 1 ? '' : 's'}: ${(page?.panels ?? []).map((p) => p.prompt).join('; ')}`;
    const src = this.#imageHref(record);
    const { width, height } = job.layout.canvas;
    const image = src
      ? `<a class="thumb page-thumb" href="${src}" aria-label="${this.#esc(`Page ${job.page}, full size`)}"><img src="${src}" alt="${this.#esc(alt)}" width="${width}" height="${height}"${job.page > 1 ? ' loading="lazy"' : ''} decoding="async"></a>`
      : `<div class="missing" role="img" aria-label="${this.#esc(`Page ${job.page}: no image`)}">no image</div>`;
    const own = this.#warnings.get(job.id) ?? [];
    return `<article class="page" id="${anchor(job.id)}" aria-labelledby="${anchor(job.id)}-h">
<h3 id="${anchor(job.id)}-h">Page ${job.page}${record ? ` <span class="chip ${chipClass(record)}">${this.#esc(STATUS_LABEL[record.status])}</span>` : ''}</h3>
<div class="page-body">
<figure class="page-figure">${image}<figcaption>${this.#esc(this.#timing(record))}${record?.output ? ` · <a href="${this.#href(record.output)}">open full size</a>` : ''}</figcaption>${this.#warningBlock(own)}</figure>
<ol class="cards panels" aria-label="${this.#esc(`Panels of page ${job.page}`)}">${panels.map((p) => this.#imageCard(p, p.kind === 'panel' ? (page?.panels[p.index - 1] ?? null) : null)).join('')}</ol>
</div>
</article>`;
  }

  /** One image job (panel, character sheet, background) with all that is known about it. */
  #imageCard(job: ImageJob, panel: Panel | null): string {
    const record = this.#records.get(job.id);
    const comic = this.#script.comic;
    const name = job.kind === 'panel' ? `Panel ${job.page}-${job.index}` : job.kind === 'character' ? (comic.characters.find((c) => c.id === job.character)?.name ?? job.character) : job.background;
    const prompt =
      panel?.prompt ??
      (job.kind === 'character' ? (comic.characters.find((c) => c.id === job.character)?.description ?? '') : job.kind === 'background' ? (comic.backgrounds.find((b) => b.id === job.background)?.prompt ?? '') : '');
    const characters = panel ? panel.characters.map((id) => comic.characters.find((c) => c.id === id)?.name ?? id) : [];
    const src = this.#imageHref(record);
    const alt = `${KIND_LABEL[job.kind]} ${job.kind === 'panel' ? `${job.page}-${job.index}` : name}: ${prompt}`;
    const image = src
      ? `<a class="thumb" href="${src}" aria-label="${this.#esc(`${name}, full size`)}"><img src="${src}" alt="${this.#esc(alt)}" width="${job.request.width}" height="${job.request.height}" loading="lazy" decoding="async"></a>`
      : `<div class="missing" role="img" aria-label="${this.#esc(`${name}: no image`)}">no image</div>`;
    const facts: [string, string][] = [];
    if (characters.length) facts.push(['Characters', this.#esc(characters.join(', '))]);
    if (panel?.background) facts.push(['Background', this.#esc(panel.background)]);
    if (panel?.camera || panel?.pose) facts.push(['Shot', this.#esc([panel.camera, panel.pose].filter(Boolean).join(' · '))]);
    facts.push(['Template', `<code>${this.#esc(`${job.template.id}@${job.template.version}`)}</code>`]);
    facts.push(['Seed', `<code>${this.#esc(String(record?.seed ?? job.seed))}</code>`]);
    facts.push(['Made by', this.#esc(record?.backend ? `${record.backend} · ${record.server ?? 'this machine'}` : 'nothing yet')]);
    facts.push(['Time', this.#esc(this.#timing(record))]);
    if (record && record.retries > 0) facts.push(['Retries', String(record.retries)]);
    if (record && record.status !== 'done' && record.status !== 'cached') facts.push(['Why', this.#text(why(record))]);
    const warnings = this.#warnings.get(job.id) ?? [];
    return `<li class="card${warnings.length ? ' has-warnings' : ''}" id="${anchor(job.id)}">
${image}
<div class="card-body">
<h4>${this.#esc(name)} ${record ? `<span class="chip ${chipClass(record)}">${this.#esc(STATUS_LABEL[record.status])}</span>` : ''}</h4>
<p class="prompt">${this.#esc(prompt)}</p>
<dl class="meta">${facts.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl>
<details><summary>Full prompt sent</summary><p class="prompt-full">${this.#esc(job.request.positive)}</p>${job.request.negative ? `<p class="prompt-full"><strong>Negative:</strong> ${this.#esc(job.request.negative)}</p>` : ''}</details>
${this.#warningBlock(warnings)}
</div>
</li>`;
  }

  #warningBlock(warnings: readonly PlacedWarning[]): string {
    if (warnings.length === 0) return '';
    return `<ul class="warnings" aria-label="Warnings">${warnings
      .map((w) => `<li><span class="warn-icon" aria-hidden="true">!</span> <span class="visually-hidden">Warning: </span>${this.#text(w.message)}${w.where ? ` <code class="where">${this.#esc(w.where)}</code>` : ''}</li>`)
      .join('')}</ul>`;
  }

  #warningList(): string {
    const r = this.#report;
    const run = this.#runWarnings;
    const body =
      r.warnings.length === 0
        ? '<p>No warnings.</p>'
        : `${run.length ? `<h3>For the run as a whole</h3>${this.#warningBlock(run)}` : ''}${
            run.length < r.warnings.length
              ? `<h3>By job</h3><ul class="warnings">${[...this.#warnings.entries()]
                  .flatMap(([id, list]) => list.map((w) => `<li>${this.#jobLink(id)}: ${this.#text(w.message)}${w.where ? ` <code class="where">${this.#esc(w.where)}</code>` : ''}</li>`))
                  .join('')}</ul>`
              : ''
          }`;
    return `<section aria-labelledby="warnings-h"><h2 id="warnings-h">Warnings</h2>${body}</section>`;
  }

  // --- the timeline --------------------------------------------------------------------------

  #timeline(): string {
    const r = this.#report;
    const t0 = Date.parse(r.startedAt);
    const t1 = Math.max(Date.parse(r.finishedAt), t0 + 1);
    const bars: Bar[] = [];
    for (const job of r.jobs) {
      if (job.status === 'cached' || !job.startedAt) continue;
      const start = Date.parse(job.startedAt);
      if (Number.isNaN(start)) continue;
      const end = job.finishedAt ? Date.parse(job.finishedAt) : t1;
      const queued = job.timings && job.timings.queuedMs > 0 && isImageKind(job.kind) ? start - job.timings.queuedMs : null;
      bars.push({ job, start, end: Math.max(end, start), queuedFrom: queued, open: !job.finishedAt });
    }
    const cached = r.jobs.filter((j) => j.status === 'cached').length;
    const lanes = new Map<string, Bar[]>();
    for (const bar of bars.sort((a, b) => a.start - b.start)) {
      const lane = laneOf(bar.job);
      lanes.set(lane, [...(lanes.get(lane) ?? []), bar]);
    }
    const span = t1 - t0;
    const pct = (ms: number) => ((Math.min(Math.max(ms, t0), t1) - t0) / span) * 100;
    const ticks = axisTicks(span);
    const laneHtml = [...lanes.entries()].map(([name, list], i) => {
      const rows = packRows(list);
      const busy = busyMs(list) / span;
      const most = rows.length;
      const id = `lane-${i}`;
      const items = rows.flatMap((row, y) =>
        row.map((bar) => {
          const left = pct(bar.start);
          const width = Math.max(pct(bar.end) - left, 0);
          const label = `${bar.job.id}: ${seconds(bar.end - bar.start)}${bar.open ? ' (cut short)' : ''}, from ${seconds(bar.start - t0)} to ${seconds(bar.end - t0)}${bar.queuedFrom !== null ? `, queued ${seconds(bar.start - bar.queuedFrom)} before` : ''}${bar.job.status === 'failed' ? ', failed' : ''}`;
          return `<a class="bar k-${bar.job.kind} s-${bar.job.status}" href="#${anchor(bar.job.id)}" style="left:${fix(left)}%;width:${fix(width)}%;top:${y * ROW}px" title="${this.#esc(label)}"><span class="visually-hidden">${this.#esc(label)}</span></a>`;
        }),
      );
      return `<div class="lane" role="group" aria-labelledby="${id}">
<div class="lane-label" id="${id}"><strong>${this.#esc(name)}</strong><span class="muted">busy ${Math.round(busy * 100)}% of the run${most > 1 ? `, up to ${most} at once` : ''}</span></div>
<div class="track" style="height:${rows.length * ROW}px">${items.join('')}</div>
</div>`;
    });
    const axis = `<div class="lane axis" aria-hidden="true"><div class="lane-label"></div><div class="track">${ticks
      .map((ms) => `<span class="tick" style="left:${fix((ms / span) * 100)}%">${tickLabel(ms, ticks[1] ?? span)}</span>`)
      .join('')}</div></div>`;
    const legend = `<ul class="legend" aria-label="Colours">${(['character', 'background', 'panel', 'page', 'export'] as const)
      .filter((k) => bars.some((b) => b.job.kind === k))
      .map((k) => `<li><span class="swatch k-${k}" aria-hidden="true"></span>${KIND_LABEL[k]}</li>`)
      .join('')}<li><span class="swatch idle" aria-hidden="true"></span>idle</li></ul>`;
    const table = `<details><summary>The timeline as a table</summary><div class="table-wrap"><table><thead><tr><th scope="col">job</th><th scope="col">where</th><th scope="col">start</th><th scope="col">end</th><th scope="col">took</th><th scope="col">queued before</th></tr></thead><tbody>${bars
      .map(
        (b) =>
          `<tr><th scope="row">${this.#jobLink(b.job.id)}</th><td>${this.#esc(laneOf(b.job))}</td><td>${seconds(b.start - t0)}</td><td>${seconds(b.end - t0)}</td><td>${seconds(b.end - b.start)}</td><td>${b.queuedFrom !== null ? seconds(b.start - b.queuedFrom) : ''}</td></tr>`,
      )
      .join('')}</tbody></table></div></details>`;
    const intro = `<p>One lane per server, each job a bar from its start to its end (${seconds(span)} in all); the gaps are time a server sat idle. ${
      cached ? `${cached} job${cached === 1 ? '' : 's'} came from the cache and took no time. ` : ''
    }Select a bar to go to its job.</p>`;
    const chart = bars.length
      ? `<div class="timeline-scroll"><div class="timeline" role="figure" aria-label="${this.#esc(`Timeline of the run: ${bars.length} jobs on ${lanes.size} lane${lanes.size === 1 ? '' : 's'}`)}">${axis}${laneHtml.join('')}</div></div>${legend}${table}`
      : '<p>No job ran in this run (everything came from the cache, or nothing could start).</p>';
    return `<section aria-labelledby="timeline-h"><h2 id="timeline-h">Timeline</h2>${intro}${chart}</section>`;
  }

  // --- helpers -------------------------------------------------------------------------------

  #place(warning: RunWarning): void {
    const comic = this.#script.comic;
    if (warning.job === null) {
      this.#runWarnings.push({ message: warning.message, where: null });
      return;
    }
    let id = warning.job;
    // A page's lettering warnings name their panel: `panel 2-3: …`.
    const named = /^panel (\d+-\d+)\b/.exec(warning.message);
    if (named && this.#script.graph.byId.has(`panel:${named[1]}`)) id = `panel:${named[1]}`;
    const job = this.#script.graph.byId.get(id);
    let where: string | null = null;
    if (job && job.kind !== 'export') {
      try {
        const at = comic.locate(job.origin);
        where = `${basename(at.file)}:${at.line}:${at.column}`;
      } catch {
        where = null;
      }
    }
    const list = this.#warnings.get(id) ?? [];
    list.push({ message: warning.message, where });
    this.#warnings.set(id, list);
  }

  #timing(record: JobRecord | undefined): string {
    if (!record) return 'not in this run';
    if (record.status === 'cached') return 'from the cache: no time';
    if (!record.timings) return STATUS_LABEL[record.status];
    const queued = record.timings.queuedMs > 0 ? `, ${seconds(record.timings.queuedMs)} queued` : '';
    return `${seconds(record.timings.runMs)}${queued}`;
  }

  #imageHref(record: JobRecord | undefined): string | null {
    if (!record?.output || (record.status !== 'done' && record.status !== 'cached')) return null;
    return this.#href(record.output);
  }

  /** A path under the output folder, relative to it; null for anything outside. */
  #rel(path: string): string | null {
    const rel = relative(this.#outDir, resolve(this.#outDir, path));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
    return rel.split(sep).join('/');
  }

  #href(path: string): string {
    const rel = this.#rel(path);
    return rel === null ? '#' : this.#esc(rel.split('/').map(encodeURIComponent).join('/'));
  }

  #jobLink(id: string): string {
    return `<a href="#${anchor(id)}"><code>${this.#esc(id)}</code></a>`;
  }

  /** A message from the run (a server's error body, a warning): one line, paths shortened, escaped. */
  #text(text: string): string {
    let out = text.replace(/\s*\n\s*/g, ' ').trim();
    for (const [root, short] of this.#roots) out = out.split(root + sep).join(short === '.' ? '' : `${short}/`).split(root).join(short);
    // Any other absolute path keeps only its last part.
    out = out.replace(/(^|[\s"'(=:,[])\/(?:[^\s"'<>/]+\/)+([^\s"'<>/]*)/g, (_m, lead: string, last: string) => `${lead}…/${last}`);
    return this.#esc(out);
  }

  #esc(text: string): string {
    return escapeHtml(this.#mask(text));
  }
}

const ROW = 18;

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function anchor(id: string): string {
  return `job-${id.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

function isImageKind(kind: Job['kind']): boolean {
  return kind === 'character' || kind === 'background' || kind === 'panel';
}

function laneOf(job: JobRecord): string {
  if (job.backend === 'compose') return 'this machine: pages and exports';
  if (job.backend === null) return 'never placed on a server';
  return job.server ? `${job.server} (${job.backend})` : `this machine (${job.backend})`;
}

function chipClass(record: JobRecord): string {
  return record.status === 'done' ? 'ok' : record.status === 'cached' ? 'cache' : record.status === 'failed' ? 'bad' : 'warn';
}

function why(job: JobRecord): string {
  if (job.status === 'failed' && job.error) return `${job.error.code}: ${job.error.message}`;
  return job.reason ?? (job.error ? `${job.error.code}: ${job.error.message}` : '');
}

/** Bars placed in rows so none overlaps another: a server running two jobs at once shows two rows. */
function packRows(bars: readonly Bar[]): Bar[][] {
  const rows: Bar[][] = [];
  const ends: number[] = [];
  for (const bar of [...bars].sort((a, b) => a.start - b.start)) {
    // Only the running part counts: time waiting in a server's queue is not time on its GPU.
    const row = ends.findIndex((end) => end <= bar.start);
    if (row === -1) {
      rows.push([bar]);
      ends.push(bar.end);
    } else {
      rows[row]!.push(bar);
      ends[row] = bar.end;
    }
  }
  return rows;
}

/** How long at least one job of the lane was running. */
function busyMs(bars: readonly Bar[]): number {
  let total = 0;
  let until = -Infinity;
  for (const bar of [...bars].sort((a, b) => a.start - b.start)) {
    if (bar.end <= until) continue;
    total += bar.end - Math.max(bar.start, until);
    until = bar.end;
  }
  return total;
}

function axisTicks(span: number): number[] {
  const steps = [100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000];
  const step = steps.find((s) => span / s <= 8) ?? Math.ceil(span / 8);
  const ticks: number[] = [];
  for (let ms = 0; ms <= span; ms += step) ticks.push(ms);
  return ticks;
}

function tickLabel(ms: number, step: number): string {
  if (step < 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (step < 60_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

function seconds(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');
}

function fix(n: number): string {
  return n.toFixed(3).replace(/\.?0+$/, '') || '0';
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f4ef;--fg:#1d1f23;--muted:#5d6169;--card:#fff;--line:#d9d5cc;--accent:#1f5fa8;--ok:#1e7a3c;--warn:#9a5b00;--bad:#b3261e;--cache:#5b4b9a;--idle:repeating-linear-gradient(135deg,rgba(0,0,0,.06) 0 3px,transparent 3px 8px)}
@media (prefers-color-scheme:dark){:root{--bg:#15171a;--fg:#e8e6e1;--muted:#a3a7ae;--card:#1f2226;--line:#33373d;--accent:#7fb0ee;--ok:#6fcf8e;--warn:#f0b45a;--bad:#ff8a80;--cache:#b6a6ff;--idle:repeating-linear-gradient(135deg,rgba(255,255,255,.07) 0 3px,transparent 3px 8px)}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
a{color:var(--accent)}
a:focus-visible,summary:focus-visible,main:focus-visible{outline:3px solid var(--accent);outline-offset:2px;border-radius:3px}
code{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:.88em;overflow-wrap:anywhere}
header,main,footer{max-width:1180px;margin:0 auto;padding:0 16px}
header{padding-top:20px}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:8px 12px;z-index:9}
.skip:focus{left:8px;top:8px}
.eyebrow{margin:0;text-transform:uppercase;letter-spacing:.12em;font-size:.75rem;color:var(--muted)}
h1{margin:.1em 0 .3em;font-size:clamp(1.6rem,4vw,2.4rem);line-height:1.15}
h2{margin:1.6em 0 .5em;font-size:1.4rem;border-bottom:2px solid var(--line);padding-bottom:.2em}
h3{margin:1.2em 0 .5em;font-size:1.15rem}
h4{margin:0 0 .25em;font-size:1rem}
.summary p{margin:.3em 0}
.facts{display:flex;flex-wrap:wrap;gap:4px 22px;margin:.5em 0}
.facts div,.meta div{display:flex;gap:6px}
.facts dt,.meta dt{color:var(--muted)}
.facts dd,.meta dd{margin:0}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:8px;padding:0;margin:12px 0 0}
nav a{display:inline-block;padding:6px 12px;border:1px solid var(--line);border-radius:999px;background:var(--card);text-decoration:none}
.chip{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.78rem;font-weight:600;vertical-align:middle;border:1px solid currentColor}
.chip.ok{color:var(--ok)}.chip.warn{color:var(--warn)}.chip.bad{color:var(--bad)}.chip.cache{color:var(--cache)}
.note{background:var(--card);border-left:4px solid var(--line);padding:8px 12px;margin:8px 0;border-radius:4px}
.note.warn{border-color:var(--warn)}.note.bad{border-color:var(--bad)}
.note p{margin:.2em 0}
.muted{color:var(--muted)}
.page{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px 16px;margin:0 0 20px}
.page>h3{margin-top:.2em}
.page-body{display:grid;grid-template-columns:minmax(200px,300px) 1fr;gap:18px;align-items:start}
.page-figure{margin:0;position:sticky;top:8px}
.page-figure figcaption{font-size:.85rem;color:var(--muted);margin-top:4px}
.thumb{display:block;line-height:0;border-radius:6px;overflow:hidden;border:1px solid var(--line);background:#888}
.thumb img{display:block;width:100%;height:auto}
.thumb:hover img{opacity:.92}
.missing{display:flex;align-items:center;justify-content:center;aspect-ratio:3/4;border:2px dashed var(--line);border-radius:6px;color:var(--muted)}
.cards{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
.card{display:grid;grid-template-columns:112px 1fr;gap:12px;background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:10px}
.card.has-warnings{border-color:var(--warn)}
.card:target,.page:target{box-shadow:0 0 0 3px var(--accent)}
.card .thumb,.card .missing{align-self:start}
.card-body{min-width:0}
.prompt{margin:0 0 .4em;font-style:italic}
.prompt-full{font-size:.85rem;color:var(--muted);margin:.3em 0}
.meta{margin:0;font-size:.85rem;display:grid;gap:1px}
details{margin-top:.4em;font-size:.85rem}
summary{cursor:pointer;color:var(--accent)}
.warnings{list-style:none;padding:0;margin:.5em 0 0}
.warnings li{background:color-mix(in srgb,var(--warn) 12%,transparent);border-radius:6px;padding:6px 8px;margin-top:4px;font-size:.88rem}
.warn-icon{display:inline-flex;align-items:center;justify-content:center;width:1.2em;height:1.2em;border-radius:50%;background:var(--warn);color:var(--card);font-weight:700;font-size:.8em}
.where{color:var(--muted);white-space:nowrap}
.problems li,.files li{margin:.25em 0}
.timeline-scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 12px}
.timeline{min-width:640px}
.lane{display:grid;grid-template-columns:190px 1fr;gap:10px;padding:6px 0;border-top:1px solid var(--line)}
.lane.axis{border-top:0;padding:0 0 2px}
.lane-label{font-size:.85rem;display:flex;flex-direction:column;min-width:0;overflow-wrap:anywhere}
.track{position:relative;background:var(--idle);border-radius:4px;min-height:${ROW}px}
.axis .track{height:18px;background:none}
.tick{position:absolute;top:0;font-size:.72rem;color:var(--muted);transform:translateX(-50%);white-space:nowrap}
.tick:first-child{transform:none}
.bar{position:absolute;height:${ROW - 4}px;margin-top:2px;border-radius:3px;min-width:3px}
.bar:focus-visible{outline:3px solid var(--fg);outline-offset:1px;z-index:2}
.bar:hover{filter:brightness(1.15);z-index:2}
.k-character{background:#c2581c}.k-background{background:#7a8b2e}.k-panel{background:#2f6fb5}.k-page{background:#8e44ad}.k-export{background:#16877a}
.s-failed{background:var(--bad)!important}.s-cancelled{opacity:.55}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:6px 16px;padding:0;margin:8px 0;font-size:.85rem}
.swatch{display:inline-block;width:14px;height:10px;border-radius:2px;margin-right:6px;vertical-align:middle}
.swatch.idle{background:var(--idle);border:1px solid var(--line)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:.85rem;margin-top:6px}
th,td{text-align:left;padding:3px 10px;border-bottom:1px solid var(--line)}
footer{color:var(--muted);font-size:.85rem;padding-bottom:24px;margin-top:28px}
.visually-hidden{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:720px){
 body{font-size:15px}
 .page{padding:10px}
 .page-body{grid-template-columns:1fr}
 .page-figure{position:static;max-width:420px}
 .cards{grid-template-columns:1fr}
 .card{grid-template-columns:88px 1fr}
 .lane{grid-template-columns:120px 1fr}
}
`;
