import type { Provider } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { CLOCK, ID_GENERATOR } from './tokens.js';

/**
 * The time a handler decides with. Injected, never read from `new Date()` inside a handler, so that
 * the time of a command is one value passed to the decider (decide(command, state) takes `now`).
 */
export type Clock = () => Date;
export const clockProvider: Provider = { provide: CLOCK, useValue: (() => new Date()) as Clock };

/**
 * New identifiers (a subject, a transaction id): 128 random bits, base64url, as unguessable as
 * RFC 6749 §10.10 asks of a value an attacker must not predict.
 */
export type IdGenerator = () => string;
export const idGeneratorProvider: Provider = {
  provide: ID_GENERATOR,
  useValue: (() => randomBytes(16).toString('base64url')) as IdGenerator,
};
