/** Where a signature log lives when no target is named: a small module so the CLI can show it without loading the log. */
export const DEFAULT_LOG_TARGET = './spdmkit-log.sqlite';
