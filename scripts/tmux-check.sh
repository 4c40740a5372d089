#!/usr/bin/env bash
# Runs `comic generate examples/lighthouse.yaml --backend draft` in a real terminal (a
# detached tmux session of a fixed size), waits for it to finish, and prints the pane as
# the terminal shows it: the dashboard's final summary, as a person would see it.
#
#   scripts/tmux-check.sh            # uses bin/comic.js (run `npm run build` first)
#   COMIC_FROM_SOURCE=1 scripts/tmux-check.sh   # runs the TypeScript sources through tsx
#
# Environment: COLUMNS_TMUX / ROWS_TMUX (terminal size, default 100x30), TIMEOUT_S
# (default 300), COMIC_SCRIPT (default examples/lighthouse.yaml). Exit code: comic's.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v tmux >/dev/null || { echo "tmux-check: tmux is not installed" >&2; exit 127; }

cols=${COLUMNS_TMUX:-100}
rows=${ROWS_TMUX:-30}
timeout_s=${TIMEOUT_S:-300}
script=${COMIC_SCRIPT:-examples/lighthouse.yaml}
work=$(mktemp -d "${TMPDIR:-/tmp}/comic-tmux-XXXXXX")
socket="comic-check-$$"          # a private tmux server: never touches the user's sessions
session="comic"

cleanup() {
  tmux -L "$socket" kill-server 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [[ "${COMIC_FROM_SOURCE:-}" == 1 || ! -f dist/cli/main.js ]]; then
  comic=(node --import tsx --input-type=module -e "import { main } from './src/cli/main.ts'; process.exitCode = await main(['node', 'comic', ...process.argv.slice(1)]);" --)
else
  comic=(node bin/comic.js)
fi

# The run itself, as the pane's shell runs it: not in CI mode (that would turn the
# dashboard off), with a fresh output folder and cache so there is work to show.
printf -v run '%q ' "${comic[@]}" generate "$script" --backend draft --out "$work/out" --cache "$work/cache"
printf -v inner 'cd %q && env -u CI -u CONTINUOUS_INTEGRATION -u GITHUB_ACTIONS -u NO_COLOR TERM=xterm-256color %s; echo $? > %q; tmux -L %q wait-for -S done; sleep 600' \
  "$PWD" "$run" "$work/exit" "$socket"

tmux -L "$socket" -f /dev/null new-session -d -s "$session" -x "$cols" -y "$rows" "bash -c $(printf %q "$inner")"
if ! timeout "$timeout_s" tmux -L "$socket" wait-for done; then
  echo "tmux-check: comic did not finish within ${timeout_s}s; the pane shows:" >&2
  tmux -L "$socket" capture-pane -p -t "$session" >&2
  exit 124
fi

tmux -L "$socket" capture-pane -p -t "$session"
exit "$(cat "$work/exit")"
