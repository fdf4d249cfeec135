import type { LoggerService } from '@nestjs/common';
import { Logger, type Params, PinoLogger } from 'nestjs-pino';
import { pino, type Logger as Pino } from 'pino';

/**
 * Structured JSON logs (one object a line on stdout) with the service name and the correlation id
 * of the work in progress. Secrets never reach a log: no payload, header, form or URL query is
 * logged, and the keys below are censored should an object carrying them be passed.
 */
const REDACT = [
  'password',
  'cookie',
  'pass',
  'token',
  'secret',
  'client_secret',
  'clientSecret',
  'access_token',
  'refresh_token',
  'authorization',
  'credentials',
];

/** Where a request's secrets would sit in a line, should a request or its headers be logged. */
const REQUEST_FIELDS = [
  'code',
  'body.code',
  'query.code',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

const LEVELS = { error: 'error', warn: 'warn', log: 'info', debug: 'debug' } as const;

export function createPino(service: string, level: keyof typeof LEVELS = 'log'): Pino {
  return pino({
    level: LEVELS[level],
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      // An authorization code (RFC 6749 §4.1.2) is censored where a request's fields would be; not
      // every `code` (an error's code stays readable).
      paths: [...REDACT, ...REDACT.map((k) => `*.${k}`), ...REQUEST_FIELDS],
      censor: '[redacted]',
    },
    formatters: { level: (label) => ({ level: label }) },
  });
}

/**
 * Nest's logger over the process's pino (nestjs-pino): Nest's `context` becomes the `context`
 * field, an object argument is merged into the line, an Error becomes `err`. One per process:
 * nestjs-pino keeps the first pino-http instance made, so an HTTP listener passes its request
 * logging `params` (over the same `log`) here too.
 */
export function jsonLogger(log: Pino, params: Params = { pinoHttp: { logger: log } }): LoggerService {
  return new Logger(new PinoLogger(params), params);
}
