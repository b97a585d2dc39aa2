/** The PCIe extended capability walk: found, absent, and lists a device must not be trusted with. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError, SpdmError } from '../../src/wire/errors.js';
import {
  encodeExtendedCapabilityHeader,
  findExtendedCapabilities,
  findExtendedCapability,
  listExtendedCapabilities,
  MemoryConfigSpace,
  PCI_EXT_CAP_ID_DOE,
  type ConfigSpace,
} from '../../src/pci/config-space.js';

const AER = 0x0001;
const DSN = 0x0003;

function space(caps: [offset: number, id: number, next: number][], size = 4096): MemoryConfigSpace {
  const cs = new MemoryConfigSpace(size);
  for (const [offset, id, next] of caps) cs.poke32(offset, encodeExtendedCapabilityHeader(id, 1, next));
  return cs;
}

/** Counts reads so a test can show the walk is bounded. */
function counting(cs: ConfigSpace): ConfigSpace & { reads: number } {
  const c = {
    reads: 0,
    size: cs.size,
    read32: async (o: number) => {
      c.reads++;
      return cs.read32(o);
    },
    write32: (o: number, v: number) => cs.write32(o, v),
  };
  return c;
}

const listError = (e: unknown) =>
  e instanceof DecodeError && e.messageName === 'PCI extended capability list' && e.field === 'Next';

test('finds a capability behind others, and every DOE instance', async () => {
  const cs = space([
    [0x100, AER, 0x148],
    [0x148, DSN, 0x150],
    [0x150, PCI_EXT_CAP_ID_DOE, 0x200],
    [0x200, PCI_EXT_CAP_ID_DOE, 0],
  ]);
  assert.equal(await findExtendedCapability(cs, PCI_EXT_CAP_ID_DOE), 0x150);
  assert.equal(await findExtendedCapability(cs, AER), 0x100);
  assert.deepEqual(await findExtendedCapabilities(cs, PCI_EXT_CAP_ID_DOE), [0x150, 0x200]);
  assert.deepEqual(
    (await listExtendedCapabilities(cs)).map((c) => [c.offset, c.id, c.version, c.next]),
    [
      [0x100, AER, 1, 0x148],
      [0x148, DSN, 1, 0x150],
      [0x150, PCI_EXT_CAP_ID_DOE, 1, 0x200],
      [0x200, PCI_EXT_CAP_ID_DOE, 1, 0],
    ],
  );
});

test('absent: an empty list, a list without it, and conventional 256-byte config space', async () => {
  assert.equal(await findExtendedCapability(space([]), PCI_EXT_CAP_ID_DOE), undefined);
  assert.deepEqual(await listExtendedCapabilities(space([])), []);
  assert.equal(await findExtendedCapability(space([[0x100, AER, 0]]), PCI_EXT_CAP_ID_DOE), undefined);
  const conventional = counting(new MemoryConfigSpace(256));
  assert.equal(await findExtendedCapability(conventional, PCI_EXT_CAP_ID_DOE), undefined);
  assert.equal(conventional.reads, 0, 'no read beyond 256 bytes');
});

test('a loop in the list is a typed error after a bounded number of reads', async () => {
  const self = counting(space([[0x100, AER, 0x100]]));
  await assert.rejects(findExtendedCapability(self, PCI_EXT_CAP_ID_DOE), listError);
  assert.equal(self.reads, 1);
  const cycle = counting(
    space([
      [0x100, AER, 0x180],
      [0x180, DSN, 0x200],
      [0x200, 0x000b, 0x180],
    ]),
  );
  await assert.rejects(
    listExtendedCapabilities(cycle),
    (e: unknown) => listError(e) && (e as DecodeError).offset === 0x200 && /loops/.test((e as Error).message),
  );
  assert.equal(cycle.reads, 3);
});

test('bad pointers: below 0x100, beyond config space, all-ones header', async () => {
  await assert.rejects(
    findExtendedCapability(space([[0x100, AER, 0x40]]), PCI_EXT_CAP_ID_DOE),
    (e: unknown) => listError(e) && /below the extended region/.test((e as Error).message),
  );
  // A 12-bit pointer cannot pass 0xffc, so "beyond" needs a config space that is not 4 KiB: a ConfigSpace of 0x180 bytes.
  const small: ConfigSpace = {
    size: 0x180,
    read32: async (o) => (o === 0x100 ? encodeExtendedCapabilityHeader(AER, 1, 0x200) : 0),
    write32: async () => undefined,
  };
  await assert.rejects(
    findExtendedCapability(small, PCI_EXT_CAP_ID_DOE),
    (e: unknown) => listError(e) && /beyond/.test((e as Error).message),
  );
  const gone = new MemoryConfigSpace(4096);
  gone.poke32(0x100, 0xffffffff);
  await assert.rejects(
    findExtendedCapability(gone, PCI_EXT_CAP_ID_DOE),
    (e: unknown) => e instanceof SpdmError && e.code === 'TRANSPORT_ERROR' && /all ones/.test(e.message),
  );
});

test('the reserved low bits of Next are masked, as PCIe tells software to', async () => {
  const cs = space([[0x100, AER, 0x150]]);
  cs.poke32(0x100, encodeExtendedCapabilityHeader(AER, 1, 0x153)); // 0x150 with both reserved bits set
  cs.poke32(0x150, encodeExtendedCapabilityHeader(PCI_EXT_CAP_ID_DOE, 1, 0));
  assert.equal(await findExtendedCapability(cs, PCI_EXT_CAP_ID_DOE), 0x150);
});

test('the first match is returned even if the list is broken after it', async () => {
  const cs = space([
    [0x100, PCI_EXT_CAP_ID_DOE, 0x180],
    [0x180, AER, 0x100],
  ]);
  assert.equal(await findExtendedCapability(cs, PCI_EXT_CAP_ID_DOE), 0x100);
  await assert.rejects(findExtendedCapabilities(cs, PCI_EXT_CAP_ID_DOE), listError);
});
