import type { LogLevel } from '@nestjs/common';

export function logLevels(level: 'error' | 'warn' | 'log' | 'debug'): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  return order.slice(0, order.indexOf(level) + 1);
}
