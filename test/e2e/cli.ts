// The CLI from source, for tests that need a real process (signals, SIGKILL).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv);
