#!/usr/bin/env node
// spdmkitd: the same as `spdm daemon` (docs/daemon.md).
import('../dist/src/cli/bundle.js')
  .then((b) => b.cliMain())
  .then((main) => main(['daemon', ...process.argv.slice(2)]))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 2;
    },
  );
