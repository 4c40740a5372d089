/**
 * The studio page's script (GET /studio.js), plain browser JavaScript with no dependency.
 * It keeps the key in sessionStorage, sends it as `Authorization: Bearer` on every call and
 * as a WebSocket subprotocol (see ../ws-token.ts), never in a URL. Images are fetched with
 * the key and shown from blob: URLs, since an <img src> cannot send a header. Everything a
 * server says is set as text, never as markup.
 *
 * Kept as a string (String.raw: no template literals or backslash escapes inside) so it is
 * compiled into dist/ with the rest and ships without a copy step.
 */
export const STUDIO_JS = String.raw`'use strict';
(function () {
  var KEY_STORE = 'comic.studio.key';
  var SCENES_STORE = 'comic.studio.scenes';
  var FINISHED = { completed: true, failed: true, cancelled: true };
  var $ = function (id) { return document.getElementById(id); };

  var key = null;
  var socket = null;
  var reconnects = 0;
  var jobs = new Map();
  var templates = [];

  function authHeaders(extra) {
    var headers = Object.assign({}, extra || {});
    if (key) headers.authorization = 'Bearer ' + key;
    return headers;
  }

  /** A call of the API; rejects with the server's error (status, message, issues). */
  async function call(path, options) {
    options = options || {};
    var init = { method: options.method || 'GET', headers: authHeaders(options.json === undefined ? {} : { 'content-type': 'application/json' }), cache: 'no-store', credentials: 'omit' };
    if (options.json !== undefined) init.body = JSON.stringify(options.json);
    var response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw { status: 0, message: 'the server cannot be reached', issues: [] };
    }
    var body = null;
    if ((response.headers.get('content-type') || '').indexOf('json') >= 0) body = await response.json().catch(function () { return null; });
    if (!response.ok) {
      var error = (body && body.error) || {};
      throw { status: response.status, code: error.code || '', message: error.message || 'HTTP ' + response.status, hint: error.hint || '', issues: error.issues || [], retryAfter: response.headers.get('retry-after') };
    }
    return body;
  }

  // --- the key ---------------------------------------------------------------------------

  function keyProtocol(value) {
    return 'comic-key.' + encodeURIComponent(value).replace(/[!'()*]/g, function (c) { return '%' + c.charCodeAt(0).toString(16).toUpperCase(); });
  }

  function keyProblem(error) {
    if (error.status === 401) return 'The server did not accept this key (401: ' + error.message + '). Check it and try again.';
    if (error.status === 429) return 'Too many attempts from this address; try again in ' + (error.retryAfter || 'a few') + ' seconds.';
    return 'Could not reach the studio API: ' + error.message + '.';
  }

  async function useKey(value, remembered) {
    key = value;
    try {
      var cast = await call('/api/cast');
      sessionStorage.setItem(KEY_STORE, value);
      await openStudio(cast);
    } catch (error) {
      key = null;
      if (remembered) sessionStorage.removeItem(KEY_STORE);
      $('key-error').textContent = keyProblem(error);
      $('key').setAttribute('aria-invalid', 'true');
      $('key').focus();
    }
  }

  $('key-form').addEventListener('submit', function (event) {
    event.preventDefault();
    $('key-error').textContent = '';
    useKey($('key').value.trim(), false);
  });

  $('forget').addEventListener('click', function () {
    sessionStorage.removeItem(KEY_STORE);
    location.reload();
  });

  // --- the form --------------------------------------------------------------------------

  function fillForm(cast) {
    var list = $('character-list');
    list.textContent = '';
    cast.characters.forEach(function (character) {
      var label = document.createElement('label');
      var box = document.createElement('input');
      box.type = 'checkbox';
      box.name = 'character';
      box.value = character.id;
      label.appendChild(box);
      var text = document.createElement('span');
      text.textContent = character.name + (character.description ? ': ' + character.description : '');
      label.appendChild(text);
      list.appendChild(label);
    });
    $('characters-none').hidden = cast.characters.length > 0;
    templates = cast.templates;
    var select = $('template');
    cast.templates.forEach(function (template) {
      var option = document.createElement('option');
      option.value = template.id;
      option.textContent = template.id + ' — ' + template.description;
      select.appendChild(option);
    });
    describeTemplate();
    $('server-line').textContent = cast.script ? 'Script: ' + cast.script : 'No script loaded';
  }

  function describeTemplate() {
    var chosen = templates.find(function (t) { return t.id === $('template').value; });
    var size = chosen ? chosen.size : null;
    $('template-help').textContent = size ? 'Sizes: multiples of ' + size.multiple + ' from ' + size.min + ' to ' + size.max + ' px.' : 'Picked by the script: panel, or panel-ref when a character has a sheet.';
    ['width', 'height'].forEach(function (id) {
      if (size) { $(id).min = size.min; $(id).max = size.max; $(id).step = size.multiple; }
    });
  }
  $('template').addEventListener('change', describeTemplate);

  var FIELD_OF = { scene: 'scene', pose: 'pose', camera: 'camera', template: 'template', 'size.width': 'width', 'size.height': 'height', size: 'width', seed: 'seed' };

  function showFormError(message, issues) {
    var box = $('form-error');
    box.textContent = message;
    if (issues.length > 0) {
      var list = document.createElement('ul');
      issues.forEach(function (issue) {
        var item = document.createElement('li');
        item.textContent = (issue.path ? issue.path + ': ' : '') + issue.message;
        list.appendChild(item);
        var field = FIELD_OF[issue.path];
        if (field) $(field).setAttribute('aria-invalid', 'true');
      });
      box.appendChild(list);
    }
    box.focus();
  }

  function panelRequest() {
    var request = { scene: $('scene').value.trim() };
    var characters = Array.prototype.slice.call(document.querySelectorAll('#character-list input:checked')).map(function (box) { return { id: box.value }; });
    if (characters.length > 0) request.characters = characters;
    ['pose', 'camera', 'template'].forEach(function (id) { var value = $(id).value.trim(); if (value !== '') request[id] = value; });
    var width = $('width').value, height = $('height').value;
    if (width !== '' || height !== '') request.size = { width: Number(width), height: Number(height) };
    if ($('seed').value !== '') request.seed = Number($('seed').value);
    return request;
  }

  $('panel-form').addEventListener('submit', async function (event) {
    event.preventDefault();
    $('form-error').textContent = '';
    document.querySelectorAll('#panel-form [aria-invalid]').forEach(function (field) { field.removeAttribute('aria-invalid'); });
    var request = panelRequest();
    if (request.scene === '') {
      $('scene').setAttribute('aria-invalid', 'true');
      showFormError('Describe the scene first.', []);
      return;
    }
    var button = $('submit');
    button.disabled = true;
    try {
      var answer = await call('/api/comic/generate-panel', { method: 'POST', json: request });
      rememberScene(answer.job.id, request.scene);
      // The focus stays in the form for the next panel; the job's status region announces it.
      addJob(answer.job, true);
    } catch (error) {
      if (error.status === 401) return signOut(keyProblem(error));
      showFormError('The panel was not accepted: ' + error.message + (error.hint ? ' (' + error.hint + ')' : ''), error.issues || []);
    } finally {
      button.disabled = false;
    }
  });

  function scenes() {
    try { return JSON.parse(sessionStorage.getItem(SCENES_STORE) || '{}'); } catch (e) { return {}; }
  }
  function rememberScene(id, scene) {
    var known = scenes();
    known[id] = scene.slice(0, 200);
    sessionStorage.setItem(SCENES_STORE, JSON.stringify(known));
  }

  // --- jobs ------------------------------------------------------------------------------

  /**
   * A snapshot of a job (an HTTP answer) into its card. Answers and WebSocket messages may
   * arrive in any order, so a finished job never goes back to waiting or running: a cached
   * panel can complete before the answer that says it was queued.
   */
  function update(job, view) {
    if (FINISHED[job.view.state] && !FINISHED[view.state]) return;
    job.view = view;
    render(job);
  }

  function addJob(view, newest) {
    var known = jobs.get(view.id);
    if (known) {
      // Its card may have been made from a WebSocket message before the answer named its scene.
      setText(known.element.querySelector('.job-title'), titleOf(view));
      update(known, view);
      return known;
    }
    var element = $('job-template').content.firstElementChild.cloneNode(true);
    var job = { view: view, element: element, queueServer: null, previews: 0, imageUrl: null, cancelling: false };
    element.dataset.job = view.id;
    element.dataset.previews = '0';
    var title = element.querySelector('.job-title');
    title.id = 'job-' + view.id;
    title.textContent = titleOf(view);
    element.setAttribute('aria-labelledby', title.id);
    element.querySelector('.job-steps progress').setAttribute('aria-describedby', title.id);
    element.querySelector('.job-cancel').setAttribute('aria-describedby', title.id);
    element.querySelector('.job-cancel').addEventListener('click', function () { cancel(job); });
    jobs.set(view.id, job);
    var list = $('jobs');
    if (newest) list.insertBefore(element, list.firstChild); else list.appendChild(element);
    $('no-jobs').hidden = true;
    render(job);
    return job;
  }

  function titleOf(view) {
    return scenes()[view.id] || (view.kind === 'panel' ? 'Panel ' : 'Comic ') + view.id.slice(0, 8);
  }

  function ordinal(n) { return n === 1 ? 'next' : 'number ' + n + ' in line'; }

  function statusText(job) {
    var view = job.view, progress = view.progress || {};
    switch (view.state) {
      case 'queued':
        if (job.queueServer) return 'Queued on ' + job.queueServer + (view.position ? ', ' + ordinal(view.position) : '');
        return 'Queued' + (view.position ? ', ' + ordinal(view.position) : '');
      case 'processing':
        if (job.cancelling) return 'Cancelling…';
        return 'Rendering' + (progress.image ? ' ' + progress.image : '') + (progress.server ? ' on ' + progress.server : '') + (progress.total ? ' (' + progress.done + ' of ' + progress.total + ' done)' : '');
      case 'completed': {
        var cached = view.outputs.length > 0 && view.outputs.every(function (o) { return o.cached; });
        return 'Completed' + (cached ? ' (from the cache)' : '');
      }
      case 'failed': return 'Failed: ' + (view.error ? view.error.message + ' (' + view.error.code + ')' : 'unknown error');
      case 'cancelled': return 'Cancelled';
    }
    return view.state;
  }

  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

  function render(job) {
    var view = job.view, element = job.element, progress = view.progress || {};
    element.dataset.state = view.state;
    setText(element.querySelector('.job-status'), statusText(job));
    var running = view.state === 'processing';
    setText(element.querySelector('.job-node'), running && progress.node ? 'Node: ' + progress.node : '');
    var steps = element.querySelector('.job-steps');
    steps.hidden = !(running && progress.step);
    if (running && progress.step) {
      var bar = steps.querySelector('progress');
      bar.max = progress.step.max;
      bar.value = progress.step.value;
      setText(steps.querySelector('.job-step-text'), 'step ' + progress.step.value + ' of ' + progress.step.max);
    }
    var button = element.querySelector('.job-cancel');
    button.hidden = !!FINISHED[view.state];
    button.disabled = job.cancelling;
    if (view.state === 'completed' && !job.imageUrl) showImage(job);
    if (FINISHED[view.state]) element.querySelector('.job-preview').hidden = true;
  }

  async function showImage(job) {
    var output = job.view.outputs[0];
    // The key goes only to this server's own file route.
    if (!output || !/^\/api\/files\//.test(output.url)) return;
    job.imageUrl = 'loading';
    try {
      var response = await fetch(output.url, { headers: authHeaders(), cache: 'no-store', credentials: 'omit' });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      var url = URL.createObjectURL(await response.blob());
      job.imageUrl = url;
      var figure = job.element.querySelector('.job-image');
      var img = figure.querySelector('img');
      img.alt = 'The finished panel: ' + job.element.querySelector('.job-title').textContent;
      img.src = url;
      figure.querySelector('a').href = url;
      figure.querySelector('figcaption').textContent = (output.cached ? 'From the cache' : 'Rendered by ' + (output.backend || 'the backend') + (output.server ? ' on ' + output.server : '')) + ' · open full size';
      figure.hidden = false;
    } catch (error) {
      job.imageUrl = null;
      setText(job.element.querySelector('.job-status'), 'Completed, but the image could not be loaded (' + error.message + ')');
    }
  }

  function showPreview(job, message) {
    if (!/^image\/(png|jpeg|webp)$/.test(message.mime) || FINISHED[job.view.state]) return;
    var figure = job.element.querySelector('.job-preview');
    var img = figure.querySelector('img');
    img.alt = 'Live preview of ' + job.element.querySelector('.job-title').textContent;
    img.src = 'data:' + message.mime + ';base64,' + message.data;
    figure.hidden = false;
    job.previews += 1;
    job.element.dataset.previews = String(job.previews);
  }

  async function cancel(job) {
    job.cancelling = true;
    render(job);
    try {
      var answer = await call('/api/jobs/' + encodeURIComponent(job.view.id), { method: 'DELETE' });
      update(job, answer.job);
    } catch (error) {
      job.cancelling = false;
      setText(job.element.querySelector('.job-status'), 'Could not cancel: ' + error.message);
    }
  }

  /** What a WebSocket message says about a job, folded into its view. */
  function apply(message) {
    var job = jobs.get(message.job);
    if (!job) {
      // A job of this key not shown yet (just submitted, or made in another tab or with curl):
      // fetched once, then followed.
      if (message.job && !fetching.has(message.job)) refresh(message.job, true);
      return;
    }
    var view = Object.assign({}, job.view);
    switch (message.type) {
      case 'queued':
        if (FINISHED[view.state]) return;
        job.queueServer = message.server;
        view.position = message.position;
        if (message.server === null) view.state = 'queued';
        break;
      case 'processing': view.state = 'processing'; view.position = null; view.progress = message.progress; job.queueServer = null; break;
      case 'preview': return showPreview(job, message);
      case 'completed': view.state = 'completed'; view.outputs = message.outputs; job.cancelling = false; break;
      case 'failed': view.state = 'failed'; view.error = message.error; job.cancelling = false; break;
      case 'cancelled': view.state = 'cancelled'; job.cancelling = false; break;
      case 'warning': {
        var item = document.createElement('li');
        item.textContent = message.message;
        job.element.querySelector('.job-warnings').appendChild(item);
        return;
      }
      default: return;
    }
    job.view = view;
    render(job);
  }

  var fetching = new Set();

  async function refresh(id, newest) {
    fetching.add(id);
    try {
      addJob((await call('/api/jobs/' + encodeURIComponent(id))).job, newest);
    } catch (error) {
      /* forgotten by the server: the card keeps its last state */
    } finally {
      fetching.delete(id);
    }
  }

  // --- live updates ----------------------------------------------------------------------

  function connect() {
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/ws';
    var protocols = key ? ['comic', keyProtocol(key)] : ['comic'];
    socket = new WebSocket(url, protocols);
    socket.addEventListener('open', function () {
      reconnects = 0;
      setText($('live'), 'Live updates: connected');
      socket.send(JSON.stringify({ type: 'subscribe', job: '*' }));
      // Whatever happened while the socket was down.
      jobs.forEach(function (job, id) { if (!FINISHED[job.view.state]) refresh(id, false); });
    });
    socket.addEventListener('message', function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === 'fallback') setText($('server-line'), 'Rendering on the fallback (' + message.to + '): ' + message.reason);
      else if (message.type === 'server') setText($('server-line'), 'Server ' + message.server + ' is ' + message.state);
      else if (message.type === 'error') setText($('live'), 'Live updates: ' + message.error.message);
      else if (message.type !== 'subscribed' && message.type !== 'unsubscribed') apply(message);
    });
    socket.addEventListener('close', function (event) {
      socket = null;
      if (event.code === 1001) { setText($('live'), 'Live updates: the server is shutting down'); return; }
      var wait = Math.min(30, Math.pow(2, reconnects++));
      setText($('live'), 'Live updates: disconnected; trying again in ' + wait + ' s');
      setTimeout(connect, wait * 1000);
    });
  }

  async function openStudio(cast) {
    $('signin').hidden = true;
    $('studio').hidden = false;
    $('forget').hidden = false;
    fillForm(cast);
    var listing = await call('/api/jobs');
    listing.jobs.forEach(function (view) { addJob(view, false); });
    connect();
    $('scene').focus();
  }

  function signOut(problem) {
    sessionStorage.removeItem(KEY_STORE);
    key = null;
    if (socket) socket.close();
    $('studio').hidden = true;
    $('forget').hidden = true;
    $('signin').hidden = false;
    $('key-error').textContent = problem;
    $('key').focus();
  }

  var stored = sessionStorage.getItem(KEY_STORE);
  if (stored !== null) useKey(stored, true);
})();
`;
