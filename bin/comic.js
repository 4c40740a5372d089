#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled dist/ (built by `npm run build`, run by `npm ci`).

// Checked before anything loads: on an older Node, the page encoder would fail mid-run
// (zlib.crc32 arrived in 20.15) instead of saying so up front.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 15)) {
  process.stderr.write(`comic: needs Node.js 20.15 or newer; this is ${process.version}\n  hint: install a current Node 20 or 22 LTS (https://nodejs.org)\n`);
  process.exit(2);
}

const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
