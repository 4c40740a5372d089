/**
 * Parsing and dispatching WebSocket events keeps up at 10,000 messages/s: a ComfyClient with
 * a prompt in flight receives a stream shaped like a real run (progress_state snapshots of a
 * 20-node graph, each followed by a progress tick), sent from a child process at a fixed
 * rate. Every tick carries its sequence number; the main thread records when the job's
 * `progress` event for it fires. Keeping up means no growing backlog: on a shared machine
 * the process may stall now and then, but the lag drains again, so even at the end of the
 * run some messages are handled within a few milliseconds; a client that cannot keep up
 * falls further behind with every message and never does.
 * A second phase sends as fast as the socket allows, for the ceiling.
 *
 * The child answers only the few HTTP routes a client needs for one prompt, and writes
 * pre-encoded WebSocket frames straight to the socket so that the sender is never the
 * bottleneck; the protocol itself is exercised by the tests against the emulator.
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { ComfyClient } from '../src/comfy/client.js';

interface Phase {
  readonly name: string;
  /** Messages per second, or 0 for "as fast as possible". */
  readonly rate: number;
  readonly ticks: number;
}

const PHASES: readonly Phase[] = [
  { name: '10,000 msg/s for 10 s', rate: 10_000, ticks: 50_000 },
  { name: 'as fast as possible', rate: 0, ticks: 50_000 },
];

/** Epoch milliseconds with sub-millisecond resolution, comparable between the two processes. */
const now = (): number => performance.timeOrigin + performance.now();
const FIREHOSE = '--firehose';

if (process.argv.includes(FIREHOSE)) {
  runServer(PHASES);
} else {
  await main();
}

async function main(): Promise<void> {
  // The sender is this same file in its own process, so sending never competes with receiving.
  const worker = fork(fileURLToPath(import.meta.url), [FIREHOSE], { execArgv: ['--import', 'tsx'] });
  const url = await new Promise<string>((resolve) => worker.once('message', (m: { url: string }) => resolve(m.url)));
  // The firehose answers no pings; the run is shorter than a ping interval anyway.
  const client = new ComfyClient({ url, name: 'firehose', maxConcurrent: 1, headers: {}, auth: { kind: 'none' } }, { timeouts: { poll: 600_000, ping: 600_000 } });
  await client.connect(AbortSignal.timeout(10_000));
  const rows: string[] = [];
  let ok = true;
  try {
    for (const phase of PHASES) {
      const sentAt = new Float64Array(phase.ticks + 1);
      const doneAt = new Float64Array(phase.ticks + 1);
      const onSent = (m: { sent?: [number, number][] }): void => {
        for (const [seq, at] of m.sent ?? []) sentAt[seq] = at;
      };
      worker.on('message', onSent);
      let received = 0;
      const cpuBefore = process.cpuUsage();
      const handle = client.submit(
        { '1': { class_type: 'SaveImage', inputs: { images: ['0', 0], filename_prefix: phase.name } } },
        {
          signal: new AbortController().signal,
          onEvent: (event) => {
            if (event.type !== 'progress') return;
            doneAt[event.value] = now();
            received++;
          },
        },
      );
      await handle.result;
      const cpu = process.cpuUsage(cpuBefore);
      worker.off('message', onSent);
      const lags: number[] = [];
      for (let seq = 1; seq <= phase.ticks; seq++) if (doneAt[seq]! > 0 && sentAt[seq]! > 0) lags.push(doneAt[seq]! - sentAt[seq]!);
      const seconds = (doneAt[phase.ticks]! - sentAt[1]!) / 1000;
      const messages = phase.ticks * 2;
      // A growing backlog makes every late message later: by the last tenth of the run, none is prompt.
      const tenth = Math.max(1, Math.floor(lags.length / 10));
      const lastTenth = lags.slice(-tenth);
      const lastBest = Math.min(...lastTenth);
      rows.push(
        `| ${phase.name} | ${messages.toLocaleString('en')} | ${Math.round(messages / seconds).toLocaleString('en')} | ${(((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100).toFixed(0)}% | ${percentile(lags, 0.5).toFixed(2)} | ${percentile(lags, 0.99).toFixed(2)} | ${percentile(lastTenth, 0.5).toFixed(2)} / ${lastBest.toFixed(2)} | ${received === phase.ticks ? 'none' : `${phase.ticks - received} lost`} |`,
      );
      if (phase.rate > 0) ok &&= received === phase.ticks && percentile(lags, 0.5) < 10 && lastBest < 10;
    }
  } finally {
    await client.close();
    worker.kill();
  }
  console.log('| phase | messages | achieved msg/s | client CPU | lag p50 (ms) | lag p99 (ms) | last tenth: median / best lag (ms) | lost |\n|---|---|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
  console.log(`\ntarget: 10,000 msg/s with a flat lag (no growing backlog): ${ok ? 'met' : 'MISSED'}`);
  process.exitCode = ok ? 0 : 1;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Just enough of ComfyUI for one client and one prompt at a time, plus the firehose. */
function runServer(phases: readonly Phase[]): void {
  const report = (message: unknown): void => void process.send!(message);
  let socket: Duplex | null = null;
  let phaseIndex = 0;
  const finished = new Set<string>();
  const json = (res: ServerResponse, body: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (path === '/api/system_stats') return json(res, { system: {}, devices: [{ name: 'cpu', type: 'cpu', vram_total: 1, vram_free: 1 }] });
    if (path === '/api/prompt' && req.method === 'GET') return json(res, { exec_info: { queue_remaining: 0 } });
    if (path === '/api/queue') return json(res, { queue_running: [], queue_pending: [] });
    if (path.startsWith('/api/history/')) {
      const id = decodeURIComponent(path.slice('/api/history/'.length));
      return json(res, finished.has(id) ? { [id]: { outputs: {}, status: { status_str: 'success', completed: true, messages: [] } } } : {});
    }
    if (path === '/api/prompt' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const promptId = (JSON.parse(body) as { prompt_id: string }).prompt_id;
        json(res, { prompt_id: promptId, number: phaseIndex, node_errors: {} });
        const phase = phases[phaseIndex++]!;
        setTimeout(() => void blast(promptId, phase), 50);
      });
      return;
    }
    res.writeHead(404).end();
  });
  server.on('upgrade', (req: IncomingMessage, raw: Duplex) => {
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    raw.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    raw.on('data', () => undefined); // the client's feature_flags; nothing to answer for this test
    raw.on('error', () => undefined);
    socket = raw;
    const sid = new URL(req.url ?? '', 'http://x').searchParams.get('clientId');
    raw.write(frame(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid } })));
  });
  server.listen(0, '127.0.0.1', () => report({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));

  /** A progress_state snapshot as the server writes it, with the running node's value left open (cheap to send many). */
  const progressState = (promptId: string, max: number): ((value: number) => string) => {
    const nodes = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [
        String(i + 1),
        { value: i === 7 ? -1 : 1, max: i === 7 ? max : 1, state: i < 7 ? 'finished' : 'running', node_id: String(i + 1), prompt_id: promptId, display_node_id: String(i + 1), parent_node_id: null, real_node_id: String(i + 1) },
      ]),
    );
    const [head, tail] = JSON.stringify({ type: 'progress_state', data: { prompt_id: promptId, nodes } }).split('-1') as [string, string];
    return (value) => `${head}${value}${tail}`;
  };

  /** An unmasked server-to-client text frame. */
  function frame(text: string): Buffer {
    const payload = Buffer.from(text);
    const n = payload.length;
    const head = n < 126 ? Buffer.from([0x81, n]) : n < 65536 ? Buffer.from([0x81, 126, n >> 8, n & 0xff]) : Buffer.alloc(10);
    if (n >= 65536) {
      head[0] = 0x81;
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(n), 2);
    }
    return Buffer.concat([head, payload]);
  }

  async function blast(promptId: string, phase: Phase): Promise<void> {
    const ws = socket!;
    const send = (type: string, data: unknown): void => void ws.write(frame(JSON.stringify({ type, data })));
    const snapshot = progressState(promptId, phase.ticks);
    send('execution_start', { prompt_id: promptId, timestamp: Date.now() });
    send('executing', { node: '8', display_node: '8', prompt_id: promptId });
    const started = now();
    let seq = 0;
    let stamps: [number, number][] = [];
    while (seq < phase.ticks) {
      // Each tick is two messages; at a fixed rate, send what is due, then yield.
      const due = phase.rate === 0 ? seq + 500 : Math.floor(((now() - started) / 1000) * (phase.rate / 2));
      const frames: Buffer[] = [];
      while (seq < Math.min(due, phase.ticks)) {
        seq++;
        frames.push(frame(snapshot(seq)));
        frames.push(frame(`{"type": "progress", "data": {"value": ${seq}, "max": ${phase.ticks}, "prompt_id": "${promptId}", "node": "8"}}`));
      }
      if (frames.length > 0) {
        const batch = Buffer.concat(frames);
        const at = now();
        ws.write(batch);
        for (let s = seq - frames.length / 2 + 1; s <= seq; s++) stamps.push([s, at]);
      }
      if (stamps.length > 0) {
        report({ sent: stamps });
        stamps = [];
      }
      // Let the socket drain: a sender that never yields would measure its own buffer.
      await new Promise((resolve) => setTimeout(resolve, phase.rate === 0 ? 0 : 5));
    }
    finished.add(promptId);
    send('execution_success', { prompt_id: promptId, timestamp: Date.now() });
    send('executing', { node: null, prompt_id: promptId });
  }
}
