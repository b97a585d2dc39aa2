/**
 * Structure-aware mutation of JSON documents (policies, evidence, log lines): walk to a node along
 * a path of child choices and replace, delete, duplicate or wrap it, or give an object a hostile
 * key — then serialise. Plus text-level edits of the serialised form, which reach the parsers.
 */
import fc from 'fast-check';
import { applyEdits, editsArb, type Edit } from './mutate.js';

type Mutable = null | boolean | number | string | Mutable[] | { [k: string]: Mutable };

export interface TreeEdit {
  /** Child choices (index modulo the number of children) from the root; stops early at a leaf. */
  readonly path: readonly number[];
  readonly action: 'replace' | 'delete' | 'duplicate' | 'wrap' | 'add-key';
  /** replace / add-key: which interesting value (modulo the list). */
  readonly value: number;
  readonly key: string;
}

/** Nested arrays this deep: past LIMITS.jsonNestingDepth (64), short of any parser's own limit. */
const DEEP = 200;
/**
 * Stands for arrays nested far deeper than a recursive walk can follow (it would overflow the
 * stack): spliced into the serialised text, since JSON.stringify itself recurses.
 */
const VERY_DEEP_MARKER = 'VERYDEEPNESTINGMARKER';
const VERY_DEEP = 20_000;

function deep(n: number): Mutable {
  let v: Mutable = 0;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}

const INTERESTING: readonly (() => Mutable)[] = [
  () => null,
  () => true,
  () => false,
  () => 0,
  () => -1,
  () => 1.5,
  () => 2 ** 53 + 2,
  () => 1e308,
  () => -0,
  () => 0xffffffff,
  () => 0x100000000,
  () => '',
  () => 'zz',
  () => 'abc',
  () => '0x',
  () => '00',
  () => 'ff'.repeat(33),
  () => 'a'.repeat(5000),
  () => '1970-01-01T00:00:00Z',
  () => '9999-12-31T23:59:59.999Z',
  () => 'not a date',
  () => '\u0000\ud800',
  () => [],
  () => [1, 2, 3],
  () => ({}),
  () => ({ a: 1 }),
  () => deep(20),
  () => deep(DEEP),
  () => VERY_DEEP_MARKER,
];

export const KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'format',
  'version',
  'type',
  'slot',
  'index',
  '',
];

export const treeEditArb: fc.Arbitrary<TreeEdit> = fc.record({
  path: fc.array(fc.nat({ max: 64 }), { maxLength: 8 }),
  action: fc.constantFrom<TreeEdit['action']>(
    'replace',
    'replace',
    'replace',
    'delete',
    'duplicate',
    'wrap',
    'add-key',
  ),
  value: fc.nat({ max: INTERESTING.length - 1 }),
  key: fc.constantFrom(...KEYS),
});

function children(v: Mutable):
  | {
      get: (i: number) => Mutable;
      set: (i: number, x: Mutable) => void;
      del: (i: number) => void;
      dup: (i: number) => void;
      n: number;
    }
  | undefined {
  if (Array.isArray(v)) {
    return {
      n: v.length,
      get: (i) => v[i] as Mutable,
      set: (i, x) => (v[i] = x),
      del: (i) => void v.splice(i, 1),
      dup: (i) => void v.splice(i, 0, structuredClone(v[i] as Mutable)),
    };
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    return {
      n: keys.length,
      get: (i) => v[keys[i] as string] as Mutable,
      set: (i, x) => (v[keys[i] as string] = x),
      del: (i) => void delete v[keys[i] as string],
      dup: (i) => (v[`${keys[i] as string}_copy`] = structuredClone(v[keys[i] as string] as Mutable)),
    };
  }
  return undefined;
}

/** Applies `e` to `doc` in place (the root itself can only be replaced or wrapped). */
function applyTreeEdit(doc: Mutable, e: TreeEdit): Mutable {
  let parent: Mutable | undefined;
  let index = 0;
  let node = doc;
  for (const step of e.path) {
    const c = children(node);
    if (!c || c.n === 0) break;
    parent = node;
    index = step % c.n;
    node = c.get(index);
  }
  const pc = parent === undefined ? undefined : children(parent);
  const put = (x: Mutable): Mutable => {
    if (!pc) return x;
    pc.set(index, x);
    return doc;
  };
  switch (e.action) {
    case 'replace':
      return put((INTERESTING[e.value] as () => Mutable)());
    case 'wrap':
      return put([node]);
    case 'delete':
      if (pc) pc.del(index);
      return doc;
    case 'duplicate':
      if (pc) pc.dup(index);
      return doc;
    case 'add-key':
      if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
        // defineProperty: a "__proto__" own key, as JSON.parse would make it.
        Object.defineProperty(node, e.key, {
          value: (INTERESTING[e.value] as () => Mutable)(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return doc;
  }
}

/** The document with tree edits applied, serialised; then text edits of the serialisation. */
export interface JsonMutation {
  readonly seed: number;
  readonly tree: readonly TreeEdit[];
  readonly text: readonly Edit[];
}

export const jsonMutationArb = (seeds: number): fc.Arbitrary<JsonMutation> =>
  fc.record({
    seed: fc.nat({ max: Math.max(0, seeds - 1) }),
    tree: fc.array(treeEditArb, { maxLength: 3 }),
    text: fc.oneof({ weight: 3, arbitrary: fc.constant([] as Edit[]) }, { weight: 1, arbitrary: editsArb(2) }),
  });

export function mutateJson(
  seed: unknown,
  m: JsonMutation,
  serialise: (v: unknown) => string = (v) => JSON.stringify(v),
): string {
  let doc = structuredClone(seed) as Mutable;
  for (const e of m.tree) doc = applyTreeEdit(doc, e);
  let text = serialise(doc);
  if (text.includes(VERY_DEEP_MARKER)) {
    const nested = `${'['.repeat(VERY_DEEP)}${']'.repeat(VERY_DEEP)}`;
    text = text.replaceAll(`"${VERY_DEEP_MARKER}"`, nested).replaceAll(VERY_DEEP_MARKER, nested);
  }
  if (m.text.length === 0) return text;
  return Buffer.from(applyEdits(new Uint8Array(Buffer.from(text, 'utf8')), m.text)).toString('utf8');
}
