/**
 * Nesting checks for JSON-shaped input, without recursion. V8's JSON.parse copes with any depth,
 * but everything that walks the result afterwards (a schema validator, JSON.stringify, a YAML
 * composer) recurses and dies with "Maximum call stack size exceeded", a message that names
 * neither the file nor the problem. These checks run first and fail with a LimitError that does.
 */
import { LIMITS, LimitError } from './limits.js';

export interface JsonTextBounds {
  /** Deepest nesting of arrays and objects (default LIMITS.jsonNestingDepth). */
  readonly maxDepth?: number;
  /** Most items (array elements and object members, counted by their separators) in the whole text. */
  readonly maxItems?: number;
  /** Name of the items bound in the error (the LIMITS entry or option that sets it). */
  readonly itemsLimit?: string;
  /** Line number of the text's first line (a line of a JSON Lines file), default 1. */
  readonly firstLine?: number;
}

/** 1-based line and column of a UTF-16 offset, counted without copying the text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Scans JSON text for brackets outside strings and throws a LimitError naming `where`, the line
 * and column, and the bound when the nesting (or the item count) exceeds it. Malformed text is
 * not this function's business: JSON.parse reports that afterwards.
 */
export function checkJsonText(text: string, where: string, bounds: JsonTextBounds = {}): void {
  const maxDepth = bounds.maxDepth ?? LIMITS.jsonNestingDepth;
  const at = (i: number) => {
    const p = lineColumn(text, i);
    return `${where ? `${where} ` : ''}line ${p.line + (bounds.firstLine ?? 1) - 1}:${p.column}`;
  };
  const maxItems = bounds.maxItems ?? Infinity;
  let depth = 0;
  let items = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) {
        const w = at(i);
        throw new LimitError(
          'jsonNestingDepth',
          depth,
          maxDepth,
          w,
          `${w}: arrays and objects nested more than ${maxDepth} deep (the jsonNestingDepth limit)`,
        );
      }
      if (++items > maxItems) throw itemsError(at(i), maxItems, bounds.itemsLimit);
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth = Math.max(0, depth - 1);
    else if (c === COMMA && ++items > maxItems) throw itemsError(at(i), maxItems, bounds.itemsLimit);
  }
}

function itemsError(where: string, max: number, limit = 'items'): LimitError {
  return new LimitError(limit, max + 1, max, where, `${where}: more than ${max} JSON values (the ${limit} limit)`);
}

/** Where a parsed value nests too deep: its JSON Pointer and path segments. */
export interface TooDeep {
  readonly path: string;
  readonly segments: readonly (string | number)[];
}

interface WalkNode {
  readonly v: unknown;
  readonly depth: number;
  readonly key: string | number | undefined;
  readonly parent: WalkNode | undefined;
}

/** The first array or object of a parsed value nested deeper than `maxDepth` (default LIMITS.jsonNestingDepth), if any. */
export function tooDeepAt(value: unknown, maxDepth: number = LIMITS.jsonNestingDepth): TooDeep | undefined {
  // Depth-first with an explicit stack; a value deeper than the bound is never walked past it.
  const stack: WalkNode[] = [{ v: value, depth: 0, key: undefined, parent: undefined }];
  const seenAt = new Map<object, number>();
  for (let top = stack.pop(); top; top = stack.pop()) {
    const { v, depth } = top;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > maxDepth) return pathOf(top);
    // A value built in code (or by YAML aliases) may share sub-objects: one is walked again only
    // when reached deeper than before, so a cycle ends as "too deep" and the work stays bounded.
    const before = seenAt.get(v);
    if (before !== undefined && before >= depth) continue;
    seenAt.set(v, depth);
    if (Array.isArray(v))
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1, key: i, parent: top });
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, depth: depth + 1, key: k, parent: top });
  }
  return undefined;
}

function pathOf(n: WalkNode): TooDeep {
  const segments: (string | number)[] = [];
  for (let x: WalkNode | undefined = n; x && x.key !== undefined; x = x.parent) segments.push(x.key);
  segments.reverse();
  return { segments, path: segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('') };
}
