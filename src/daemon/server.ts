/**
 * The HTTP + JSON API over a CmaService, as a fastify instance that is built but not listening
 * (listen.ts binds it to the Unix socket or TCP; tests call `inject` or listen themselves).
 * Every request part is validated against schemas.ts, errors take errors.ts's one shape, bodies
 * are bounded, and with `token` set every request must carry it as a bearer token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { validatorCompiler } from './validator.js';
import type { CmaService } from '../cma/api.js';
import { ApiError, handleError } from './errors.js';
import { bearerChecker } from './auth.js';
import { EventStreams } from './events.js';
import { DeviceBody, ErrorBody, SignatureBody, TreeHeadBody } from './schemas.js';
import { registerDeviceRoutes } from './routes-devices.js';
import { registerLogRoutes } from './routes-log.js';
import { registerRedfishRoutes } from './routes-redfish.js';
import { registerEventRoutes } from './routes-events.js';

export type Api = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What route modules share: the service (or a 503 when there is none) and the stream registry. */
export interface RouteContext {
  service(): CmaService;
  readonly streams: EventStreams;
  readonly events: { readonly heartbeatMs: number; readonly maxBufferedBytes: number; readonly pageSize?: number };
}

export interface ServerOptions {
  /**
   * The service behind the API. Absent: every route that needs it answers 503 (the OpenAPI
   * document is generated that way, and a daemon may serve before its service is up).
   */
  readonly service?: CmaService;
  /** Require `Authorization: Bearer <token>` on every request (the TCP listener). */
  readonly token?: string;
  /** fastify/pino logger options; default: no logging. */
  readonly logger?: { readonly level: string; readonly stream?: NodeJS.WritableStream } | false;
  /** Largest request body in bytes (default 64 KiB: the largest real body is a few hundred bytes). */
  readonly bodyLimit?: number;
  /** pageSize: events read per replay page (default 500). */
  readonly events?: { readonly heartbeatMs?: number; readonly maxBufferedBytes?: number; readonly pageSize?: number };
}

export const API_VERSION = '1.0.0';

export async function buildServer(o: ServerOptions = {}): Promise<Api> {
  const app = fastify({
    logger: o.logger ? { level: o.logger.level, ...(o.logger.stream ? { stream: o.logger.stream } : {}) } : false,
    bodyLimit: o.bodyLimit ?? 64 * 1024,
    // A client that names a route with a trailing slash or odd case still finds it.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // The event stream is long-lived: idle keep-alive sockets close on shutdown, streams are ended by preClose.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the API; they must not strip a field the schema did not list.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(handleError);
  // Bodies are JSON or nothing: text/plain would reach a JSON schema as a string.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` },
    });
  });

  if (o.token !== undefined) {
    const check = bearerChecker(o.token);
    app.addHook('onRequest', async (request, reply) => {
      if (!check(request.headers.authorization)) {
        void reply.header('www-authenticate', 'Bearer realm="spdmkitd"');
        throw new ApiError(401, 'UNAUTHORIZED', 'this listener needs "Authorization: Bearer <token>"');
      }
    });
  }
  // A POST without a body (curl -X POST …/accept) means "no options": validate it as {}.
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && request.body === undefined) request.body = {};
  });

  await app.register(swagger, {
    // Shared schemas keep their $id as their name in components.schemas.
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`),
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'spdmkitd',
        version: API_VERSION,
        description:
          'PCIe CMA-SPDM device authentication in user space: device state named after the kernel CMA/TSM sysfs ABI, the signature log, an event stream, and a Redfish ComponentIntegrity view.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'TCP listener only' } },
      },
    },
  });
  for (const s of [ErrorBody, DeviceBody, SignatureBody, TreeHeadBody]) app.addSchema(s);

  const streams = new EventStreams();
  const ctx: RouteContext = {
    service: () => {
      if (!o.service) throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'no device service is running behind this API');
      return o.service;
    },
    streams,
    events: {
      heartbeatMs: o.events?.heartbeatMs ?? 15_000,
      maxBufferedBytes: o.events?.maxBufferedBytes ?? 1 << 20,
      ...(o.events?.pageSize !== undefined ? { pageSize: o.events.pageSize } : {}),
    },
  };
  app.addHook('preClose', async () => {
    streams.closeAll();
  });

  registerDeviceRoutes(app, ctx);
  registerLogRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  registerRedfishRoutes(app, ctx);
  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}
