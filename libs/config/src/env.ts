import { z } from 'zod';

/**
 * Reading settings from the environment: each slice of the configuration is a zod schema of the
 * variables it reads (coerced from strings, with defaults and checks), built with the helpers here.
 * An empty variable counts as unset. Every problem names its variable, one line each.
 */

export class ConfigError extends Error {
  constructor(
    message: string,
    /** One line per problem, each naming its variable. */
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

/** A setting: the variable it is read from and the schema of its value (undefined when unset). */
type Setting = readonly [variable: string, schema: z.ZodType];
type Settings = Record<string, Setting>;
export type ValuesOf<S extends Settings> = { -readonly [K in keyof S]: z.output<S[K][1]> };

/** The schema of a slice: its variables read into the values the services use, under their names. */
export function settings<S extends Settings>(fields: S) {
  const shape = Object.fromEntries(Object.values(fields));
  return z
    .object(shape)
    .transform(
      (env) =>
        Object.fromEntries(
          Object.entries(fields).map(([name, [variable]]) => [name, env[variable]]),
        ) as ValuesOf<S>,
    );
}

/** The values of `schemas` read from `env`, merged; every problem found in one ConfigError. */
export function readEnv<T>(schemas: readonly z.ZodType[], env: Env): T {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const values: unknown[] = [];
  const problems = new Set<string>();
  for (const schema of schemas) {
    const result = schema.safeParse(present);
    if (result.success) values.push(result.data);
    for (const issue of result.error?.issues ?? []) {
      const variable = String(issue.path[0] ?? '');
      problems.add(issue.message.startsWith(variable) ? issue.message : `${variable} ${issue.message}`);
    }
  }
  if (problems.size > 0) throw new ConfigError([...problems].join('\n'), [...problems]);
  return Object.assign({}, ...values) as T;
}

/** One problem with `variable`, found by a check across settings. */
export function problem(ctx: z.RefinementCtx, variable: string, message: string): void {
  ctx.addIssue({ code: 'custom', path: [variable], message });
}

export const int = (min: number, max: number) =>
  z
    .string()
    .refine((s) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max, {
      error: (iss) => `must be an integer between ${min} and ${max}, got "${String(iss.input)}"`,
    })
    .transform(Number);

export const bool = z.stringbool({
  truthy: ['true'],
  falsy: ['false'],
  case: 'sensitive',
  error: (iss) => `must be true or false, got "${String(iss.input)}"`,
});

/** One of `values`, named in the error: "must be a, b or c". */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: (iss) =>
      `must be ${values.slice(0, -1).join(', ')} or ${values.at(-1)}, got "${String(iss.input)}"`,
  });

/** A required key of 32 bytes, base64url. */
export const key32 = (purpose: string) =>
  z
    .string({ error: () => `is not set: ${purpose}. \`npm start\` generates one in .data/secrets.env.` })
    .transform((s) => Buffer.from(s, 'base64url'))
    .refine((b) => b.length === 32, `must be 32 bytes, base64url-encoded (${purpose})`);

export function words(raw: string | undefined): string[] {
  return [...new Set((raw ?? '').split(/[\s,]+/).filter(Boolean))];
}

/** A list of words (spaces or commas between), each once. */
export const wordList = z.string().default('').transform(words);

export const absoluteUrl = z.url({ error: (iss) => `must be an absolute URL, got "${String(iss.input)}"` });

/** The issuer identifier (RFC 8414 §2): an absolute URL, no trailing slash. */
export const ISSUER = [
  'ISSUER',
  absoluteUrl
    // RFC 8414 §2: no query or fragment components, not even an empty `?` or `#`.
    .refine((s) => !/[?#]/.test(s), 'must not have a query or fragment')
    .transform((s) => s.replace(/\/+$/, ''))
    .default('http://127.0.0.1:8080'),
] as const;
