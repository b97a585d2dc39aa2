/**
 * spdmkitd's configuration file: JSON or YAML, validated against DAEMON_CONFIG_SCHEMA. Every
 * malformed value is a DaemonConfigError (a DECODE_ERROR SpdmError) naming the JSON Pointer of the
 * field and, where the text allows, its line; the parsing bounds (file size, nesting depth) and
 * the YAML handling are the policy loader's, so both files refuse hostile text the same way.
 * Relative paths are resolved against the configuration file's directory. Defaults that depend on
 * the environment (the socket path) are the command's to fill in, not this module's.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { SpdmError } from '../wire/errors.js';
import { SchemaValidator, type SchemaIssue } from '../verifier/schema.js';
import {
  locate,
  parseDocumentText,
  readDocumentFile,
  type DocumentBound,
  type DocumentFormat,
} from '../verifier/document-text.js';
import { DAEMON_CONFIG_SCHEMA } from './config-schema.js';

/** A configuration file is a few hundred bytes; 1 MiB leaves room for long trust lists and comments. */
export const DAEMON_CONFIG_MAX_BYTES = 1024 * 1024;
const DAEMON_CONFIG_BOUND: DocumentBound = { maxBytes: DAEMON_CONFIG_MAX_BYTES, limit: 'daemonConfigBytes' };

export type PlatformConfig =
  | { readonly kind: 'simulated'; readonly file: string; readonly deviceThreads?: number }
  | { readonly kind: 'sysfs'; readonly root?: string };

export interface DaemonConfig {
  readonly socket: {
    /** Absent: the command picks its default. */
    readonly path?: string;
    readonly mode: number;
    readonly group?: string | number;
  };
  readonly listen?: { readonly host: string; readonly port: number; readonly tokenFile: string };
  readonly dataDir: string;
  readonly trust: readonly string[];
  readonly deny: readonly string[];
  readonly policy?: string;
  readonly concurrency: number;
  readonly autoAccept: boolean;
  /** Hold back driver binding of refused functions (driver_override / unbind on sysfs). */
  readonly holdDrivers: boolean;
  readonly platform: PlatformConfig;
  readonly events: { readonly heartbeatSeconds: number; readonly maxBufferedBytes: number };
  /** The file it came from, for messages. */
  readonly source: string;
}

export const DEFAULT_SOCKET_MODE = 0o660;

/** A configuration document that does not validate; `issues` name the path of every bad field. */
export class DaemonConfigError extends SpdmError {
  readonly issues: readonly SchemaIssue[];
  constructor(source: string, issues: readonly SchemaIssue[]) {
    super(
      'DECODE_ERROR',
      `${source}: invalid daemon configuration:\n${issues.map((i) => `  ${i.path || '/'}: ${i.message}`).join('\n')}`,
      { issues, field: issues[0]?.path ?? '' },
    );
    this.name = 'DaemonConfigError';
    this.issues = issues;
  }
}

let validator: SchemaValidator | undefined;

function configValidator(): SchemaValidator {
  validator ??= new SchemaValidator(DAEMON_CONFIG_SCHEMA);
  return validator;
}

type Doc = Readonly<Record<string, unknown>>;

function asDoc(v: unknown): Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Doc) : {};
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Validates a parsed document and returns the configuration with defaults applied and paths made
 * absolute against `baseDir`. Throws DaemonConfigError.
 */
export function compileDaemonConfig(doc: unknown, source = 'config', baseDir = process.cwd()): DaemonConfig {
  const issues = configValidator().validate(doc);
  if (issues.length > 0) throw new DaemonConfigError(source, issues);
  const d = asDoc(doc);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const socket = asDoc(d['socket']);
  const listen = d['listen'] === undefined ? undefined : asDoc(d['listen']);
  const platform = asDoc(d['platform']);
  const events = asDoc(d['events']);
  const group = socket['group'];
  return {
    socket: {
      ...(typeof socket['path'] === 'string' ? { path: at(socket['path']) } : {}),
      mode: typeof socket['mode'] === 'string' ? Number.parseInt(socket['mode'], 8) : DEFAULT_SOCKET_MODE,
      ...(typeof group === 'string' || typeof group === 'number' ? { group } : {}),
    },
    ...(listen
      ? {
          listen: {
            host: typeof listen['host'] === 'string' ? listen['host'] : '127.0.0.1',
            port: listen['port'] as number,
            tokenFile: at(listen['tokenFile'] as string),
          },
        }
      : {}),
    dataDir: at(d['dataDir'] as string),
    trust: strings(d['trust']).map(at),
    deny: strings(d['deny']).map(at),
    ...(typeof d['policy'] === 'string' ? { policy: at(d['policy']) } : {}),
    concurrency: typeof d['concurrency'] === 'number' ? d['concurrency'] : 4,
    autoAccept: d['autoAccept'] === true,
    holdDrivers: d['holdDrivers'] === true,
    platform:
      platform['kind'] === 'simulated'
        ? {
            kind: 'simulated',
            file: at(platform['file'] as string),
            ...(typeof platform['deviceThreads'] === 'number' ? { deviceThreads: platform['deviceThreads'] } : {}),
          }
        : { kind: 'sysfs', ...(typeof platform['root'] === 'string' ? { root: at(platform['root']) } : {}) },
    events: {
      heartbeatSeconds: typeof events['heartbeatSeconds'] === 'number' ? events['heartbeatSeconds'] : 15,
      maxBufferedBytes: typeof events['maxBufferedBytes'] === 'number' ? events['maxBufferedBytes'] : 1024 * 1024,
    },
    source,
  };
}

export interface ParseDaemonConfigOptions {
  readonly format?: DocumentFormat;
  /** Name used in messages (a file name); also picks the format by extension. */
  readonly source?: string;
  /** Directory relative paths are resolved against (default: the source's directory, else the working directory). */
  readonly baseDir?: string;
}

/** Parses and compiles configuration text. Throws DaemonConfigError, or a LimitError for a bound. */
export function parseDaemonConfigText(text: string, o: ParseDaemonConfigOptions = {}): DaemonConfig {
  const source = o.source ?? 'config';
  const baseDir = o.baseDir ?? (o.source ? dirname(resolve(o.source)) : process.cwd());
  const doc = parseDocumentText(
    text,
    { source, ...(o.format ? { format: o.format } : {}) },
    DAEMON_CONFIG_BOUND,
    (issues) => new DaemonConfigError(source, issues),
  );
  try {
    return compileDaemonConfig(doc, source, baseDir);
  } catch (e) {
    if (e instanceof DaemonConfigError) throw new DaemonConfigError(source, locate(text, e.issues));
    throw e;
  }
}

/** Reads and compiles a configuration file. Throws DaemonConfigError or LimitError. */
export function loadDaemonConfigFile(path: string, format?: DocumentFormat): DaemonConfig {
  const text = readDocumentFile(path, DAEMON_CONFIG_BOUND, (i) => new DaemonConfigError(path, i));
  return parseDaemonConfigText(text, { source: path, ...(format ? { format } : {}) });
}
