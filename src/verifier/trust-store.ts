/**
 * The trust store: root (or other anchor) certificates device chains must lead to — the
 * equivalent of the kernel's `.cma` keyring — and the deny-list (its `.blacklist`). Both come from
 * files or directories and can be reloaded while running: `reload()` re-reads every source and
 * swaps the new state in atomically, keeping the old one if any source fails; `watch()` reloads
 * when a source changes.
 */
import { watch as fsWatch, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parseCertificate, type ParsedCertificate } from '../x509/certificate.js';
import { loadCertificates, TrustSourceError } from './cert-files.js';
import { DenyList, loadDenyList } from './deny-list.js';

/** What verify() needs from a trust store. */
export interface TrustSource {
  readonly anchors: readonly ParsedCertificate[];
  readonly denyList: DenyList;
}

export interface TrustStoreOptions {
  /** Files or directories of PEM/DER root certificates. */
  readonly anchors?: string | readonly string[];
  /** Files or directories of deny-list entries (see deny-list.ts for the formats). */
  readonly deny?: string | readonly string[];
  /** Anchors given directly (DER or parsed), kept across reloads. */
  readonly certificates?: readonly (Uint8Array | ParsedCertificate)[];
  /** Deny entries given directly, kept across reloads. */
  readonly denyList?: DenyList;
  /** Reload when a source file or directory changes (fs.watch). */
  readonly watch?: boolean;
  /** Quiet period after the last change before reloading (default 100 ms). */
  readonly watchDebounceMs?: number;
  /** Called after every reload, successful or not. */
  readonly onReload?: (result: ReloadResult) => void;
}

export interface ReloadResult {
  readonly ok: boolean;
  /** Increments on every successful load. */
  readonly generation: number;
  readonly anchors: number;
  readonly denyEntries: number;
  /** Why the reload failed; the previous state stays in force. */
  readonly error?: string;
}

function list(v: string | readonly string[] | undefined): readonly string[] {
  return v === undefined ? [] : typeof v === 'string' ? [v] : v;
}

interface State {
  readonly anchors: readonly ParsedCertificate[];
  readonly denyList: DenyList;
}

/**
 * The roots a verifier accepts and the deny-list it applies, read from files or directories (PEM
 * or DER) or given in memory. With `watch` it reloads when a source changes; a reload that fails
 * keeps the previous state in force.
 *
 * @example
 * ```ts
 * import { TrustStore, verify } from 'spdmkit';
 *
 * const trust = new TrustStore({
 *   anchors: ['/etc/spdm/roots'],
 *   deny: '/etc/spdm/deny.txt',
 *   watch: true,
 *   onReload: (r) => console.log(r.ok ? `generation ${r.generation}: ${r.anchors} roots` : r.error),
 * });
 * const verdict = verify(evidence, undefined, trust);
 * trust.close();
 * ```
 */
export class TrustStore implements TrustSource {
  private state: State;
  private gen = 0;
  private readonly anchorPaths: readonly string[];
  private readonly denyPaths: readonly string[];
  private readonly fixedAnchors: readonly ParsedCertificate[];
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** Loads every source; throws TrustSourceError when one cannot be read or parsed. */
  constructor(private readonly opts: TrustStoreOptions = {}) {
    this.anchorPaths = list(opts.anchors);
    this.denyPaths = list(opts.deny);
    this.fixedAnchors = (opts.certificates ?? []).map((c) => (c instanceof Uint8Array ? parseCertificate(c) : c));
    this.state = this.read();
    this.gen = 1;
    if (opts.watch) this.watch();
  }

  /** A store over anchors given in memory, with an optional deny-list. */
  static fromCertificates(certificates: readonly (Uint8Array | ParsedCertificate)[], denyList?: DenyList): TrustStore {
    return new TrustStore({ certificates, ...(denyList ? { denyList } : {}) });
  }

  get anchors(): readonly ParsedCertificate[] {
    return this.state.anchors;
  }

  get denyList(): DenyList {
    return this.state.denyList;
  }

  get generation(): number {
    return this.gen;
  }

  private read(): State {
    const anchors: ParsedCertificate[] = [...this.fixedAnchors];
    for (const p of this.anchorPaths) anchors.push(...loadCertificates(p));
    if (anchors.length === 0 && this.anchorPaths.length > 0)
      throw new TrustSourceError(`trust anchors: no certificate found in ${this.anchorPaths.join(', ')}`);
    const denyList = this.denyPaths.length > 0 ? loadDenyList(this.denyPaths) : new DenyList();
    const fixed = this.opts.denyList?.entries();
    if (fixed) {
      for (const f of fixed.fingerprints) denyList.addFingerprint(f);
      for (const e of fixed.issuerSerial) denyList.addIssuerSerial(e);
    }
    // One anchor per distinct certificate.
    const seen = new Set<string>();
    const unique = anchors.filter((a) =>
      seen.has(a.fingerprintSha256) ? false : (seen.add(a.fingerprintSha256), true),
    );
    return { anchors: unique, denyList };
  }

  /** Re-reads every source. On failure the previous anchors and deny-list stay in force. Never throws. */
  reload(): ReloadResult {
    let result: ReloadResult;
    try {
      this.state = this.read();
      this.gen++;
      result = {
        ok: true,
        generation: this.gen,
        anchors: this.state.anchors.length,
        denyEntries: this.state.denyList.size,
      };
    } catch (e) {
      result = {
        ok: false,
        generation: this.gen,
        anchors: this.state.anchors.length,
        denyEntries: this.state.denyList.size,
        error: e instanceof Error ? e.message : String(e),
      };
    }
    this.opts.onReload?.(result);
    return result;
  }

  /**
   * Watches the sources and reloads after changes settle. A file is watched through its
   * directory, so editors that replace files (write + rename) are followed. Watchers do not keep
   * the process alive; close() stops them.
   */
  watch(): this {
    if (this.watchers.length > 0) return this;
    const debounce = this.opts.watchDebounceMs ?? 100;
    const schedule = () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.reload();
      }, debounce);
      this.timer.unref();
    };
    for (const p of [...this.anchorPaths, ...this.denyPaths]) {
      let isDir = false;
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        // Watch the directory that should hold it: the file may appear later.
      }
      const dir = isDir ? p : dirname(p);
      const name = isDir ? undefined : basename(p);
      try {
        const w = fsWatch(dir, { persistent: false }, (_event, file) => {
          if (name === undefined || file === null || file === name) schedule();
        });
        w.on('error', () => schedule());
        w.unref();
        this.watchers.push(w);
      } catch (e) {
        this.opts.onReload?.({
          ok: false,
          generation: this.gen,
          anchors: this.state.anchors.length,
          denyEntries: this.state.denyList.size,
          error: `cannot watch ${dir}: ${e instanceof Error ? e.message : String(e)}`,
        });
      }
    }
    return this;
  }

  /** Stops watching. */
  close(): void {
    for (const w of this.watchers.splice(0)) w.close();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Anchors from a PEM/DER file or a directory of them (the CLI's --trust). */
export function loadTrustAnchors(path: string): ParsedCertificate[] {
  const anchors = loadCertificates(path);
  if (anchors.length === 0) throw new TrustSourceError(`trust anchors: no certificate found in ${path}`);
  return anchors;
}
