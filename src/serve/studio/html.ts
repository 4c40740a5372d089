/**
 * The studio page's HTML (GET /). Static: no key, no job, no path of this machine is ever
 * in it; /studio.js fills it in after the visitor has typed a key. Every dynamic text is set
 * with textContent by the script, so nothing a server says can become markup.
 */
export const STUDIO_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>comic studio</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/studio.css">
<script src="/studio.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the studio</a>
<header class="top">
  <h1>comic studio</h1>
  <p id="server-line" class="muted" role="status"></p>
  <button id="forget" type="button" class="secondary" hidden>Forget the key</button>
</header>
<main id="main" tabindex="-1">
  <section id="signin" aria-labelledby="signin-h">
    <h2 id="signin-h">API key</h2>
    <p>Type the server's API key once (one of <code>serve.apiKeys</code> or <code>COMIC_API_KEYS</code>). It stays in this tab's session storage and is sent with every request; closing the tab forgets it. Leave it empty for a server without keys.</p>
    <form id="key-form" class="inline">
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="off" autocapitalize="off" spellcheck="false" aria-describedby="key-error">
      <button type="submit">Use this key</button>
    </form>
    <p id="key-error" class="error" role="alert"></p>
  </section>

  <div id="studio" hidden>
    <section id="new-panel" aria-labelledby="new-h">
      <h2 id="new-h">New panel</h2>
      <form id="panel-form" novalidate>
        <div class="field">
          <label for="scene">Scene <span class="muted">(required)</span></label>
          <textarea id="scene" name="scene" rows="3" required aria-describedby="scene-help"></textarea>
          <p id="scene-help" class="help">What the panel shows, e.g. “Mara climbs the spiral stairs, lantern in hand”.</p>
        </div>
        <fieldset id="characters" class="field">
          <legend>Characters</legend>
          <p id="characters-none" class="help" hidden>The server's script has no characters (start it with <code>comic serve --script FILE</code>); describe people in the scene.</p>
          <div id="character-list" class="choices"></div>
        </fieldset>
        <div class="pair">
          <div class="field">
            <label for="pose">Pose</label>
            <input id="pose" name="pose" type="text" autocomplete="off">
          </div>
          <div class="field">
            <label for="camera">Camera</label>
            <input id="camera" name="camera" type="text" autocomplete="off" placeholder="low angle, close-up…">
          </div>
        </div>
        <div class="field">
          <label for="template">Template</label>
          <select id="template" name="template" aria-describedby="template-help">
            <option value="">Automatic (the script's default)</option>
          </select>
          <p id="template-help" class="help"></p>
        </div>
        <fieldset class="field">
          <legend>Size in pixels <span class="muted">(optional; square by default)</span></legend>
          <div class="pair">
            <div class="field">
              <label for="width">Width</label>
              <input id="width" name="width" type="number" inputmode="numeric" min="64" step="64">
            </div>
            <div class="field">
              <label for="height">Height</label>
              <input id="height" name="height" type="number" inputmode="numeric" min="64" step="64">
            </div>
          </div>
        </fieldset>
        <div class="field">
          <label for="seed">Seed <span class="muted">(optional; derived from the script's seed)</span></label>
          <input id="seed" name="seed" type="number" inputmode="numeric" min="0" step="1">
        </div>
        <div id="form-error" class="error" role="alert" tabindex="-1"></div>
        <button id="submit" type="submit">Render the panel</button>
      </form>
    </section>

    <section id="jobs-section" aria-labelledby="jobs-h">
      <h2 id="jobs-h">Jobs of this key</h2>
      <p id="live" class="muted" role="status">Live updates: connecting…</p>
      <p id="no-jobs" class="muted">No jobs yet.</p>
      <ol id="jobs" class="jobs"></ol>
    </section>
  </div>
</main>

<template id="job-template">
  <li class="job">
    <h3 class="job-title"></h3>
    <p class="job-status" aria-live="polite"></p>
    <p class="job-node muted"></p>
    <div class="job-steps" hidden>
      <progress max="1" value="0" aria-label="Sampler steps"></progress>
      <span class="job-step-text muted"></span>
    </div>
    <figure class="job-preview" hidden>
      <img alt="">
      <figcaption>Live preview</figcaption>
    </figure>
    <figure class="job-image" hidden>
      <a class="job-image-link" target="_blank" rel="noopener"><img alt=""></a>
      <figcaption class="job-image-caption"></figcaption>
    </figure>
    <ul class="job-warnings"></ul>
    <button class="job-cancel secondary" type="button">Cancel</button>
  </li>
</template>
</body>
</html>
`;
