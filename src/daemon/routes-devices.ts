/**
 * /v1/devices: the kernel's per-function CMA and TSM attributes as resources. Reads mirror the
 * sysfs files (authenticated, certificates/slotN, signatures/N_*); writes mirror what an admin
 * writes there (`re` to authenticated, tsm/connect, tsm/disconnect) plus user space's decision
 * (accept, reject) and the reset report a udev rule sends.
 */
import type { DeviceView } from '../cma/api.js';
import { ApiError } from './errors.js';
import {
  AcceptBody,
  BdfParams,
  CertificateQuery,
  DecisionListBody,
  EmptyBody,
  EvidenceBody,
  ReauthBody,
  RejectBody,
  ResetBody,
  SignatureListBody,
  SignatureParams,
  SlotParams,
  TsmConnectBody,
  VerdictBody,
  withErrors,
} from './schemas.js';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ListingStream } from './listing.js';
import { DeviceJsonCache, deviceJson, slotDer, slotPem } from './views.js';
import type { Api, RouteContext } from './server.js';

const device = Type.Ref('Device');
const tags = ['devices'];

export function registerDeviceRoutes(app: Api, ctx: RouteContext): void {
  const one = (bdf: string) => ctx.service().device(bdf.toLowerCase());
  // The two reads of device state answer from cached JSON text while the device is unchanged.
  const cache = new DeviceJsonCache();
  const JSON_TYPE = 'application/json; charset=utf-8';

  app.get(
    '/v1/devices',
    {
      schema: {
        tags,
        summary: 'every PCI function the daemon watches',
        response: withErrors({ 200: Type.Object({ devices: Type.Array(device) }) }),
      },
    },
    async (_req, reply) => {
      // Streamed a chunk at a time (listing.ts): one 15 MB string per call held the event loop.
      const { pieces, bytes } = cache.listing(ctx.service().devices());
      return reply.type(JSON_TYPE).header('content-length', bytes).send(new ListingStream(pieces));
    },
  );

  app.get(
    '/v1/devices/:bdf',
    {
      schema: {
        tags,
        summary: 'one function: authenticated, verdict, acceptance, owner, certificates, signatures',
        params: BdfParams,
        response: withErrors({ 200: device }),
      },
    },
    async (req, reply) => reply.type(JSON_TYPE).send(cache.json(one(req.params.bdf))),
  );

  app.get(
    '/v1/devices/:bdf/certificates/:slot',
    {
      schema: {
        tags,
        summary: 'the chain of a slot as at the last authentication (certificates/slotN)',
        params: SlotParams,
        querystring: CertificateQuery,
        response: withErrors({
          200: Type.Unknown({
            description: 'application/pkix-cert (DER, concatenated), application/x-pem-file, or the slot as JSON',
          }),
        }),
      },
    },
    async (req, reply) => {
      const d = one(req.params.bdf);
      const s = d.slots.find((x) => x.slot === req.params.slot);
      if (!s)
        throw new ApiError(404, 'SLOT_NOT_FOUND', `${d.bdf} sent no certificate chain for slot ${req.params.slot}`);
      const format = req.query.format ?? 'der';
      if (format === 'json') return s;
      if (format === 'pem') return reply.type('application/x-pem-file').send(slotPem(s));
      // A Buffer body is sent as is: no serializer runs for it.
      return reply.type('application/pkix-cert').send(slotDer(s));
    },
  );

  app.get(
    '/v1/devices/:bdf/evidence',
    {
      schema: {
        tags,
        summary: 'the latest evidence (re-verifiable offline with spdm verify)',
        params: BdfParams,
        response: withErrors({ 200: EvidenceBody }),
      },
    },
    async (req) => {
      const bdf = req.params.bdf.toLowerCase();
      const e = ctx.service().evidence(bdf);
      if (!e) throw new ApiError(404, 'NO_EVIDENCE', `${bdf} has not completed an authentication yet`);
      return e;
    },
  );

  app.get(
    '/v1/devices/:bdf/signatures',
    {
      schema: {
        tags,
        summary: 'every signature received from the function (signatures/N_*)',
        params: BdfParams,
        response: withErrors({ 200: SignatureListBody }),
      },
    },
    async (req) => ({ signatures: await ctx.service().signatures(req.params.bdf.toLowerCase()) }),
  );

  app.get(
    '/v1/devices/:bdf/signatures/:n',
    {
      schema: {
        tags,
        summary: 'one signature by its signature-log index',
        params: SignatureParams,
        response: withErrors({ 200: Type.Ref('Signature') }),
      },
    },
    async (req) => {
      const bdf = req.params.bdf.toLowerCase();
      const s = (await ctx.service().signatures(bdf)).find((x) => x.logIndex === req.params.n);
      if (!s) throw new ApiError(404, 'SIGNATURE_NOT_FOUND', `${bdf} has no signature at log index ${req.params.n}`);
      return s;
    },
  );

  app.get(
    '/v1/devices/:bdf/verdict',
    {
      schema: {
        tags,
        summary: "the verifier's verdict on the latest evidence",
        params: BdfParams,
        response: withErrors({ 200: VerdictBody }),
      },
    },
    async (req) => {
      const d = one(req.params.bdf);
      if (!d.verdict) throw new ApiError(404, 'NO_VERDICT', `${d.bdf} has no verdict yet`);
      return { bdf: d.bdf, generation: d.generation, authenticated: d.authenticated, verdict: d.verdict };
    },
  );

  app.get(
    '/v1/devices/:bdf/decisions',
    {
      schema: {
        tags,
        summary: 'the decision history of the function (accept, override, reject, drop), oldest first',
        params: BdfParams,
        response: withErrors({ 200: DecisionListBody }),
      },
    },
    async (req) => ({ decisions: await ctx.service().decisions(req.params.bdf.toLowerCase()) }),
  );

  const action = <B extends TSchema>(
    path: string,
    summary: string,
    body: B,
    run: (bdf: string, body: Static<B>) => Promise<DeviceView>,
  ) =>
    app.post(
      `/v1/devices/:bdf/${path}`,
      { schema: { tags, summary, params: BdfParams, body, response: withErrors({ 200: device }) } },
      async (req) => deviceJson(await run(req.params.bdf.toLowerCase(), req.body as Static<B>)),
    );

  const svc = () => ctx.service();
  action(
    'accept',
    'accept the device (override: over an untrusted verdict, recorded with operator and reason)',
    AcceptBody,
    (bdf, b) => svc().accept(bdf, b.override ? { override: b.override } : {}),
  );
  action('reject', 'refuse the device until an operator accepts it again', RejectBody, (bdf, b) =>
    svc().reject(bdf, b),
  );
  action('reauthenticate', 'run the flow again now (echo re > authenticated)', ReauthBody, (bdf, b) =>
    svc().reauthenticate(bdf, b.slot !== undefined ? { slot: b.slot } : {}),
  );
  action(
    'reset-notify',
    'report a reset or resume: re-authenticate, re-accept only if it is the same device',
    ResetBody,
    (bdf, b) => svc().notifyReset(bdf, b.kind),
  );
  action('tsm/connect', 'hand SPDM on the function to a TSM (tsm/connect)', TsmConnectBody, (bdf, b) =>
    svc().connectTsm(bdf, b.tsm),
  );
  action('tsm/disconnect', 'take SPDM back from the TSM and re-authenticate (tsm/disconnect)', EmptyBody, (bdf) =>
    svc().disconnectTsm(bdf),
  );
}
