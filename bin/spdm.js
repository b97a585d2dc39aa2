#!/usr/bin/env node
// main() maps every error it knows to an exit code (src/cli/exit-codes.ts); anything else that
// reaches here is a failure nobody anticipated — a bug or an environment fault (a port in use) —
// so it exits FAILED (1), not USAGE (2, which tells a script its arguments were wrong), and prints
// the whole error (stack and system details) for the bug report. cliMain() is the prebuilt
// one-file CLI when it is current, else the modules (src/cli/bundle.ts).
const FAILED = 1;
import('../dist/src/cli/bundle.js')
  .then((b) => b.cliMain())
  .then((main) => main(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error('spdm: unexpected error:', err);
      process.exitCode = FAILED;
    },
  );
