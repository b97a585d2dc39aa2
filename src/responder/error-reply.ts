/**
 * How a responder handler says "answer with ERROR": thrown inside a handler (responder.ts and the
 * handler modules beside it), caught where the request is answered and turned into the ERROR
 * message of the negotiated version.
 */
export class ErrorReply extends Error {
  constructor(
    readonly errorCode: number,
    readonly errorData = 0,
    /** ExtendedErrorData (e.g. DataTooLarge's u32 size). */
    readonly extendedData?: Uint8Array,
  ) {
    super(`ERROR 0x${errorCode.toString(16)}`);
  }
}
