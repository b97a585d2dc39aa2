/**
 * Configuration documents — policy files, platform files, the daemon's configuration — are JSON
 * or YAML (1.2 core schema, via the `yaml` package) read from untrusted files. This module turns
 * such text into the document it holds, with the same bounds and messages for all of them: the
 * nesting is bounded before anything deep is built, duplicate keys and aliases are refused, and a
 * schema issue can be located back to its line and column. Size bounds are the caller's
 * (DocumentBound): each kind of document has its own.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { LIMITS, LimitError } from '../wire/limits.js';
import { checkJsonText, lineColumn } from '../wire/json-depth.js';
import { readTextFileBounded } from '../wire/bounded-file.js';
import type { SchemaIssue } from './schema.js';

let yamlModule: typeof Yaml | undefined;
/**
 * The yaml package, loaded the first time a YAML document is read: a JSON policy (or none) then
 * costs no YAML parser at start-up, about 50 ms of CPU for `spdm authenticate` or `spdm verify`
 * (issue 12, cold start). Synchronous, as the loaders calling this are.
 */
function yaml(): typeof Yaml {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yamlModule;
}

export type DocumentFormat = 'json' | 'yaml';

export interface DocumentTextOptions {
  /** Default: by the source's extension, else JSON when the text starts with `{`, else YAML. */
  readonly format?: DocumentFormat;
  /** Name used in messages (a file name). */
  readonly source?: string;
}

export const YAML_OPTIONS = { uniqueKeys: true, maxAliasCount: 100, prettyErrors: true, strict: true } as const;

export function formatOf(text: string, o: DocumentTextOptions): DocumentFormat {
  if (o.format) return o.format;
  if (o.source && /\.ya?ml$/i.test(o.source)) return 'yaml';
  if (o.source && /\.json$/i.test(o.source)) return 'json';
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

/**
 * The yaml package composes documents recursively and turns a stack overflow into the error
 * "Maximum call stack size exceeded". Its CST parser is iterative and keeps the collections
 * being built on a stack (plus the document and the scalar at the top), so watching that stack
 * while feeding it one token at a time bounds the nesting before anything deep is built.
 */
export function checkYamlNesting(text: string, source: string): void {
  const max = LIMITS.jsonNestingDepth;
  const { Lexer, Parser } = yaml();
  const parser = new Parser();
  // The stack holds the document and, at times, a scalar or an item besides the collections.
  const slack = 3;
  const check = () => {
    if (parser.stack.length > max + slack) {
      const at = lineColumn(text, parser.offset);
      const where = `${source} line ${at.line}:${at.column}`;
      throw new LimitError(
        'jsonNestingDepth',
        parser.stack.length - slack,
        max,
        where,
        `${where}: YAML collections nested more than ${max} deep (the jsonNestingDepth limit)`,
      );
    }
  };
  for (const lexeme of new Lexer().lex(text)) {
    for (const _ of parser.next(lexeme)) check();
    check();
  }
  for (const _ of parser.end()) check();
}

/** Adds "line L:C" to issues by locating their path in the source text (best effort). */
export function locate(text: string, issues: readonly SchemaIssue[]): SchemaIssue[] {
  try {
    const { isMap, isScalar, LineCounter, parseDocument } = yaml();
    const lc = new LineCounter();
    const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter: lc });
    if (doc.errors.length > 0) return [...issues];
    return issues.map((i) => {
      let node = doc.getIn(i.segments, true) as { range?: [number, number, number] } | undefined;
      if (i.message.startsWith('unknown property') && i.segments.length > 0) {
        // Point at the key, not at its value.
        const parent = doc.getIn(i.segments.slice(0, -1), true);
        const last = String(i.segments.at(-1));
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === last);
          if (pair && isScalar(pair.key)) node = pair.key as { range?: [number, number, number] };
        }
      }
      const off = node && typeof node === 'object' && Array.isArray(node.range) ? node.range[0] : undefined;
      if (off === undefined) return i;
      const { line, col } = lc.linePos(off);
      return { ...i, message: `${i.message} (line ${line}:${col})` };
    });
  } catch {
    return [...issues];
  }
}

/** An issue about the document as a whole (bad syntax), in SchemaIssue form. */
function whole(message: string): SchemaIssue[] {
  return [{ path: '', segments: [], message }];
}

/** The size bound of one kind of document: its byte count, and the name of the limit it is. */
export interface DocumentBound {
  readonly maxBytes: number;
  readonly limit: string;
}

/**
 * The document `text` holds. Malformed text fails through `fail` (each loader's own error class,
 * given the issues); text larger than `bound` or nested past LIMITS.jsonNestingDepth is a LimitError.
 */
export function parseDocumentText(
  text: string,
  o: DocumentTextOptions,
  bound: DocumentBound,
  fail: (issues: readonly SchemaIssue[]) => Error,
): unknown {
  const source = o.source ?? 'document';
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > bound.maxBytes)
    throw new LimitError(
      bound.limit,
      bytes,
      bound.maxBytes,
      source,
      `${source} is ${bytes} bytes, more than the ${bound.limit} limit of ${bound.maxBytes}`,
    );
  if (formatOf(text, o) === 'json') {
    checkJsonText(text, source);
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw fail(whole(`is not valid JSON: ${e instanceof Error ? e.message : String(e)}`));
    }
  }
  checkYamlNesting(text, source);
  const { LineCounter, parseDocument } = yaml();
  const d = parseDocument(text, { ...YAML_OPTIONS, lineCounter: new LineCounter() });
  if (d.errors.length > 0) {
    throw fail(
      d.errors.map((err) => {
        const pos = err.linePos?.[0];
        return {
          path: '',
          segments: [],
          message: `is not valid YAML${pos ? ` (line ${pos.line}:${pos.col})` : ''}: ${err.message.split('\n')[0] ?? err.code}`,
        };
      }),
    );
  }
  try {
    return d.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    throw fail(whole(`cannot be read: ${e instanceof Error ? e.message : String(e)}`));
  }
}

/**
 * A document file's text, read with a size bound. An unreadable file fails through `fail`; one
 * past `bound` is a LimitError naming its limit.
 */
export function readDocumentFile(
  path: string,
  bound: DocumentBound,
  fail: (issues: readonly SchemaIssue[]) => Error,
): string {
  try {
    return readTextFileBounded(path, bound.maxBytes, bound.limit);
  } catch (e) {
    if (e instanceof LimitError) throw e;
    throw fail(whole(`cannot be read: ${e instanceof Error ? e.message : String(e)}`));
  }
}
