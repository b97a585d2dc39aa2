/**
 * Policy files: JSON or YAML (1.2 core schema, via the `yaml` package), validated against the
 * published schema. Errors name the JSON Pointer path of the bad field and, where the source text
 * allows, its line and column. A file larger than LIMITS.policyFileBytes or nested deeper than
 * LIMITS.jsonNestingDepth is refused with a LimitError before it is parsed.
 */
import { createHash } from 'node:crypto';
import { LIMITS } from '../wire/limits.js';
import { compilePolicy, PolicyError, type Policy } from './policy.js';
import {
  locate,
  parseDocumentText,
  readDocumentFile,
  type DocumentBound,
  type DocumentFormat,
  type DocumentTextOptions,
} from './document-text.js';

export type PolicyFormat = DocumentFormat;
export type ParsePolicyOptions = DocumentTextOptions;

/** Policy files, and platform files with them: at most LIMITS.policyFileBytes. */
export const POLICY_BOUND: DocumentBound = { maxBytes: LIMITS.policyFileBytes, limit: 'policyFileBytes' };

/** Parses and compiles policy text. Throws PolicyError naming every problem, or a LimitError for a bound. */
export function parsePolicyText(text: string, o: ParsePolicyOptions = {}): Policy {
  const source = o.source ?? 'policy';
  const doc = parseDocumentText(text, { ...o, source }, POLICY_BOUND, (issues) => new PolicyError(source, issues));
  try {
    return { ...compilePolicy(doc, source), sha256: createHash('sha256').update(text, 'utf8').digest('hex') };
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
  const text = readDocumentFile(path, POLICY_BOUND, (i) => new PolicyError(path, i));
  return parsePolicyText(text, { source: path, ...(format ? { format } : {}) });
}
