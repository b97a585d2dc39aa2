/**
 * Policy files: JSON or YAML (1.2 core schema, via the `yaml` package), validated against the
 * published schema. Errors name the JSON Pointer path of the bad field and, where the source text
 * allows, its line and column. A file larger than LIMITS.policyFileBytes or nested deeper than
 * LIMITS.jsonNestingDepth is refused with a LimitError before it is parsed.
 */
import { isMap, isScalar, Lexer, LineCounter, parseDocument, Parser } from 'yaml';
import { LIMITS, LimitError } from '../wire/limits.js';
import { checkJsonText, lineColumn } from '../wire/json-depth.js';
import { readTextFileBounded } from '../wire/bounded-file.js';
import { compilePolicy, PolicyError, type Policy } from './policy.js';
import type { SchemaIssue } from './schema.js';

export type PolicyFormat = 'json' | 'yaml';

export interface ParsePolicyOptions {
  /** Default: by file extension, else JSON when the text starts with `{`, else YAML. */
  readonly format?: PolicyFormat;
  /** Name used in messages (a file name). */
  readonly source?: string;
}

export const YAML_OPTIONS = { uniqueKeys: true, maxAliasCount: 100, prettyErrors: true, strict: true } as const;

export function formatOf(text: string, o: ParsePolicyOptions): PolicyFormat {
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

/** Parses and compiles policy text. Throws PolicyError naming every problem, or a LimitError for a bound. */
export function parsePolicyText(text: string, o: ParsePolicyOptions = {}): Policy {
  const source = o.source ?? 'policy';
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > LIMITS.policyFileBytes)
    throw new LimitError(
      'policyFileBytes',
      bytes,
      LIMITS.policyFileBytes,
      source,
      `${source} is ${bytes} bytes, more than the policyFileBytes limit of ${LIMITS.policyFileBytes}`,
    );
  const format = formatOf(text, o);
  let doc: unknown;
  if (format === 'json') {
    checkJsonText(text, source);
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new PolicyError(source, [
        { path: '', segments: [], message: `is not valid JSON: ${e instanceof Error ? e.message : String(e)}` },
      ]);
    }
  } else {
    checkYamlNesting(text, source);
    const lc = new LineCounter();
    const d = parseDocument(text, { ...YAML_OPTIONS, lineCounter: lc });
    if (d.errors.length > 0) {
      throw new PolicyError(
        source,
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
      doc = d.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new PolicyError(source, [
        { path: '', segments: [], message: `cannot be read: ${e instanceof Error ? e.message : String(e)}` },
      ]);
    }
  }
  try {
    return compilePolicy(doc, source);
  } catch (e) {
    if (e instanceof PolicyError) throw new PolicyError(source, locate(text, e.issues));
    throw e;
  }
}

/**
 * Reads, parses and compiles a policy file. Throws PolicyError (a DECODE_ERROR SpdmError), or a
 * LimitError (LIMIT_EXCEEDED) for a file too large or too deeply nested.
 */
export function loadPolicyFile(path: string, format?: PolicyFormat): Policy {
  let text: string;
  try {
    text = readTextFileBounded(path, LIMITS.policyFileBytes, 'policyFileBytes');
  } catch (e) {
    if (e instanceof LimitError) throw e;
    throw new PolicyError(path, [
      { path: '', segments: [], message: `cannot be read: ${e instanceof Error ? e.message : String(e)}` },
    ]);
  }
  return parsePolicyText(text, { source: path, ...(format ? { format } : {}) });
}
