/**
 * The four-bit SlotID fields (GET_MEASUREMENTS SlotIDParam and MEASUREMENTS Param2, GET_ENDPOINT_INFO
 * and ENDPOINT_INFO Param2 bits 3:0): the provisioned public key, slot 0xFF everywhere else, is 0xF
 * there (libspdm sends and expects 0xF). Callers speak of 0xFF; only the wire has the short form.
 */

/** The wire form of `slot` (0-7, or 0xFF the provisioned public key). */
export function slotIdParam(slot: number): number {
  return slot === 0xff ? 0x0f : slot & 0x0f;
}

/** The slot a four-bit field names: 0xF reads as 0xFF. */
export function slotFromParam(param: number): number {
  const slot = param & 0x0f;
  return slot === 0x0f ? 0xff : slot;
}
