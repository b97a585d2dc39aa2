/**
 * /redfish/v1/ComponentIntegrity: the Redfish view (redfish.ts) and its SPDMGetSignedMeasurements
 * action, for clients that speak DMTF's schema rather than ours.
 */
import { redfishCollection, redfishComponent, REDFISH_COLLECTION } from './redfish.js';
import {
  RedfishCollectionBody,
  RedfishComponentBody,
  RedfishIdParams,
  SignedMeasurementsBody,
  SignedMeasurementsResponse,
  withErrors,
} from './schemas.js';
import type { Api, RouteContext } from './server.js';

const tags = ['redfish'];

export function registerRedfishRoutes(app: Api, ctx: RouteContext): void {
  app.get(
    REDFISH_COLLECTION,
    { schema: { tags, summary: 'ComponentIntegrityCollection', response: withErrors({ 200: RedfishCollectionBody }) } },
    async () => redfishCollection(ctx.service().devices()),
  );

  app.get(
    `${REDFISH_COLLECTION}/:id`,
    {
      schema: {
        tags,
        summary: 'ComponentIntegrity of one function',
        params: RedfishIdParams,
        response: withErrors({ 200: RedfishComponentBody }),
      },
    },
    async (req) => {
      const bdf = req.params.id.toLowerCase();
      const s = ctx.service();
      return redfishComponent(s.device(bdf), s.evidence(bdf));
    },
  );

  app.post(
    `${REDFISH_COLLECTION}/:id/Actions/ComponentIntegrity.SPDMGetSignedMeasurements`,
    {
      schema: {
        tags,
        summary: 'fresh signed measurements over a nonce (generated when absent)',
        params: RedfishIdParams,
        body: SignedMeasurementsBody,
        response: withErrors({ 200: SignedMeasurementsResponse }),
      },
    },
    async (req) => {
      const b = req.body;
      return ctx.service().signedMeasurements(req.params.id.toLowerCase(), {
        ...(b.Nonce !== undefined ? { nonce: Uint8Array.from(Buffer.from(b.Nonce, 'hex')) } : {}),
        slot: b.SlotId ?? 0,
        indices: b.MeasurementIndices ?? [255],
      });
    },
  );
}
