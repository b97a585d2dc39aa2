/**
 * The default simulated platform that ships with the package (platform/default/, generated once by
 * scripts/gen-default-platform.js and committed, so keys, certificates and reference values are the
 * same on every run): sixteen functions covering every kind of device the CMA daemon must tell
 * apart, with the trust anchors, deny-list and reference-value policy a verifier needs for them.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadSimulatedPlatform, type SimulatedPlatform, type SimulatedPlatformOptions } from './simulated.js';

export interface DefaultPlatformFiles {
  /** The directory holding everything below. */
  readonly dir: string;
  /** The platform file (YAML). */
  readonly platform: string;
  /** A directory of vendor root certificates (PEM), for TrustStore `anchors`. */
  readonly trustAnchors: string;
  /** The deny-list (text format of verifier/deny-list.ts), for TrustStore `deny`. */
  readonly denyList: string;
  /** Reference values and rules in the verifier's policy format (YAML), for loadPolicyFile. */
  readonly policy: string;
}

// Compiled to dist/src/platform/: the package root is three levels up (the same from src/ under ts tooling is not supported).
const DIR = fileURLToPath(new URL('../../../platform/default/', import.meta.url));

/** Where the shipped default platform and its verifier files are. */
export function defaultPlatformFiles(): DefaultPlatformFiles {
  return {
    dir: DIR,
    platform: join(DIR, 'platform.yaml'),
    trustAnchors: join(DIR, 'trust'),
    denyList: join(DIR, 'deny-list.txt'),
    policy: join(DIR, 'policy.yaml'),
  };
}

/** The shipped default platform file. */
export function defaultPlatformPath(): string {
  return defaultPlatformFiles().platform;
}

/** The shipped default platform, loaded. */
export function loadDefaultPlatform(opts: SimulatedPlatformOptions = {}): SimulatedPlatform {
  return loadSimulatedPlatform(defaultPlatformPath(), opts);
}
