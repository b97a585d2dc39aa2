/**
 * fastify's validator for the API: TypeBox's compiled checks, with no coercion of bodies (a
 * string "1" is not a slot) and exact coercion of params, query and headers, which arrive as
 * text: an integer field takes only a plain decimal ("1.5" and "1e3" stay text and fail), rather
 * than TypeBox's Value.Convert, which would truncate "1.5" to 1. Only the first problem is
 * reported, so a hostile body with a million bad fields costs one error.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const DECIMAL = /^(0|-?[1-9][0-9]{0,15})$/;

function convertText(schema: TSchema, value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const props = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [k, s] of Object.entries(props)) {
    const v = out[k];
    if (typeof v === 'string' && s.type === 'integer' && DECIMAL.test(v)) out[k] = Number(v);
  }
  return out;
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  return (value: unknown) => {
    const v = httpPart === 'body' ? value : convertText(schema, value);
    if (check.Check(v)) return { value: v };
    const first = check.Errors(v).First();
    const error: FastifySchemaValidationError = {
      keyword: first ? String(first.type) : 'invalid',
      instancePath: first?.path ?? '',
      schemaPath: first?.schema.$id ?? '',
      params: {},
      message: first?.message ?? 'invalid',
    };
    return { error: [error] };
  };
};
