/**
 * `spdm provision`: GET_CSR to a file, SET_CERTIFICATE from a chain file (read back afterwards),
 * GET/SET_KEY_PAIR_INFO. Each connects (VCA), reads slot 0's chain when the device has one (so a
 * CSR's requester info can carry the device's key, and a signed check has a key to verify with),
 * runs its request and reports in text or JSON. Exit codes as everywhere (cli/exit-codes.ts).
 */
import { writeFileSync } from 'node:fs';
import { fromHex, toHex } from '../wire/bytes.js';
import { isSpdmError, SpdmError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';
import { readFileBounded } from '../wire/bounded-file.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { encodeSequence, encodeTlv, Tag } from '../x509/der.js';
import { commonNameSubject } from '../x509/csr.js';
import { parseCertificate } from '../x509/certificate.js';
import { chainForSlot } from '../x509/slot-chain.js';
import { certificatesInBytes } from '../verifier/cert-files.js';
import { Requester } from '../requester/requester.js';
import type { KeyPairInfo } from '../requester/key-pair-info.js';
import { EmuSocketTransport } from '../transport/emu-socket.js';
import { parseVersion } from '../spdm/version-text.js';
import { EXIT } from './exit-codes.js';
import { parseHostPort } from './options.js';
import type { DeviceArgs } from './provision-command.js';

const print = (s: string) => void process.stdout.write(`${s}\n`);
const complain = (s: string) => void process.stderr.write(`spdm provision: ${s}\n`);

/** Where the provisioning requests go: the connection, or a secure session on it. */
type Target = Pick<Requester, 'getCsr' | 'setCertificate' | 'getKeyPairInfo' | 'setKeyPairInfo'>;

interface DeviceContext {
  readonly r: Requester;
  readonly t: Target;
  /** Ends the session, if there is one (idempotent): what follows runs in the clear. */
  readonly done: () => Promise<void>;
}

/** What the requester announces with --session: CERT, CHAL, ENCRYPT, MAC, KEY_EX. */
const SESSION_REQUESTER_FLAGS =
  CapabilityFlag.CERT | CapabilityFlag.CHAL | CapabilityFlag.ENCRYPT | CapabilityFlag.MAC | CapabilityFlag.KEY_EX;

/** Connects, runs `body` (inside a session with --session), closes; errors become the exit code and a message (or a JSON outcome). */
async function withDevice(
  o: DeviceArgs,
  body: (d: DeviceContext) => Promise<{ text: string; json: Record<string, unknown> }>,
): Promise<number> {
  let versions: number[] | undefined;
  let target: { host: string; port: number };
  try {
    versions = o.version?.split(',').map((v) => parseVersion(v));
    target = parseHostPort(o.connect ?? '');
  } catch (e) {
    complain(e instanceof Error ? e.message : String(e));
    return EXIT.USAGE;
  }
  let transport: EmuSocketTransport;
  try {
    transport = await EmuSocketTransport.connect({
      ...target,
      transport: o.transport,
      endWith: o.shutdown ? 'shutdown' : 'continue',
    });
  } catch (e) {
    complain(e instanceof Error ? e.message : String(e));
    return EXIT.UNREACHABLE;
  }
  try {
    const requester = new Requester(transport, {
      deviceName: o.connect ?? 'device',
      ...(versions ? { versions } : {}),
      ...(o.session ? { capabilityFlags: SESSION_REQUESTER_FLAGS, session: {} } : {}),
    });
    const c = await requester.connect();
    if (c.capabilities.flags & CapabilityFlag.CERT) {
      const digests = await requester.getDigests();
      if (digests.some((d) => d.slot === 0)) await requester.getCertificateChain(0);
    }
    const session = o.session ? await requester.startSession() : undefined;
    let open = session !== undefined;
    const done = async () => {
      if (!open || !session) return;
      open = false;
      await session.end();
    };
    const { text, json } = await body({ r: requester, t: session ?? requester, done });
    await done();
    print(o.json ? JSON.stringify({ ok: true, ...json }, null, 2) : text);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof TypeError) {
      // An option that does not fit this device (e.g. --key-pair on a connection that is not multi-key).
      complain(e.message);
      return EXIT.USAGE;
    }
    const err = isSpdmError(e) ? e : new SpdmError('DEVICE_ERROR', String(e));
    if (o.json) print(JSON.stringify({ ok: false, errorCode: err.code, reason: err.message }, null, 2));
    else complain(`FAILED ${err.code}: ${err.message}`);
    return EXIT.FAILED;
  } finally {
    await transport.close();
  }
}

/** KeyPairID and CertModel for a request: the given ones (default 1) on a multi-key connection, none otherwise. */
function keyPairArgs(
  r: Requester,
  o: { keyPair?: number; certModel?: number },
): { keyPairId?: number; certModel?: number } {
  if (r.connection.multiKeyConn) return { keyPairId: o.keyPair ?? 1, certModel: o.certModel ?? 1 };
  if (o.keyPair !== undefined || o.certModel !== undefined)
    throw new TypeError('--key-pair and --cert-model are for multi-key connections (SPDM 1.3 MULTI_KEY_CONN)');
  return {};
}

function pemOf(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function runProvisionCsr(
  o: DeviceArgs & { out: string; pem?: boolean; subject?: string; keyPair?: number; certModel?: number },
): Promise<number> {
  return withDevice(o, async ({ r, t }) => {
    let requesterInfo: Uint8Array | undefined;
    if (o.subject !== undefined) {
      // A CertificationRequestInfo proposing the subject; its key field carries the device's current key.
      const chain = r.evidence().slots.find((s) => s.slot === 0)?.certChain;
      const c = r.connection;
      const spki = chain
        ? chainForSlot(fromHex(chain), { version: c.version, hashId: c.hashId }).leaf.spki
        : encodeSequence();
      requesterInfo = encodeSequence(
        encodeTlv(Tag.INTEGER, Uint8Array.of(0)),
        commonNameSubject(o.subject),
        spki,
        encodeTlv(0xa0),
      );
    }
    const { der, csr } = await t.getCsr({ ...keyPairArgs(r, o), ...(requesterInfo ? { requesterInfo } : {}) });
    writeFileSync(o.out, o.pem ? pemOf('CERTIFICATE REQUEST', der) : der);
    const key = csr.publicKey.asymmetricKeyType ?? 'unknown';
    return {
      text: `CSR of ${der.length} bytes written to ${o.out} (${o.pem ? 'PEM' : 'DER'}): ${key} key, signature verified`,
      json: {
        out: o.out,
        format: o.pem ? 'pem' : 'der',
        bytes: der.length,
        keyType: key,
        spki: toHex(csr.spki),
        csr: toHex(der),
      },
    };
  });
}

export function runProvisionSetCertificate(
  o: DeviceArgs & { slot: number; chain?: string; erase?: boolean; keyPair?: number; certModel?: number },
): Promise<number> {
  if ((o.chain === undefined) === (o.erase !== true)) {
    complain('give --chain FILE or --erase');
    return Promise.resolve(EXIT.USAGE);
  }
  let certificates: Uint8Array[] | undefined;
  if (o.chain !== undefined) {
    try {
      const bytes = new Uint8Array(readFileBounded(o.chain, LIMITS.certChainBytes, 'certChainBytes'));
      certificates = certificatesInBytes(bytes, o.chain).map((c) => c.der);
    } catch (e) {
      complain(e instanceof Error ? e.message : String(e));
      return Promise.resolve(EXIT.USAGE);
    }
  }
  return withDevice(o, async ({ r, t, done }) => {
    const kp = keyPairArgs(r, o);
    if (certificates) await t.setCertificate({ slot: o.slot, certificates, ...kp });
    else await t.setCertificate({ slot: o.slot, erase: true, ...(kp.keyPairId ? { keyPairId: kp.keyPairId } : {}) });
    // Read back, in the clear, what the device now answers for the slot. SET_CERTIFICATE_RSP is
    // the device's acceptance; a device may install the chain only at its next reset (libspdm's
    // does), so a slot still answering the old chain is reported as pending, not as a failure.
    await done();
    const digests = await r.getDigests();
    const present = digests.some((d) => d.slot === o.slot);
    if (!certificates) {
      const state = present ? 'pending' : 'erased';
      return {
        text: present
          ? `slot ${o.slot}: erase accepted; the slot still answers until the device applies it`
          : `slot ${o.slot} erased`,
        json: { slot: o.slot, erased: true, readBack: state },
      };
    }
    const leaf = certificates.at(-1) as Uint8Array;
    const subject = parseCertificate(leaf).subject;
    const chain = present ? await r.getCertificateChain(o.slot) : undefined;
    const installed =
      chain !== undefined &&
      Buffer.from(chain)
        .subarray(chain.length - leaf.length)
        .equals(Buffer.from(leaf));
    return {
      text: installed
        ? `slot ${o.slot}: ${certificates.length} certificates installed and read back, leaf ${subject}`
        : `slot ${o.slot}: SET_CERTIFICATE accepted (leaf ${subject}); the slot does not answer it yet: the device may install it at its next reset`,
      json: {
        slot: o.slot,
        certificates: certificates.length,
        leaf: subject,
        readBack: installed ? 'installed' : 'pending',
        ...(chain ? { chain: toHex(chain) } : {}),
      },
    };
  });
}

/** Every key pair through `t`: KeyPairID 1 tells how many there are (as Requester.listKeyPairs does). */
async function listVia(t: Target): Promise<KeyPairInfo[]> {
  const first = await t.getKeyPairInfo(1);
  const out = [first];
  for (let id = 2; id <= first.totalKeyPairs; id++) out.push(await t.getKeyPairInfo(id));
  return out;
}

function formatKeyPair(k: KeyPairInfo): string {
  const h = (n: number) => `0x${n.toString(16)}`;
  return `key pair ${k.keyPairId}/${k.totalKeyPairs}: usage ${h(k.currentKeyUsage)} (may ${h(k.keyUsageCapabilities)}), algorithm ${h(k.currentAsymAlgo)} (may ${h(k.asymAlgoCapabilities)}), slots ${h(k.assocCertSlotMask)}, capabilities ${h(k.capabilities)}`;
}

function keyPairJson(k: KeyPairInfo): Record<string, unknown> {
  return { ...k, publicKeyInfo: toHex(k.publicKeyInfo) };
}

export function runProvisionKeyPairInfo(
  o: DeviceArgs & { keyPair?: number; usage?: number; slots?: number; erase?: boolean; generate?: boolean },
): Promise<number> {
  const changes = [o.usage !== undefined || o.slots !== undefined, o.erase === true, o.generate === true].filter(
    Boolean,
  );
  if (changes.length > 1) {
    complain('--erase, --generate and --usage/--slots are separate operations: give one');
    return Promise.resolve(EXIT.USAGE);
  }
  if (changes.length === 1 && o.keyPair === undefined) {
    complain('a change needs --key-pair');
    return Promise.resolve(EXIT.USAGE);
  }
  return withDevice(o, async ({ t }) => {
    if (changes.length === 1 && o.keyPair !== undefined) {
      if (o.erase) await t.setKeyPairInfo({ keyPairId: o.keyPair, operation: 'erase' });
      else {
        // A change keeps what is not given: the current usage (0), and the current slots, read first.
        const slots = o.slots ?? (await t.getKeyPairInfo(o.keyPair)).assocCertSlotMask;
        await t.setKeyPairInfo({
          keyPairId: o.keyPair,
          operation: o.generate ? 'generate' : 'change',
          desiredKeyUsage: o.usage ?? 0,
          desiredAssocCertSlotMask: o.generate ? 0 : slots,
        });
      }
    }
    const pairs = o.keyPair !== undefined ? [await t.getKeyPairInfo(o.keyPair)] : await listVia(t);
    return { text: pairs.map(formatKeyPair).join('\n'), json: { keyPairs: pairs.map(keyPairJson) } };
  });
}
