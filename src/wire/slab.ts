/**
 * Copies of small messages cut from a shared slab rather than each given a buffer of its own: a
 * Uint8Array over 64 bytes is a backing store outside V8's heap, and making, tracking and sweeping
 * one costs about half a microsecond, most of it in the next scavenge — several times the copy of
 * a message of a few hundred bytes. The in-process loopback copies every request and response
 * both ways; the responses of one authentication with the device emulator were several such
 * buffers, each read once by the requester and dropped with it.
 *
 * A copy's `.buffer` is the slab: code that writes through `.buffer` from offset 0 (a DataView over
 * a buffer it made) must not be handed one, and one kept for long keeps its slab (64 KiB) alive.
 * A slab holds only copies of responses that crossed the loopback, and zeros.
 */
const SLAB_SIZE = 64 * 1024;
/** Larger messages get a buffer of their own: a slab would hold few of them. */
const SLAB_COPY_MAX = 4096;
/** Up to this size a Uint8Array lives in V8's heap, where a plain copy is already cheap. */
const ON_HEAP_MAX = 64;

let slab: ArrayBuffer | undefined;
let slabAt = 0;

/** A copy of `bytes` that shares no memory with it (nor with any other live copy). */
export function slabCopy(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n <= ON_HEAP_MAX || n > SLAB_COPY_MAX) return bytes.slice();
  if (slab === undefined || slabAt + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabAt = 0;
  }
  const out = new Uint8Array(slab, slabAt, n);
  out.set(bytes);
  // 8-byte aligned, as node's Buffer pool aligns its slices.
  slabAt = (slabAt + n + 7) & ~7;
  return out;
}
