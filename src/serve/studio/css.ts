/** The studio page's style sheet (GET /studio.css): one column on a phone, two from 900 px. */
export const STUDIO_CSS = `:root {
  color-scheme: light dark;
  --fg: #1b1b1f; --bg: #fafaf7; --muted: #5c5c66; --line: #c9c9d1; --card: #ffffff;
  --accent: #1f5fbf; --accent-fg: #ffffff; --error: #b3261e; --ok: #1e6b34;
}
@media (prefers-color-scheme: dark) {
  :root { --fg: #ececf1; --bg: #16161a; --muted: #a6a6b3; --line: #3a3a44; --card: #202027; --accent: #7fb0ff; --accent-fg: #0b1530; --error: #ff8a80; --ok: #7bd88f; }
}
* { box-sizing: border-box; }
/* Author display rules (.job-steps is flex) would otherwise show what the script hid. */
[hidden] { display: none !important; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
.skip { position: absolute; left: -999px; top: 0; padding: .5rem 1rem; background: var(--accent); color: var(--accent-fg); }
.skip:focus { left: .5rem; z-index: 1; }
.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1rem; padding: .75rem 1rem; border-bottom: 1px solid var(--line); }
.top h1 { margin: 0; font-size: 1.4rem; }
.top p { margin: 0; flex: 1; }
main { padding: 1rem; max-width: 1200px; margin: 0 auto; outline: none; }
#studio:not([hidden]) { display: grid; gap: 1.5rem; }
@media (min-width: 900px) { #studio:not([hidden]) { grid-template-columns: minmax(320px, 5fr) 7fr; align-items: start; } }
h2 { font-size: 1.2rem; margin: 0 0 .75rem; }
h3 { font-size: 1rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
.field { margin: 0 0 .9rem; min-width: 0; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
legend { padding: 0 .25rem; }
label { display: block; font-weight: 600; margin-bottom: .2rem; }
.choices label, .choice { display: flex; gap: .5rem; align-items: baseline; font-weight: normal; }
input[type=text], input[type=password], input[type=number], textarea, select { width: 100%; font: inherit; padding: .45rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
[aria-invalid=true] { border-color: var(--error); outline: 2px solid var(--error); }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: .75rem; }
.inline { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
.inline label { flex-basis: 100%; }
.inline input { flex: 1 1 12rem; width: auto; }
button { font: inherit; font-weight: 600; padding: .5rem 1rem; border-radius: 6px; border: 2px solid var(--accent); background: var(--accent); color: var(--accent-fg); cursor: pointer; min-height: 44px; }
button.secondary { background: transparent; color: var(--accent); }
button:disabled { opacity: .55; cursor: default; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.help, .muted { color: var(--muted); font-size: .9rem; margin: .2rem 0 0; }
.error { color: var(--error); margin: .5rem 0; }
.error:empty { display: none; }
.error ul { margin: .25rem 0 0; padding-left: 1.25rem; }
code { font-size: .9em; }
.jobs { list-style: none; margin: 0; padding: 0; display: grid; gap: 1rem; }
.job { border: 1px solid var(--line); border-radius: 8px; padding: .75rem; }
.job p { margin: .15rem 0; }
.job[data-state=completed] .job-status { color: var(--ok); }
.job[data-state=failed] .job-status { color: var(--error); }
.job-steps { display: flex; align-items: center; gap: .5rem; }
.job-steps progress { flex: 1; height: 1rem; }
figure { margin: .5rem 0; }
figure img { display: block; max-width: 100%; height: auto; max-height: 70vh; border-radius: 4px; background: var(--line); }
.job-preview img { max-width: min(100%, 320px); }
figcaption { color: var(--muted); font-size: .85rem; }
.job-warnings { margin: .25rem 0; padding-left: 1.25rem; color: var(--muted); font-size: .9rem; }
.job-warnings:empty { display: none; }
`;
