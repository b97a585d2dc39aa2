/**
 * How the API reports failure: always `{error: {code, message, field?}}` with a status a client
 * can act on. Validation failures name the request part and field (`body/slot`); the service's
 * SpdmError codes map to statuses (an unknown device 404, a device someone else owns or whose
 * state forbids the request 409); caller misuse the service caught (`TypeError`) is 400; anything
 * else is 500 with a generic message, logged in full but never sent with a stack trace.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SpdmError, type SpdmErrorCode } from '../wire/errors.js';

/** An error the API raises itself, with the status and code it answers with. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ErrorJson {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

const SPDM_STATUS: Partial<Record<SpdmErrorCode, number>> = {
  DEVICE_NOT_FOUND: 404,
  DEVICE_OWNED: 409,
  DEVICE_STATE: 409,
  LOG_OUT_OF_RANGE: 404,
  SLOT_INVALID: 400,
  BUSY: 503,
  LOG_CLOSED: 503,
};

/** fastify's own request errors (body parsing, limits, media types) under names of ours. */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'INVALID_REQUEST',
  FST_ERR_BAD_URL: 'INVALID_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'INVALID_REQUEST',
};

interface ValidationIssue {
  readonly instancePath?: string;
  readonly message?: string;
}

function validationField(e: FastifyError): string | undefined {
  const first = (e.validation as readonly ValidationIssue[] | undefined)?.[0];
  if (!first || e.validationContext === undefined) return undefined;
  return `${e.validationContext}${first.instancePath ?? ''}`;
}

/** The status and JSON body for any error a handler or fastify raised. `internal` is true for a bug. */
export function errorResponse(e: unknown): { status: number; body: ErrorJson; internal: boolean } {
  const json = (status: number, code: string, message: string, field?: string) => ({
    status,
    body: { error: { code, message, ...(field !== undefined ? { field } : {}) } },
    internal: false,
  });
  if (e instanceof ApiError) return json(e.statusCode, e.code, e.message, e.field);
  if (e instanceof SpdmError) {
    const code: SpdmErrorCode = (e as SpdmError).code;
    const status = SPDM_STATUS[code];
    if (status !== undefined) return json(status, code, e.message);
    return { ...json(500, code, e.message), internal: true };
  }
  if (e instanceof TypeError) return json(400, 'INVALID_ARGUMENT', e.message);
  const fe = e as Partial<FastifyError> | undefined;
  if (fe && typeof fe === 'object' && Array.isArray(fe.validation)) {
    const field = validationField(fe as FastifyError);
    const first = (fe.validation as readonly ValidationIssue[])[0];
    const message = field !== undefined ? `${field}: ${first?.message ?? 'invalid'}` : String(fe.message);
    return json(400, 'INVALID_REQUEST', message, field);
  }
  if (fe && typeof fe.code === 'string' && typeof fe.statusCode === 'number' && fe.statusCode < 500) {
    return json(fe.statusCode, FASTIFY_CODES[fe.code] ?? 'INVALID_REQUEST', String(fe.message));
  }
  return { ...json(500, 'INTERNAL', 'internal error (see the daemon log)'), internal: true };
}

/** fastify's error handler: the JSON error body for every failure, the full error in the log. */
export function handleError(e: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body, internal } = errorResponse(e);
  if (internal) request.log.error({ err: e }, 'request failed');
  else request.log.info({ code: body.error.code, status }, body.error.message);
  void reply.status(status).type('application/json; charset=utf-8').send(body);
}
