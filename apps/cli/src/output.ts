import type { LoggerService } from '@nestjs/common';

/**
 * A failure the operator can act on: its message says what went wrong and what to check, and the
 * CLI prints it alone (no stack) and exits 1.
 */
export class CliError extends Error {
  override name = 'CliError';
}

/** How a command prints: its one result on stdout; everything else (logs, errors) on stderr. */
export interface Output {
  readonly json: boolean;
  /** The command's result: one JSON document with --json, else the text lines. */
  data(doc: unknown, text: () => string | readonly string[]): void;
}

export function output(json: boolean, write: (s: string) => void = (s) => process.stdout.write(s)): Output {
  return {
    json,
    data(doc, text) {
      if (json) {
        write(`${JSON.stringify(doc)}\n`);
        return;
      }
      const lines = text();
      write(`${typeof lines === 'string' ? lines : lines.join('\n')}\n`);
    },
  };
}

const LEVELS = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'] as const;
type Level = (typeof LEVELS)[number];

/**
 * Nest's logger for the CLI (the NATS client logs through it): stderr only, so that stdout holds
 * the command's result alone; one JSON object a line with --json. Warnings and errors unless
 * LOG_LEVEL asks for more; a stack is never printed.
 */
export class CliLogger implements LoggerService {
  json = false;
  private readonly min: number;

  constructor(
    logLevel: string | undefined,
    private readonly write = (s: string) => process.stderr.write(s),
  ) {
    const i = LEVELS.indexOf((logLevel ?? 'warn') as Level);
    this.min = i < 0 ? LEVELS.indexOf('warn') : i;
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.emit('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.emit('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.emit('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.emit('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.emit('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.emit('fatal', message, rest);
  }

  /** A line of the CLI itself (a warning about its own settings, say). */
  line(level: Level, message: string): void {
    this.emit(level, message, ['cli']);
  }

  private emit(level: Level, message: unknown, rest: unknown[]): void {
    if (LEVELS.indexOf(level) < this.min) return;
    const last = rest[rest.length - 1];
    const context = typeof last === 'string' && rest.length > 0 ? last : undefined;
    const text =
      message instanceof Error
        ? message.message
        : typeof message === 'string'
          ? message
          : JSON.stringify(message);
    this.write(
      this.json
        ? `${JSON.stringify({ level, time: new Date().toISOString(), ...(context ? { context } : {}), msg: text })}\n`
        : `${level}${context ? ` [${context}]` : ''}: ${text}\n`,
    );
  }
}
