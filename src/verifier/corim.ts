/**
 * Reference values from an IETF CoRIM (draft-ietf-rats-corim), as device entries of a policy
 * document. The subset read:
 *
 *   corim          = #6.501(corim-map) (optionally inside #6.500), unsigned only
 *   corim-map      = { 0: id, 1: [ + #6.506(bytes .cbor concise-mid-tag / concise-mid-tag) ] }
 *   concise-mid-tag= { 4: triples-map }, triples-map = { 0: [ + [ environment-map, [ + measurement-map ] ] ] }
 *   environment-map= { 0: class-map { 1: vendor, 2: model } }
 *   measurement-map= { 0: mkey (uint = SPDM measurement index), 1: measurement-values-map }
 *   measurement-values-map = { 1: svn (uint / #6.552 exact / #6.553 minimum),
 *                              2: digests [ + [ alg, bytes ] ], 4: raw-value (bytes / #6.560(bytes)) }
 *
 * Every digest listed for an index becomes an acceptable value of that index (the SPDM
 * measurement hash decides which one the device reports); a raw value is compared as is; an exact
 * SVN becomes the acceptable raw value of its index (u64 little-endian), a minimum SVN `minSvn`.
 * What is not understood (signed CoRIMs, other triples, other measurement values, non-integer
 * keys) is listed in `warnings`, never silently dropped.
 */
import { decode, Tag } from 'cbor2';
import { toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';

/** A device entry in policy-document form (goes through compilePolicy like any other). */
export interface CorimDeviceEntry {
  name: string;
  match: Record<string, unknown>;
  measurements: Record<string, string[]>;
  minSvn?: string;
  svnIndex?: number;
  unlisted?: 'reject' | 'ignore';
}

export interface CorimEnvironment {
  readonly vendor?: string;
  readonly model?: string;
}

export interface CorimImport {
  readonly devices: CorimDeviceEntry[];
  readonly warnings: string[];
}

export interface CorimImportOptions {
  /** How each environment is recognised in evidence (e.g. its PCI IDs): a policy `match` object. */
  readonly match: (env: CorimEnvironment) => Record<string, unknown>;
  /** Device entry name (default "<vendor> <model>"). */
  readonly name?: (env: CorimEnvironment) => string;
}

const TAG_CORIM = 500;
const TAG_CORIM_MAP = 501;
const TAG_SIGNED_CORIM = 502;
const TAG_COSE_SIGN1 = 18;
const TAG_COMID = 506;
const TAG_SVN_EXACT = 552;
const TAG_SVN_MIN = 553;
const TAG_RAW_BYTES = 560;

function bad(msg: string): never {
  throw new SpdmError('DECODE_ERROR', `CoRIM: ${msg}`);
}

function get(m: unknown, k: number): unknown {
  return m instanceof Map ? m.get(k) : undefined;
}

function untag(v: unknown, tag: number): unknown {
  return v instanceof Tag && Number(v.tag) === tag ? v.contents : v;
}

function decodeCbor(bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes);
  } catch (e) {
    return bad(`${what} is not CBOR: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function svnValue(v: unknown): bigint | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0
    ? BigInt(v)
    : typeof v === 'bigint' && v >= 0n
      ? v
      : undefined;
}

function u64le(v: bigint): string {
  let h = '';
  for (let i = 0n; i < 8n; i++) h += ((v >> (8n * i)) & 0xffn).toString(16).padStart(2, '0');
  return h;
}

/** Reads the reference triples of a CoRIM into policy device entries. Throws SpdmError for input that is not a CoRIM. */
export function importCorim(bytes: Uint8Array, o: CorimImportOptions): CorimImport {
  const warnings: string[] = [];
  let top = decodeCbor(bytes, 'the file');
  top = untag(top, TAG_CORIM);
  if (top instanceof Tag && [TAG_SIGNED_CORIM, TAG_COSE_SIGN1].includes(Number(top.tag)))
    bad('signed CoRIMs are not supported: verify the COSE signature and import the payload');
  const corim = untag(top, TAG_CORIM_MAP);
  if (!(corim instanceof Map)) bad('not a corim-map');
  const tags = get(corim, 1);
  if (!Array.isArray(tags) || tags.length === 0) bad('corim-map has no tags (key 1)');

  const byEnv = new Map<string, { env: CorimEnvironment; entry: CorimDeviceEntry }>();
  tags.forEach((t, ti) => {
    if (!(t instanceof Tag) || Number(t.tag) !== TAG_COMID) {
      warnings.push(`tag ${ti} is not a CoMID (#6.${TAG_COMID}): skipped`);
      return;
    }
    const comid = t.contents instanceof Uint8Array ? decodeCbor(t.contents, `CoMID ${ti}`) : t.contents;
    const triples = get(comid, 4);
    if (!(triples instanceof Map)) bad(`CoMID ${ti} has no triples-map (key 4)`);
    for (const k of triples.keys())
      if (k !== 0) warnings.push(`CoMID ${ti}: triples of kind ${String(k)} are not reference values: skipped`);
    const refs = get(triples, 0);
    if (refs === undefined) return;
    if (!Array.isArray(refs)) bad(`CoMID ${ti}: reference-triples is not an array`);
    refs.forEach((rec, ri) => {
      const where = `CoMID ${ti} reference triple ${ri}`;
      if (!Array.isArray(rec) || rec.length !== 2) bad(`${where} is not [environment-map, measurements]`);
      const cls = get(rec[0], 0);
      const vendor = get(cls, 1);
      const model = get(cls, 2);
      const env: CorimEnvironment = {
        ...(typeof vendor === 'string' ? { vendor } : {}),
        ...(typeof model === 'string' ? { model } : {}),
      };
      const key = `${env.vendor ?? ''}\u0000${env.model ?? ''}`;
      let slot = byEnv.get(key);
      if (!slot) {
        const name =
          o.name?.(env) ??
          ([env.vendor, env.model].filter((x) => x !== undefined).join(' ') || `CoRIM environment ${byEnv.size + 1}`);
        slot = { env, entry: { name, match: o.match(env), measurements: {} } };
        byEnv.set(key, slot);
      }
      const entry = slot.entry;
      const maps = Array.isArray(rec[1]) ? rec[1] : [rec[1]];
      maps.forEach((mm, mi) => {
        const at = `${where} measurement ${mi}`;
        const mkey = get(mm, 0);
        const index = typeof mkey === 'number' ? mkey : typeof mkey === 'bigint' ? Number(mkey) : undefined;
        if (index === undefined || !Number.isInteger(index) || index < 1 || index > 254) {
          warnings.push(`${at}: mkey ${String(mkey)} is not an SPDM measurement index (1..254): skipped`);
          return;
        }
        const mval = get(mm, 1);
        if (!(mval instanceof Map)) bad(`${at}: no measurement-values-map (key 1)`);
        const accept = (hex: string) => {
          const list = (entry.measurements[String(index)] ??= []);
          if (!list.includes(hex)) list.push(hex);
        };
        for (const [k, v] of mval) {
          if (k === 2) {
            if (!Array.isArray(v)) bad(`${at}: digests is not an array`);
            for (const d of v) {
              if (!Array.isArray(d) || d.length !== 2 || !(d[1] instanceof Uint8Array))
                bad(`${at}: a digest is not [alg, bytes]`);
              accept(toHex(d[1]));
            }
          } else if (k === 4) {
            const raw = untag(v, TAG_RAW_BYTES);
            if (!(raw instanceof Uint8Array)) {
              warnings.push(`${at}: raw-value that is not a byte string: skipped`);
              continue;
            }
            accept(toHex(raw));
          } else if (k === 1) {
            if (v instanceof Tag && Number(v.tag) === TAG_SVN_MIN) {
              const min = svnValue(v.contents);
              if (min === undefined) bad(`${at}: min-svn is not an unsigned integer`);
              entry.minSvn = min.toString();
              entry.svnIndex = index;
            } else {
              const exact = svnValue(untag(v, TAG_SVN_EXACT));
              if (exact === undefined) bad(`${at}: svn is not an unsigned integer`);
              accept(u64le(exact));
            }
          } else {
            warnings.push(`${at}: measurement value ${String(k)} is not used for SPDM measurements: skipped`);
          }
        }
      });
    });
  });
  const devices = [...byEnv.values()].map((s) => s.entry);
  if (devices.length === 0) warnings.push('the CoRIM holds no reference values');
  return { devices, warnings };
}
