/**
 * /v1/log: the signature log's signed tree head and its Merkle proofs, in the JSON shapes
 * `spdm log` prints, so a client can check that what it was shown is in the log and that the log
 * only grew.
 */
import { Type } from '@sinclair/typebox';
import {
  ConsistencyBody,
  ConsistencyQuery,
  InclusionBody,
  InclusionParams,
  InclusionQuery,
  withErrors,
} from './schemas.js';
import type { Api, RouteContext } from './server.js';

const tags = ['log'];

export function registerLogRoutes(app: Api, ctx: RouteContext): void {
  app.get(
    '/v1/log/tree-head',
    { schema: { tags, summary: 'the signed tree head', response: withErrors({ 200: Type.Ref('TreeHead') }) } },
    async () => ctx.service().treeHead(),
  );

  app.get(
    '/v1/log/public-key',
    {
      schema: {
        tags,
        summary: "the log's public key (PEM SPKI, Ed25519): tree-head signatures verify with it",
        response: withErrors({ 200: Type.String({ description: 'application/x-pem-file' }) }),
      },
    },
    async (_req, reply) => reply.type('application/x-pem-file').send(ctx.service().logPublicKeyPem()),
  );

  app.get(
    '/v1/log/inclusion/:index',
    {
      schema: {
        tags,
        summary: 'inclusion proof of an entry (in the tree of treeSize entries, default the current one)',
        params: InclusionParams,
        querystring: InclusionQuery,
        response: withErrors({ 200: InclusionBody }),
      },
    },
    async (req) => {
      const { treeSize } = req.query;
      const p = await ctx.service().inclusionProof(req.params.index, treeSize);
      return { index: req.params.index, ...(treeSize !== undefined ? { treeSize } : {}), ...p };
    },
  );

  app.get(
    '/v1/log/consistency',
    {
      schema: {
        tags,
        summary: 'consistency proof between two tree sizes (to: default the current one)',
        querystring: ConsistencyQuery,
        response: withErrors({ 200: ConsistencyBody }),
      },
    },
    async (req) => {
      const { from, to } = req.query;
      const p = await ctx.service().consistencyProof(from, to);
      return { from, ...(to !== undefined ? { to } : {}), ...p };
    },
  );
}
