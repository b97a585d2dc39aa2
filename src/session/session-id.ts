/**
 * What a secured channel's bytes say before any key touches them: the SessionID a record starts
 * with, and whether a reply is a clear SPDM ERROR instead of a record. Apart from the session
 * state (secure-session.ts) so that a transport can sort what it carries without loading the
 * record layer and its crypto (issue 12, cold start: `spdm authenticate` without a session).
 */
/** The session ID a secured payload names (its first 4 bytes), or undefined when it is too short to hold one. */
export function peekSessionId(record: Uint8Array): number | undefined {
  if (record.length < 4) return undefined;
  return (
    ((record[0] as number) | ((record[1] as number) << 8) | ((record[2] as number) << 16)) +
    (record[3] as number) * 0x1000000
  );
}

/**
 * True when what came back on the secured channel is a clear SPDM ERROR rather than a record:
 * a device that cannot open a record answers ERROR (DecryptError, InvalidSession) outside the
 * session. A record starts with its SessionID, whose low byte is the requester's; our requesters
 * never pick a ReqSessionID that starts like an ERROR (0x1V 0x7F), and libspdm's is 0xFFFF − n.
 */
export function isClearError(reply: Uint8Array, sessionId?: number): boolean {
  if (reply.length < 4 || (sessionId !== undefined && peekSessionId(reply) === sessionId)) return false;
  return ((reply[0] as number) & 0xf0) === 0x10 && reply[1] === 0x7f;
}
