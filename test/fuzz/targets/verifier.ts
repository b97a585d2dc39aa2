/**
 * The verifier's file inputs: policy files (JSON and YAML) and saved evidence.
 *
 * policy-loader: the documented example policies, edited as trees (hostile values, nesting past
 * LIMITS.jsonNestingDepth and far past the stack, `__proto__` keys) and re-serialised as JSON or
 * YAML, or edited as text. Outcome: a Policy or a PolicyError.
 *
 * evidence-verify: genuine evidence from the emulator, edited the same way, parsed as `spdm verify`
 * does, then verify() and acceptanceRecord(). verify() never throws by design: it turns an
 * unexpected exception into a MALFORMED_EVIDENCE reason "the evidence could not be verified: …",
 * which hides a defect, so that reason is a failure here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml, stringify as yamlStringify } from 'yaml';
import { parsePolicyText } from '../../../src/verifier/policy-loader.js';
import { compilePolicy, DEFAULT_POLICY, type Policy } from '../../../src/verifier/policy.js';
import { verify } from '../../../src/verifier/verify.js';
import { acceptanceRecord } from '../../../src/verifier/acceptance.js';
import { DenyList } from '../../../src/verifier/deny-list.js';
import type { TrustSource } from '../../../src/verifier/trust-store.js';
import { parseCertificate } from '../../../src/x509/certificate.js';
import { repoRoot } from '../../support/paths.js';
import { collect, makeDevice, NOW, vendorRoot } from '../../verifier/helpers.js';
import { jsonMutationArb, mutateJson } from '../json-mutate.js';
import { textFromJson, textToJson } from '../mutate.js';
import { defineTarget, expectTyped, FuzzFailure } from '../target.js';

interface TextInput {
  readonly text: string;
  readonly format?: 'json' | 'yaml';
}

const textCodec = {
  toJson: (i: TextInput) => ({
    ...(textToJson(i.text) as { text: string }),
    ...(i.format ? { format: i.format } : {}),
  }),
  fromJson: (j: unknown): TextInput => {
    const o = j as { format?: unknown };
    const text = textFromJson(j as { text: string });
    return { text, ...(o.format === 'json' || o.format === 'yaml' ? { format: o.format } : {}) };
  },
};

/** The example policies of docs/policy.md (YAML and JSON blocks), as documents. */
function examplePolicies(): unknown[] {
  const md = readFileSync(join(repoRoot(), 'docs', 'policy.md'), 'utf8');
  const out: unknown[] = [];
  for (const m of md.matchAll(/```(yaml|json)\n([\s\S]*?)```/g)) {
    const body = m[2] ?? '';
    out.push(m[1] === 'json' ? JSON.parse(body) : parseYaml(body));
  }
  out.push({ version: 1 });
  return out;
}

export const policyLoader = defineTarget<TextInput>({
  name: 'policy-loader',
  what: 'policy files (JSON/YAML): the documented examples with tree and text edits',
  ciRuns: 300,
  prepare: async () => {
    const seeds = examplePolicies();
    return {
      arbitrary: fc
        .tuple(jsonMutationArb(seeds.length), fc.constantFrom<'json' | 'yaml'>('json', 'yaml'), fc.boolean())
        .map(([m, format, tell]) => ({
          text: mutateJson(
            seeds[m.seed],
            m,
            format === 'json' ? (v) => JSON.stringify(v, null, 1) : (v) => yamlStringify(v),
          ),
          ...(tell ? { format } : {}),
        })),
      run: async (i) => {
        await expectTyped(() => parsePolicyText(i.text, { source: 'fuzz', ...(i.format ? { format: i.format } : {}) }));
      },
    };
  },
  ...textCodec,
});

const SAFETY_NET = 'the evidence could not be verified:';

export const evidenceVerify = defineTarget<TextInput>({
  name: 'evidence-verify',
  what: 'saved evidence (genuine, tree/text edited) through parse, verify() and acceptanceRecord()',
  ciRuns: 200,
  prepare: async () => {
    const device = makeDevice();
    const seeds = [
      await collect(device),
      await collect(device, { mode: 'one-by-one' }),
      await collect(makeDevice({ versions: [0x13] })),
    ];
    const trust: TrustSource = { anchors: [parseCertificate(vendorRoot().certificate)], denyList: DenyList.empty() };
    const m1 = seeds[0]?.measurements.find((m) => m.index === 1)?.value ?? '00';
    const policies: Policy[] = [
      DEFAULT_POLICY,
      compilePolicy(
        {
          version: 1,
          evidence: { requireDevicePolicy: true },
          devices: [
            {
              name: 'fuzz',
              match: { pci: { vendorId: '8086' } },
              measurements: { '1': [m1] },
              minSvn: 1,
              unlisted: 'ignore',
            },
          ],
        },
        'fuzz policy',
      ),
    ];
    if (verify(seeds[0], DEFAULT_POLICY, trust, { now: NOW }).status !== 'trusted')
      throw new Error('evidence-verify: the unedited evidence is not trusted; the corpus is broken');
    return {
      arbitrary: jsonMutationArb(seeds.length).map((m) => ({ text: mutateJson(seeds[m.seed], m) })),
      run: async (i) => {
        let doc: unknown;
        try {
          doc = JSON.parse(i.text);
        } catch {
          return; // `spdm verify` reports "is not JSON" before the verifier sees anything
        }
        for (const policy of policies) {
          const v = await expectTyped(() => verify(doc, policy, trust, { now: NOW }));
          if (v instanceof Error) continue;
          const hidden = v.reasons.find((r) => r.message.startsWith(SAFETY_NET));
          if (hidden)
            throw new FuzzFailure('untyped-error', `verify() caught an unexpected exception: ${hidden.message}`);
        }
        await expectTyped(() => acceptanceRecord(doc, { now: NOW }));
      },
    };
  },
  ...textCodec,
});
