/**
 * The @peculiar ASN.1 packages, loaded with require() rather than `import`, and only when first
 * asked for. They are CommonJS, and an ESM import of a CommonJS package first has Node scan the
 * source of every file it re-exports (cjs-module-lexer) to find the named exports: about 75 ms of
 * CPU at each start of `spdm` for these three (issue 12, cold start). Loading them costs as much
 * again, so nothing on the path of reading and checking a certificate uses them (extensions.ts
 * decodes the extensions; only RSASSA-PSS parameters, X.509 and CSR generation, and CSR parsing
 * ask for them). require() shares the module cache with `import`, so a class from here is the
 * class a test or tool imports directly. Every module that uses these packages takes them from here.
 */
import { createRequire } from 'node:module';
import type * as Asn1Schema from '@peculiar/asn1-schema';
import type * as Asn1X509 from '@peculiar/asn1-x509';
import type * as Asn1Rsa from '@peculiar/asn1-rsa';

const load = createRequire(import.meta.url);

export const asn1Schema = (): typeof Asn1Schema => load('@peculiar/asn1-schema') as typeof Asn1Schema;
export const asn1X509 = (): typeof Asn1X509 => load('@peculiar/asn1-x509') as typeof Asn1X509;
export const asn1Rsa = (): typeof Asn1Rsa => load('@peculiar/asn1-rsa') as typeof Asn1Rsa;
