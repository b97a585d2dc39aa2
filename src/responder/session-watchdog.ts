/**
 * The responder's heartbeat watchdog. A session whose KEY_EXCHANGE_RSP gave a HeartbeatPeriod
 * P > 0 (both sides with HBEAT_CAP) must hear from the requester: a session that has received no
 * request for more than 2 × P seconds is torn down. libspdm's responder arms its watchdog with
 * 2 × P once FINISH_RSP is sent and resets it on every message of the session; the factor is the
 * one DSP0274 gives for the requester's heartbeat (shared/spec/secured.md §5).
 *
 * Time comes from an injectable clock (milliseconds), so tests move it instead of sleeping. The
 * check runs whenever the responder is asked anything, and on `Responder.expireIdleSessions()`.
 */

export class SessionWatchdog {
  /** Session ID → its timeout in ms and when it last heard a request. */
  private readonly armed = new Map<number, { timeoutMs: number; last: number }>();

  constructor(private readonly now: () => number) {}

  /** Starts watching a session with HeartbeatPeriod `periodSeconds` (0: no heartbeat, never expires). */
  arm(sessionId: number, periodSeconds: number): void {
    if (periodSeconds > 0) this.armed.set(sessionId, { timeoutMs: 2 * periodSeconds * 1000, last: this.now() });
  }

  /** A request of the session arrived. */
  touch(sessionId: number): void {
    const w = this.armed.get(sessionId);
    if (w) w.last = this.now();
  }

  forget(sessionId: number): void {
    this.armed.delete(sessionId);
  }

  /** Sessions silent for longer than their timeout, now (each is forgotten as it is returned). */
  expired(): number[] {
    const t = this.now();
    const out: number[] = [];
    for (const [id, w] of this.armed) {
      if (t - w.last > w.timeoutMs) {
        out.push(id);
        this.armed.delete(id);
      }
    }
    return out;
  }
}
