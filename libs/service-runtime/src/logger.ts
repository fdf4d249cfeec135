import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as Pino } from 'pino';

/**
 * Structured JSON logs (one object a line on stdout) with the service name and the correlation id
 * of the work in progress. Secrets never reach a log: no payload, header, form or URL query is
 * logged, and the keys below are censored should an object carrying them be passed.
 */
const REDACT = [
  'password',
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

const LEVELS = { error: 'error', warn: 'warn', log: 'info', debug: 'debug' } as const;

export function createPino(service: string, level: keyof typeof LEVELS = 'log'): Pino {
  return pino({
    level: LEVELS[level],
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT, ...REDACT.map((k) => `*.${k}`)], censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** Nest's logger interface over pino: Nest's `context` becomes the `context` field. */
export class JsonLogger implements LoggerService {
  constructor(readonly pino: Pino) {}

  private write(
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace',
    message: unknown,
    rest: unknown[],
  ) {
    if (!this.pino.isLevelEnabled(level)) return;
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    if ((level === 'error' || level === 'fatal') && typeof rest[0] === 'string') fields.stack = rest[0];
    if (message instanceof Error) this.pino[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.pino[level]({ ...fields, ...message });
    else this.pino[level](fields, String(message));
  }

  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.write('fatal', message, rest);
  }
}
