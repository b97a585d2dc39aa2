/**
 * The environment a signature log's key location comes from. The library reads no environment,
 * so every command that opens a log resolves these here and passes them in:
 *
 *   SPDMKIT_LOG_KEY   the private key file (overrides `<file>.key` and the per-host default);
 *   XDG_CONFIG_HOME   where a PostgreSQL log's per-host key lives (`$XDG_CONFIG_HOME/spdmkit/…`).
 */
import type { OpenLogOptions } from '../log/log.js';

export function logKeyOptions(env: NodeJS.ProcessEnv = process.env): Pick<OpenLogOptions, 'keyFile' | 'configDir'> {
  const keyFile = env['SPDMKIT_LOG_KEY'];
  const configDir = env['XDG_CONFIG_HOME'];
  return { ...(keyFile ? { keyFile } : {}), ...(configDir ? { configDir } : {}) };
}
