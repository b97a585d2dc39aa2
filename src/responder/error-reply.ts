/** Thrown inside a responder handler to answer with ERROR (the code, and ExtendedErrorData's Param2). */
export class ErrorReply extends Error {
  constructor(
    readonly errorCode: number,
    readonly errorData = 0,
  ) {
    super(`ERROR 0x${errorCode.toString(16)}`);
  }
}
