/** `spdm`'s exit codes, shared by every command (kept apart so main.ts can map errors without loading a command). */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, UNREACHABLE: 3 } as const;
