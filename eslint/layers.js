// The layer table of ARCHITECTURE.md ("Layers and who may import whom") as a lint rule, so a
// forbidden import fails `npm run lint` instead of waiting for review. A local rule rather than
// no-restricted-imports because it also sees `import()` (the CLI and the log store load code on
// demand), names the rule that was broken in its message, and keeps the table in one place.
import path from 'node:path';

// Rows in the order of the table: "everything below" means every row above this one.
const ORDER = [
  'wire',
  'crypto',
  'spdm',
  'x509',
  'evidence',
  'session',
  'transport',
  'pci',
  'requester',
  'responder',
  'verifier',
  'log',
  'capture',
  'platform',
  'cma',
  'daemon',
  'cli',
];
const below = (layer) => ORDER.slice(0, ORDER.indexOf(layer));

/** layer → the layers it may import (value imports); `types`: layers it may import types from. */
export const LAYERS = {
  wire: { imports: [] },
  crypto: { imports: ['wire'] },
  spdm: { imports: ['wire', 'crypto'] },
  x509: { imports: ['wire', 'crypto'] },
  evidence: { imports: ['wire', 'crypto', 'spdm', 'x509'] },
  session: { imports: ['wire', 'crypto', 'spdm'] },
  transport: { imports: ['wire', 'spdm', 'session'] },
  pci: { imports: ['wire', 'transport'], types: ['evidence'] },
  requester: { imports: below('requester') },
  responder: { imports: below('responder') },
  verifier: { imports: ['evidence', 'x509', 'spdm', 'crypto', 'wire'] },
  // spdm too (a difference from ARCHITECTURE.md): an entry takes the measurement blocks a
  // signature covers from its transcript decoded by spdm/signed-transcript.ts, not a byte search.
  log: { imports: ['evidence', 'spdm', 'crypto', 'wire'] },
  capture: { imports: below('capture').filter((l) => l !== 'verifier' && l !== 'log') },
  // pci, responder, transport and what those may import (ARCHITECTURE.md: "pci, responder,
  // transport"): the simulated platform builds emulated devices from a file, which takes wire's
  // errors, crypto's algorithm names, spdm's request codes and x509's certificate parsing.
  platform: { imports: below('verifier') },
  cma: { imports: below('cma') },
  daemon: { imports: ORDER },
  cli: { imports: ORDER },
  // src/index.ts is the package's front door: it re-exports from every layer.
  index: { imports: ORDER },
};

/**
 * Packages only some layers may import: the log's pure part has no database import. `cma/store`
 * holds the CMA layer's own state (device state, acceptance records, events) in the data
 * directory, loaded on demand like the log's store.
 */
export const PACKAGES = {
  'better-sqlite3': ['log/store', 'cma/store'],
  pg: ['log/store', 'cma/store'],
};

/** Sub-folders that are parts of their layer which alone may reach a database (see PACKAGES). */
const STORE_PARTS = new Set(['log', 'cma']);

/**
 * Where a path inside src/ belongs: { layer, sub } with sub the path inside the layer's folder.
 * `log/store` is a part of `log` (it may import what log may) that alone reaches the databases;
 * `cma/store` likewise for `cma`.
 */
export function layerOf(relToSrc) {
  const parts = relToSrc.split('/');
  // Files at the top of src/ are the package's entry points (index.ts and the subpath fronts such
  // as codecs.ts): like the root, they may gather from every layer.
  if (parts.length === 1) return { layer: 'index', sub: '' };
  const layer = parts[0];
  const inStore = STORE_PARTS.has(layer) && parts[1] === 'store';
  return { layer, part: inStore ? `${layer}/store` : layer, sub: parts.slice(1).join('/') };
}

function isTypeOnly(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specs = node.specifiers ?? [];
  return specs.length > 0 && specs.every((s) => s.importKind === 'type' || s.exportKind === 'type');
}

/** @type {import('eslint').Rule.RuleModule} */
export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports follow the layer table of ARCHITECTURE.md' },
    schema: [
      {
        type: 'object',
        properties: {
          exceptions: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                file: { type: 'string' },
                to: { type: 'string' },
                why: { type: 'string' },
              },
              required: ['file', 'to', 'why'],
              additionalProperties: false,
            },
          },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      forbidden:
        "Layer '{{from}}' may not import '{{to}}' ({{spec}}); it may import: {{allowed}}. See ARCHITECTURE.md, 'Layers and who may import whom'.",
      typeOnly: "Layer '{{from}}' may import only types from '{{to}}' ({{spec}}): use `import type`.",
      unknownLayer: "src/{{to}}/ is not a layer in ARCHITECTURE.md's table: add it there and in eslint/layers.js.",
      package: "'{{spec}}' may be imported only by {{allowed}}, not by '{{from}}'.",
    },
  },
  create(context) {
    const srcDir = path.join(context.cwd, 'src');
    const rel = path.relative(srcDir, context.filename).split(path.sep).join('/');
    if (rel.startsWith('..') || path.isAbsolute(rel)) return {};
    const from = layerOf(rel);
    const exceptions = context.options[0]?.exceptions ?? [];
    const fromRule = LAYERS[from.layer];

    function check(node, sourceNode) {
      if (!sourceNode || sourceNode.type !== 'Literal' || typeof sourceNode.value !== 'string') return;
      const spec = sourceNode.value;
      if (!spec.startsWith('.')) {
        const allowedParts = PACKAGES[spec.split('/')[0]];
        if (allowedParts && !allowedParts.includes(from.part ?? from.layer)) {
          context.report({
            node: sourceNode,
            messageId: 'package',
            data: { spec, from: from.part ?? from.layer, allowed: allowedParts.join(', ') },
          });
        }
        return;
      }
      const target = path
        .relative(srcDir, path.resolve(path.dirname(context.filename), spec))
        .split(path.sep)
        .join('/');
      if (target.startsWith('..')) return;
      const to = layerOf(target);
      if (to.layer === from.layer) return;
      if (!LAYERS[to.layer]) {
        context.report({ node: sourceNode, messageId: 'unknownLayer', data: { to: to.layer } });
        return;
      }
      if (!fromRule) {
        context.report({ node: sourceNode, messageId: 'unknownLayer', data: { to: from.layer } });
        return;
      }
      if (fromRule.imports.includes(to.layer)) return;
      if (fromRule.types?.includes(to.layer)) {
        if (node.type !== 'ImportExpression' && isTypeOnly(node)) return;
        context.report({
          node: sourceNode,
          messageId: 'typeOnly',
          data: { from: from.layer, to: to.layer, spec },
        });
        return;
      }
      if (exceptions.some((e) => e.file === `${from.layer}/${from.sub}` && e.to === to.layer)) return;
      context.report({
        node: sourceNode,
        messageId: 'forbidden',
        data: {
          from: from.layer,
          to: to.layer,
          spec,
          allowed: [...fromRule.imports, ...(fromRule.types ?? []).map((t) => `${t} (types)`)].join(', ') || 'nothing',
        },
      });
    }

    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
    };
  },
};

export default { rules: { layers: layersRule } };
