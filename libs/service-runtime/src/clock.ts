import type { Provider } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

/**
 * The time a handler decides with. Injected, never read from `new Date()` inside a handler, so that
 * the time of a command is one value passed to the decider (decide(command, state) takes `now`).
 */
export type Clock = () => Date;
export const CLOCK = Symbol('CLOCK');
export const clockProvider: Provider = { provide: CLOCK, useValue: (() => new Date()) as Clock };

/**
 * New identifiers (a subject, a transaction id): 128 random bits, base64url, as unguessable as
 * RFC 6749 §10.10 asks of a value an attacker must not predict.
 */
export type IdGenerator = () => string;
export const ID_GENERATOR = Symbol('ID_GENERATOR');
export const idGeneratorProvider: Provider = {
  provide: ID_GENERATOR,
  useValue: (() => randomBytes(16).toString('base64url')) as IdGenerator,
};
