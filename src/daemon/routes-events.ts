/** GET /v1/events: the event stream (events.ts does the streaming). */
import { Type } from '@sinclair/typebox';
import { EventsHeaders, EventsQuery, withErrors } from './schemas.js';
import type { Api, RouteContext } from './server.js';

export function registerEventRoutes(app: Api, ctx: RouteContext): void {
  app.get(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary:
          'server-sent events (id: event id, event: type, data: the event as JSON); resume with Last-Event-ID or ?after=',
        querystring: EventsQuery,
        headers: EventsHeaders,
        response: withErrors({
          200: Type.String({ description: 'text/event-stream' }),
        }),
      },
    },
    async (req, reply) => {
      const service = ctx.service();
      const header = req.headers['last-event-id'];
      const after = req.query.after ?? (typeof header === 'string' ? Number(header) : 0);
      req.log.info({ after }, 'event stream opened');
      // From here on the stream writes the raw response itself.
      void reply.hijack();
      await ctx.streams.serve(service, reply.raw, after, ctx.events);
      req.log.info('event stream closed');
    },
  );
}
