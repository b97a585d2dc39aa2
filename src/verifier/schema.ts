/**
 * A small JSON Schema (2020-12) validator for the keywords the policy schema uses, written here
 * rather than pulling in ajv: the schema is ours, the subset is small, and the error paths and
 * sentences are exactly what a person editing a policy file needs ("/devices/0/match/pci/vendorId:
 * must be a string of 4 hex digits"). A keyword the validator does not implement is an error when
 * the schema is compiled, so the published schema and the validator cannot drift apart silently.
 */
import { LIMITS } from '../wire/limits.js';
import { tooDeepAt } from '../wire/json-depth.js';

export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

export interface SchemaIssue {
  /** JSON Pointer of the offending value ('' for the document itself). */
  readonly path: string;
  /** Path segments (property names and array indices), for locating the value in a YAML/JSON source. */
  readonly segments: readonly (string | number)[];
  readonly message: string;
}

const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  '$defs',
  'errorMessage',
  'deprecated',
]);
const ASSERTIONS = new Set([
  '$ref',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'minProperties',
  'maxProperties',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'enum',
  'const',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'anyOf',
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = jsonType(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

function pointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export class SchemaValidator {
  private readonly regexCache = new Map<string, RegExp>();

  /** Checks that `root` uses only supported keywords and that every $ref resolves. Throws otherwise. */
  constructor(private readonly root: JsonSchema) {
    this.compile(root, '#');
  }

  private compile(s: unknown, at: string): void {
    if (typeof s === 'boolean') return;
    if (!isObject(s)) throw new Error(`schema ${at}: not a schema`);
    for (const [k, v] of Object.entries(s)) {
      if (ANNOTATIONS.has(k)) {
        if (k === '$defs' && isObject(v)) for (const [n, d] of Object.entries(v)) this.compile(d, `${at}/$defs/${n}`);
        continue;
      }
      if (!ASSERTIONS.has(k)) throw new Error(`schema ${at}: keyword "${k}" is not supported by this validator`);
      if (k === 'properties' || k === 'patternProperties') {
        if (!isObject(v)) throw new Error(`schema ${at}/${k}: must be an object`);
        for (const [n, d] of Object.entries(v)) {
          if (k === 'patternProperties') this.regex(n);
          this.compile(d, `${at}/${k}/${n}`);
        }
      } else if (k === 'items' || k === 'additionalProperties') {
        this.compile(v, `${at}/${k}`);
      } else if (k === 'anyOf') {
        if (!Array.isArray(v) || v.length === 0) throw new Error(`schema ${at}/anyOf: must be a non-empty array`);
        v.forEach((d, i) => this.compile(d, `${at}/anyOf/${i}`));
      } else if (k === '$ref') {
        this.resolve(v, at);
      } else if (k === 'pattern') {
        if (typeof v !== 'string') throw new Error(`schema ${at}/pattern: must be a string`);
        this.regex(v);
      }
    }
  }

  private regex(p: string): RegExp {
    let r = this.regexCache.get(p);
    if (!r) {
      r = new RegExp(p, 'u');
      this.regexCache.set(p, r);
    }
    return r;
  }

  private resolve(ref: unknown, at: string): JsonSchema {
    if (typeof ref !== 'string' || !ref.startsWith('#/$defs/'))
      throw new Error(`schema ${at}: only local "#/$defs/..." references are supported, got ${describe(ref)}`);
    const defs = isObject(this.root) ? this.root['$defs'] : undefined;
    const target = isObject(defs) ? defs[ref.slice('#/$defs/'.length)] : undefined;
    if (typeof target !== 'boolean' && !isObject(target)) throw new Error(`schema ${at}: unresolved reference ${ref}`);
    return target;
  }

  /**
   * Every problem with `value`, in document order (capped at `max`). A value nested deeper than
   * LIMITS.jsonNestingDepth is one problem, at the path where it goes too deep: the checks below
   * (and the descriptions in their messages) recurse, and would otherwise overflow the stack.
   */
  validate(value: unknown, max = 50): SchemaIssue[] {
    const deep = tooDeepAt(value, LIMITS.jsonNestingDepth);
    if (deep)
      return [
        {
          path: deep.path,
          segments: deep.segments,
          message: `arrays and objects nested more than ${LIMITS.jsonNestingDepth} deep (the jsonNestingDepth limit)`,
        },
      ];
    const issues: SchemaIssue[] = [];
    this.check(this.root, value, [], issues);
    return issues.slice(0, max);
  }

  private check(schema: JsonSchema, v: unknown, path: (string | number)[], out: SchemaIssue[]): void {
    const add = (message: string, at: (string | number)[] = path) =>
      out.push({ path: pointer(at), segments: [...at], message });
    if (schema === true) return;
    if (schema === false) {
      add('is not allowed here');
      return;
    }
    const s = schema;
    if (s['$ref'] !== undefined) this.check(this.resolve(s['$ref'], pointer(path)), v, path, out);

    const type = s['type'];
    if (type !== undefined) {
      const types = Array.isArray(type) ? (type as string[]) : [type as string];
      if (!types.some((t) => typeMatches(v, t))) {
        const hint =
          typeof s['description'] === 'string' && jsonType(v) !== 'object' && jsonType(v) !== 'array'
            ? ` (${s['description']})`
            : '';
        add(
          `must be ${types.map((t) => (t === 'integer' ? 'an integer' : t === 'object' || t === 'array' ? `an ${t}` : `a ${t}`)).join(' or ')}, not ${jsonType(v)} ${describe(v)}${hint}`,
        );
        return;
      }
    }
    if (s['const'] !== undefined && !deepEqual(v, s['const'])) add(`must be ${describe(s['const'])}`);
    if (Array.isArray(s['enum']) && !s['enum'].some((e) => deepEqual(e, v)))
      add(`must be one of ${s['enum'].map(describe).join(', ')}, not ${describe(v)}`);

    if (typeof v === 'string') {
      const len = [...v].length;
      if (typeof s['minLength'] === 'number' && len < s['minLength'])
        add(s['minLength'] === 1 ? 'must not be empty' : `must be at least ${s['minLength']} characters long`);
      if (typeof s['maxLength'] === 'number' && len > s['maxLength'])
        add(`must be at most ${s['maxLength']} characters long`);
      if (typeof s['pattern'] === 'string' && !this.regex(s['pattern']).test(v)) {
        add(
          `${describe(v)} is not ${typeof s['description'] === 'string' ? s['description'] : `of the form /${s['pattern']}/`}`,
        );
      }
    }
    if (typeof v === 'number') {
      if (typeof s['minimum'] === 'number' && v < s['minimum']) add(`must be at least ${s['minimum']}, not ${v}`);
      if (typeof s['maximum'] === 'number' && v > s['maximum']) add(`must be at most ${s['maximum']}, not ${v}`);
    }
    if (Array.isArray(v)) {
      if (typeof s['minItems'] === 'number' && v.length < s['minItems'])
        add(`must hold at least ${s['minItems']} item${s['minItems'] === 1 ? '' : 's'}`);
      if (typeof s['maxItems'] === 'number' && v.length > s['maxItems'])
        add(`must hold at most ${s['maxItems']} items`);
      if (s['uniqueItems'] === true) {
        v.forEach((x, i) => {
          const j = v.findIndex((y) => deepEqual(x, y));
          if (j < i) add(`repeats item ${j} (${describe(x)})`, [...path, i]);
        });
      }
      if (s['items'] !== undefined) v.forEach((x, i) => this.check(s['items'] as JsonSchema, x, [...path, i], out));
    }
    if (isObject(v)) {
      const keys = Object.keys(v);
      if (typeof s['minProperties'] === 'number' && keys.length < s['minProperties'])
        add(
          `must have at least ${s['minProperties']} propert${s['minProperties'] === 1 ? 'y' : 'ies'}${isObject(s['properties']) ? ` of ${Object.keys(s['properties']).join(', ')}` : ''}`,
        );
      if (typeof s['maxProperties'] === 'number' && keys.length > s['maxProperties'])
        add(`must have at most ${s['maxProperties']} properties`);
      if (Array.isArray(s['required'])) {
        for (const r of s['required'] as string[])
          if (!Object.hasOwn(v, r)) add(`is missing the required property "${r}"`);
      }
      const props = isObject(s['properties']) ? s['properties'] : {};
      const patterns = isObject(s['patternProperties']) ? Object.entries(s['patternProperties']) : [];
      for (const k of keys) {
        let matched = false;
        if (Object.hasOwn(props, k)) {
          matched = true;
          this.check(props[k] as JsonSchema, v[k], [...path, k], out);
        }
        for (const [p, ps] of patterns) {
          if (this.regex(p).test(k)) {
            matched = true;
            this.check(ps as JsonSchema, v[k], [...path, k], out);
          }
        }
        if (!matched && s['additionalProperties'] !== undefined) {
          if (s['additionalProperties'] === false) {
            const allowed = Object.keys(props);
            add(
              `unknown property "${k}"${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : patterns.length > 0 ? ` (keys must match /${patterns.map(([p]) => p).join('/ or /')}/)` : ''}`,
              [...path, k],
            );
          } else {
            this.check(s['additionalProperties'] as JsonSchema, v[k], [...path, k], out);
          }
        }
      }
    }
    if (Array.isArray(s['anyOf'])) {
      const branches = s['anyOf'] as JsonSchema[];
      const results = branches.map((b) => {
        const o: SchemaIssue[] = [];
        this.check(b, v, path, o);
        return o;
      });
      if (!results.some((r) => r.length === 0)) {
        // Report the branch whose type fits the value, when exactly one does; otherwise summarise.
        const fitting = branches
          .map((b, i) => ({ b, i }))
          .filter(({ b }) => {
            const t = typeof b === 'object' ? b['type'] : undefined;
            return (
              t === undefined || (Array.isArray(t) ? (t as string[]) : [t as string]).some((x) => typeMatches(v, x))
            );
          });
        const only = fitting.length === 1 ? fitting[0] : undefined;
        if (only) out.push(...(results[only.i] ?? []));
        else
          add(
            `must match one of: ${branches.map((b) => (typeof b === 'object' && typeof b['description'] === 'string' ? b['description'] : describe(b))).join('; ')}`,
          );
      }
    }
  }
}
