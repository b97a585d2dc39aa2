/**
 * The OpenAPI document of the API, as @fastify/swagger generates it from the route schemas. Built
 * from a server with no service behind it: generating the document touches no handler.
 */
import { buildServer } from './server.js';

export async function openApiDocument(): Promise<unknown> {
  const app = await buildServer();
  try {
    return app.swagger();
  } finally {
    await app.close();
  }
}
