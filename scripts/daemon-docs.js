// Regenerates the daemon's published documents from the compiled code (npm run daemon-docs):
// docs/openapi.json (the HTTP API) and schemas/daemon-config.schema.json (its configuration).
// Tests fail until these match what the code serves and enforces.
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openApiDocument } = await import(join(root, 'dist/src/daemon/openapi.js'));
const { DAEMON_CONFIG_SCHEMA } = await import(join(root, 'dist/src/daemon/config-schema.js'));
const write = (file, value) => {
  writeFileSync(join(root, file), `${JSON.stringify(value, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
};
write('docs/openapi.json', await openApiDocument());
write('schemas/daemon-config.schema.json', DAEMON_CONFIG_SCHEMA);
