import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './eslint/layers.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/**', 'docs/api/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      // Off: an async method that does not await is how a synchronous store, clock or device
      // implements an async interface (43 such places); the rule would have them spell
      // Promise.resolve/reject by hand instead.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The layer table of ARCHITECTURE.md. Every import the table forbids but the tree still has
    // is listed here, once, with why; an exception allows only that file → that layer.
    files: ['src/**/*.ts'],
    plugins: { spdmkit: layers },
    rules: {
      'spdmkit/layers': [
        'error',
        {
          exceptions: [
            {
              file: 'log/sigcheck.ts',
              to: 'x509',
              why: 'log verification re-checks signatures against the recorded chain (parseCertificate, decodeSpdmCertChain); the table gives log no x509',
            },
            {
              file: 'responder/faults/case-types.ts',
              to: 'verifier',
              why: 'a hostile case names the verdict ReasonCode it expects (type only); verifier is not below responder',
            },
            {
              file: 'platform/platform-file.ts',
              to: 'verifier',
              why: "platform files are checked against their published JSON Schema by the verifier's generic schema validator (schema.ts, which imports only wire), as policy files are; verifier is not below platform",
            },
            {
              file: 'responder/faults/identities.ts',
              to: 'verifier',
              why: "hostile identities build CMA SAN strings with the verifier's cmaSanString; verifier is not below responder",
            },
          ],
        },
      ],
    },
  },
  // eslint.config.js and eslint/*.js are not in tsconfig: lint them without type information.
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
